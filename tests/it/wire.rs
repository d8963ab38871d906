//! The server against shared/docs/k8s-watch-semantics.md, section by section, where
//! `apiserver.rs` does not already cover it: discovery (§6), the LIST resourceVersion table
//! (§1.3), selectors and paths (§1.1, §1.2), watch starting points (§2.7), response heads
//! (§2.2) and the WatchList gate (§3).

use std::time::Duration;

use kube_watch_harness::fault::Fault;
use kube_watch_harness::scenario::{ObjectSpec, Scenario, Write};

use crate::fixture::{World, big_update, json, scenario};

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn body(response: &http::Response<bytes::Bytes>) -> String {
    String::from_utf8(response.body().to_vec()).expect("bodies are UTF-8")
}

fn widgets() -> Scenario {
    Scenario::from_yaml(
        "duration: 1h
resource:
  group: example.com
  version: v1
  kind: Widget
  plural: widgets
  objects: [{ name: w1, namespace: team-a }]
watchers: [{ name: w }]
expect: { deadline: 1m, recover: [w] }
",
    )
    .expect("the test scenario is valid")
}

#[tokio::test(start_paused = true)]
async fn core_discovery_bodies_are_the_references_examples() {
    let world = World::new(&scenario("", "{ name: a }"));
    // Word for word from the reference §6, with Go's trailing newline.
    assert_eq!(
        body(&world.get("/version").await),
        "{\"major\":\"1\",\"minor\":\"34\",\"gitVersion\":\"v1.34.0\",\"gitCommit\":\"0000000000000000000000000000000000000000\",\"gitTreeState\":\"clean\",\"buildDate\":\"2025-08-27T00:00:00Z\",\"goVersion\":\"go1.24.6\",\"compiler\":\"gc\",\"platform\":\"linux/amd64\"}\n"
    );
    assert_eq!(
        body(&world.get("/api").await),
        "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1:6443\"}]}\n"
    );
    assert_eq!(
        body(&world.get("/apis").await),
        "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}\n"
    );
    insta::assert_snapshot!(body(&world.get("/api/v1").await), @r#"{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["get","list","watch"],"shortNames":["cm"],"storageVersionHash":"qFsyl6wFWjQ="}]}"#);
}

#[tokio::test(start_paused = true)]
async fn a_group_resource_is_discovered_under_apis_and_served_at_its_group_paths() {
    let world = World::new(&widgets());
    insta::assert_snapshot!(body(&world.get("/apis").await), @r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"example.com","versions":[{"groupVersion":"example.com/v1","version":"v1"}],"preferredVersion":{"groupVersion":"example.com/v1","version":"v1"}}]}"#);
    insta::assert_snapshot!(body(&world.get("/apis/example.com/v1").await), @r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"example.com/v1","resources":[{"name":"widgets","singularName":"widget","namespaced":true,"kind":"Widget","verbs":["get","list","watch"]}]}"#);
    assert_eq!(world.get("/apis/example.com/v2").await.status(), 404);
    assert_eq!(
        json(world.get("/api/v1").await.body())["resources"],
        serde_json::json!([]),
        "the core group is there, without the custom resource"
    );
    insta::assert_snapshot!(body(&world.get("/apis/example.com/v1/namespaces/team-a/widgets").await), @r#"{"kind":"WidgetList","apiVersion":"example.com/v1","metadata":{"resourceVersion":"1"},"items":[{"kind":"Widget","apiVersion":"example.com/v1","metadata":{"name":"w1","namespace":"team-a","uid":"00000000-0000-4000-8000-000000000001","resourceVersion":"1","creationTimestamp":"2026-01-01T00:00:00Z"}}]}"#);
    let one = json(
        world
            .get("/apis/example.com/v1/namespaces/team-a/widgets/w1")
            .await
            .body(),
    );
    assert_eq!(one["kind"], "Widget");
    assert_eq!(one["metadata"]["name"], "w1");
}

