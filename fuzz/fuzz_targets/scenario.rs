//! The scenario target: see `kube_watch_harness::fuzz::scenario` for the properties it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = kube_watch_harness::fuzz::scenario(data) {
        panic!("{broken}");
    }
});
