//! etcd's maintenance calls through its gRPC gateway (JSON over HTTP on the client URL, on by
//! default: `--enable-grpc-gateway`): the current revision and compaction. The same calls as
//! `etcdctl endpoint status` and `etcdctl compaction`, without another binary.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::error::Error;

/// A client for one etcd's gateway: the anchor's, or the one `harness proxy --etcd` names.
#[derive(Debug, Clone)]
pub struct Gateway {
    url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Gateway {
    /// A client for the etcd whose client URL is `url` (`http://127.0.0.1:2379`).
    #[must_use]
    pub fn new(url: String) -> Self {
        Self {
            url,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn call(&self, call: &'static str, body: &str) -> Result<serde_json::Value, Error> {
        let fail = |reason: String| Error::Etcd { call, reason };
        let request = http::Request::post(format!("{}{call}", self.url))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| fail(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| fail(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(fail(format!(
                "{status}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))
    }

    /// Whether etcd says it is healthy (`GET /health`).
    pub async fn healthy(&self) -> bool {
        let Ok(request) =
            http::Request::get(format!("{}/health", self.url)).body(Full::new(Bytes::new()))
        else {
            return false;
        };
        match self.client.request(request).await {
            Ok(response) if response.status().is_success() => response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().windows(6).any(|w| w == b"\"true\""))
                .unwrap_or(false),
            _ => false,
        }
    }

    /// etcd's current revision.
    ///
    /// # Errors
    /// [`Error::Etcd`] when etcd does not answer.
    pub async fn revision(&self) -> Result<u64, Error> {
        let status = self.call("/v3/maintenance/status", "{}").await?;
        // NB: the gateway renders int64 fields as JSON strings.
        status["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| Error::Etcd {
                call: "/v3/maintenance/status",
                reason: format!("no header.revision in {status}"),
            })
    }

    /// Compacts history below `revision`, as `etcdctl compaction REVISION` does.
    ///
    /// # Errors
    /// [`Error::Etcd`] when etcd refuses.
    pub async fn compact(&self, revision: u64) -> Result<(), Error> {
        self.call(
            "/v3/kv/compaction",
            &format!(r#"{{"revision":"{revision}","physical":true}}"#),
        )
        .await
        .map(drop)
    }
}
