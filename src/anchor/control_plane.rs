//! Starting, restarting and stopping etcd and kube-apiserver.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::binaries::Binaries;
use super::error::Error;
use super::etcd::Gateway;
use crate::reaper::Reaper;

/// Name of the cluster, user and context in the kubeconfig the control plane writes.
const KUBECONFIG_NAME: &str = "kwh-anchor";

/// How long etcd and kube-apiserver may take to become ready. A cold kube-apiserver runs its
/// post-start hooks (RBAC bootstrap, priority classes, the watch caches) in a few seconds.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// How long etcd's revision must stand still before a new control plane counts as settled.
const QUIET: Duration = Duration::from_millis(1500);

/// How a control plane is configured.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ControlPlaneOptions {
    /// Resources served without a watch cache (`--watch-cache-sizes=RESOURCE#0`), so that their
    /// lists and watches go to etcd, as Events' do by default. Default: none besides Events.
    pub uncached: Vec<String>,
    /// `--etcd-compaction-interval`; `None` turns the apiserver's own compactor off
    /// (`0`), so history is compacted only by [`ControlPlane::compact`]. Default `None`.
    pub compaction_interval: Option<Duration>,
    /// Further kube-apiserver flags.
    pub extra_args: Vec<String>,
}

impl ControlPlaneOptions {
    /// Sets [`ControlPlaneOptions::uncached`].
    #[must_use]
    pub fn uncached(mut self, resources: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.uncached = resources.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`ControlPlaneOptions::compaction_interval`].
    #[must_use]
    pub fn compaction_interval(mut self, interval: Duration) -> Self {
        self.compaction_interval = Some(interval);
        self
    }
}

/// A running etcd and kube-apiserver on loopback. Dropping it stops both and removes its
/// directory; if this process dies first, its reaper does the same.
#[derive(Debug)]
pub struct ControlPlane {
    binaries: Binaries,
    options: ControlPlaneOptions,
    dir: PathBuf,
    reaper: Option<Reaper>,
    etcd: Option<Child>,
    /// Behind a lock: tests restart it while clients hold the plane.
    apiserver: Mutex<Option<Child>>,
    gateway: Gateway,
    etcd_url: String,
    apiserver_port: u16,
    token: String,
    kubeconfig: PathBuf,
}