/// `(resourceVersion, resourceVersionMatch, limit)` → (HTTP status, list RV, items, continue?)
async fn list(world: &World, query: &str) -> (u16, String, usize, bool) {
    let response = world.get(&format!("/api/v1/configmaps?{query}")).await;
    let status = response.status().as_u16();
    let v = json(response.body());
    (
        status,
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        v["items"].as_array().map_or(0, Vec::len),
        v["metadata"].get("continue").is_some(),
    )
}

#[tokio::test(start_paused = true)]
async fn list_resource_version_and_match_follow_the_references_table() {
    let world = World::new(&scenario(
        "",
        "{ name: a }, { name: b }, { name: c }, { name: d }",
    ));
    // Revisions 1-4 create a-d; 5 deletes d; compaction keeps revision 3 and later.
    world.server.write(&Write::Delete {
        name: "d".into(),
        namespace: Some("default".into()),
    });
    world.server.compact_to(3);
    let cases = [
        // §1.3 row "unset": most recent; any; not older than N (legacy: limit ⇒ exact).
        ("", (200, "5", 3, false)),
        ("resourceVersion=0", (200, "5", 3, false)),
        ("resourceVersion=0&limit=1", (200, "5", 3, false)),
        ("resourceVersion=4", (200, "5", 3, false)),
        ("resourceVersion=4&limit=1", (200, "4", 1, true)),
        ("resourceVersion=2&limit=1", (410, "", 0, false)),
        // Row "NotOlderThan".
        ("resourceVersionMatch=NotOlderThan", (422, "", 0, false)),
        (
            "resourceVersion=0&resourceVersionMatch=NotOlderThan",
            (200, "5", 3, false),
        ),
        (
            "resourceVersion=4&resourceVersionMatch=NotOlderThan",
            (200, "5", 3, false),
        ),
        // Row "Exact".
        ("resourceVersionMatch=Exact", (422, "", 0, false)),
        (
            "resourceVersion=0&resourceVersionMatch=Exact",
            (422, "", 0, false),
        ),
        (
            "resourceVersion=4&resourceVersionMatch=Exact",
            (200, "4", 4, false),
        ),
        (
            "resourceVersion=3&resourceVersionMatch=Exact",
            (200, "3", 3, false),
        ),
        (
            "resourceVersion=2&resourceVersionMatch=Exact",
            (410, "", 0, false),
        ),
        // The page size is honoured at the latest revision.
        ("limit=2", (200, "5", 2, true)),
    ];
    for (query, (status, rv, items, more)) in cases {
        assert_eq!(
            list(&world, query).await,
            (status, rv.to_owned(), items, more),
            "LIST ?{query}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn without_a_watch_cache_resource_version_zero_honours_the_limit() {
    let world = World::new(&scenario(
        "watch_cache: false",
        "{ name: a }, { name: b }, { name: c }",
    ));
    assert_eq!(
        list(&world, "resourceVersion=0&limit=1").await,
        (200, "3".to_owned(), 1, true),
        "etcd honours limit even with RV 0 (reference §1.3)"
    );
}

#[tokio::test(start_paused = true)]
async fn selectors_and_namespaced_paths_narrow_lists_and_counts_are_left_out_with_selectors() {
    let world = World::new(&scenario(
        "",
        "{ name: a, namespace: one, labels: { app: web } }, { name: b, namespace: one, labels: { app: db } }, { name: a, namespace: two, labels: { app: web } }",
    ));
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{}/{}",
                    i["metadata"]["namespace"].as_str().unwrap(),
                    i["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let cases = [
        ("/api/v1/configmaps", vec!["one/a", "one/b", "two/a"]),
        ("/api/v1/namespaces/one/configmaps", vec!["one/a", "one/b"]),
        ("/api/v1/namespaces/nowhere/configmaps", vec![]),
        (
            "/api/v1/configmaps?labelSelector=app%3Dweb",
            vec!["one/a", "two/a"],
        ),
        (
            "/api/v1/configmaps?labelSelector=app%20in%20(db,cache)",
            vec!["one/b"],
        ),
        ("/api/v1/configmaps?labelSelector=app!%3Dweb", vec!["one/b"]),
        (
            "/api/v1/configmaps?fieldSelector=metadata.name%3Da",
            vec!["one/a", "two/a"],
        ),
        (
            "/api/v1/configmaps?fieldSelector=metadata.namespace%3Dtwo",
            vec!["two/a"],
        ),
        (
            "/api/v1/configmaps?fieldSelector=metadata.namespace!%3Dtwo,metadata.name%3Db",
            vec!["one/b"],
        ),
    ];
    for (path, expected) in cases {
        let v = json(world.get(path).await.body());
        assert_eq!(names(&v), expected, "{path}");
        assert!(v["items"].is_array(), "{path}: items is [] when empty");
    }
    let paged = json(world.get("/api/v1/configmaps?limit=1").await.body());
    assert_eq!(paged["metadata"]["remainingItemCount"], 2);
    let selected = json(
        world
            .get("/api/v1/configmaps?limit=1&labelSelector=app%3Dweb")
            .await
            .body(),
    );
    assert!(selected["metadata"]["continue"].is_string());
    assert!(
        selected["metadata"].get("remainingItemCount").is_none(),
        "no count with a selector (apiserver storage/continue.go)"
    );
}

#[tokio::test(start_paused = true)]
async fn remaining_item_counts_stay_exact_page_after_page_while_the_collection_changes() {
    let objects: Vec<String> = (0..7)
        .map(|i| format!("{{ name: o{i}, namespace: ns{} }}", i % 2))
        .collect();
    let world = World::new(&scenario("", &objects.join(", ")));
    for (path, total) in [
        ("/api/v1/configmaps?limit=2", 7),
        ("/api/v1/namespaces/ns0/configmaps?limit=1", 4),
    ] {
        let mut seen = 0;
        let mut next = path.to_owned();
        let mut pages = 0;
        loop {
            let page = json(world.get(&next).await.body());
            seen += page["items"].as_array().unwrap().len();
            pages += 1;
            // The pages are a snapshot: writes after the first page change nothing in them.
            // (In ns1, which the second listing leaves out.)
            world.server.write(&Write::Create(ObjectSpec {
                name: format!("late-{pages}"),
                namespace: Some("ns1".into()),
                labels: Default::default(),
                body: Default::default(),
            }));
            let Some(token) = page["metadata"]["continue"].as_str() else {
                assert!(page["metadata"].get("remainingItemCount").is_none());
                break;
            };
            assert_eq!(
                page["metadata"]["remainingItemCount"],
                total - seen,
                "{path}, page {pages}"
            );
            next = format!("{path}&continue={token}");
        }
        assert_eq!(seen, total, "{path}: every object once");
    }
}

#[tokio::test(start_paused = true)]
async fn a_write_reaches_exactly_the_open_watches_that_select_it() {
    let world = World::new(&scenario(
        "",
        "{ name: a, namespace: one, labels: { app: web } }",
    ));
    let watch = |query: &'static str| {
        let world = &world;
        async move {
            world
                .watch_lines(
                    &format!("/api/v1/{query}watch=true&resourceVersion=1&timeoutSeconds=5"),
                    SECS(60),
                )
                .await
        }
    };
    let server = world.server.clone();
    let writes = async {
        tokio::time::sleep(SECS(1)).await;
        for (name, namespace, app) in [("b", "one", "db"), ("c", "two", "web"), ("d", "one", "web")]
        {
            server.write(&Write::Create(ObjectSpec {
                name: name.into(),
                namespace: Some(namespace.into()),
                labels: [("app".to_owned(), app.to_owned())].into(),
                body: Default::default(),
            }));
        }
    };
    let (all, one, web, one_web, none, ()) = tokio::join!(
        watch("configmaps?"),
        watch("namespaces/one/configmaps?"),
        watch("configmaps?labelSelector=app%3Dweb&"),
        watch("namespaces/one/configmaps?labelSelector=app%20in%20(web,api)&"),
        watch("configmaps?labelSelector=app%3Dnothing&"),
        writes
    );
    assert_eq!(event_summary(&all), ["ADDED b 2", "ADDED c 3", "ADDED d 4"]);
    assert_eq!(event_summary(&one), ["ADDED b 2", "ADDED d 4"]);
    assert_eq!(event_summary(&web), ["ADDED c 3", "ADDED d 4"]);
    assert_eq!(event_summary(&one_web), ["ADDED d 4"]);
    assert_eq!(event_summary(&none), Vec::<String>::new());
}

/// `n` updates of `a` of about 1 KiB each: more history than one HTTP chunk holds.
fn big_updates(world: &World, n: usize) {
    for i in 0..n {
        big_update(&world.server, i);
    }
}

#[tokio::test(start_paused = true)]
async fn a_watch_resumed_from_far_back_sends_its_backlog_in_order_then_what_comes_after() {
    let world = World::new(&scenario("", "{ name: a }"));
    big_updates(&world, 300);
    let server = world.server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SECS(1)).await;
        server.write(&Write::Delete {
            name: "a".into(),
            namespace: Some("default".into()),
        });
    });
    let lines = world
        .watch_lines(
            "/api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=5",
            SECS(60),
        )
        .await;
    let expected: Vec<String> = (2..=301)
        .map(|rv| format!("MODIFIED a {rv}"))
        .chain(["DELETED a 302".to_owned()])
        .collect();
    assert_eq!(event_summary(&lines), expected);
}

