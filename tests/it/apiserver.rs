//! The simulated server against shared/docs/k8s-watch-semantics.md, through a real kube client.

use std::time::Duration;

use kube_watch_harness::fault::Fault;
use kube_watch_harness::scenario::{ObjectSpec, Write};

use crate::fixture::{World, json, scenario};

const FIVE: &str = "{ name: a }, { name: b }, { name: c }, { name: d }, { name: e }";
const SECS: fn(u64) -> Duration = Duration::from_secs;

fn create(name: &str) -> Write {
    Write::Create(ObjectSpec {
        name: name.into(),
        namespace: Some("default".into()),
        labels: Default::default(),
        body: Default::default(),
    })
}

#[tokio::test(start_paused = true)]
async fn pagination_serves_every_page_from_one_snapshot_and_ends_without_a_token() {
    let world = World::new(&scenario("", FIVE));
    let first = json(world.get("/api/v1/configmaps?limit=2").await.body());
    assert_eq!(first["kind"], "ConfigMapList");
    assert_eq!(first["metadata"]["resourceVersion"], "5");
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert!(
        first["items"][0].get("kind").is_none(),
        "built-in list items carry no kind (kubernetes#3030)"
    );

    world.server.write(&create("f"));
    let token = first["metadata"]["continue"].as_str().unwrap();
    let second = json(
        world
            .get(&format!("/api/v1/configmaps?limit=2&continue={token}"))
            .await
            .body(),
    );
    let third = json(
        world
            .get(&format!(
                "/api/v1/configmaps?limit=2&continue={}",
                second["metadata"]["continue"].as_str().unwrap()
            ))
            .await
            .body(),
    );
    assert_eq!(
        second["metadata"]["resourceVersion"], "5",
        "every page reports the snapshot's revision"
    );
    let names: Vec<&str> = [&first, &second, &third]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap())
        .map(|item| item["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a", "b", "c", "d", "e"],
        "the object written between pages is not in the snapshot"
    );
    assert!(
        third["metadata"].get("continue").is_none(),
        "the last page omits continue"
    );
    assert!(third["metadata"].get("remainingItemCount").is_none());
}

#[tokio::test(start_paused = true)]
async fn an_expired_continue_token_is_410_with_a_replacement_token_for_the_rest() {
    let world = World::new(&scenario("", FIVE));
    let first = json(world.get("/api/v1/configmaps?limit=2").await.body());
    world.server.write(&create("f"));
    world.server.inject(&Fault::Compact { retain: None });
    let token = first["metadata"]["continue"].as_str().unwrap();
    let expired = world
        .get(&format!("/api/v1/configmaps?limit=2&continue={token}"))
        .await;
    assert_eq!(expired.status(), 410);
    let status = json(expired.body());
    assert_eq!(status["reason"], "Expired");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("The provided continue parameter is too old")
    );
    let replacement = status["metadata"]["continue"].as_str().unwrap();
    let rest = json(
        world
            .get(&format!(
                "/api/v1/configmaps?limit=10&continue={replacement}"
            ))
            .await
            .body(),
    );
    let names: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["c", "d", "e", "f"],
        "an rv:-1 token carries on at the latest revision"
    );
}

