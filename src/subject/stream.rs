//! Building the watcher under test from a set-up: kube-runtime's `watcher()` (over
//! `PartialObjectMeta` for metadata-only set-ups) with the set-up's `watcher::Config`, its backoff where the set-up puts
//! it, and, for a reflector, the store it feeds.

use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::utils::{Backoff as KubeBackoff, ResetTimerBackoff};
use kube::runtime::watcher::{self, ExponentialBackoff, InitialListStrategy, ListSemantic};

use super::kube_backoff::KUBE_DEFAULT_BACKOFF;
use super::record;
use super::sampler::record_store;
use crate::scenario::{
    self, Backoff, BackoffOn, Consumer, PageSize, ResourceSpec, SetUp, WatcherSettings,
};
use crate::trace::{ConsumerStop, Recorder, TraceKind};

/// The item type of a watcher under test.
pub type WatchItem = watcher::Result<watcher::Event<DynamicObject>>;

/// A boxed watcher stream.
pub type WatchStream = BoxStream<'static, WatchItem>;

/// What the consumer reads: one `Ok` per item (an event, or an object once flattened), or the
/// error the stream yields. What the watcher emitted is already in the trace.
pub type SubjectStream = BoxStream<'static, Result<(), watcher::Error>>;

/// What a run drives: the stream its consumer reads, what its end means in words, and what to
/// record once the run is over (a reflector's store).
pub struct Subject {
    /// What the consumer reads.
    pub stream: SubjectStream,
    /// Run once the consumer has stopped.
    pub at_end: Option<Box<dyn FnOnce() + Send>>,
    /// Why the consumer stopped when the stream ends.
    pub ends: ConsumerStop,
}

impl Subject {
    /// A watcher's stream, consumed and nothing more.
    #[must_use]
    pub fn watcher(stream: SubjectStream) -> Self {
        Self {
            stream,
            at_end: None,
            ends: ConsumerStop::WatcherReturned,
        }
    }
}

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

/// The `watcher::Config` a set-up describes: kube-runtime's `watcher::Config::default()` with
/// the fields the set-up names set on it.
#[must_use]
pub fn watcher_config(settings: &WatcherSettings) -> watcher::Config {
    let mut config = watcher::Config::default();
    if let Some(bookmarks) = settings.bookmarks {
        config.bookmarks = bookmarks;
    }
    if let Some(timeout) = settings.timeout {
        config.timeout = Some(timeout);
    }
    match settings.page_size {
        None => {}
        Some(PageSize::Unlimited) => config.page_size = None,
        Some(PageSize::Of(n)) => config.page_size = Some(n),
    }
    match settings.list_semantic {
        None => {}
        Some(scenario::ListSemantic::MostRecent) => config.list_semantic = ListSemantic::MostRecent,
        Some(scenario::ListSemantic::Any) => config.list_semantic = ListSemantic::Any,
    }
    match settings.streaming_lists {
        None => {}
        Some(true) => config.initial_list_strategy = InitialListStrategy::StreamingList,
        Some(false) => config.initial_list_strategy = InitialListStrategy::ListWatch,
    }
    if let Some(selector) = &settings.label_selector {
        config.label_selector = Some(selector.clone());
    }
    if let Some(selector) = &settings.field_selector {
        config.field_selector = Some(selector.clone());
    }
    config
}

/// kube's `DefaultBackoff` ([`KUBE_DEFAULT_BACKOFF`]) with the jitter seeded, so retry times
/// are the same in every run. kube's own `default_backoff()` cannot be seeded.
///
/// Every delay is divided by `speed`, so against a live server sped up N× the watcher waits
/// the same *virtual* time as in simulated mode (speed 1).
#[must_use]
pub fn seeded_default_backoff(seed: u64, speed: u32) -> ResetTimerBackoff<ExponentialBackoff> {
    let speed = speed.max(1);
    let kube = KUBE_DEFAULT_BACKOFF;
    ResetTimerBackoff::new(
        exponential(kube.initial / speed, kube.max / speed, kube.factor, seed),
        kube.reset_after / speed,
    )
}

