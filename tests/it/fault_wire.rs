//! Every fault's exact wire form: the bytes (HTTP head, chunk framing, event lines) a client
//! receives, with the virtual time each read arrived, snapshot-tested. The requests are raw
//! HTTP/1.1 over the in-memory transport, so nothing between the server and the snapshot
//! reinterprets them.

use std::time::Duration;

use kube_watch_harness::apiserver::{ApiServer, play, serve};
use kube_watch_harness::scenario::Scenario;
use kube_watch_harness::trace::Recorder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Two ConfigMaps and `timeline`; `server` adds `server:` settings.
fn scenario(server: &str, timeline: &str) -> Scenario {
    let yaml = format!(
        "duration: 1h
resource:
  version: v1
  kind: ConfigMap
  plural: configmaps
  objects: [{{ name: a, namespace: default, body: {{ data: {{ k: v }} }} }}, {{ name: b, namespace: default }}]
server: {{ {server} }}
timeline:
{timeline}
watchers: [{{ name: w }}]
expect: {{ deadline: 1m, recover: [w] }}
"
    );
    Scenario::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

/// Plays `scenario`, sends `GET target` at 1 s, and returns what arrived within `limit` of
/// virtual time: each read as `[at] bytes`, then how it ended.
async fn received(scenario: &Scenario, target: &str, accept: &str, limit: u64) -> String {
    let server = ApiServer::new(scenario, Recorder::start());
    let recorder = server.recorder().clone();
    let player = tokio::spawn(play(server.clone(), scenario.clone()));
    recorder.sleep_until(Duration::from_secs(1)).await;
    let (mut client, server_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(serve(server, server_end));
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: h\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    client.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    let deadline = Duration::from_secs(1 + limit);
    loop {
        let mut buffer = vec![0; 1 << 16];
        let read = tokio::select! {
            read = client.read(&mut buffer) => read,
            () = recorder.sleep_until(deadline) => {
                out.push_str(&format!("<nothing more within {limit}s>\n"));
                break;
            }
        };
        match read {
            Ok(0) => {
                out.push_str("<connection closed>\n");
                break;
            }
            Ok(n) => {
                let text = String::from_utf8_lossy(&buffer[..n]);
                let text: String = text
                    .split_inclusive("\r\n")
                    .filter(|line| !line.starts_with("date: "))
                    .collect();
                out.push_str(&format!(
                    "[{}] {}\n",
                    kube_watch_harness::scenario::format_duration(recorder.now()),
                    text.escape_debug()
                ));
            }
            Err(e) => {
                out.push_str(&format!("<read error: {}>\n", e.kind()));
                break;
            }
        }
    }
    player.abort();
    out
}

const WATCH: &str = "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2&allowWatchBookmarks=true&timeoutSeconds=100";
const JSON: &str = "application/json";

macro_rules! wire_form {
    ($name:ident, server: $server:expr, timeline: $timeline:expr, target: $target:expr, limit: $limit:expr) => {
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let scenario = scenario($server, $timeline);
            insta::assert_snapshot!(received(&scenario, $target, JSON, $limit).await);
        }
    };
}

const UPDATES: &str = "  - { at: 0s, every: 20s, until: 1h, kind: update, name: a, namespace: default, body: { data: { n: \"{n}\" } } }\n";

wire_form!(idle_sends_no_bytes_at_all, server: "bookmark_interval: 10s, churn_interval: 1s", timeline: "  - { at: 0s, kind: idle, for: 50s }", target: WATCH, limit: 70);
wire_form!(compact_makes_an_uncached_resume_from_before_it_an_error_event_in_etcd_words, server: "watch_cache: false", timeline: "  - { at: 0s, kind: update, name: a, namespace: default, body: { data: { n: \"1\" } } }\n  - { at: 0s, kind: update, name: a, namespace: default, body: { data: { n: \"2\" } } }\n  - { at: 0s, kind: compact }", target: WATCH, limit: 10);
wire_form!(compact_leaves_a_cached_resume_to_the_watch_cache, server: "", timeline: "  - { at: 0s, kind: update, name: a, namespace: default, body: { data: { n: \"1\" } } }\n  - { at: 0s, kind: update, name: a, namespace: default, body: { data: { n: \"2\" } } }\n  - { at: 0s, kind: compact }", target: WATCH, limit: 2);
wire_form!(a_resume_from_before_the_watch_caches_list_is_an_error_event_in_its_words, server: "", timeline: "  - { at: 0s, kind: update, name: a, namespace: default, body: { data: { n: \"1\" } } }", target: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=100", limit: 10);
wire_form!(drop_bookmarks_leaves_them_out_for_its_window, server: "bookmark_interval: 10s, churn_interval: 1s", timeline: "  - { at: 0s, kind: drop_bookmarks, for: 25s }", target: WATCH, limit: 40);
wire_form!(stale_bookmarks_carry_the_revision_of_the_fault_start, server: "bookmark_interval: 10s, churn_interval: 1s", timeline: "  - { at: 0s, kind: stale_bookmarks, for: 25s }", target: WATCH, limit: 40);
wire_form!(empty_bookmarks_carry_an_empty_resource_version, server: "bookmark_interval: 10s, churn_interval: 1s", timeline: "  - { at: 0s, kind: empty_bookmarks, for: 15s }", target: WATCH, limit: 20);
wire_form!(drop_initial_events_end_leaves_a_streaming_list_without_its_marker, server: "", timeline: "  - { at: 0s, kind: drop_initial_events_end }", target: "/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5", limit: 10);
wire_form!(expire_watches_ends_an_open_uncached_watch_with_one_410_event, server: "watch_cache: false", timeline: "  - { at: 5s, kind: expire_watches }", target: WATCH, limit: 10);
wire_form!(expire_watches_ends_an_open_cached_watch_cleanly_as_the_cache_re_lists, server: "", timeline: "  - { at: 5s, kind: expire_watches }", target: WATCH, limit: 10);
wire_form!(watch_410_as_an_event_in_the_cache_words, server: "", timeline: "  - { at: 0s, kind: watch_410 }", target: WATCH, limit: 10);
wire_form!(watch_410_as_an_event_in_etcd_words_without_a_watch_cache, server: "watch_cache: false", timeline: "  - { at: 0s, kind: watch_410 }", target: WATCH, limit: 10);
wire_form!(watch_410_as_an_http_response_in_etcd_words, server: "", timeline: "  - { at: 0s, kind: watch_410, form: http, message: etcd }", target: WATCH, limit: 10);
wire_form!(watch_410_as_an_event_whose_status_has_no_code, server: "watch_cache: false", timeline: "  - { at: 0s, kind: watch_410, code: false }", target: WATCH, limit: 10);
wire_form!(empty_watch_is_200_and_an_immediate_end, server: "", timeline: "  - { at: 0s, kind: empty_watch, count: 1 }", target: WATCH, limit: 10);
wire_form!(cut_stream_clean_ends_with_the_final_chunk, server: "", timeline: &format!("{UPDATES}  - {{ at: 30s, kind: cut_stream, how: clean }}"), target: WATCH, limit: 60);
wire_form!(cut_stream_mid_chunk_closes_inside_an_event_line, server: "", timeline: &format!("{UPDATES}  - {{ at: 30s, kind: cut_stream, how: mid_chunk }}"), target: WATCH, limit: 60);
wire_form!(cut_stream_reset_closes_between_events_without_the_final_chunk, server: "", timeline: &format!("{UPDATES}  - {{ at: 30s, kind: cut_stream, how: reset }}"), target: WATCH, limit: 60);
wire_form!(stall_stream_keeps_the_connection_and_sends_nothing_more, server: "", timeline: &format!("{UPDATES}  - {{ at: 30s, kind: stall_stream }}"), target: WATCH, limit: 200);
wire_form!(hang_headers_never_answers, server: "", timeline: "  - { at: 0s, kind: hang_headers, verbs: [list] }", target: "/api/v1/configmaps", limit: 600);
wire_form!(http_error_403_is_the_anonymous_forbidden_status, server: "", timeline: "  - { at: 0s, kind: http_error, status: 403 }", target: WATCH, limit: 1);
wire_form!(http_error_429_in_text_is_priority_and_fairness, server: "", timeline: "  - { at: 0s, kind: http_error, status: 429, format: text, retry_after: 2s }", target: "/api/v1/configmaps", limit: 1);
wire_form!(http_error_429_as_status_is_the_unready_cache, server: "", timeline: "  - { at: 0s, kind: http_error, status: 429 }", target: "/api/v1/configmaps", limit: 1);
wire_form!(http_error_500_is_etcd_leader_changed, server: "", timeline: "  - { at: 0s, kind: http_error, status: 500 }", target: "/api/v1/configmaps", limit: 1);
wire_form!(http_error_503_with_retry_after, server: "", timeline: "  - { at: 0s, kind: http_error, status: 503, retry_after: 5s }", target: "/api/v1/configmaps", limit: 1);
wire_form!(http_error_503_in_text, server: "", timeline: "  - { at: 0s, kind: http_error, status: 503, format: text }", target: "/api/v1/configmaps", limit: 1);
wire_form!(http_error_504_is_resource_version_too_large, server: "", timeline: "  - { at: 0s, kind: http_error, status: 504 }", target: "/api/v1/configmaps?resourceVersion=99", limit: 1);
wire_form!(latency_on_requests_delays_the_answer, server: "", timeline: "  - { at: 0s, kind: latency, delay: 7s }", target: "/api/v1/namespaces/default/configmaps/b", limit: 10);
wire_form!(latency_on_events_delays_each_event, server: "", timeline: &format!("{UPDATES}  - {{ at: 0s, kind: latency, slows: events, delay: 3s }}"), target: WATCH, limit: 45);
wire_form!(malformed_event_truncated_cuts_a_line_in_half, server: "", timeline: &format!("{UPDATES}  - {{ at: 0s, kind: malformed_event, shape: truncated, count: 1 }}"), target: WATCH, limit: 45);
wire_form!(malformed_event_wrong_shape_drops_the_envelope, server: "", timeline: &format!("{UPDATES}  - {{ at: 0s, kind: malformed_event, shape: wrong_shape, count: 1 }}"), target: WATCH, limit: 25);
wire_form!(expire_continue_answers_a_page_with_410_and_a_replacement_token, server: "", timeline: "  - { at: 0s, kind: expire_continue, count: 1 }", target: "/api/v1/configmaps?limit=1&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Miwic3RhcnQiOiJkZWZhdWx0L2FcdTAwMDAifQ", limit: 1);
wire_form!(watch_error_turns_a_streaming_list_away_with_one_500_event, server: "", timeline: "  - { at: 0s, kind: watch_error, error: watch_progress_unsupported }", target: "/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5", limit: 10);
wire_form!(watch_error_leaves_a_watch_from_a_resource_version_alone, server: "", timeline: "  - { at: 0s, kind: watch_error, error: watch_progress_unsupported }", target: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2&allowWatchBookmarks=true&timeoutSeconds=3", limit: 10);
wire_form!(early_bookmarks_promise_the_revision_ahead_of_an_event_still_owed, server: "bookmark_interval: 10s, churn_interval: 1s", timeline: &format!("{UPDATES}  - {{ at: 0s, kind: early_bookmarks, for: 1m, lag: 5s }}"), target: WATCH, limit: 30);
wire_form!(a_lagging_replica_sends_each_change_its_lag_after_etcd_committed_it, server: "replicas: [{ name: behind, cache_lag: 10s }, { name: fresh }]", timeline: UPDATES, target: WATCH, limit: 45);
wire_form!(failover_resets_a_connection_bound_to_another_replica, server: "replicas: [{ name: first }, { name: second }]", timeline: &format!("{UPDATES}  - {{ at: 30s, kind: failover, to: second }}"), target: WATCH, limit: 60);
wire_form!(restart_keep_resets_open_watches, server: "", timeline: "  - { at: 5s, kind: restart, revision: keep, down: 0s }", target: WATCH, limit: 10);

#[tokio::test(start_paused = true)]
async fn restart_reset_and_regress_change_the_revisions_a_list_reports() {
    let mut shown = String::new();
    for revision in ["reset", "regress, by: 1"] {
        let scenario = scenario(
            "churn_interval: 100ms",
            // No downtime: the answer at 1s shows the revisions, not a refused connection.
            &format!("  - {{ at: 500ms, kind: restart, revision: {revision}, down: 0s }}"),
        );
        shown.push_str(&format!("== {revision}\n"));
        shown.push_str(&received(&scenario, "/api/v1/configmaps", JSON, 1).await);
    }
    insta::assert_snapshot!(shown);
}

#[tokio::test(start_paused = true)]
async fn metadata_only_clients_get_partial_object_metadata() {
    let scenario = scenario("", UPDATES);
    let list = received(
        &scenario,
        "/api/v1/configmaps",
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        1,
    )
    .await;
    let watch = received(
        &scenario,
        WATCH,
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        25,
    )
    .await;
    insta::assert_snapshot!(format!("{list}{watch}"));
}
