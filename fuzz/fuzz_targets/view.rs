//! The view target: see `kube_watch_harness::fuzz::view` for the properties it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = kube_watch_harness::fuzz::view(data) {
        panic!("{broken}");
    }
});
