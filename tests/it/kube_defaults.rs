//! Whatever the harness does on kube's behalf comes from kube: a set-up that names nothing gets
//! kube's own client settings and `watcher::Config`, and kube 5.0's values are pinned so that a
//! kube upgrade that changes one fails here rather than silently changing every verdict.

use std::time::Duration;

use kube::runtime::watcher;
use kube_watch_harness::mechanism::Mechanism;
use kube_watch_harness::scenario::{ClientSettings, Scenario, WatcherSettings};
use kube_watch_harness::trace::{TraceKind, WatcherErrorVariant};
use kube_watch_harness::{subject, transport};

fn kube_config() -> kube::Config {
    kube::Config::new(transport::SIMULATED_URL.parse().unwrap())
}

/// The settings that shape a request's fate, side by side.
fn client_defaults(c: &kube::Config) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        c.connect_timeout,
        c.read_timeout,
        c.write_timeout,
        c.reset_reader_on_write,
        c.default_retry,
        c.default_namespace.clone(),
    )
}

#[test]
fn a_set_up_that_names_nothing_gets_kubes_own_client_settings() {
    let mut ours = transport::config();
    ClientSettings::default().apply(&mut ours, |t| t);
    assert_eq!(client_defaults(&ours), client_defaults(&kube_config()));
}

#[test]
fn a_set_up_that_names_nothing_gets_kubes_own_watcher_config() {
    let scenario = Scenario::from_yaml(
        "duration: 1m
resource: { version: v1, kind: ConfigMap, plural: configmaps }
watchers: [{ name: plain }]
expect: { deadline: 1m, recover: [plain] }
",
    )
    .unwrap();
    let setup = &scenario.watchers[0];
    assert_eq!(setup.config, WatcherSettings::default());
    assert_eq!(setup.client, ClientSettings::default());
    assert_eq!(
        subject::watcher_config(&setup.config),
        watcher::Config::default()
    );
}

#[test]
fn a_set_up_overrides_only_what_it_names() {
    let scenario = Scenario::from_yaml(
        "duration: 1m
resource: { version: v1, kind: ConfigMap, plural: configmaps }
watchers:
  - { name: tuned, config: { page_size: 10, bookmarks: false }, client: { read_timeout: 30s } }
expect: { deadline: 1m, recover: [tuned] }
",
    )
    .unwrap();
    let setup = &scenario.watchers[0];
    let config = subject::watcher_config(&setup.config);
    assert_eq!(
        config,
        watcher::Config::default().page_size(10).disable_bookmarks()
    );
    let mut client = transport::config();
    setup.client.apply(&mut client, |t| t);
    assert_eq!(client.read_timeout, Some(Duration::from_secs(30)));
    assert_eq!(client.connect_timeout, kube_config().connect_timeout);
    assert_eq!(client.default_retry, kube_config().default_retry);
}

/// The catalogue's expectations were recorded against these. If this fails, kube changed a
/// default: re-record every scenario's `expect` from what the verdict then finds.
#[test]
fn kube_5_0_defaults_are_what_the_catalogue_was_recorded_against() {
    let config = kube_config();
    assert_eq!(config.connect_timeout, Some(Duration::from_secs(30)));
    assert_eq!(
        config.read_timeout, None,
        "kube 5.0 has no read timeout (kube-rs#1945)"
    );
    assert_eq!(config.write_timeout, Some(Duration::from_secs(295)));
    assert!(config.default_retry);
    let watcher = watcher::Config::default();
    assert!(watcher.bookmarks);
    assert_eq!(watcher.page_size, Some(500));
    assert_eq!(
        watcher.timeout, None,
        "kube sends timeoutSeconds=290 when none is set"
    );
    assert_eq!(watcher.list_semantic, watcher::ListSemantic::MostRecent);
    assert_eq!(
        watcher.initial_list_strategy,
        watcher::InitialListStrategy::ListWatch
    );
}

/// How kube reports its read timeout is pinned by type, not wording: an I/O error of kind
/// `TimedOut` among the watcher error's sources, which the trace records as `timed_out` and the
/// verdict names from that alone.
#[test]
fn kubes_read_timeout_on_a_quiet_watch_is_recorded_as_timed_out_and_named() {
    let scenario = Scenario::from_yaml(
        "name: read-timeout-quiet
duration: 10m
resource:
  version: v1
  kind: ConfigMap
  plural: configmaps
  objects: [{ name: a, namespace: default, body: { data: { k: v } } }]
timeline:
  - { at: 9m, kind: update, name: a, namespace: default, body: { data: { k: w } } }
watchers:
  - { name: short-read-timeout, client: { read_timeout: 30s }, backoff: default, consumer: reflector }
expect: { deadline: 1m, recover: [short-read-timeout] }
",
    )
    .expect("the scenario is valid");
    let outcome = scenario
        .run()
        .expect("the scenario runs")
        .outcomes
        .remove(0);
    let timed_out = outcome
        .trace
        .iter()
        .filter(|e| {
            matches!(&e.kind, TraceKind::WatcherError(f)
                if f.variant == WatcherErrorVariant::WatchFailed && f.timed_out)
        })
        .count();
    assert!(timed_out >= 10, "a read timeout every 30 s: {timed_out}");
    assert_eq!(
        outcome.verdict.mechanism,
        Some(Mechanism::ReadTimeoutBelowBookmarks)
    );
}
