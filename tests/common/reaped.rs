//! Processes a test starts, each in a process group led by a reaper
//! (`kube_watch_harness::reaper`): stopped when the test is done with them, when it fails an
//! assertion (unwinding drops them), and when the test process itself is killed or
//! interrupted (the reaper sees its pipe close and stops the group).

#![allow(dead_code, reason = "each test binary uses what it needs")]

use std::process::{Child, Command, Output};

use kube_watch_harness::reaper::Reaper;

/// A child process under a reaper of its own; killed when dropped.
pub(crate) struct Reaped {
    pub(crate) child: Child,
    reaper: Option<Reaper>,
}

impl Reaped {
    /// Starts `command` in a new reaper's group.
    pub(crate) fn spawn(command: &mut Command) -> std::io::Result<Self> {
        let reaper = Reaper::start(None)?;
        std::os::unix::process::CommandExt::process_group(command, reaper.group());
        let child = command.spawn()?;
        Ok(Self {
            child,
            reaper: Some(reaper),
        })
    }

    /// Runs `command` to its end under a reaper, as [`Command::output`].
    pub(crate) fn output(command: &mut Command) -> std::io::Result<Output> {
        let reaper = Reaper::start(None)?;
        std::os::unix::process::CommandExt::process_group(command, reaper.group());
        let output = command.output();
        reaper.dismiss();
        output
    }

    /// Its process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reaper) = self.reaper.take() {
            reaper.dismiss();
        }
    }
}
