//! A restart in the phases a client sees, as measured on kube-apiserver 1.37.2 (`downtime.rs`):
//! SIGTERM closes the port while open watches go on until the process exits; after the exit
//! connections are refused until the new process listens, then taken and answered once it
//! serves.

use std::time::Duration;

use http_body_util::BodyExt;
use kube_watch_harness::fault::{Fault, Restart};
use kube_watch_harness::scenario::Write;

use crate::fixture::{World, scenario};

const SECS: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

fn restart(drain: Duration) -> Fault {
    Fault::Restart {
        restart: Restart::Keep,
        down: SECS(1),
        drain,
    }
}

fn get(path: &str) -> http::Request<kube::client::Body> {
    http::Request::get(path)
        .body(kube::client::Body::empty())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_draining_restart_refuses_new_connections_while_an_open_watch_goes_on_until_the_exit() {
    let world = World::without_client_retry(&scenario("watch_cache: false", "{ name: a }"));
    let response = world
        .client
        .send(get(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=100",
        ))
        .await
        .unwrap();
    let (server, client) = (world.server.clone(), world.client.clone());
    let during = tokio::spawn(async move {
        tokio::time::sleep(SECS(1)).await;
        server.inject(&restart(SECS(10)));
        tokio::time::sleep(SECS(1)).await;
        server.write(&Write::Update {
            name: "a".into(),
            namespace: Some("default".into()),
            labels: None,
            body: [(
                "data".into(),
                serde_json::json!({ "k": "during the drain" }),
            )]
            .into(),
        });
        client
            .send(get("/api/v1/namespaces/default/configmaps"))
            .await
            .is_err()
    });
    let mut body = response.into_body();
    let mut events = Vec::new();
    let ended = loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if frame.is_data() {
                    events.push(world.recorder.now());
                }
            }
            Some(Err(_)) | None => break world.recorder.now(),
        }
    };
    assert!(
        during.await.unwrap(),
        "a new connection during the drain is refused"
    );
    assert_eq!(
        events,
        [SECS(2)],
        "the write during the drain reached the open watch"
    );
    assert_eq!(ended, SECS(11), "the watch ended when the process exited");
}

#[tokio::test(start_paused = true)]
async fn after_the_exit_a_connection_is_refused_until_the_new_process_listens_then_waits_for_it() {
    let world = World::without_client_retry(&scenario("", "{ name: a }"));
    tokio::time::sleep(SECS(1)).await;
    world.server.inject(&restart(Duration::ZERO));
    tokio::time::sleep(MS(10)).await;
    let early = world
        .client
        .send(get("/api/v1/namespaces/default/configmaps"))
        .await;
    assert!(early.is_err(), "refused before the new process listens");
    tokio::time::sleep_until(tokio::time::Instant::now() + MS(100)).await;
    let asked = world.recorder.now();
    let answer = world.get("/api/v1/namespaces/default/configmaps").await;
    assert_eq!(answer.status(), 200);
    assert!(asked < SECS(2), "asked while the new process starts");
    assert_eq!(
        world.recorder.now(),
        SECS(2),
        "answered once it serves, 1 s after the exit"
    );
}