#[tokio::test(start_paused = true)]
async fn exact_lists_below_the_compaction_are_410_and_from_the_future_504_after_the_cache_waits() {
    // NB: kube's client retries 504 by itself; without that layer the first answer shows.
    let world = World::without_client_retry(&scenario("", FIVE));
    world.server.write(&create("f"));
    world.server.inject(&Fault::Compact { retain: None });
    let old = world
        .get("/api/v1/configmaps?resourceVersion=2&resourceVersionMatch=Exact")
        .await;
    assert_eq!(old.status(), 410);
    assert_eq!(
        json(old.body())["message"],
        "The resourceVersion for the provided list is too old."
    );
    let legacy = world
        .get("/api/v1/configmaps?resourceVersion=2&limit=500")
        .await;
    assert_eq!(
        legacy.status(),
        410,
        "a limit with a resourceVersion and no match means Exact (legacy rule)"
    );

    let before = world.recorder.now();
    let future = world.get("/api/v1/configmaps?resourceVersion=99").await;
    assert_eq!(future.status(), 504);
    assert_eq!(future.headers()["retry-after"], "1");
    assert_eq!(
        json(future.body())["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    // The lower bound proves the watch cache's 3 s wait happened, not only the error.
    assert!(world.recorder.now() - before >= SECS(3));
}

#[tokio::test(start_paused = true)]
async fn list_option_validation_answers_422_and_400_like_the_apiserver() {
    let world = World::new(&scenario("", FIVE));
    let no_version = world
        .get("/api/v1/configmaps?resourceVersionMatch=NotOlderThan")
        .await;
    assert_eq!(no_version.status(), 422);
    assert_eq!(
        json(no_version.body())["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );
    let with_continue = world
        .get("/api/v1/configmaps?resourceVersion=5&continue=abc")
        .await;
    assert_eq!(with_continue.status(), 400);
    assert_eq!(
        json(with_continue.body())["message"],
        "specifying resource version is not allowed when using continue"
    );
    assert_eq!(
        world
            .get("/api/v1/configmaps?labelSelector=a%20in%20b")
            .await
            .status(),
        400
    );
}

#[tokio::test(start_paused = true)]
async fn a_watch_from_a_compacted_revision_is_200_then_one_error_event_then_the_end() {
    let world = World::new(&scenario("watch_cache: false", FIVE));
    world.server.write(&create("f"));
    world.server.inject(&Fault::Compact { retain: None });
    let lines = world
        .watch_lines(
            "/api/v1/configmaps?watch=true&resourceVersion=2",
            SECS(3600),
        )
        .await;
    assert_eq!(
        lines,
        vec![(
            Duration::ZERO,
            "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"The resourceVersion for the provided watch is too old.\",\"reason\":\"Expired\",\"code\":410}}".to_owned()
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn bookmarks_come_every_interval_and_two_seconds_before_the_timeout_then_a_clean_end() {
    let world = World::new(&scenario("bookmark_interval: 1m, churn_interval: 7s", FIVE));
    let player = tokio::spawn(kube_watch_harness::apiserver::play(
        world.server.clone(),
        scenario("bookmark_interval: 1m, churn_interval: 7s", FIVE),
    ));
    let lines = world.watch_lines("/api/v1/configmaps?watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=200", SECS(3600)).await;
    player.abort();
    let times: Vec<Duration> = lines.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        [SECS(60), SECS(120), SECS(180), SECS(198)],
        "1 min cadence, the last at deadline - 2 s"
    );
    // Churn every 7 s moves the revision: at 60 s eight churn writes have landed on revision 5.
    assert_eq!(
        lines[0].1,
        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"13\"}}}"
    );
    assert!(
        world.recorder.now() >= SECS(200),
        "the stream ends at timeoutSeconds, not before"
    );
}

#[tokio::test(start_paused = true)]
async fn no_bookmarks_without_allow_watch_bookmarks_nor_on_a_resource_without_watch_cache() {
    for (server, query) in [
        ("", "watch=true&resourceVersion=5&timeoutSeconds=150"),
        (
            "watch_cache: false",
            "watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=150",
        ),
    ] {
        let world = World::new(&scenario(server, FIVE));
        let lines = world
            .watch_lines(&format!("/api/v1/configmaps?{query}"), SECS(3600))
            .await;
        assert!(lines.is_empty(), "{server:?} {query}: {lines:?}");
        assert_eq!(
            world.recorder.now(),
            SECS(150),
            "the watch ends exactly at timeoutSeconds"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_watch_without_timeout_seconds_lasts_the_servers_random_30_to_60_minutes() {
    let world = World::new(&scenario("watch_cache: false", FIVE));
    let lines = world
        .watch_lines(
            "/api/v1/configmaps?watch=true&resourceVersion=5",
            SECS(7200),
        )
        .await;
    assert!(lines.is_empty());
    let lasted = world.recorder.now();
    assert!(
        (SECS(1800)..SECS(3600)).contains(&lasted),
        "lasted {lasted:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn watch_events_carry_their_type_and_deletions_carry_the_deletion_revision() {
    let world = World::new(&scenario("", "{ name: a }"));
    let server = world.server.clone();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(SECS(1)).await;
        server.write(&create("b"));
        server.write(&Write::Delete {
            name: "a".into(),
            namespace: Some("default".into()),
        });
    });
    let lines = world
        .watch_lines("/api/v1/configmaps?watch=true&timeoutSeconds=5", SECS(3600))
        .await;
    writer.await.unwrap();
    let events: Vec<(String, String, String)> = lines
        .iter()
        .map(|(_, l)| {
            let v = json(l.as_bytes());
            (
                v["type"].as_str().unwrap().into(),
                v["object"]["metadata"]["name"].as_str().unwrap().into(),
                v["object"]["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .into(),
            )
        })
        .collect();
    let expected = [
        ("ADDED", "a", "1"),
        ("ADDED", "b", "2"),
        ("DELETED", "a", "3"),
    ];
    assert_eq!(
        events,
        expected.map(|(t, n, rv)| (t.to_owned(), n.to_owned(), rv.to_owned()))
    );
    assert!(
        lines[0]
            .1
            .contains("\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\""),
        "watch objects carry their type"
    );
}

#[tokio::test(start_paused = true)]
async fn an_object_leaving_a_label_selector_arrives_as_deleted() {
    let world = World::new(&scenario("", "{ name: a, labels: { app: web } }"));
    let server = world.server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SECS(1)).await;
        server.write(&Write::Update {
            name: "a".into(),
            namespace: Some("default".into()),
            labels: Some([("app".into(), "db".into())].into()),
            body: Default::default(),
        });
    });
    let lines = world.watch_lines("/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dweb&timeoutSeconds=5", SECS(3600)).await;
    let types: Vec<String> = lines
        .iter()
        .map(|(_, l)| json(l.as_bytes())["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
}

#[tokio::test(start_paused = true)]
async fn a_streaming_list_ends_its_initial_events_with_the_annotated_bookmark() {
    let world = World::new(&scenario("", "{ name: a }, { name: b }"));
    let lines = world
        .watch_lines("/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=0&timeoutSeconds=1", SECS(3600))
        .await;
    let last = &lines[2].1;
    assert_eq!(
        last,
        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"2\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}"
    );
    let without_match = world
        .get("/api/v1/configmaps?watch=true&sendInitialEvents=true")
        .await;
    assert_eq!(without_match.status(), 422);
}

#[tokio::test(start_paused = true)]
async fn unknown_paths_other_methods_and_missing_objects_get_status_errors() {
    let world = World::new(&scenario("", "{ name: a }"));
    let missing = world.get("/api/v1/pods").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(json(missing.body())["kind"], "Status");
    let object = world.get("/api/v1/namespaces/default/configmaps/zzz").await;
    assert_eq!(
        json(object.body())["message"],
        "configmaps \"zzz\" not found"
    );
    let found = json(
        world
            .get("/api/v1/namespaces/default/configmaps/a")
            .await
            .body(),
    );
    assert_eq!(found["kind"], "ConfigMap");
    let request = http::Request::delete("/api/v1/namespaces/default/configmaps/a")
        .body(kube::client::Body::empty())
        .unwrap();
    let response = world.client.send(request).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        json(world.get("/apis").await.body())["kind"],
        "APIGroupList"
    );
    assert_eq!(
        json(world.get("/api/v1").await.body())["resources"][0]["name"],
        "configmaps"
    );
    assert_eq!(
        json(world.get("/version").await.body())["gitVersion"],
        "v1.34.0"
    );
}

#[tokio::test(start_paused = true)]
async fn now_in_an_update_is_the_time_of_the_write_and_a_repeat_of_it_is_written_again() {
    let world = World::new(&scenario("", "{ name: a }"));
    let renew = Write::Update {
        name: "a".into(),
        namespace: Some("default".into()),
        labels: None,
        body: [("data".into(), serde_json::json!({ "renewed": "{now}" }))].into(),
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    world.server.write(&renew);
    tokio::time::sleep(SECS(1)).await;
    world.server.write(&renew);
    let a = json(
        world
            .get("/api/v1/namespaces/default/configmaps/a")
            .await
            .body(),
    );
    // Time zero of a simulated run is 2026-01-01T00:00:00Z; the second write was at 2.5 s.
    assert_eq!(a["data"]["renewed"], "2026-01-01T00:00:02.500000Z");
    assert_eq!(a["metadata"]["resourceVersion"], "3");
}

#[tokio::test(start_paused = true)]
async fn metrics_count_answers_by_verb_and_code_in_prometheus_text_as_kube_apiserver_names_them() {
    let world = World::new(&scenario("", FIVE));
    world.get("/api/v1/configmaps?limit=2").await;
    world
        .get("/api/v1/namespaces/default/configmaps/nope")
        .await;
    let metrics = world.get("/metrics").await;
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8_lossy(metrics.body()).into_owned();
    for line in [
        "# TYPE apiserver_request_total counter",
        "apiserver_request_total{code=\"200\",verb=\"LIST\"} 1",
        "apiserver_request_total{code=\"404\",verb=\"GET\"} 1",
        "apiserver_longrunning_requests{verb=\"WATCH\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("kube_watch_harness_tokio_alive_tasks ")),
        "{text}"
    );
}
