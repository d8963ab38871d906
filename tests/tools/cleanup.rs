//! Nothing a test starts outlives it: not when the test fails an assertion, not when it is
//! interrupted, not when it is killed outright; and nothing `harness exec` starts outlives
//! `harness exec`, killed or interrupted. (The real control plane's own check is in the
//! conformance suite: `cleanup::a_killed_test_process_leaves_no_control_plane_behind`.)

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, PidfdFlags, pidfd_open};

use crate::reaped::Reaped;

/// Set in the copy of this binary a test starts: how that copy ends once `harness serve` is
/// running under it (`assert`, or `park` until it is signalled).
pub(crate) const CHILD: &str = "KWH_CLEANUP_CHILD";

/// Outer bound on every wait.
const PATIENCE: Duration = Duration::from_secs(30);

/// In the copy: start `harness serve` the way the tests do, say its pid, and end as told.
pub(crate) fn child(how: &str) -> ! {
    let serve = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["serve", "scenarios/forced-410.yaml"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("harness serve starts");
    #[expect(clippy::print_stdout, reason = "the parent reads this line")]
    {
        println!("{}", serve.id());
    }
    if how == "assert" {
        let answered = false;
        assert!(answered, "a test that fails while harness serve runs");
    }
    loop {
        std::thread::park();
    }
}

/// Waits for `pid`, a process this test did not start, to exit: its pidfd becomes readable
/// then (a process already gone has none to open).
fn gone_within(pid: u32, what: &str) {
    let pidfd = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .and_then(|pid| pidfd_open(pid, PidfdFlags::empty()).ok());
    let Some(pidfd) = pidfd else {
        return;
    };
    let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
    let patience = Timespec {
        tv_sec: i64::try_from(PATIENCE.as_secs()).expect("a small number"),
        tv_nsec: 0,
    };
    let ready = poll(&mut fds, Some(&patience)).expect("poll on a pidfd works");
    assert_eq!(
        ready, 1,
        "{what} (pid {pid}) is still running {PATIENCE:?} later"
    );
}

/// A process the test started, killed if the test fails before it is done with it.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {}", child.id());
}

/// Starts a copy of this binary that runs `harness serve` and ends as `how` says; the
/// copy, and serve's pid.
fn copy_with_serve(how: &str) -> (Started, u32) {
    let mut copy = Started(
        Command::new(std::env::current_exe().expect("the test binary has a path"))
            .env(CHILD, how)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the test binary runs"),
    );
    let mut line = String::new();
    BufReader::new(copy.0.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("the copy says serve's pid");
    let serve: u32 = line.trim().parse().expect("a pid");
    (copy, serve)
}

pub(crate) fn a_test_that_fails_an_assertion_leaves_no_harness_serve_behind() {
    let (mut copy, serve) = copy_with_serve("assert");
    let status = copy.0.wait().expect("the copy ends");
    assert!(!status.success(), "the copy's assertion failed: {status}");
    gone_within(
        serve,
        "harness serve, after the test that started it failed",
    );
}

pub(crate) fn an_interrupted_test_leaves_no_harness_serve_behind() {
    let (mut copy, serve) = copy_with_serve("park");
    signal(&copy.0, "INT");
    let _ = copy.0.wait();
    gone_within(
        serve,
        "harness serve, after the test that started it was interrupted",
    );
}

pub(crate) fn a_killed_test_leaves_no_harness_serve_behind() {
    let (mut copy, serve) = copy_with_serve("park");
    signal(&copy.0, "KILL");
    let _ = copy.0.wait();
    gone_within(
        serve,
        "harness serve, after the test that started it was killed",
    );
}

/// `harness exec` running a client that says its pid and sleeps; the exec process (not under
/// a reaper of the test's: its own reaper is what is checked), the rest of its stderr, and
/// the client's pid. The client's output is exec's stderr, read here line by line up to it.
fn exec_with_sleeping_client() -> (Started, BufReader<ChildStderr>, u32) {
    let mut exec = Started(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args([
                "exec",
                "scenarios/forced-410.yaml",
                "--",
                "sh",
                "-c",
                "echo \"client-pid $$\"; exec sleep 600",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("harness exec starts"),
    );
    let mut stderr = BufReader::new(exec.0.stderr.take().expect("stderr is piped"));
    let mut line = String::new();
    let client = loop {
        line.clear();
        let read = stderr.read_line(&mut line).expect("its stderr is readable");
        assert!(read > 0, "harness exec ended before its client started");
        if let Some(pid) = line.trim().strip_prefix("client-pid ") {
            break pid.parse().expect("a pid");
        }
    };
    (exec, stderr, client)
}

pub(crate) fn a_killed_harness_exec_leaves_no_client_behind() {
    let (mut exec, _, client) = exec_with_sleeping_client();
    signal(&exec.0, "KILL");
    let _ = exec.0.wait();
    gone_within(client, "the client, after harness exec was killed");
}

pub(crate) fn an_interrupted_harness_exec_stops_its_client_and_exits_130() {
    let (mut exec, mut stderr, client) = exec_with_sleeping_client();
    signal(&exec.0, "INT");
    let mut said = String::new();
    stderr
        .read_to_string(&mut said)
        .expect("its stderr is readable");
    let status = exec.0.wait().expect("harness exec ends");
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    gone_within(client, "the client, after harness exec was interrupted");
}
