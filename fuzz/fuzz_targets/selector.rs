//! The selector target: see `kube_watch_harness::fuzz::selector` for the properties it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = kube_watch_harness::fuzz::selector(data) {
        panic!("{broken}");
    }
});
