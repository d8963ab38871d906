//! A simulated world for a test: a paused runtime's server and a kube client wired to it.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::scenario::Scenario;
use kube_watch_harness::trace::Recorder;
use kube_watch_harness::transport;

/// A minimal scenario around `server:` settings and objects, for server tests.
pub(crate) fn scenario(server: &str, objects: &str) -> Scenario {
    let yaml = format!(
        "duration: 1h\nresource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{objects}] }}\nserver: {{ {server} }}\nwatchers: [{{ name: w }}]\nexpect: {{ deadline: 1m, recover: [w] }}\n"
    );
    Scenario::from_yaml(&yaml).expect("the test scenario is valid")
}

/// A server and a client over the in-memory transport. Must be called in a paused runtime.
pub(crate) struct World {
    pub(crate) server: ApiServer,
    pub(crate) client: kube::Client,
    pub(crate) recorder: Recorder,
}

impl World {
    pub(crate) fn new(scenario: &Scenario) -> Self {
        Self::with_config(scenario, transport::config())
    }

    /// With kube's client retry of 429/503/504 off, to see the server's first answer.
    pub(crate) fn without_client_retry(scenario: &Scenario) -> Self {
        let mut config = transport::config();
        config.default_retry = false;
        Self::with_config(scenario, config)
    }

    fn with_config(scenario: &Scenario, config: kube::Config) -> Self {
        let recorder = Recorder::start();
        let server = ApiServer::new(scenario, recorder.clone());
        let client = transport::client(server.clone(), &config, 0).expect("the client builds");
        Self {
            server,
            client,
            recorder,
        }
    }

    /// A GET through the real client stack; the raw status, headers and body.
    pub(crate) async fn get(&self, path_and_query: &str) -> http::Response<Bytes> {
        let request = http::Request::get(path_and_query)
            .body(kube::client::Body::empty())
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.send(request))
            .await
            .expect("the server answers within 30 virtual seconds")
            .expect("the request is sent");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("the body is read").to_bytes();
        http::Response::from_parts(parts, bytes)
    }

    /// A watch's body as it comes, once the response head is in.
    pub(crate) async fn open_watch(&self, path_and_query: &str) -> kube::client::Body {
        let request = http::Request::get(path_and_query)
            .body(kube::client::Body::empty())
            .unwrap();
        (self.client.send(request).await)
            .expect("the watch starts")
            .into_body()
    }

    /// A watch's whole body, until the stream ends or is cut.
    pub(crate) async fn watch_body(&self, path_and_query: &str) -> String {
        let request = http::Request::get(path_and_query)
            .body(kube::client::Body::empty())
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.send(request))
            .await
            .expect("the server answers within 30 virtual seconds")
            .expect("the request is sent");
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
            }
        }
        String::from_utf8(bytes).expect("a watch sends UTF-8")
    }

    /// A watch: each line with the virtual time it arrived, until the stream ends.
    pub(crate) async fn watch_lines(
        &self,
        path_and_query: &str,
        limit: Duration,
    ) -> Vec<(Duration, String)> {
        let request = http::Request::get(path_and_query)
            .body(kube::client::Body::empty())
            .unwrap();
        let response = self.client.send(request).await.expect("the watch starts");
        assert_eq!(
            response.status(),
            200,
            "a watch answers 200 before any event"
        );
        let mut body = response.into_body();
        let mut lines = Vec::new();
        let mut buffer = Vec::new();
        let read = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.expect("the stream is not cut");
                if let Ok(data) = frame.into_data() {
                    buffer.extend_from_slice(&data);
                    while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buffer.drain(..=end).collect();
                        lines.push((
                            self.recorder.now(),
                            String::from_utf8(line).unwrap().trim_end().to_owned(),
                        ));
                    }
                }
            }
        };
        let _ = tokio::time::timeout(limit, read).await;
        assert!(buffer.is_empty(), "every event ends with a newline");
        lines
    }
}

/// Update number `i` of `a` in `default`, about 1 KiB.
pub(crate) fn big_update(server: &ApiServer, i: usize) {
    server.write(&kube_watch_harness::scenario::Write::Update {
        name: "a".into(),
        namespace: Some("default".into()),
        labels: None,
        body: [(
            "data".to_owned(),
            serde_json::json!({ "i": i.to_string(), "filler": "x".repeat(1000) }),
        )]
        .into(),
    });
}

pub(crate) fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("the body is JSON")
}

/// The `*.yaml` files of `dir` (relative to the crate root), in name order.
pub(crate) fn yaml_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}