fn exponential(initial: Duration, max: Duration, factor: f64, seed: u64) -> ExponentialBackoff {
    ExponentialBackoff::from(
        backon::ExponentialBuilder::default()
            .with_min_delay(initial)
            .with_max_delay(max)
            .with_factor(factor as f32)
            .without_max_times()
            .with_jitter()
            .with_jitter_seed(seed),
    )
}

/// The set-up's backoff, scaled by `speed` like [`seeded_default_backoff`].
fn backoff_of(backoff: Backoff, seed: u64, speed: u32) -> Option<Box<dyn KubeBackoff>> {
    let speed = speed.max(1);
    match backoff {
        Backoff::None => None,
        Backoff::Default => Some(Box::new(seeded_default_backoff(seed, speed))),
        Backoff::Exponential {
            initial,
            max,
            factor,
        } => Some(Box::new(exponential(
            initial / speed,
            max / speed,
            factor,
            seed,
        ))),
    }
}

/// The watcher over `client` across all namespaces: a metadata-only watcher mapped to
/// metadata-only `DynamicObject`s when the set-up asks, so everything downstream is one type.
fn watcher(
    client: kube::Client,
    resource: &ResourceSpec,
    settings: &WatcherSettings,
) -> WatchStream {
    let api_resource = api_resource(resource);
    let config = watcher_config(settings);
    if settings.metadata_only {
        // kube 5: an `Api<PartialObjectMeta<K>>` makes metadata-only requests.
        let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client, &api_resource);
        let types = kube::core::TypeMeta {
            api_version: api_resource.api_version.clone(),
            kind: api_resource.kind.clone(),
        };
        watcher::watcher(api, config)
            .map(move |item| item.map(|event| event.map_object(&types)))
            .boxed()
    } else {
        let api: Api<DynamicObject> = Api::all_with(client, &api_resource);
        watcher::watcher(api, config).boxed()
    }
}

trait MapObject {
    fn map_object(self, types: &kube::core::TypeMeta) -> watcher::Event<DynamicObject>;
}

impl MapObject for watcher::Event<PartialObjectMeta<DynamicObject>> {
    fn map_object(self, types: &kube::core::TypeMeta) -> watcher::Event<DynamicObject> {
        let object = |meta: PartialObjectMeta<DynamicObject>| DynamicObject {
            types: Some(types.clone()),
            metadata: meta.metadata,
            data: serde_json::Value::Null,
        };
        match self {
            watcher::Event::Init => watcher::Event::Init,
            watcher::Event::InitApply(o) => watcher::Event::InitApply(object(o)),
            watcher::Event::InitDone => watcher::Event::InitDone,
            watcher::Event::Apply(o) => watcher::Event::Apply(object(o)),
            watcher::Event::Delete(o) => watcher::Event::Delete(object(o)),
        }
    }
}

/// What a set-up's consumer reads and, for a reflector, its store recorded at the end. Every
/// event and error the watcher emits is recorded as it passes.
///
/// `watcher` → backoff (when on the watcher) → reflector (for that consumer) → record →
/// `applied_objects()`/`touched_objects()` and their backoff (when there).
#[must_use]
pub fn subject_stream(
    client: kube::Client,
    resource: &ResourceSpec,
    setup: &SetUp,
    seed: u64,
    recorder: &Recorder,
) -> Subject {
    let mut backoff = backoff_of(setup.backoff, seed, recorder.speed());
    let mut stream = watcher(client, resource, &setup.config);
    if setup.backoff_on == BackoffOn::Watcher
        && let Some(backoff) = backoff.take()
    {
        stream = stream.backoff(backoff).boxed();
    }
    let mut store = None;
    if setup.consumer == Consumer::Reflector {
        let writer: Writer<DynamicObject> = Writer::new(api_resource(resource));
        store = Some(writer.as_reader());
        stream = reflector::reflector(writer, stream).boxed();
    }
    let recorded = stream.inspect({
        let recorder = recorder.clone();
        move |item| match item {
            Ok(event) => recorder.record(record::event(event)),
            Err(error) => recorder.record(TraceKind::WatcherError(record::error(error))),
        }
    });
    let consumed = match setup.backoff_on {
        BackoffOn::Watcher => erase(recorded),
        BackoffOn::AppliedObjects => flattened(recorded.applied_objects(), backoff),
        BackoffOn::TouchedObjects => flattened(recorded.touched_objects(), backoff),
    };
    let mut subject = Subject::watcher(consumed);
    if let Some(store) = store {
        let recorder = recorder.clone();
        subject.at_end = Some(Box::new(move || record_store(&store, &recorder)));
    }
    subject
}

