//! The live server under malformed requests over real TCP: each gets a Status (or, below HTTP,
//! hyper's own answer) and the server goes on serving.

use std::time::Duration;

use kube_watch_harness::live::{LiveOptions, LiveServer};
use kube_watch_harness::trace::TraceKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fixture::scenario;

/// Sends `request` bytes on a fresh connection and reads until the server closes it.
async fn exchange(server: &LiveServer, request: &[u8]) -> String {
    let head = String::from_utf8_lossy(&request[..request.len().min(40)]).into_owned();
    let mut stream = TcpStream::connect(server.addr()).await.expect("connects");
    // NB: a server that closes early may reset the rest of a large write; what it answered
    // before that is still readable.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("the server answers and closes within 60 s: {head:?}"));
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").into_bytes()
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[tokio::test]
async fn malformed_requests_get_status_errors_and_the_server_keeps_serving() {
    let server = LiveServer::start(&scenario("", "{ name: a }"), &LiveOptions::default())
        .await
        .expect("binds loopback");

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "bad timeoutSeconds",
            get("/api/v1/configmaps?watch=1&timeoutSeconds=abc"),
        ),
        ("bad limit", get("/api/v1/configmaps?limit=-1x")),
        ("bad resourceVersion", get("/api/v1/configmaps?resourceVersion=ten")),
        ("bad labelSelector", get("/api/v1/configmaps?labelSelector=a%20in%20(")),
        (
            "unsupported fieldSelector",
            get("/api/v1/configmaps?fieldSelector=spec.nodeName%3Dx"),
        ),
        ("bad continue token", get("/api/v1/configmaps?limit=1&continue=%25%25")),
        ("unknown path", get("/apis/example.com/v1/widgets")),
        ("unknown object", get("/api/v1/namespaces/default/configmaps/zzz")),
        (
            "non-GET method",
            b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
        ),
        (
            "oversized header",
            format!(
                "GET /api/v1/configmaps HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
                "x".repeat(1_100_000)
            )
            .into_bytes(),
        ),
    ];
    let mut answers = Vec::new();
    for (name, request) in &cases {
        let answer = exchange(&server, request).await;
        let body = body(&answer);
        let status: serde_json::Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{name}: the body is a Status ({e}):\n{answer}"));
        assert_eq!(status["kind"], "Status", "{name}");
        assert_eq!(
            status_line(&answer)
                .split(' ')
                .nth(1)
                .and_then(|code| code.parse::<u64>().ok()),
            status["code"].as_u64(),
            "{name}: the HTTP status equals the Status code"
        );
        answers.push(format!(
            "{name}: {} {}",
            status_line(&answer),
            body.trim_end()
        ));
    }
    insta::assert_snapshot!(answers.join("\n"));

    // Below HTTP: garbage, a head past hyper's buffer, a half-sent request. hyper answers or
    // closes; nothing panics and the next client is served.
    let garbage = exchange(&server, b"HELLO\r\n\r\n").await;
    assert!(
        status_line(&garbage).starts_with("HTTP/1.1 400"),
        "{garbage}"
    );
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Huge: {}\r\n\r\n",
        "x".repeat(3 << 20)
    );
    let huge = exchange(&server, huge.as_bytes()).await;
    assert!(
        huge.is_empty() || status_line(&huge).starts_with("HTTP/1.1 431"),
        "{huge}"
    );
    let mut half = TcpStream::connect(server.addr()).await.unwrap();
    half.write_all(b"GET /api/v1/configm").await.unwrap();
    drop(half);

    let fine = exchange(&server, &get("/api/v1/configmaps")).await;
    assert!(status_line(&fine).starts_with("HTTP/1.1 200"), "{fine}");
    assert!(body(&fine).contains("\"name\":\"a\""), "{fine}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let options = LiveOptions::default().header_timeout(Duration::from_millis(200));
    let server = LiveServer::start(&scenario("", "{ name: a }"), &options)
        .await
        .expect("binds loopback");
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET /api/v1/configmaps HTTP/1.1\r\nHost: h\r\nX-Slow: ")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut answer))
        .await
        .expect("the server hangs up on the slow client")
        .expect("the read ends cleanly or with the server's answer");
    let fine = exchange(&server, &get("/api/v1/configmaps")).await;
    assert!(status_line(&fine).starts_with("HTTP/1.1 200"), "{fine}");
}

#[tokio::test]
async fn past_the_connection_bound_a_client_waits_until_a_slot_frees() {
    let mut options = LiveOptions::default();
    options.max_connections = 1;
    let server = LiveServer::start(&scenario("", "{ name: a }"), &options)
        .await
        .expect("binds loopback");
    // The one slot: a watch that ends after a second of wall time, then its connection closes.
    let holder = {
        let addr = server.addr();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(b"GET /api/v1/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
        })
    };
    // Wait until the holder's watch is being served.
    loop {
        let watching =
            server.server().recorder().snapshot().iter().any(
                |e| matches!(&e.kind, TraceKind::Request(r) if r.query.contains("watch=true")),
            );
        if watching {
            break;
        }
        tokio::task::yield_now().await;
    }
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        exchange(&server, &get("/api/v1/configmaps")),
    )
    .await
    .expect("the waiting client is served once the slot frees");
    holder.await.unwrap();
    assert!(status_line(&answer).starts_with("HTTP/1.1 200"), "{answer}");
    // The server's own log orders what happened: the watch ended before the LIST was taken.
    let trace = server.server().recorder().snapshot();
    let position = |wanted: &dyn Fn(&TraceKind) -> bool| trace.iter().position(|e| wanted(&e.kind));
    let watch_ended =
        position(&|k| matches!(k, TraceKind::WatchEnded { .. })).expect("the watch ended");
    let listed = position(&|k| matches!(k, TraceKind::Request(r) if !r.query.contains("watch")))
        .expect("the LIST was served");
    assert!(
        listed > watch_ended,
        "the second client was served only after the first connection's watch ended"
    );
}