impl ControlPlane {
    /// Starts etcd and kube-apiserver and waits until the apiserver is ready. Must be called
    /// inside a tokio runtime with real time.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] when a binary is missing; [`Error::Spawn`] or [`Error::NotReady`]
    /// (with the end of the process's log) when one does not come up.
    pub async fn start(binaries: &Binaries, options: ControlPlaneOptions) -> Result<Self, Error> {
        binaries.check()?;
        let dir = std::env::temp_dir().join(format!(
            "kwh-anchor-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        create_dir(&dir)?;
        let reaper = Reaper::start(Some(&dir)).map_err(|source| Error::Spawn {
            name: "sh (reaper)",
            source,
        })?;
        let [etcd_port, peer_port, apiserver_port] = free_ports()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let mut plane = Self {
            binaries: binaries.clone(),
            options,
            gateway: Gateway::new(etcd_url.clone()),
            etcd_url,
            apiserver_port,
            token: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            kubeconfig: dir.join("kubeconfig"),
            dir,
            reaper: Some(reaper),
            etcd: None,
            apiserver: Mutex::new(None),
        };
        plane.start_etcd(peer_port).await?;
        plane.write_credentials()?;
        plane.start_apiserver().await?;
        plane.settle().await?;
        Ok(plane)
    }

    /// Waits until etcd's revision has not moved for [`QUIET`]: a new apiserver goes on
    /// writing its bootstrap objects (priority classes, RBAC, the `kubernetes` Service) for a
    /// moment after `/readyz`, and a test that names revisions wants none of its own between.
    async fn settle(&self) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let mut last = (self.gateway.revision().await?, tokio::time::Instant::now());
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let revision = self.gateway.revision().await?;
            if revision != last.0 {
                last = (revision, tokio::time::Instant::now());
            } else if last.1.elapsed() >= QUIET {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The kubeconfig file: the apiserver's URL, its generated CA, and the bearer token.
    #[must_use]
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The directory holding etcd's data, the certificates, the logs and the kubeconfig.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The process ids of etcd, kube-apiserver and the reaper, as they are now.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.etcd.iter().map(Child::id).collect();
        pids.extend(self.apiserver_lock().iter().map(Child::id));
        pids.extend(self.reaper.iter().map(Reaper::pid));
        pids
    }

    /// The apiserver's base URL, `https://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.apiserver_port)
    }

    /// etcd's client URL, `http://127.0.0.1:PORT` (its gRPC gateway answers there).
    #[must_use]
    pub fn etcd_url(&self) -> &str {
        &self.etcd_url
    }

    /// The bearer token the apiserver accepts (user `harness`, group `system:masters`).
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kube `Config` for this apiserver, with kube's client retry off so that every answer
    /// is seen as the server gave it.
    ///
    /// # Errors
    /// [`Error::Prepare`] when the kubeconfig cannot be read; [`Error::Kubeconfig`] when kube
    /// refuses it.
    pub async fn kube_config(&self) -> Result<kube::Config, Error> {
        let yaml = std::fs::read_to_string(&self.kubeconfig).map_err(|source| Error::Prepare {
            path: self.kubeconfig.clone(),
            source,
        })?;
        let kubeconfig = Kubeconfig::from_yaml(&yaml)?;
        let mut config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
        config.default_retry = false;
        Ok(config)
    }

    /// etcd's current revision.
    ///
    /// # Errors
    /// [`Error::Etcd`] when etcd does not answer.
    pub async fn revision(&self) -> Result<u64, Error> {
        self.gateway.revision().await
    }

    /// Compacts etcd's history below its current revision, as `etcdctl compaction` does.
    /// Watches and continue tokens from before it that reach etcd then get 410; the watch
    /// cache does not notice (it learns compaction only from the apiserver's own compactor).
    ///
    /// # Errors
    /// [`Error::Etcd`] when etcd refuses.
    pub async fn compact(&self) -> Result<u64, Error> {
        let revision = self.gateway.revision().await?;
        self.gateway.compact(revision).await?;
        Ok(revision)
    }

    /// Stops kube-apiserver (SIGTERM, as a rolling restart does), leaving etcd running.
    pub fn stop_apiserver(&self) {
        if let Some(child) = self.apiserver_lock().take() {
            stop(child);
        }
    }

    fn apiserver_lock(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        // NB: never poisoned: nothing panics while holding it.
        self.apiserver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts kube-apiserver again on the same port and waits until it is ready.
    ///
    /// # Errors
    /// As [`ControlPlane::start`].
    pub async fn start_apiserver(&self) -> Result<(), Error> {
        let mut args = vec![
            format!("--etcd-servers={}", self.etcd_url),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={}", self.apiserver_port),
            format!("--cert-dir={}", self.dir.join("certs").display()),
            format!(
                "--service-account-issuer=https://127.0.0.1:{}",
                self.apiserver_port
            ),
            format!(
                "--service-account-key-file={}",
                self.dir.join("sa.pub").display()
            ),
            format!(
                "--service-account-signing-key-file={}",
                self.dir.join("sa.key").display()
            ),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            // AlwaysAllow turns anonymous auth off: clients present the token.
            "--authorization-mode=AlwaysAllow".into(),
            format!(
                "--token-auth-file={}",
                self.dir.join("tokens.csv").display()
            ),
            // No service-account controller runs: Pods need no service account (envtest).
            "--disable-admission-plugins=ServiceAccount".into(),
            // No endpoint-lease reconciliation, and no identity lease renewed every 10 s (the
            // mixed-version proxy depends on it): the apiserver writes nothing of its own
            // between a case's steps once it is ready.
            "--endpoint-reconciler-type=none".into(),
            "--feature-gates=APIServerIdentity=false,UnknownVersionInteroperabilityProxy=false"
                .into(),
            format!(
                "--etcd-compaction-interval={}",
                self.options
                    .compaction_interval
                    .map_or_else(|| "0".into(), |d| format!("{}ms", d.as_millis()))
            ),
        ];
        let mut sizes: Vec<String> = self
            .options
            .uncached
            .iter()
            .map(|r| format!("{r}#0"))
            .collect();
        if !sizes.is_empty() {
            // NB: the flag replaces the defaults, which keep Events uncached.
            sizes.push("events#0".into());
            sizes.push("events.events.k8s.io#0".into());
            args.push(format!("--watch-cache-sizes={}", sizes.join(",")));
        }
        args.extend(self.options.extra_args.iter().cloned());
        let log = self.dir.join("kube-apiserver.log");
        let child = self.spawn("kube-apiserver", &self.binaries.kube_apiserver, &args, &log)?;
        *self.apiserver_lock() = Some(child);
        self.wait_ready().await
    }

    /// Stops kube-apiserver and starts it again.
    ///
    /// # Errors
    /// As [`ControlPlane::start`].
    pub async fn restart_apiserver(&self) -> Result<(), Error> {
        self.stop_apiserver();
        self.start_apiserver().await?;
        self.settle().await
    }

    async fn start_etcd(&mut self, peer_port: u16) -> Result<(), Error> {
        let peer = format!("http://127.0.0.1:{peer_port}");
        let args = vec![
            format!("--data-dir={}", self.dir.join("etcd").display()),
            format!("--listen-client-urls={}", self.etcd_url),
            format!("--advertise-client-urls={}", self.etcd_url),
            format!("--listen-peer-urls={peer}"),
            format!("--initial-advertise-peer-urls={peer}"),
            format!("--initial-cluster=default={peer}"),
            "--unsafe-no-fsync".into(),
            // kube-apiserver relies on progress notifications for consistent reads and
            // bookmarks; its integration tests run etcd with 1 s.
            "--watch-progress-notify-interval=1s".into(),
            "--log-level=warn".into(),
        ];
        let log = self.dir.join("etcd.log");
        let child = self.spawn("etcd", &self.binaries.etcd, &args, &log)?;
        self.etcd = Some(child);
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if self.gateway.healthy().await {
                return Ok(());
            }
            let exited = self.etcd.as_mut().is_none_or(has_exited);
            if exited || tokio::time::Instant::now() > deadline {
                return Err(not_ready("etcd", &log));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn spawn(
        &self,
        name: &'static str,
        program: &Path,
        args: &[String],
        log: &Path,
    ) -> Result<Child, Error> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| Error::Prepare {
                path: log.to_owned(),
                source,
            })?;
        let err = out.try_clone().map_err(|source| Error::Prepare {
            path: log.to_owned(),
            source,
        })?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        #[cfg(unix)]
        if let Some(reaper) = &self.reaper {
            std::os::unix::process::CommandExt::process_group(&mut command, reaper.group());
        }
        command
            .spawn()
            .map_err(|source| Error::Spawn { name, source })
    }

    fn write_credentials(&self) -> Result<(), Error> {
        let write = |name: &str, contents: &[u8]| {
            let path = self.dir.join(name);
            std::fs::write(&path, contents).map_err(|source| Error::Prepare { path, source })
        };
        // A P-256 key signs service-account tokens; its public half verifies them
        // (kube-apiserver reads only public keys, or certificates, from --service-account-key-file).
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let unusable = |what: &str| Error::Prepare {
            path: self.dir.join("sa.key"),
            source: std::io::Error::other(format!("ring could not {what} a P-256 key")),
        };
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng)
            .map_err(|_| unusable("generate"))?;
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng)
            .map_err(|_| unusable("read back"))?;
        use ring::signature::KeyPair as _;
        // SubjectPublicKeyInfo for id-ecPublicKey on prime256v1 (RFC 5480), then the point.
        const P256_SPKI_PREFIX: [u8; 26] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        write("sa.key", pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes())?;
        write("sa.pub", pem("PUBLIC KEY", &spki).as_bytes())?;
        write(
            "tokens.csv",
            format!("{},harness,harness-uid,\"system:masters\"\n", self.token).as_bytes(),
        )
    }