#[tokio::test(start_paused = true)]
async fn a_compaction_overtaking_a_backlog_still_being_sent_ends_an_uncached_watch_with_a_410() {
    use http_body_util::BodyExt;
    let world = World::new(&scenario("watch_cache: false", "{ name: a }"));
    // Far more than the pipe and hyper's buffers hold before the client reads.
    big_updates(&world, 2000);
    let request =
        http::Request::get("/api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=5")
            .body(kube::client::Body::empty())
            .unwrap();
    let mut body = world
        .client
        .send(request)
        .await
        .expect("the watch starts")
        .into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    // etcd cancels a watcher that compaction has overtaken (reference §2.5).
    world.server.compact_to(world.server.revision());
    let mut rest = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the stream ends cleanly").into_data() {
            rest.extend_from_slice(&data);
        }
    }
    let text = String::from_utf8([first.to_vec(), rest].concat()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() < 2000,
        "compaction came before the backlog was all sent: {} lines",
        lines.len()
    );
    let last = json(lines.last().unwrap().as_bytes());
    assert_eq!(last["type"], "ERROR");
    assert_eq!(last["object"]["code"], 410);
}

#[tokio::test(start_paused = true)]
async fn a_backlog_evicted_from_the_watch_cache_while_it_is_sent_ends_the_watch_cleanly() {
    use http_body_util::BodyExt;
    let world = World::new(&scenario("", "{ name: a }"));
    big_updates(&world, 2000);
    let request =
        http::Request::get("/api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=600")
            .body(kube::client::Body::empty())
            .unwrap();
    let mut body = world
        .client
        .send(request)
        .await
        .expect("the watch starts")
        .into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    // Two minutes on, a burst: the ring is full of events older than its window, so the new
    // ones evict the ones the watch has yet to send. The cacher ends such a watch without an
    // ERROR event (`processInterval` in apiserver `cacher/cache_watcher.go`).
    tokio::time::sleep(Duration::from_secs(120)).await;
    big_updates(&world, 3000);
    let mut rest = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the stream ends cleanly").into_data() {
            rest.extend_from_slice(&data);
        }
    }
    let text = String::from_utf8([first.to_vec(), rest].concat()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() < 2000,
        "{} lines: the backlog was cut short",
        lines.len()
    );
    assert!(
        lines.iter().all(|l| !l.contains("\"ERROR\"")),
        "no ERROR event"
    );
    assert!(
        world.recorder.now() < Duration::from_secs(600),
        "ended before its timeout"
    );
    let rewatch = world
        .get("/api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1")
        .await;
    assert!(
        String::from_utf8_lossy(rewatch.body()).contains("too old resource version: 1 ("),
        "the re-watch hears the 410"
    );
}

