//! Gzipped watch-list responses (`WatchListCompression`, on in 1.37): what a client that
//! accepts gzip receives, member by member, and who gets plain lines instead.

use std::io::Read;
use std::time::Duration;

use kube_watch_harness::apiserver::{ApiServer, serve};
use kube_watch_harness::trace::Recorder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixture::scenario;

const WATCH_LIST: &str = "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2";

/// The raw response to `GET target` with `Accept-Encoding: encoding`, one update of `a` made
/// while it is open: its head, and its body with the chunk framing taken off.
async fn response(server: &str, target: &str, encoding: &str) -> (String, Vec<u8>) {
    let scenario = scenario(
        server,
        "{ name: a, namespace: default }, { name: b, namespace: default }",
    );
    let server = ApiServer::new(&scenario, Recorder::start());
    let (mut client, server_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(serve(server.clone(), server_end));
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: h\r\nAccept-Encoding: {encoding}\r\nConnection: close\r\n\r\n"
    );
    client.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.write(&kube_watch_harness::scenario::Write::Update {
        name: "a".into(),
        namespace: Some("default".into()),
        labels: None,
        body: [("data".to_owned(), serde_json::json!({ "n": "1" }))].into(),
    });
    let mut bytes = Vec::new();
    client.read_to_end(&mut bytes).await.unwrap();
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head: String = String::from_utf8_lossy(&bytes[..split])
        .split_inclusive("\r\n")
        .filter(|line| !line.starts_with("date: "))
        .collect();
    (head, unchunked(&bytes[split..]))
}

/// A chunked body's data.
fn unchunked(mut body: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&body[..end]).unwrap(), 16).unwrap();
        if size == 0 {
            return data;
        }
        data.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}

/// The body's gzip members, each decoded on its own.
fn members(mut body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let mut decoder = flate2::bufread::GzDecoder::new(body);
        let mut text = String::new();
        decoder.read_to_string(&mut text).expect("a whole member");
        body = decoder.into_inner();
        out.push(text);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_watch_list_to_a_client_that_accepts_gzip_is_one_gzip_member_per_flush() {
    let (head, body) = response("", WATCH_LIST, "gzip").await;
    let members = members(&body);
    assert!(
        members.iter().all(|m| m.ends_with('\n')),
        "members end on events"
    );
    let shown: String = members
        .iter()
        .enumerate()
        .map(|(i, m)| format!("member {}:\n{m}", i + 1))
        .collect();
    insta::assert_snapshot!(format!("{head}{shown}"));
}

#[tokio::test(start_paused = true)]
async fn plain_watches_kubes_identity_and_a_server_with_the_gate_off_get_plain_lines() {
    let plain = "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=2";
    for (server, target, encoding) in [
        ("", plain, "gzip"),
        ("", WATCH_LIST, "identity"),
        ("", WATCH_LIST, "gzip;q=1.0"),
        ("watch_list_compression: false", WATCH_LIST, "gzip"),
    ] {
        let (head, body) = response(server, target, encoding).await;
        assert!(
            !head.contains("content-encoding"),
            "{server} {target} {encoding}: {head}"
        );
        assert!(body.ends_with(b"\n"), "plain lines");
    }
}

#[tokio::test(start_paused = true)]
async fn kubes_streaming_list_asks_for_identity_and_reads_the_plain_lines_it_gets() {
    use futures::StreamExt;
    use kube::api::{Api, DynamicObject, WatchParams};
    use kube::core::{ApiResource, GroupVersionKind, WatchEvent};
    // With gzip on the server, a client that accepted gzip would get members, which kube
    // (built without its `gzip` feature) could not parse: kube 5.0 sends
    // `Accept-Encoding: identity` on watches (kube-client `request_events`, kube-rs#2080).
    let world = crate::fixture::World::new(&scenario("", "{ name: a, namespace: default }"));
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    let api: Api<DynamicObject> = Api::namespaced_with(world.client.clone(), "default", &resource);
    let params = WatchParams::default().initial_events().timeout(2);
    let mut events = api
        .watch(&params, "")
        .await
        .expect("the watch starts")
        .boxed();
    let first = events
        .next()
        .await
        .expect("an event")
        .expect("a line kube parses");
    assert!(matches!(first, WatchEvent::Added(_)), "{first:?}");
}

#[tokio::test(start_paused = true)]
async fn a_cut_in_the_middle_of_a_line_leaves_a_gzip_client_a_member_that_never_ends() {
    use kube_watch_harness::apiserver::play;
    use kube_watch_harness::scenario::Scenario;
    let scenario = Scenario::from_yaml(
        "duration: 1h
resource: { version: v1, kind: ConfigMap, plural: configmaps, objects: [{ name: a, namespace: default }] }
timeline:
  - { at: 2s, kind: cut_stream, how: mid_chunk }
  - { at: 3s, kind: update, name: a, namespace: default, body: { data: { n: \"1\" } } }
watchers: [{ name: w }]
expect: { deadline: 1m, recover: [w] }
",
    )
    .unwrap();
    let server = ApiServer::new(&scenario, Recorder::start());
    tokio::spawn(play(server.clone(), scenario.clone()));
    let (mut client, server_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(serve(server, server_end));
    let target = WATCH_LIST.replace("&timeoutSeconds=2", "");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    );
    client.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    let _ = client.read_to_end(&mut bytes).await;
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut body = &bytes[split..];
    let mut data = Vec::new();
    // The chunks that came, without a final one: the connection was reset.
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&body[..end]).unwrap(), 16).unwrap();
        data.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
    let mut text = String::new();
    let read = flate2::read::MultiGzDecoder::new(&data[..]).read_to_string(&mut text);
    assert!(read.is_err(), "the last member has no end");
    assert!(text.contains("\"k8s.io/initial-events-end\""), "{text}");
    let cut = text.rsplit('\n').next().unwrap();
    assert!(
        cut.starts_with("{\"type\":\"MODIFIED\"") && !cut.ends_with('}'),
        "half the update came, in a member cut short: {cut}"
    );
}
