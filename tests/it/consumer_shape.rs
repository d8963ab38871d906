//! Every consumer shape a kube-rs user writes, tested the way they would test it: a stream of
//! objects (`applied_objects()`, `touched_objects()`), a reflector's store and what drives it,
//! and a `Controller`, whose view is `controller.store()`.

use std::future::ready;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use kube::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube_watch_harness::mechanism::Mechanism;
use kube_watch_harness::scenario::Scenario;

fn scenario(name: &str) -> Scenario {
    Scenario::load(format!(
        "{}/scenarios/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the built-in scenario loads")
}

#[test]
fn applied_objects_with_backoff_after_them_recover_from_a_forced_410() {
    // The kube-rs#1615 pattern: the backoff goes on the flattened stream.
    let outcome = scenario("forced-410")
        .run_with_applied_objects(|client| {
            watcher(Api::<ConfigMap>::all(client), watcher::Config::default())
                .applied_objects()
                .default_backoff()
        })
        .expect("the run starts");
    outcome.assert_recovered();
    assert_eq!(
        outcome.verdict.figures.relists, 1,
        "one relist after the 410"
    );
}

#[test]
fn applied_objects_without_backoff_storm_a_server_that_forbids_them() {
    let outcome = scenario("rbac-revoked")
        .run_with_applied_objects(|client| {
            watcher(Api::<ConfigMap>::all(client), watcher::Config::default()).applied_objects()
        })
        .expect("the run starts");
    assert!(
        !outcome.verdict.recovered,
        "{:?}",
        outcome.verdict.diagnosis
    );
    assert_eq!(
        outcome.verdict.mechanism,
        Some(Mechanism::HotLoopWithoutBackoff),
        "{:?}",
        outcome.verdict.diagnosis
    );
}

#[test]
fn touched_objects_see_every_delete_their_watch_delivered_through_a_forced_410() {
    let outcome = scenario("forced-410")
        .run_with_touched_objects(|client| {
            watcher(Api::<ConfigMap>::all(client), watcher::Config::default())
                .touched_objects()
                .default_backoff()
        })
        .expect("the run starts");
    outcome.assert_recovered();
}

#[test]
fn a_reflector_store_read_to_the_end_recovers_from_a_forced_410() {
    let outcome = scenario("forced-410")
        .run_with_store(|client| {
            let (reader, writer) = reflector::store();
            let stream = reflector(
                writer,
                watcher(Api::<ConfigMap>::all(client), watcher::Config::default()),
            )
            .default_backoff()
            .for_each(|_| ready(()));
            (reader, stream)
        })
        .expect("the run starts");
    outcome.assert_recovered();
}

#[test]
fn a_reflector_driven_until_its_first_error_leaves_a_stale_store_and_is_reported() {
    let outcome = scenario("forced-410")
        .run_with_store(|client| {
            let (reader, writer) = reflector::store();
            let driver = reflector(
                writer,
                watcher(Api::<ConfigMap>::all(client), watcher::Config::default()),
            )
            .try_for_each(|_| ready(Ok(())))
            .map(|_| ());
            (reader, driver)
        })
        .expect("the run starts");
    let why = std::panic::catch_unwind(|| outcome.assert_recovered())
        .expect_err("a store nobody updates after the 410 does not recover");
    let message = why.downcast_ref::<String>().expect("a formatted message");
    assert!(
        message.contains("the future driving the store returned"),
        "the diagnosis says the driver ended: {message}"
    );
    assert_eq!(
        outcome.verdict.mechanism,
        Some(Mechanism::StoppedOnRecoverableError)
    );
}

/// A controller whose reconciler counts its calls, as a real one would do work.
fn counting_controller(
    client: kube::Client,
    reconciles: Arc<AtomicUsize>,
) -> (
    reflector::Store<ConfigMap>,
    futures::future::BoxFuture<'static, ()>,
) {
    let controller = Controller::new(Api::<ConfigMap>::all(client), watcher::Config::default());
    let store = controller.store();
    let run = controller
        .run(
            |_object: Arc<ConfigMap>, reconciles: Arc<AtomicUsize>| async move {
                reconciles.fetch_add(1, Ordering::Relaxed);
                Ok::<_, kube::Error>(Action::requeue(Duration::from_secs(300)))
            },
            |_object, _error, _ctx| Action::requeue(Duration::from_secs(10)),
            reconciles,
        )
        .for_each(|_| ready(()))
        .boxed();
    (store, run)
}

#[test]
fn a_controller_recovers_from_a_forced_410_and_reconciles_what_its_store_holds() {
    let reconciles = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&reconciles);
    let outcome = scenario("forced-410")
        .run_with_store(move |client| counting_controller(client, counted))
        .expect("the run starts");
    outcome.assert_recovered();
    assert!(
        reconciles.load(Ordering::Relaxed) >= 3,
        "every object in the store was reconciled"
    );
}

#[test]
fn a_controller_whose_watches_end_empty_at_once_is_reported_as_a_hot_loop() {
    let outcome = scenario("empty-watch")
        .run_with_store(|client| {
            let controller = Controller::new(Api::<Event>::all(client), watcher::Config::default());
            let store = controller.store();
            let run = controller
                .run(
                    |_object: Arc<Event>, _ctx: Arc<()>| async {
                        Ok::<_, kube::Error>(Action::await_change())
                    },
                    |_object, _error, _ctx| Action::await_change(),
                    Arc::new(()),
                )
                .for_each(|_| ready(()));
            (store, run)
        })
        .expect("the run starts");
    assert!(
        !outcome.verdict.recovered,
        "{:?}",
        outcome.verdict.diagnosis
    );
    // The controller's own backoff is on its trigger stream, which sees no error here: a clean
    // end is not one, and the watcher re-watches at once.
    assert_eq!(
        outcome.verdict.mechanism,
        Some(Mechanism::HotLoopOnCleanEnds),
        "{:?}",
        outcome.verdict.diagnosis
    );
}
