//! The client's process: started with the kubeconfig in its environment, its output sent to
//! stderr (stdout is the verdict's), in a process group of its own led by a [`Reaper`], and
//! stopped at the end: SIGTERM to the whole group, then SIGKILL after a grace period. Should
//! this process end first, however it ends (an error, Ctrl-C, a SIGKILL), the reaper stops the
//! group: a client never outlives `harness exec`.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

use super::error::Error;
use super::view::VIEW_ENV;
use crate::reaper::Reaper;

/// A running client.
pub(super) struct ClientChild {
    child: Child,
    /// The leader of its process group, whose id is the group's.
    reaper: Option<Reaper>,
    program: String,
}

impl ClientChild {
    /// Starts `command` with `KUBECONFIG` and the view file in its environment.
    pub(super) fn spawn(command: &[String], kubeconfig: &Path, view: &Path) -> Result<Self, Error> {
        let (program, args) = command.split_first().ok_or(Error::NoCommand)?;
        let reaper = Reaper::start(None).map_err(|source| Error::Spawn {
            program: "sh (the client's reaper)".into(),
            source,
        })?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("KUBECONFIG", kubeconfig)
            .env(VIEW_ENV, view)
            .stdin(Stdio::null())
            .stdout(stderr())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(reaper.group());
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
        Ok(Self {
            child,
            reaper: Some(reaper),
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
    /// still be running. The reaper (which ignores SIGTERM) is then dismissed.
    pub(super) async fn stop(&mut self, grace: Duration) -> Result<ExitStatus, Error> {
        let group = self.reaper.as_ref().map(Reaper::group);
        terminate(group);
        let status = if let Ok(Some(status)) = self.child.try_wait() {
            Ok(status)
        } else {
            match tokio::time::timeout(grace, self.child.wait()).await {
                Ok(status) => status.map_err(|source| Error::Wait {
                    program: self.program.clone(),
                    source,
                }),
                Err(_) => {
                    kill_group(group);
                    // NB: kill the client too, in case it left its group.
                    let _ = self.child.start_kill();
                    self.exited().await
                }
            }
        };
        if let Some(reaper) = self.reaper.take() {
            reaper.dismiss();
        }
        status
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
fn signal_group(group: Option<i32>, signal: rustix::process::Signal) {
    let group = group.and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        // NB: the group may be gone already; there is nothing to do then.
        let _ = rustix::process::kill_process_group(group, signal);
    }
}

#[cfg(unix)]
fn terminate(group: Option<i32>) {
    signal_group(group, rustix::process::Signal::TERM);
}

#[cfg(unix)]
fn kill_group(group: Option<i32>) {
    signal_group(group, rustix::process::Signal::KILL);
}

#[cfg(not(unix))]
fn terminate(_group: Option<i32>) {}

#[cfg(not(unix))]
fn kill_group(_group: Option<i32>) {}

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
