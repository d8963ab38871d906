//! The reaper: a shell that leads the control plane's process group and cleans up after this
//! process, however it ends.
//!
//! It waits on a pipe from this process. Told `done`, it exits; at end of file (this process
//! is gone: a panic that skipped `Drop`, an interrupt, a SIGKILL) it sends SIGTERM to its
//! group, gives it two seconds, removes the directory and SIGKILLs what is left. It ignores
//! SIGINT, SIGTERM and SIGHUP itself, so an interrupt at a terminal (sent to this process's
//! foreground group, never to this one) cannot stop it before it has cleaned up.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use super::Error;

const SCRIPT: &str = r#"trap '' INT TERM HUP
if read -r line && [ "$line" = done ]; then exit 0; fi
kill -TERM 0 2>/dev/null
sleep 2
rm -rf -- "$1"
kill -KILL 0"#;

/// The reaper process; its pid is the group id every control-plane process joins.
#[derive(Debug)]
pub(super) struct Reaper {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Reaper {
    /// Starts a reaper for `dir`.
    pub(super) fn start(dir: &Path) -> Result<Self, Error> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(SCRIPT)
            .arg("kwh-anchor-reaper")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            name: "sh (reaper)",
            source,
        })?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }

    /// Its process id.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process group the control plane's processes join.
    pub(super) fn group(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits in i32")
    }

    /// Everything was stopped and removed in order: the reaper may go.
    pub(super) fn dismiss(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = self.child.wait();
    }
}
