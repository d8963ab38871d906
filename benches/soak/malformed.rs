//! Malformed traffic, each request on a connection of its own (a server rightly closes a
//! connection at its first malformed request): random bytes, broken request lines and
//! headers, an unsupported version, a head past the server's limit, conflicting framing, a
//! well-formed request with bytes flipped, and a head that never ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::counts::Counts;

/// How long an answer to a malformed request is waited for.
const PATIENCE: Duration = Duration::from_secs(5);

/// Connections per second a task opens at most: the loopback's ephemeral ports must outlast
/// the run.
const PER_SECOND: u64 = 150;

const WELL_FORMED: &[u8] = b"GET /api/v1/namespaces/default/configmaps?limit=500&labelSelector=app%3Dweb HTTP/1.1\r\nHost: soak\r\nAccept: application/json\r\nUser-Agent: kwh-soak\r\n\r\n";

fn request(rng: &mut fastrand::Rng) -> (Vec<u8>, bool) {
    // The bool: the request is whole, so an answer is due (false: the head never ends).
    match rng.u8(..8) {
        0 => ((0..rng.usize(1..300)).map(|_| rng.u8(..)).collect(), true),
        1 => (b"GE T /api HTTP/1.1\r\nHost: soak\r\n\r\n".to_vec(), true),
        2 => (b"GET /api HTTP/1.1\r\nHost: soak\r\nBad Header\r\n\r\n".to_vec(), true),
        3 => (b"GET /api HTTP/9.9\r\nHost: soak\r\n\r\n".to_vec(), true),
        4 => {
            let mut head = b"GET /api HTTP/1.1\r\nHost: soak\r\nX-Big: ".to_vec();
            head.extend(std::iter::repeat_n(b'a', 200_000));
            head.extend_from_slice(b"\r\n\r\n");
            (head, true)
        }
        5 => (
            b"POST /api/v1/configmaps HTTP/1.1\r\nHost: soak\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            true,
        ),
        6 => {
            let mut bytes = WELL_FORMED.to_vec();
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(..bytes.len());
                bytes[at] ^= 1 << rng.u8(..8);
            }
            (bytes, true)
        }
        _ => (b"GET /api HTTP/1.1\r\nHost: so".to_vec(), false),
    }
}

/// Sends malformed requests until `stop`.
pub(crate) async fn worker(
    addr: SocketAddr,
    seed: u64,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / PER_SECOND));
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            continue;
        };
        let (bytes, whole) = request(&mut rng);
        // NB: the server may close before all of a big head is written.
        let _ = stream.write_all(&bytes).await;
        if !whole {
            // A head that never ends: the load gives up on it, as a slow client would.
            counts.malformed_closed.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let mut answer = Vec::new();
        let read = tokio::time::timeout(PATIENCE, async {
            let mut buf = [0_u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    return;
                }
            }
        })
        .await;
        let status = std::str::from_utf8(answer.get(9..12).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<u16>().ok());
        match (read, status) {
            (_, Some(status)) if answer.starts_with(b"HTTP/1.") => {
                counts.malformed_answered(status)
            }
            _ => {
                counts.malformed_closed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
