//! The reaper: a shell that leads a process group of this process's children and cleans up
//! after this process, however it ends. The real control plane's processes ([`crate::anchor`])
//! and the client `harness exec` runs join one each; tests put the `harness` processes they
//! start in one, so nothing outlives a test that failed or was killed.
//!
//! It waits on a pipe from this process. Told `done` ([`Reaper::dismiss`]), it exits; at end
//! of file (the `Reaper` was dropped, or this process is gone: a panic, an interrupt, a
//! SIGKILL) it sends SIGTERM to its group, gives it two seconds, removes its directory if it
//! has one and SIGKILLs what is left. It ignores SIGINT, SIGTERM and SIGHUP itself, so an
//! interrupt at a terminal (sent to this process's foreground group, never to this one) cannot
//! stop it before it has cleaned up, and SIGTERM to the group reaches only its members.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

const SCRIPT: &str = r#"trap '' INT TERM HUP
if read -r line && [ "$line" = done ]; then exit 0; fi
kill -TERM 0 2>/dev/null
sleep 2
if [ -n "$1" ]; then rm -rf -- "$1"; fi
kill -KILL 0"#;

/// The reaper process; its pid is the id of the process group its charges join.
#[derive(Debug)]
pub struct Reaper {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Reaper {
    /// Starts a reaper that, when it cleans up, also removes `dir`.
    ///
    /// # Errors
    /// When `sh` cannot be started.
    pub fn start(dir: Option<&Path>) -> std::io::Result<Self> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(SCRIPT)
            .arg("kwh-reaper")
            .arg(dir.unwrap_or(Path::new("")))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }

    /// One reaper for the whole of this process, started on first use and never dismissed:
    /// its charges are stopped once this process has exited, however it exits. For tests,
    /// whose processes end without running destructors of statics. `None` when `sh` cannot be
    /// started.
    #[must_use]
    pub fn process_wide() -> Option<&'static Self> {
        static REAPER: std::sync::OnceLock<Option<Reaper>> = std::sync::OnceLock::new();
        REAPER.get_or_init(|| Self::start(None).ok()).as_ref()
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process group its charges join (`process_group(reaper.group())` on their command).
    #[must_use]
    pub fn group(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits in i32")
    }

    /// Everything was stopped and removed in order: the reaper may go, and leaves its group
    /// alone.
    pub fn dismiss(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = self.child.wait();
    }
}
