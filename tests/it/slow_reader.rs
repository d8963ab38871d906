//! A reader that stops reading, end to end: what the server sends backs up through the
//! in-memory connection, then the watch cache's buffer for the watcher fills, and the cacher
//! closes it as unresponsive (apiserver `storage/cacher/cache_watcher.go`). The response ends
//! cleanly, with no ERROR event, before its timeout.

use std::time::Duration;

use http_body_util::BodyExt;
use kube_watch_harness::trace::{ClosedWhy, TraceKind, WatchEnd};

use crate::fixture::{World, big_update, scenario};

const WATCH: &str = "/api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=600";

/// Ten updates of `a` a second, about 1 KiB each, for two minutes: 1,200 changes, more than
/// the connection's buffers hold.
async fn ten_writes_a_second(world: &World) {
    for i in 0..1200 {
        big_update(&world.server, i);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the watch's body to its end: its lines, and whether it ended cleanly.
async fn read_to_the_end(body: &mut kube::client::Body) -> (Vec<String>, bool) {
    let mut bytes = Vec::new();
    let clean = loop {
        match body.frame().await {
            None => break true,
            Some(Err(_)) => break false,
            Some(Ok(frame)) => bytes.extend_from_slice(&frame.into_data().unwrap_or_default()),
        }
    };
    let text = String::from_utf8(bytes).expect("a watch sends UTF-8");
    (text.lines().map(str::to_owned).collect(), clean)
}

fn unresponsive_closes(world: &World) -> Vec<Duration> {
    world
        .recorder
        .snapshot()
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                TraceKind::WatchEnded {
                    reason: WatchEnd::Closed {
                        why: ClosedWhy::Unresponsive
                    },
                    ..
                }
            )
        })
        .map(|e| e.at)
        .collect()
}

async fn open(world: &World) -> kube::client::Body {
    let request = http::Request::get(WATCH)
        .body(kube::client::Body::empty())
        .unwrap();
    world
        .client
        .send(request)
        .await
        .expect("the watch starts")
        .into_body()
}

#[tokio::test(start_paused = true)]
async fn a_watch_whose_reader_stops_is_closed_by_the_watch_cache_and_ends_cleanly() {
    let world = World::new(&scenario("", "{ name: a }"));
    let mut body = open(&world).await;
    ten_writes_a_second(&world).await;
    let (lines, clean) = read_to_the_end(&mut body).await;
    assert!(clean, "the response ends with its last chunk, not a reset");
    assert!(
        lines.len() < 1200,
        "the changes after the close never came: {} lines",
        lines.len()
    );
    assert!(
        lines.iter().all(|l| l.contains("\"MODIFIED\"")),
        "no ERROR event: the cacher closes, it does not fail"
    );
    let closes = unresponsive_closes(&world);
    assert_eq!(closes.len(), 1, "{closes:?}");
    assert!(closes[0] < Duration::from_secs(600), "before its timeout");
}

#[tokio::test(start_paused = true)]
async fn a_watch_read_as_fast_as_it_is_written_is_never_closed() {
    let world = World::new(&scenario("", "{ name: a }"));
    let mut body = open(&world).await;
    let reader = tokio::spawn(async move { read_to_the_end(&mut body).await });
    ten_writes_a_second(&world).await;
    let (lines, clean) = reader.await.expect("the reader does not panic");
    assert!(clean);
    assert_eq!(lines.len(), 1200, "every change, then the timeout's end");
    assert!(unresponsive_closes(&world).is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_bytes_a_closed_watcher_ends_with_are_its_last_kept_event_and_the_last_chunk() {
    use kube_watch_harness::apiserver::serve;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let world = World::new(&scenario("", "{ name: a }"));
    let (mut client, server_end) = tokio::io::duplex(256 * 1024);
    tokio::spawn(serve(world.server.clone(), server_end));
    let request = format!("GET {WATCH} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    ten_writes_a_second(&world).await;
    let mut bytes = Vec::new();
    client.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    // The last kept event, the end of its chunk, then the zero-length chunk that ends the
    // response: no ERROR event, no reset.
    let last = text.rfind("{\"type\"").expect("events came");
    let tail = text[last..].replace(&"x".repeat(1000), "<1000 x>");
    insta::assert_snapshot!(tail.escape_debug().to_string());
}
