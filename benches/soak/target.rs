//! The server under load: `harness serve`, or `harness proxy` in front of the real control
//! plane, as a child process of the soak's own; what can be read of it from outside (procfs)
//! and, for `serve`, from its `/metrics` (a proxy forwards `/metrics` upstream).

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use kube_watch_harness::reaper::Reaper;

/// Which server is soaked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Through {
    Serve,
    Proxy,
}

/// A running `harness serve` or `harness proxy`; killed if dropped without [`Served::stop`],
/// and by its reaper if the soak itself is killed.
pub(crate) struct Served {
    through: Through,
    child: Child,
    reaper: Option<Reaper>,
    stdout: BufReader<ChildStdout>,
    stderr: ChildStderr,
    pub(crate) addr: SocketAddr,
}

/// What the server holds at one moment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    pub(crate) rss: u64,
    pub(crate) fds: usize,
    /// Its TCP connections, `local -> remote` (listening sockets as `local`), for the message
    /// when they are not given back.
    pub(crate) connections: Vec<String>,
    /// From `/metrics`; `None` through a proxy.
    pub(crate) metrics: Option<Metrics>,
}

/// What the server held once the load stopped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settled {
    pub(crate) now: Snapshot,
    /// How long after the load.
    pub(crate) after: Duration,
    /// Whether all it held was given back by then.
    pub(crate) back: bool,
}

/// What `/metrics` said at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Metrics {
    /// `apiserver_request_total`, summed over verbs and codes.
    pub(crate) requests: u64,
    /// `apiserver_longrunning_requests{verb="WATCH"}`.
    pub(crate) watches: u64,
    /// `kube_watch_harness_tokio_alive_tasks`.
    pub(crate) tasks: u64,
}

/// How the server ended.
pub(crate) struct Stopped {
    /// Its request summary (stdout after the banner).
    pub(crate) summary: String,
    /// Its stderr.
    pub(crate) stderr: String,
    /// Whether it exited 0 after the interrupt.
    pub(crate) clean_exit: bool,
}

