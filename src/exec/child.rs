//! The client's process: started in a process group of its own with the kubeconfig in its
//! environment, its output sent to stderr (stdout is the verdict's), and stopped at the end:
//! SIGTERM to the whole group, then SIGKILL after a grace period.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

use super::Error;
use super::view::VIEW_ENV;

/// A running client.
pub(super) struct Client {
    child: Child,
    /// Its pid, which is also its process group's id; `None` once it cannot be had.
    pid: Option<u32>,
    program: String,
}

impl Client {
    /// Starts `command` with `KUBECONFIG` and the view file in its environment.
    pub(super) fn spawn(command: &[String], kubeconfig: &Path, view: &Path) -> Result<Self, Error> {
        let (program, args) = command.split_first().ok_or(Error::NoCommand)?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("KUBECONFIG", kubeconfig)
            .env(VIEW_ENV, view)
            .stdin(Stdio::null())
            .stdout(stderr())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
        Ok(Self {
            pid: child.id(),
            child,
            program: program.clone(),
        })
    }

    /// Resolves when the process exits by itself.
    pub(super) async fn exited(&mut self) -> Result<ExitStatus, Error> {
        self.child.wait().await.map_err(|source| Error::Wait {
            program: self.program.clone(),
            source,
        })
    }

    /// Stops it: SIGTERM to its group, then, if it is still there after `grace`, SIGKILL.
    /// The group is signalled even when the process itself has exited: what it started may
    /// still be running (a POSIX pid is not reused while its process group has members).
    pub(super) async fn stop(&mut self, grace: Duration) -> Result<ExitStatus, Error> {
        terminate(self.pid);
        if let Ok(Some(status)) = self.child.try_wait() {
            return Ok(status);
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status.map_err(|source| Error::Wait {
                program: self.program.clone(),
                source,
            }),
            Err(_) => {
                kill_group(self.pid);
                // NB: kill the leader too, in case it left its group.
                let _ = self.child.start_kill();
                self.exited().await
            }
        }
    }
}

/// The harness's stderr for the child's stdout, so that the verdict alone is on stdout.
fn stderr() -> Stdio {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            return Stdio::from(fd);
        }
    }
    Stdio::inherit()
}

#[cfg(unix)]
fn signal_group(pid: Option<u32>, signal: rustix::process::Signal) {
    let group = pid
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        // NB: the group may be gone already; there is nothing to do then.
        let _ = rustix::process::kill_process_group(group, signal);
    }
}

#[cfg(unix)]
fn terminate(pid: Option<u32>) {
    signal_group(pid, rustix::process::Signal::TERM);
}

#[cfg(unix)]
fn kill_group(pid: Option<u32>) {
    signal_group(pid, rustix::process::Signal::KILL);
}

#[cfg(not(unix))]
fn terminate(_pid: Option<u32>) {}

#[cfg(not(unix))]
fn kill_group(_pid: Option<u32>) {}

/// An exit status in words: `exit 0`, `exit 1`, `signal 15`.
pub(super) fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    status
        .code()
        .map_or_else(|| status.to_string(), |code| format!("exit {code}"))
}