fn event_summary(lines: &[(Duration, String)]) -> Vec<String> {
    lines
        .iter()
        .map(|(_, line)| {
            let v = json(line.as_bytes());
            let meta = &v["object"]["metadata"];
            let end = meta["annotations"]
                .get("k8s.io/initial-events-end")
                .map_or("", |_| " initial-events-end");
            format!(
                "{} {} {}{end}",
                v["type"].as_str().unwrap(),
                meta["name"].as_str().unwrap_or("-"),
                meta["resourceVersion"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_watch_starts_from_state_for_unset_and_zero_and_after_the_revision_for_n() {
    for (query, expected) in [
        (
            "resourceVersion=",
            vec!["ADDED a 1", "ADDED b 2", "MODIFIED a 3"],
        ),
        (
            "resourceVersion=0",
            vec!["ADDED a 1", "ADDED b 2", "MODIFIED a 3"],
        ),
        ("resourceVersion=1", vec!["ADDED b 2", "MODIFIED a 3"]),
        ("resourceVersion=2", vec!["MODIFIED a 3"]),
        // Ahead of the server: the watch just waits for the revision.
        ("resourceVersion=9", vec![]),
    ] {
        // Without a watch cache, etcd serves a watch from any revision it still has (a cached
        // resource's cache starts at its list: `history.rs`).
        let world = World::new(&scenario("watch_cache: false", "{ name: a }, { name: b }"));
        let server = world.server.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SECS(1)).await;
            server.write(&Write::Update {
                name: "a".into(),
                namespace: Some("default".into()),
                labels: None,
                body: [("data".into(), serde_json::json!({ "k": "v" }))].into(),
            });
        });
        let lines = world
            .watch_lines(
                &format!("/api/v1/configmaps?watch=true&timeoutSeconds=5&{query}"),
                SECS(60),
            )
            .await;
        assert_eq!(event_summary(&lines), expected, "WATCH ?{query}");
    }
}

#[tokio::test(start_paused = true)]
async fn with_watch_list_on_a_watch_from_zero_with_bookmarks_gets_the_end_marker_unasked() {
    let world = World::new(&scenario("", "{ name: a }"));
    let lines = world
        .watch_lines(
            "/api/v1/configmaps?watch=true&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=1",
            SECS(60),
        )
        .await;
    assert_eq!(
        event_summary(&lines),
        ["ADDED a 1", "BOOKMARK - 1 initial-events-end"],
        "SetListOptionsDefaults turns it into a watch-list (reference §2.7)"
    );
    let world = World::new(&scenario("watch_list: false", "{ name: a }"));
    let lines = world
        .watch_lines(
            "/api/v1/configmaps?watch=true&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=1",
            SECS(60),
        )
        .await;
    assert_eq!(
        event_summary(&lines),
        ["ADDED a 1"],
        "no defaulting with the gate off"
    );
}

#[tokio::test(start_paused = true)]
async fn with_watch_list_off_send_initial_events_is_422() {
    let world = World::new(&scenario("watch_list: false", "{ name: a }"));
    let response = world
        .get("/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
        .await;
    assert_eq!(response.status(), 422);
    insta::assert_snapshot!(body(&response), @r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled","reason":"Invalid","details":{"group":"meta.k8s.io","kind":"ListOptions","causes":[{"reason":"FieldValueForbidden","message":"Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled","field":"sendInitialEvents"}]},"code":422}"#);
}

#[tokio::test(start_paused = true)]
async fn a_fault_whose_watch_is_refused_as_invalid_first_is_not_recorded_as_having_acted() {
    use kube_watch_harness::trace::{FaultKind, TraceKind};
    let world = World::new(&scenario("watch_list: false", "{ name: a }"));
    world.server.inject(&Fault::EmptyWatch {
        target: Default::default(),
    });
    let hits = || {
        world
            .recorder
            .snapshot()
            .into_iter()
            .filter_map(|e| match e.kind {
                TraceKind::FaultHit { fault, .. } => Some(fault),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let refused = world
        .get("/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(hits(), [], "the 422 came before the fault could answer");
    let emptied = world
        .get("/api/v1/configmaps?watch=true&resourceVersion=1")
        .await;
    assert_eq!(emptied.status(), 200);
    assert_eq!(hits(), [FaultKind::EmptyWatch]);
}

#[tokio::test(start_paused = true)]
async fn responses_are_plain_json_and_a_watch_is_chunked_with_its_head_before_any_event() {
    let world = World::new(&scenario("", "{ name: a }"));
    let list = world.get("/api/v1/configmaps").await;
    assert_eq!(list.headers()["content-type"], "application/json");
    assert_eq!(list.headers()["cache-control"], "no-cache, private");
    assert!(body(&list).ends_with("}\n"), "one trailing newline");
    // The head arrives although the watch has nothing to send for an hour.
    let request = http::Request::get("/api/v1/configmaps?watch=true&resourceVersion=1")
        .body(kube::client::Body::empty())
        .unwrap();
    let response = tokio::time::timeout(SECS(1), world.client.send(request))
        .await
        .expect("the head comes at once")
        .expect("the watch starts");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
}

#[tokio::test(start_paused = true)]
async fn an_expire_watches_fault_ends_open_uncached_watches_with_one_410_error_event() {
    let world = World::new(&scenario("watch_cache: false", "{ name: a }"));
    let server = world.server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SECS(10)).await;
        server.inject(&Fault::ExpireWatches);
        server.write(&Write::Create(ObjectSpec {
            name: "late".into(),
            namespace: Some("default".into()),
            labels: Default::default(),
            body: Default::default(),
        }));
    });
    let lines = world
        .watch_lines("/api/v1/configmaps?watch=true&resourceVersion=1", SECS(60))
        .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0, SECS(10));
    assert!(lines[0].1.starts_with("{\"type\":\"ERROR\""));
    assert!(lines[0].1.contains("\"code\":410"));
}

#[tokio::test(start_paused = true)]
async fn every_watch_event_type_has_the_references_shape() {
    let world = World::new(&scenario(
        "bookmark_interval: 5s",
        "{ name: a, labels: { app: web }, body: { data: { k: v } } }",
    ));
    let server = world.server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SECS(1)).await;
        server.write(&Write::Update {
            name: "a".into(),
            namespace: Some("default".into()),
            labels: None,
            body: [("data".into(), serde_json::json!({ "k": "w" }))].into(),
        });
        server.write(&Write::Delete {
            name: "a".into(),
            namespace: Some("default".into()),
        });
        tokio::time::sleep(SECS(9)).await;
        server.inject(&Fault::ExpireWatches);
    });
    let lines = world
        .watch_lines(
            "/api/v1/configmaps?watch=true&resourceVersion=0&allowWatchBookmarks=true",
            SECS(60),
        )
        .await;
    // The cache re-listed at 10 s and ended the watch cleanly; resuming from before that is
    // an ERROR event.
    let error = world
        .watch_lines("/api/v1/configmaps?watch=true&resourceVersion=1", SECS(60))
        .await;
    let shown: Vec<String> = lines
        .iter()
        .chain(&error)
        .map(|(at, line)| format!("{at:?} {line}"))
        .collect();
    insta::assert_snapshot!(shown.join("\n"));
}