impl Served {
    /// Starts `harness serve SCENARIO --speed SPEED` on a free loopback port, or, given an
    /// upstream kubeconfig, `harness proxy SCENARIO --upstream KUBECONFIG --speed SPEED`.
    pub(crate) fn start(
        scenario: &Path,
        speed: u32,
        upstream: Option<&Path>,
    ) -> Result<Self, String> {
        let reaper = Reaper::start(None).map_err(|e| format!("failed to start a reaper: {e}"))?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
        command.process_group(reaper.group());
        let through = match upstream {
            None => {
                command.arg("serve").arg(scenario);
                Through::Serve
            }
            Some(kubeconfig) => {
                command
                    .arg("proxy")
                    .arg(scenario)
                    .arg("--upstream")
                    .arg(kubeconfig);
                Through::Proxy
            }
        };
        let mut child = command
            .args(["--speed", &speed.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("failed to start harness: {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut banner = String::new();
        stdout
            .read_line(&mut banner)
            .map_err(|e| format!("reading the banner: {e}"))?;
        let addr = banner
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("harness said no address: {banner:?}"));
        };
        Ok(Self {
            through,
            child,
            reaper: Some(reaper),
            stdout,
            stderr,
            addr,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it printed, once it has exited.
    pub(crate) fn said(&mut self) -> String {
        let mut out = String::new();
        let _ = self.stdout.read_to_string(&mut out);
        let _ = self.stderr.read_to_string(&mut out);
        out
    }

    /// Its resident set, from procfs, in bytes.
    pub(crate) fn rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    }

    /// Its open file descriptors, from procfs.
    pub(crate) fn fds(&self) -> Option<usize> {
        Some(
            std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
                .ok()?
                .count(),
        )
    }

    /// What it holds now.
    pub(crate) async fn now(&self) -> Result<Snapshot, String> {
        let metrics = match self.through {
            Through::Serve => Some(self.metrics().await?),
            Through::Proxy => None,
        };
        Ok(Snapshot {
            rss: self.rss().ok_or("no /proc for the server")?,
            // NB: the /metrics connection itself is one descriptor more while it is open.
            fds: self
                .fds()
                .ok_or("no /proc for the server")?
                .saturating_sub(usize::from(metrics.is_some())),
            connections: self.connections(),
            metrics,
        })
    }

    /// Waits for its descriptors, tasks and watches to be back where they were `before` the
    /// load: 10 s for `serve`, 100 s for a proxy, whose client keeps idle connections to the
    /// upstream pooled for 90 s (hyper-util's default, which kube's client keeps). What it
    /// holds then, how long that took, and whether it was back.
    pub(crate) async fn settle(&self, before: &Snapshot) -> Result<Settled, String> {
        let started = std::time::Instant::now();
        let patience = match self.through {
            Through::Serve => Duration::from_secs(10),
            Through::Proxy => Duration::from_secs(100),
        };
        loop {
            let now = self.now().await?;
            let back = now.fds <= before.fds
                && match (now.metrics, before.metrics) {
                    (Some(now), Some(before)) => {
                        now.watches <= before.watches && now.tasks <= before.tasks
                    }
                    _ => true,
                };
            if back || started.elapsed() > patience {
                return Ok(Settled {
                    now,
                    after: started.elapsed(),
                    back,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Its TCP sockets from procfs: the inodes its descriptors point at, found in its
    /// network namespace's tables.
    fn connections(&self) -> Vec<String> {
        let pid = self.pid();
        let inodes: std::collections::BTreeSet<String> =
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    l.to_string_lossy()
                        .strip_prefix("socket:[")
                        .and_then(|s| s.strip_suffix(']'))
                        .map(str::to_owned)
                })
                .collect();
        let mut out = Vec::new();
        for table in ["tcp", "tcp6"] {
            let text =
                std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
            for line in text.lines().skip(1) {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let (Some(local), Some(remote), Some(inode)) =
                    (words.get(1), words.get(2), words.get(9))
                    && inodes.contains(*inode)
                {
                    out.push(format!("{} -> {}", port(local), port(remote)));
                }
            }
        }
        out.sort();
        out
    }

    /// Reads `/metrics`, on a connection of its own.
    async fn metrics(&self) -> Result<Metrics, String> {
        let text = tokio::time::timeout(Duration::from_secs(10), get(self.addr, "/metrics"))
            .await
            .map_err(|_| "no answer to /metrics within 10 s".to_owned())??;
        let mut metrics = Metrics::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((name, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            if name.starts_with("apiserver_request_total") {
                metrics.requests += value;
            } else if name.starts_with("apiserver_longrunning_requests") {
                metrics.watches += value;
            } else if name == "kube_watch_harness_tokio_alive_tasks" {
                metrics.tasks = value;
            }
        }
        Ok(metrics)
    }

    /// Interrupts it as Ctrl-C would and collects what it printed.
    pub(crate) fn stop(mut self) -> Stopped {
        if let Some(pid) = i32::try_from(self.pid())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
        }
        let mut exited = None;
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let mut summary = String::new();
        let _ = self.stdout.read_to_string(&mut summary);
        let mut stderr = String::new();
        let _ = self.stderr.read_to_string(&mut stderr);
        Stopped {
            summary: summary
                .lines()
                .skip_while(|l| !l.starts_with("interrupted") && !l.starts_with("timeline"))
                .collect::<Vec<_>>()
                .join("\n"),
            stderr,
            clean_exit: exited.is_some_and(|s| s.success()),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reaper) = self.reaper.take() {
            reaper.dismiss();
        }
    }
}

/// One GET on a fresh connection: the whole body as text.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = http::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The port of a procfs address (`0100007F:1F90`), in decimal; `*` for none.
fn port(address: &str) -> String {
    address
        .rsplit_once(':')
        .and_then(|(_, port)| u16::from_str_radix(port, 16).ok())
        .map_or_else(
            || "*".to_owned(),
            |p| {
                if p == 0 {
                    "*".to_owned()
                } else {
                    p.to_string()
                }
            },
        )
}
