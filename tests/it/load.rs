//! Load with nothing lost: a thousand watch connections on one live server while the workload
//! writes, and one client that stops reading. Every watcher receives every change, in order;
//! the stalled one holds up no one.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, WatchEvent, WatchParams};
use kube_watch_harness::live::{LiveOptions, LiveServer};
use kube_watch_harness::scenario::Write;
use kube_watch_harness::transport;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Barrier;

use crate::fixture::scenario;

const WATCHERS: usize = 1000;
const WRITES: u64 = 200;
const OBJECTS: [&str; 5] = ["a", "b", "c", "d", "e"];

/// Outer bound on the whole exchange: generous for a loaded machine; a loss fails, never hangs.
const PATIENCE: Duration = Duration::from_secs(120);

#[tokio::test]
async fn a_thousand_watchers_each_receive_every_write_while_one_client_stops_reading() {
    let objects: Vec<String> = OBJECTS.iter().map(|n| format!("{{ name: {n} }}")).collect();
    let live = LiveServer::start(&scenario("", &objects.join(", ")), &LiveOptions::default())
        .await
        .expect("binds loopback");
    let start = live.server().revision();

    // A client that asks for a watch of everything, then never reads a byte.
    let mut stalled = TcpStream::connect(live.addr()).await.unwrap();
    stalled
        .write_all(
            b"GET /api/v1/configmaps?watch=true&resourceVersion=0 HTTP/1.1\r\nHost: h\r\n\r\n",
        )
        .await
        .unwrap();

    let client = transport::tcp_client(&live.kube_config().await.unwrap(), 0, 1).unwrap();
    let api: Api<ConfigMap> = Api::all(client);
    let ready = Arc::new(Barrier::new(WATCHERS + 1));
    let watchers: Vec<_> = (0..WATCHERS)
        .map(|_| {
            let (api, ready) = (api.clone(), Arc::clone(&ready));
            tokio::spawn(async move {
                let params = WatchParams::default().timeout(600);
                let stream = api.watch(&params, &start.to_string()).await;
                ready.wait().await;
                let mut seen = Vec::new();
                let mut stream = stream.expect("the watch starts").boxed();
                while (seen.len() as u64) < WRITES {
                    match stream.try_next().await.expect("the stream is not cut") {
                        Some(WatchEvent::Modified(o)) => {
                            seen.push((o.name_any(), o.resource_version().unwrap_or_default()));
                        }
                        Some(other) => panic!("only updates were written: {other:?}"),
                        None => break,
                    }
                }
                seen
            })
        })
        .collect();

    tokio::time::timeout(PATIENCE, async {
        ready.wait().await;
        let mut truth = Vec::new();
        for i in 0..WRITES {
            let name = OBJECTS[usize::try_from(i).unwrap() % OBJECTS.len()];
            live.server().write(&Write::Update {
                name: name.into(),
                namespace: Some("default".into()),
                labels: None,
                body: [("data".into(), serde_json::json!({ "n": i.to_string() }))].into(),
            });
            truth.push((name.to_owned(), (start + i + 1).to_string()));
            // Let the watchers drain between writes now and then, as a real workload would.
            if i % 20 == 19 {
                tokio::task::yield_now().await;
            }
        }
        let mut lost = 0;
        for watcher in watchers {
            let seen = watcher.await.expect("no watcher panics");
            if seen != truth {
                lost += 1;
            }
        }
        assert_eq!(lost, 0, "every watcher saw all {WRITES} changes in order");
    })
    .await
    .expect("the load finishes within its patience");
    drop(stalled);
}

#[tokio::test]
async fn a_reader_that_stops_while_megabytes_are_written_holds_up_no_one() {
    let live = LiveServer::start(&scenario("", "{ name: a }"), &LiveOptions::default())
        .await
        .expect("binds loopback");
    let start = live.server().revision();
    let mut stalled = TcpStream::connect(live.addr()).await.unwrap();
    stalled
        .write_all(
            format!("GET /api/v1/configmaps?watch=true&resourceVersion={start} HTTP/1.1\r\nHost: h\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let client = transport::tcp_client(&live.kube_config().await.unwrap(), 0, 1).unwrap();
    let api: Api<ConfigMap> = Api::all(client);
    let mut stream = api
        .watch(&WatchParams::default().timeout(600), &start.to_string())
        .await
        .expect("the watch starts")
        .boxed();
    // 500 writes of 16 KiB: 8 MiB for each watcher, far more than the stalled socket buffers.
    let big = "x".repeat(16 * 1024);
    let writes = 500_u64;
    let reader = async {
        let mut seen = 0_u64;
        while seen < writes {
            match stream.try_next().await.expect("the stream is not cut") {
                Some(WatchEvent::Modified(_)) => seen += 1,
                Some(other) => panic!("only updates were written: {other:?}"),
                None => break,
            }
        }
        seen
    };
    let writer = async {
        for i in 0..writes {
            live.server().write(&Write::Update {
                name: "a".into(),
                namespace: Some("default".into()),
                labels: None,
                body: [(
                    "data".into(),
                    serde_json::json!({ "n": i.to_string(), "big": big }),
                )]
                .into(),
            });
            tokio::task::yield_now().await;
        }
    };
    let (seen, ()) = tokio::time::timeout(PATIENCE, async { tokio::join!(reader, writer) })
        .await
        .expect("the reading watcher is not held up by the stalled one");
    assert_eq!(seen, writes);
    drop(stalled);
}
