//! Property tests: random and mutated scenario files never panic the loader, and random
//! requests never panic the server — everything malformed gets a Status.

use http_body_util::BodyExt;
use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::scenario::Scenario;
use kube_watch_harness::trace::Recorder;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const GOOD: &str = "duration: 5m
resource:
  version: v1
  kind: ConfigMap
  plural: configmaps
  objects:
    - { name: a, labels: { app: web } }
timeline:
  - { at: 1m, every: 10s, until: 2m, kind: update, name: a, namespace: default, body: { data: { n: \"{n}\" } } }
  - { at: 3m, kind: http_error, status: 503, for: 1m, verbs: [watch] }
watchers:
  - name: w
    config: { label_selector: app=web, timeout: 60s }
expect:
  deadline: 1m
  recover: [w]
";

/// YAML's significant characters, and some that are not, for mutations.
const NOISE: &[char] = &[
    ':', '-', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '#', '"', '\'', '\t', '\n', ' ',
    '%', '@', '`', '?', '0', 'x', '\u{feff}', '\u{0}', 'é',
];

fn mutated() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (0..GOOD.len(), 0..3_usize, proptest::sample::select(NOISE)),
        1..6,
    )
    .prop_map(|edits| {
        let mut text: Vec<char> = GOOD.chars().collect();
        for (at, op, c) in edits {
            let at = at.min(text.len().saturating_sub(1));
            match op {
                0 => text.insert(at, c),
                1 if !text.is_empty() => {
                    text.remove(at);
                }
                _ if !text.is_empty() => text[at] = c,
                _ => {}
            }
        }
        text.into_iter().collect()
    })
}

#[test]
fn random_text_never_panics_the_loader() {
    let mut runner = TestRunner::new(Config::with_cases(512));
    runner
        .run(&any::<String>(), |text| {
            let _ = Scenario::from_yaml(&text);
            Ok(())
        })
        .expect("no input panics");
}

#[test]
fn mutated_scenarios_load_or_fail_with_a_located_message_and_never_panic() {
    let mut runner = TestRunner::new(Config::with_cases(1024));
    runner
        .run(&mutated(), |text| {
            if let Err(error) = Scenario::from_yaml(&text) {
                let message = error.to_string();
                prop_assert!(message.starts_with("<string>"), "{}", message);
            }
            Ok(())
        })
        .expect("no mutation panics the loader");
}

fn request() -> impl Strategy<Value = (String, String, String, String)> {
    let method = proptest::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
    let segment = prop_oneof![
        proptest::sample::select(vec![
            "api",
            "apis",
            "v1",
            "namespaces",
            "default",
            "configmaps",
            "watch",
            "a",
            "version",
            "example.com",
            "",
            "..",
            "%2F",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9._~%-]{0,12}",
    ];
    let path = proptest::collection::vec(segment, 0..6).prop_map(|s| format!("/{}", s.join("/")));
    let key = proptest::sample::select(vec![
        "watch",
        "resourceVersion",
        "resourceVersionMatch",
        "limit",
        "continue",
        "labelSelector",
        "fieldSelector",
        "timeoutSeconds",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "x",
    ]);
    let value = prop_oneof![
        proptest::sample::select(vec![
            "",
            "0",
            "1",
            "-1",
            "true",
            "false",
            "Exact",
            "NotOlderThan",
            "app=web",
            "app in (",
            "metadata.name=a",
            "spec.x=y",
            "99999999999999999999",
            "%ZZ",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,16}",
    ];
    let query = proptest::collection::vec((key, value), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", v.replace(['&', '#', ' '], "")))
            .collect::<Vec<_>>()
            .join("&")
    });
    let accept = proptest::sample::select(vec![
        "application/json",
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
        "*/*",
    ]);
    (
        method.prop_map(str::to_owned),
        path,
        query,
        accept.prop_map(str::to_owned),
    )
}

#[test]
fn random_requests_never_panic_the_server_and_every_error_is_a_status() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let scenario = Scenario::from_yaml(GOOD).unwrap();
    let server = runtime.block_on(async { ApiServer::new(&scenario, Recorder::start()) });
    let mut runner = TestRunner::new(Config::with_cases(2048));
    runner
        .run(&request(), |(method, path, query, accept)| {
            let uri = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            let Ok(request) = http::Request::builder()
                .method(method.as_str())
                .uri(&uri)
                .header(http::header::ACCEPT, accept)
                .body(String::new())
            else {
                // Not a request hyper would ever hand the server.
                return Ok(());
            };
            runtime.block_on(async {
                let response = server.handle(request).await;
                let status = response.status();
                let streaming = response
                    .headers()
                    .get(http::header::CONTENT_LENGTH)
                    .is_none();
                if status.is_client_error() || status.is_server_error() {
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                        TestCaseError::fail(format!("{uri}: {status}: not JSON: {e}"))
                    })?;
                    prop_assert_eq!(&value["kind"], "Status", "{}", uri);
                    prop_assert_eq!(value["code"].as_u64(), Some(u64::from(status.as_u16())));
                } else if !streaming {
                    // A whole answer is JSON; a watch (streaming) is left unread.
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    prop_assert!(
                        serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
                        "{}",
                        uri
                    );
                }
                Ok(())
            })
        })
        .expect("no request panics the server or answers an error without a Status");
}
