//! How a kube-rs user tests their own watcher code: load a scenario, hand the harness a
//! closure that builds the stream from the client it is given, assert it recovered.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use kube_watch_harness::scenario::Scenario;

fn forced_410() -> Scenario {
    Scenario::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/forced-410.yaml"
    ))
    .expect("the built-in scenario loads")
}

#[test]
fn my_configmap_watcher_with_default_backoff_recovers_from_a_forced_410() {
    let outcome = forced_410()
        .run_with(|client| {
            watcher(Api::<ConfigMap>::all(client), watcher::Config::default()).default_backoff()
        })
        .expect("the run starts");
    outcome.assert_recovered();
    assert_eq!(
        outcome.verdict.figures.relists, 1,
        "one relist after the 410"
    );
}

#[test]
fn a_watcher_that_gives_up_at_the_first_error_is_reported_with_the_reason() {
    let outcome = forced_410()
        .run_with(|client| {
            watcher(Api::<ConfigMap>::all(client), watcher::Config::default())
                .take_while(|item| std::future::ready(item.is_ok()))
        })
        .expect("the run starts");
    let why =
        std::panic::catch_unwind(|| outcome.assert_recovered()).expect_err("it did not recover");
    let message = why.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("did not recover"), "{message}");
    assert!(
        message.contains("410"),
        "the diagnosis names the 410: {message}"
    );
}

#[test]
fn a_panic_in_my_code_is_my_runs_failure_not_the_harness_crash() {
    let outcome = forced_410()
        .run_with(|client| {
            watcher(Api::<ConfigMap>::all(client), watcher::Config::default()).map(|item| {
                assert!(item.is_ok(), "my code panics on errors");
                item
            })
        })
        .expect("the run starts");
    assert!(!outcome.verdict.recovered);
    assert!(
        outcome
            .verdict
            .diagnosis
            .as_deref()
            .is_some_and(|d| d.contains("panicked")),
        "{:?}",
        outcome.verdict.diagnosis
    );
}

#[test]
fn a_watcher_that_never_lets_time_pass_is_reported_as_hung_with_its_last_activity() {
    use kube_watch_harness::run::RunOptions;
    use std::task::Poll;

    let options = RunOptions::default().wall_timeout(std::time::Duration::from_secs(1));
    let outcome = forced_410()
        .run_with_options(&options, |_client| {
            // Always woken, never ready: the runtime is never idle, so virtual time stands still.
            futures::stream::poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::<Option<watcher::Result<watcher::Event<ConfigMap>>>>::Pending
            })
        })
        .expect("the run starts");
    assert!(!outcome.verdict.recovered);
    let why = outcome.verdict.diagnosis.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("hung: the run did not finish within 1s of wall time"),
        "{why}"
    );
    assert!(
        why.contains("the last activity, at 0s of virtual time"),
        "{why}"
    );
}

#[test]
fn my_selecting_watcher_is_judged_by_the_truth_its_set_up_selects_once_run_as_that_set_up() {
    let web_only = |client| {
        watcher(
            Api::<ConfigMap>::all(client),
            watcher::Config::default().labels("app=web"),
        )
        .default_backoff()
    };
    let scenario = forced_410();
    let as_defaults = scenario.run_with(web_only).expect("the run starts");
    assert!(
        !as_defaults.verdict.recovered,
        "judged as a watcher of everything, it misses db/db-config"
    );
    let options = kube_watch_harness::run::RunOptions::default();
    let as_web_only = scenario
        .with_options(&options)
        .as_setup("web-only")
        .expect("forced-410 has set-up web-only")
        .run_with(web_only)
        .expect("the run starts");
    as_web_only.assert_recovered();
    assert_eq!(as_web_only.setup, "web-only");
}

#[test]
fn running_as_a_set_up_the_scenario_lacks_names_the_ones_it_has() {
    let scenario = forced_410();
    let options = kube_watch_harness::run::RunOptions::default();
    let error = scenario
        .with_options(&options)
        .as_setup("web")
        .expect_err("no set-up `web`");
    let message = error.to_string();
    assert!(
        message.contains("no set-up `web`") && message.contains("web-only"),
        "{message}"
    );
}
