//! Several apiservers behind a load balancer, one of them lagging: what a request that reaches
//! the lagging one is answered (kubernetes#59848), and how a failover moves the clients.

use std::time::Duration;

use http_body_util::BodyExt;
use kube_watch_harness::fault::Fault;
use kube_watch_harness::trace::{TraceKind, Verb};

use crate::fixture::{World, big_update, json, scenario};

const S: fn(u64) -> Duration = Duration::from_secs;

/// Replica `fresh` on time, then `behind`, whose watch cache hears etcd 30 s late.
fn two_replicas(balance: &str) -> World {
    World::new(&scenario(
        &format!(
            "replicas: [{{ name: fresh }}, {{ name: behind, cache_lag: 30s }}], load_balancer: {balance}"
        ),
        "{ name: a }",
    ))
}

async fn at(world: &World, time: Duration) {
    world.recorder.sleep_until(time).await;
}

fn list_revision(body: &[u8]) -> u64 {
    json(body)["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .expect("a list carries its resourceVersion")
}

/// The replica each request of `verb` reached, in order.
fn replicas_reached(world: &World, verb: Verb) -> Vec<String> {
    (world.recorder.snapshot().iter())
        .filter_map(|e| match &e.kind {
            TraceKind::Request(r) if r.verb == verb => r.replica.clone(),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_list_at_zero_from_a_lagging_replica_shows_etcd_as_it_was_its_lag_ago() {
    let world = two_replicas("round_robin");
    let before = world.server.revision();
    at(&world, S(10)).await;
    big_update(&world.server, 1);
    at(&world, S(20)).await;
    let fresh = world.get("/api/v1/configmaps?resourceVersion=0").await;
    let behind = world.get("/api/v1/configmaps?resourceVersion=0").await;
    assert_eq!(list_revision(fresh.body()), world.server.revision());
    assert_eq!(
        list_revision(behind.body()),
        before,
        "10 s after the write, 30 s lag"
    );
    at(&world, S(40)).await;
    world.get("/api/v1/configmaps?resourceVersion=0").await;
    let caught_up = world.get("/api/v1/configmaps?resourceVersion=0").await;
    assert_eq!(list_revision(caught_up.body()), world.server.revision());
    assert_eq!(
        replicas_reached(&world, Verb::List),
        ["fresh", "behind", "fresh", "behind"],
        "a layer-7 balancer takes turns per request"
    );
}

#[tokio::test(start_paused = true)]
async fn a_consistent_list_from_a_lagging_replica_waits_three_seconds_then_etcd_answers() {
    let world = two_replicas("round_robin");
    at(&world, S(10)).await;
    big_update(&world.server, 1);
    world.get("/api/v1/configmaps").await;
    let asked = world.recorder.now();
    let consistent = world.get("/api/v1/configmaps").await;
    assert_eq!(
        world.recorder.now() - asked,
        S(3),
        "the cache's blockTimeout"
    );
    assert_eq!(list_revision(consistent.body()), world.server.revision());
}

#[tokio::test(start_paused = true)]
async fn a_streaming_list_from_a_lagging_replica_ends_with_a_504_in_the_stream() {
    let world = two_replicas("round_robin");
    at(&world, S(10)).await;
    big_update(&world.server, 1);
    world.get("/api/v1/configmaps").await;
    let body = world
        .watch_body(
            "/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=60",
        )
        .await;
    insta::assert_snapshot!(body);
}

#[tokio::test(start_paused = true)]
async fn a_watch_on_a_lagging_replica_gets_each_change_its_lag_after_etcd_committed_it() {
    let world = two_replicas("round_robin");
    world.get("/api/v1/configmaps").await;
    let from = world.server.revision();
    let watch = format!("/api/v1/configmaps?watch=true&resourceVersion={from}&timeoutSeconds=60");
    let mut body = world.open_watch(&watch).await;
    let reader = tokio::spawn(async move { body.frame().await.map(|f| f.is_ok()) });
    at(&world, S(5)).await;
    big_update(&world.server, 1);
    let first = reader.await.expect("the reader does not panic");
    assert_eq!(first, Some(true), "the change came");
    assert_eq!(world.recorder.now(), S(35), "30 s after the write at 5 s");
}

#[tokio::test(start_paused = true)]
async fn a_failover_resets_the_connections_bound_to_the_other_replicas() {
    let world = two_replicas("sticky");
    let mut body = world
        .open_watch("/api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=600")
        .await;
    at(&world, S(5)).await;
    world.server.inject(&Fault::Failover {
        to: "behind".into(),
    });
    let ended = tokio::time::timeout(S(30), async {
        loop {
            match body.frame().await {
                Some(Ok(_)) => {}
                other => return other.map(|f| f.is_ok()),
            }
        }
    })
    .await
    .expect("the watch ends at once");
    assert_eq!(ended, Some(false), "reset, not ended cleanly");
    world.get("/api/v1/configmaps").await;
    assert_eq!(replicas_reached(&world, Verb::Watch), ["fresh"]);
    assert_eq!(replicas_reached(&world, Verb::List), ["behind"]);
}

#[tokio::test(start_paused = true)]
async fn kube_s_streaming_list_from_zero_gets_the_lagging_cache_as_it_is() {
    let world = two_replicas("round_robin");
    let before = world.server.revision();
    at(&world, S(10)).await;
    big_update(&world.server, 1);
    world.get("/api/v1/configmaps").await;
    let mut body = world
        .open_watch(
            "/api/v1/configmaps?watch=true&timeoutSeconds=290&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0",
        )
        .await;
    let mut text = String::new();
    while !text.contains("initial-events-end") {
        let frame = body.frame().await.expect("more comes").expect("no reset");
        text.push_str(&String::from_utf8_lossy(
            &frame.into_data().unwrap_or_default(),
        ));
    }
    assert_eq!(world.recorder.now(), S(10), "no wait for freshness from 0");
    let end = text.lines().last().expect("the end bookmark");
    assert!(
        end.contains(&format!("\"resourceVersion\":\"{before}\"")),
        "the state before the write: {end}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_streaming_list_to_an_unready_lagging_replica_is_turned_away_at_once() {
    let world = World::without_client_retry(&scenario(
        "watch_cache_init: 1m, replicas: [{ name: fresh }, { name: behind, cache_lag: 30s }], load_balancer: round_robin",
        "{ name: a }",
    ));
    at(&world, S(10)).await;
    big_update(&world.server, 1);
    world.get("/api/v1/configmaps").await;
    let answer = world
        .get("/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
        .await;
    assert_eq!(answer.status(), 429, "storage is (re)initializing");
    assert_eq!(
        world.recorder.now(),
        S(10),
        "readiness first, no wait for freshness"
    );
}
