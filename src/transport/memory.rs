//! The in-memory connection between a kube `Client` and an [`ApiServer`]: every connect makes a
//! `tokio::io::duplex` pair and serves its far end with hyper, so the whole HTTP/1.1 and chunked
//! watch path is real code, yet no socket exists and paused virtual time stays safe
//! (tokio#4522: a paused clock jumps while bytes sit in a kernel buffer).

use std::future::ready;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use crate::apiserver::{ApiServer, serve};

/// Bytes buffered each way on an in-memory connection: the writer waits when it is full, as on
/// a socket.
const PIPE_BYTES: usize = 256 * 1024;

/// How long a refused connection takes to fail: one round trip to a closed port.
const REFUSAL_ROUND_TRIP: std::time::Duration = std::time::Duration::from_millis(1);

/// The client end of one in-memory connection.
#[derive(Debug)]
pub struct MemoryStream(DuplexStream);

impl AsyncRead for MemoryStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Connection for MemoryStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// A connector whose every connection is served by one [`ApiServer`] in this runtime.
#[derive(Debug, Clone)]
pub struct MemoryConnector {
    server: ApiServer,
}

impl MemoryConnector {
    /// A connector to `server`.
    #[must_use]
    pub fn new(server: ApiServer) -> Self {
        Self { server }
    }
}

impl tower::Service<http::Uri> for MemoryConnector {
    type Response = TokioIo<MemoryStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        // A restarting apiserver's port is closed: the connection is refused, after the round
        // trip a refusal takes. NB: that round trip also lets paused time pass, so a client
        // that retries at once (no backoff) cannot freeze the clock inside the downtime.
        if !self.server.accepting() {
            let recorder = self.server.recorder().clone();
            return Box::pin(async move {
                recorder
                    .sleep_until(recorder.now() + REFUSAL_ROUND_TRIP)
                    .await;
                Err(io::ErrorKind::ConnectionRefused.into())
            });
        }
        let (client, server_end) = tokio::io::duplex(PIPE_BYTES);
        tokio::spawn(serve(self.server.clone(), server_end));
        Box::pin(ready(Ok(TokioIo::new(MemoryStream(client)))))
    }
}
