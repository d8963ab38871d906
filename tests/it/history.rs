//! What history the server serves, rule by rule of reference §5.1 (the watch cache's window)
//! and §5.2 (etcd's compaction), and that every 410 it sends is backed by it: a resourceVersion
//! once called too old stays too old.

use std::time::Duration;

use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::fault::{Fault, GoneForm, Restart, Target};
use kube_watch_harness::scenario::Write;

use crate::fixture::{World, json, scenario};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// `n` updates of `default/a`, `every` apart, starting now.
async fn updates(server: &ApiServer, n: u32, every: Duration) {
    for i in 0..n {
        tokio::time::sleep(every).await;
        // Each changes the object: an update that changes nothing is not written.
        server.write(&Write::Update {
            name: "a".into(),
            namespace: Some("default".into()),
            labels: None,
            body: [("data".into(), serde_json::json!({ "n": i.to_string() }))].into(),
        });
    }
}

/// A watch from `rv` that ends after a second: its lines as JSON.
async fn watch(world: &World, rv: u64) -> Vec<serde_json::Value> {
    let body = world
        .get(&format!(
            "/api/v1/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=1"
        ))
        .await;
    assert_eq!(body.status(), 200, "a watch answers 200 before any event");
    String::from_utf8(body.body().to_vec())
        .unwrap()
        .lines()
        .map(|line| json(line.as_bytes()))
        .collect()
}

/// The message of the one ERROR event a watch from `rv` gets, or `None` if it is served.
async fn too_old(world: &World, rv: u64) -> Option<String> {
    let lines = watch(world, rv).await;
    match lines.first() {
        Some(line) if line["type"] == "ERROR" => {
            assert_eq!(lines.len(), 1, "an ERROR is the last event");
            assert_eq!(line["object"]["code"], 410);
            assert_eq!(line["object"]["reason"], "Expired");
            Some(line["object"]["message"].as_str().unwrap().to_owned())
        }
        _ => None,
    }
}

async fn exact_list_status(world: &World, rv: u64) -> u16 {
    world
        .get(&format!(
            "/api/v1/configmaps?resourceVersion={rv}&resourceVersionMatch=Exact"
        ))
        .await
        .status()
        .as_u16()
}

#[tokio::test(start_paused = true)]
async fn the_cache_starts_from_its_list_so_a_watch_from_before_it_is_too_old() {
    // Five objects at revisions 1..=5 exist when the server starts: the cache lists at 5.
    let world = World::new(&scenario(
        "",
        "{ name: a }, { name: b }, { name: c }, { name: d }, { name: e }",
    ));
    assert_eq!(
        too_old(&world, 2).await.as_deref(),
        Some("too old resource version: 2 (5)")
    );
    assert_eq!(
        too_old(&world, 5).await,
        None,
        "a watch from the list revision resumes"
    );
    assert_eq!(
        exact_list_status(&world, 2).await,
        200,
        "etcd still has revision 2: an exact LIST is not the cache's to refuse"
    );
}

#[tokio::test(start_paused = true)]
async fn a_ring_of_100_full_of_old_events_evicts_and_names_its_oldest() {
    let world = World::new(&scenario("", "{ name: a }"));
    // One update every 10 s: 100 events span 1000 s, far beyond 75 s, so the ring never grows.
    updates(&world.server, 150, SECS(10)).await;
    let oldest_held = 1 + 150 - 100 + 1;
    assert_eq!(
        too_old(&world, 10).await,
        Some(format!(
            "too old resource version: 10 ({})",
            oldest_held - 1
        ))
    );
    let events = watch(&world, oldest_held - 1).await;
    assert_eq!(events.len(), 100, "the 100 events held are all served");
    assert_eq!(world.server.floors().watch, oldest_held - 1);
}

