//! The request target: one request to the simulated apiserver serving `slow-list` (Pods, with
//! a watch cache, field labels of their own, no fault at time zero); see
//! `kube_watch_harness::fuzz::request` for the properties it checks.
#![no_main]

use std::sync::LazyLock;

use kube_watch_harness::scenario::Scenario;

static SCENARIO: LazyLock<Scenario> = LazyLock::new(|| {
    Scenario::from_yaml(include_str!("../../scenarios/slow-list.yaml"))
        .expect("the built-in scenario loads")
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = kube_watch_harness::fuzz::request(&SCENARIO, data) {
        panic!("{broken}");
    }
});