    async fn wait_ready(&self) -> Result<(), Error> {
        let log = self.dir.join("kube-apiserver.log");
        let cert = self.dir.join("certs").join("apiserver.crt");
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let mut client = None;
        loop {
            if client.is_none() && cert.is_file() {
                self.write_kubeconfig(&cert)?;
                client = Some(kube::Client::try_from(self.kube_config().await?)?);
            }
            if let Some(client) = &client {
                let request = http::Request::get("/readyz")
                    .body(Vec::new())
                    .expect("a static request is valid");
                if client.request_text(request).await.is_ok() {
                    return Ok(());
                }
            }
            let exited = self.apiserver_lock().as_mut().is_none_or(has_exited);
            if exited || tokio::time::Instant::now() > deadline {
                return Err(not_ready("kube-apiserver", &log));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn write_kubeconfig(&self, cert: &Path) -> Result<(), Error> {
        let ca = std::fs::read(cert).map_err(|source| Error::Prepare {
            path: cert.to_owned(),
            source,
        })?;
        let kubeconfig = crate::kubeconfig::single(
            KUBECONFIG_NAME,
            self.url(),
            Some(base64::engine::general_purpose::STANDARD.encode(ca)),
            Some(self.token.clone()),
        );
        let yaml = serde_saphyr::to_string(&kubeconfig).map_err(|e| Error::Prepare {
            path: self.kubeconfig.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        std::fs::write(&self.kubeconfig, yaml).map_err(|source| Error::Prepare {
            path: self.kubeconfig.clone(),
            source,
        })
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // The apiserver first: it would log etcd's absence and retry otherwise.
        self.stop_apiserver();
        if let Some(child) = self.etcd.take() {
            stop(child);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(reaper) = self.reaper.take() {
            reaper.dismiss();
        }
    }
}

fn has_exited(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(Some(_)) | Err(_))
}

/// How long a process has to exit after SIGTERM before it gets SIGKILL. kube-apiserver with a
/// watch open uses all of it: it stops listening at once but keeps open watches until its
/// shutdown timeout (60 s).
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// SIGTERM, up to [`STOP_GRACE`] to exit, then SIGKILL. The exit is waited on by a thread of
/// its own, so the grace is a timeout on the exit itself, not a poll.
fn stop(mut child: Child) {
    #[cfg(unix)]
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        use rustix::process::{Signal, kill_process};
        let _ = kill_process(pid, Signal::TERM);
        let (exited, on_exit) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = child.wait();
            let _ = exited.send(());
        });
        if on_exit.recv_timeout(STOP_GRACE).is_err() {
            // NB: not reaped yet (the waiter has not returned), so the pid is still this one's.
            let _ = kill_process(pid, Signal::KILL);
        }
        let _ = waiter.join();
        return;
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir.join("certs")).map_err(|source| Error::Prepare {
        path: dir.to_owned(),
        source,
    })
}

/// Three loopback ports free now. NB: another process may take one before the control plane
/// binds it; a start then fails with the port named in the log, and is retried by the caller.
fn free_ports() -> Result<[u16; 3], Error> {
    let bind = || {
        TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Prepare {
            path: PathBuf::from("127.0.0.1:0"),
            source,
        })
    };
    let listeners = [bind()?, bind()?, bind()?];
    let port = |l: &TcpListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|source| Error::Prepare {
                path: PathBuf::from("127.0.0.1:0"),
                source,
            })
    };
    Ok([
        port(&listeners[0])?,
        port(&listeners[1])?,
        port(&listeners[2])?,
    ])
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn not_ready(name: &'static str, log: &Path) -> Error {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    Error::NotReady {
        name,
        waited: READY_TIMEOUT,
        log_tail: tail,
    }
}