fn erase<T: Send + 'static>(
    stream: impl Stream<Item = Result<T, watcher::Error>> + Send + 'static,
) -> SubjectStream {
    stream.map(|item| item.map(|_| ())).boxed()
}

fn flattened(
    stream: impl Stream<Item = Result<DynamicObject, watcher::Error>> + Send + 'static,
    backoff: Option<Box<dyn KubeBackoff>>,
) -> SubjectStream {
    match backoff {
        Some(backoff) => erase(stream.backoff(backoff)),
        None => erase(stream),
    }
}

/// The replica against kube-runtime's own `DefaultBackoff`: delays from the same ranges, step
/// by step, and the same reset after a quiet spell. A kube upgrade that changes either fails
/// here.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kube::runtime::watcher::DefaultBackoff;

    use super::*;

    /// The smallest and largest of each of the first `steps` delays over `draws` sequences.
    fn ranges(
        steps: usize,
        draws: usize,
        mut make: impl FnMut(u64) -> Box<dyn Iterator<Item = Duration>>,
    ) -> Vec<(Duration, Duration)> {
        let sequences: Vec<Vec<Duration>> = (0..draws as u64)
            .map(|seed| make(seed).take(steps).collect())
            .collect();
        (0..steps)
            .map(|i| {
                let column = sequences.iter().map(|s| s[i]);
                (column.clone().min().unwrap(), column.max().unwrap())
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_seeded_default_backoff_draws_from_the_same_ranges_as_kubes() {
        // kube's jitter is unseeded, so its draws differ run to run. The jitter is uniform over
        // each step's range, so the chance that the extreme of 400 draws falls more than 5% of
        // the range's width short of its bound is 0.95^400 ≈ 1e-9; two extremes that agree
        // within that much come from the same range.
        let kube = ranges(10, 400, |_| Box::new(DefaultBackoff::default()));
        let ours = ranges(10, 400, |seed| Box::new(seeded_default_backoff(seed, 1)));
        for (step, ((kube_min, kube_max), (our_min, our_max))) in kube.iter().zip(&ours).enumerate()
        {
            let width = (*kube_max).max(*our_max) - (*kube_min).min(*our_min);
            let close = |a: Duration, b: Duration| a.abs_diff(b) <= width / 20;
            assert!(
                close(*kube_min, *our_min) && close(*kube_max, *our_max),
                "step {step}: kube waits {kube_min:?}..{kube_max:?}, the replica {our_min:?}..{our_max:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_seeded_default_backoff_resets_after_the_same_quiet_spell_as_kubes() {
        let mut kube = DefaultBackoff::default();
        let mut ours = seeded_default_backoff(5, 1);
        for _ in 0..6 {
            kube.next();
            ours.next();
        }
        // Grown well past the first step; after two minutes and a bit without a backoff, both
        // start again from the first step's range (800 ms to 1.6 s).
        tokio::time::advance(Duration::from_secs(121)).await;
        let first = KUBE_DEFAULT_BACKOFF.first_step();
        assert!(first.contains(&kube.next().unwrap()), "kube resets");
        assert!(first.contains(&ours.next().unwrap()), "the replica resets");
        // Within two minutes, neither does.
        tokio::time::advance(Duration::from_secs(100)).await;
        assert!(!first.contains(&kube.next().unwrap()));
        assert!(!first.contains(&ours.next().unwrap()));
    }
}
