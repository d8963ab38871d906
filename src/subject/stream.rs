//! Building the watcher under test from a set-up: kube-runtime's `watcher()` with the set-up's
//! `watcher::Config`, wrapped in the set-up's backoff.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::utils::ResetTimerBackoff;
use kube::runtime::watcher::{self, ExponentialBackoff, InitialListStrategy, ListSemantic};

use crate::scenario::{Backoff, ResourceSpec, WatcherSettings};

/// The item type every watcher under test yields.
pub type WatchItem = watcher::Result<watcher::Event<DynamicObject>>;

/// A boxed watcher stream.
pub type WatchStream = BoxStream<'static, WatchItem>;

/// The kube `ApiResource` for the scenario's resource.
#[must_use]
pub fn api_resource(resource: &ResourceSpec) -> ApiResource {
    ApiResource {
        group: resource.group.clone(),
        version: resource.version.clone(),
        api_version: resource.api_version(),
        kind: resource.kind.clone(),
        plural: resource.plural.clone(),
    }
}

/// The `watcher::Config` a set-up describes; every field not set keeps kube's default.
#[must_use]
pub fn watcher_config(settings: &WatcherSettings) -> watcher::Config {
    watcher::Config {
        bookmarks: settings.bookmarks,
        timeout: settings.timeout,
        page_size: settings.page_size,
        list_semantic: if settings.any_semantic {
            ListSemantic::Any
        } else {
            ListSemantic::MostRecent
        },
        initial_list_strategy: if settings.streaming_lists {
            InitialListStrategy::StreamingList
        } else {
            InitialListStrategy::ListWatch
        },
        label_selector: settings.label_selector.clone(),
        field_selector: settings.field_selector.clone(),
    }
}

/// kube's `DefaultBackoff` parameters (800 ms → 30 s, factor 2, jitter, reset after 120 s
/// quiet: kube-runtime `watcher.rs`, from client-go's reflector) with the jitter seeded, so
/// retry times are the same in every run. kube's own `default_backoff()` cannot be seeded.
///
/// Every delay is divided by `speed`, so against a live server sped up N× the watcher waits
/// the same *virtual* time as in simulated mode (speed 1).
#[must_use]
pub fn seeded_default_backoff(seed: u64, speed: u32) -> ResetTimerBackoff<ExponentialBackoff> {
    let speed = speed.max(1);
    let builder = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(800) / speed)
        .with_max_delay(Duration::from_secs(30) / speed)
        .with_factor(2.0)
        .without_max_times()
        .with_jitter()
        .with_jitter_seed(seed);
    ResetTimerBackoff::new(
        ExponentialBackoff::from(builder),
        Duration::from_secs(120) / speed,
    )
}

/// The watcher stream of a set-up over `client`, across all namespaces. `speed` scales the
/// backoff as in [`seeded_default_backoff`].
#[must_use]
pub fn watch_stream(
    client: kube::Client,
    resource: &ResourceSpec,
    settings: &WatcherSettings,
    backoff: Backoff,
    seed: u64,
    speed: u32,
) -> WatchStream {
    let api: Api<DynamicObject> = Api::all_with(client, &api_resource(resource));
    let stream = watcher(api, settings);
    match backoff {
        Backoff::None => stream.boxed(),
        Backoff::Default => stream.backoff(seeded_default_backoff(seed, speed)).boxed(),
    }
}

fn watcher(
    api: Api<DynamicObject>,
    settings: &WatcherSettings,
) -> impl futures::Stream<Item = WatchItem> + Send + 'static {
    watcher::watcher(api, watcher_config(settings))
}