#[tokio::test(start_paused = true)]
async fn a_ring_of_fresh_events_grows_instead_of_evicting() {
    let world = World::new(&scenario("", "{ name: a }"));
    // A burst: 1,000 updates in ten seconds, every one of them younger than 75 s.
    updates(&world.server, 1_000, Duration::from_millis(10)).await;
    let events = watch(&world, 1).await;
    assert_eq!(events.len(), 1_000, "nothing was evicted");
}

#[tokio::test(start_paused = true)]
async fn a_busy_resource_keeps_about_the_window_and_a_watch_from_before_it_is_too_old() {
    let world = World::new(&scenario("", "{ name: a }"));
    // Two updates a second for ten minutes.
    updates(&world.server, 1_200, Duration::from_millis(500)).await;
    let now = world.server.revision();
    // Three minutes ago: gone. One minute ago (a watcher that had a bookmark then): served.
    assert!(too_old(&world, now - 360).await.is_some());
    assert_eq!(too_old(&world, now - 120).await, None);
    assert_eq!(watch(&world, now - 120).await.len(), 120);
}

#[tokio::test(start_paused = true)]
async fn a_longer_window_keeps_more_of_a_busy_resource() {
    let world = World::new(&scenario("watch_cache_window: 5m", "{ name: a }"));
    updates(&world.server, 1_200, Duration::from_millis(500)).await;
    let now = world.server.revision();
    assert_eq!(
        too_old(&world, now - 360).await,
        None,
        "three minutes of history are inside a five-minute window"
    );
}

#[tokio::test(start_paused = true)]
async fn etcd_compaction_bounds_lists_and_uncached_watches_but_not_the_watch_cache() {
    for cached in [true, false] {
        let world = World::new(&scenario(&format!("watch_cache: {cached}"), "{ name: a }"));
        updates(&world.server, 5, SECS(1)).await;
        world.server.inject(&Fault::Compact { retain: None });
        assert_eq!(world.server.floors().compacted, 6);
        assert_eq!(exact_list_status(&world, 3).await, 410);
        let watch = too_old(&world, 3).await;
        if cached {
            assert_eq!(watch, None, "the watch cache still has revision 4 on");
        } else {
            assert_eq!(
                watch.as_deref(),
                Some("The resourceVersion for the provided watch is too old."),
                "Events: etcd's words"
            );
            assert_eq!(too_old(&world, 5).await, None, "etcd keeps revision 6 on");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_re_lists_the_cache_and_keeps_etcds_history() {
    let world = World::new(&scenario("", "{ name: a }"));
    updates(&world.server, 5, SECS(1)).await;
    world.server.inject(&Fault::Restart {
        restart: Restart::Keep,
        down: std::time::Duration::ZERO,
        drain: std::time::Duration::ZERO,
    });
    assert_eq!(
        too_old(&world, 3).await.as_deref(),
        Some("too old resource version: 3 (6)"),
        "the new cache listed at 6"
    );
    assert_eq!(too_old(&world, 6).await, None);
    assert_eq!(exact_list_status(&world, 3).await, 200, "etcd lost nothing");
}

#[tokio::test(start_paused = true)]
async fn a_cache_still_initializing_turns_watches_and_most_lists_away_with_429() {
    let world = World::without_client_retry(&scenario("watch_cache_init: 5s", "{ name: a }"));
    let status = |path: &'static str| {
        let world = &world;
        async move { world.get(path).await }
    };
    // Right after the start the cache is still listing.
    let watch = status("/api/v1/configmaps?watch=1").await;
    assert_eq!(watch.status(), 429);
    assert_eq!(watch.headers()["retry-after"], "1");
    assert_eq!(json(watch.body())["message"], "storage is (re)initializing");
    assert_eq!(status("/api/v1/configmaps").await.status(), 429);
    assert_eq!(
        status("/api/v1/configmaps?limit=500&labelSelector=app%3Dweb")
            .await
            .status(),
        429
    );
    // A LIST with a limit and no selector goes to etcd, and etcd honours the limit.
    let page = status("/api/v1/configmaps?limit=500&resourceVersion=0").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        status("/api/v1/namespaces/default/configmaps/a")
            .await
            .status(),
        200
    );
    tokio::time::sleep(SECS(5)).await;
    assert_eq!(status("/api/v1/configmaps").await.status(), 200, "ready");
}

#[tokio::test(start_paused = true)]
async fn after_expire_watches_a_cached_watch_ends_and_its_resource_version_stays_too_old() {
    let world = World::new(&scenario("", "{ name: a }"));
    updates(&world.server, 3, SECS(1)).await;
    let server = world.server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SECS(10)).await;
        server.inject(&Fault::ExpireWatches);
    });
    // An open watch from 4: the cache re-lists and ends it cleanly, with no ERROR event.
    let lines = world
        .watch_lines("/api/v1/configmaps?watch=1&resourceVersion=4", SECS(60))
        .await;
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(
        world.recorder.now(),
        SECS(13),
        "ended at the fault, not at a timeout"
    );
    let current = world.server.revision();
    assert_eq!(
        too_old(&world, 4).await,
        Some(format!("too old resource version: 4 ({current})"))
    );
    assert_eq!(
        exact_list_status(&world, 4).await,
        410,
        "and etcd compacted it"
    );
    assert_eq!(
        too_old(&world, current).await,
        None,
        "the current revision resumes"
    );
}

