//! The built-in catalogue, one test per scenario × set-up (`idle-expire::defaults`, ...), as a
//! user's own `harness = false` test file runs theirs: `cargo test --test catalogue NAME`,
//! `cargo nextest run -E 'test(/idle-expire/)'`, `--partition count:1/4`.

fn main() -> std::process::ExitCode {
    kube_watch_harness::trial::main(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
}