#[tokio::test(start_paused = true)]
async fn after_expire_watches_an_uncached_watch_gets_410_and_its_resource_version_stays_too_old() {
    let world = World::new(&scenario("watch_cache: false", "{ name: a }"));
    updates(&world.server, 3, SECS(1)).await;
    let server = world.server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SECS(10)).await;
        server.inject(&Fault::ExpireWatches);
    });
    let lines = world
        .watch_lines("/api/v1/configmaps?watch=1&resourceVersion=4", SECS(60))
        .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let error = json(lines[0].1.as_bytes());
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    for rv in [1, 4] {
        assert!(
            too_old(&world, rv).await.is_some(),
            "a watch from {rv} is still too old"
        );
        assert_eq!(exact_list_status(&world, rv).await, 410);
    }
}

#[tokio::test(start_paused = true)]
async fn after_a_continue_token_expires_it_stays_expired_and_so_does_its_revision() {
    let world = World::new(&scenario("", "{ name: a }, { name: b }, { name: c }"));
    let first = json(world.get("/api/v1/configmaps?limit=1").await.body());
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    world.server.inject(&Fault::ExpireContinue {
        target: Target {
            count: Some(1),
            ..Target::default()
        },
    });
    let page = |token: String| {
        let world = &world;
        async move {
            world
                .get(&format!("/api/v1/configmaps?limit=1&continue={token}"))
                .await
                .status()
        }
    };
    assert_eq!(page(token.clone()).await, 410, "the fault's expiry");
    assert_eq!(page(token).await, 410, "and again, with the fault used up");
    assert_eq!(exact_list_status(&world, 3).await, 410);
}

#[tokio::test(start_paused = true)]
async fn a_watch_410_in_the_apiservers_form_moves_the_floor_past_the_resource_version() {
    for cached in [true, false] {
        let world = World::new(&scenario(&format!("watch_cache: {cached}"), "{ name: a }"));
        updates(&world.server, 3, SECS(1)).await;
        world.server.inject(&Fault::Watch410 {
            form: GoneForm::Event,
            message: None,
            code: true,
            target: Target {
                count: Some(1),
                ..Target::default()
            },
        });
        assert_eq!(
            too_old(&world, 0).await,
            None,
            "a watch from 0 cannot be too old"
        );
        assert!(too_old(&world, 3).await.is_some(), "the fault's 410");
        assert!(
            too_old(&world, 3).await.is_some(),
            "and the server stands by it"
        );
        assert_eq!(exact_list_status(&world, 3).await, 410);
    }
}
