//! Nothing a test starts outlives it: not when the test fails an assertion, not when it is
//! interrupted, not when it is killed outright; and nothing `harness exec` starts outlives
//! `harness exec`, killed or interrupted. (The real control plane's own check is in the
//! conformance suite: `cleanup::a_killed_test_process_leaves_no_control_plane_behind`.)

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Whether `pid` is a process that has not exited: its /proc entry is there and its state
/// (after the command name in parentheses) is not zombie or dead.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
            .is_some_and(|state| !matches!(state, 'Z' | 'X'))
    })
}

fn gone_within(pid: u32, what: &str) {
    let start = Instant::now();
    while alive(pid) {
        assert!(
            start.elapsed() < PATIENCE,
            "{what} (pid {pid}) is still running {PATIENCE:?} later"
        );
        std::thread::sleep(Duration::from_millis(50));
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
fn copy_with_serve(how: &str) -> (Child, u32) {
    let mut copy = Command::new(std::env::current_exe().expect("the test binary has a path"))
        .env(CHILD, how)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary runs");
    let mut line = String::new();
    BufReader::new(copy.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("the copy says serve's pid");
    let serve: u32 = line.trim().parse().expect("a pid");
    assert!(alive(serve), "harness serve runs under the copy");
    (copy, serve)
}

pub(crate) fn a_test_that_fails_an_assertion_leaves_no_harness_serve_behind() {
    let (mut copy, serve) = copy_with_serve("assert");
    let status = copy.wait().expect("the copy ends");
    assert!(!status.success(), "the copy's assertion failed: {status}");
    gone_within(
        serve,
        "harness serve, after the test that started it failed",
    );
}

pub(crate) fn an_interrupted_test_leaves_no_harness_serve_behind() {
    let (mut copy, serve) = copy_with_serve("park");
    signal(&copy, "INT");
    let _ = copy.wait();
    gone_within(
        serve,
        "harness serve, after the test that started it was interrupted",
    );
}

pub(crate) fn a_killed_test_leaves_no_harness_serve_behind() {
    let (mut copy, serve) = copy_with_serve("park");
    signal(&copy, "KILL");
    let _ = copy.wait();
    gone_within(
        serve,
        "harness serve, after the test that started it was killed",
    );
}

/// `harness exec` running a client that writes its pid to a file and sleeps; the exec
/// process (not under a reaper of the test's: its own reaper is what is checked), and the
/// client's pid.
fn exec_with_sleeping_client(dir: &Path) -> (Child, u32) {
    let pid_file = dir.join("client.pid");
    let script = format!("echo $$ > {}; exec sleep 600", pid_file.display());
    let exec = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "exec",
            "scenarios/forced-410.yaml",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harness exec starts");
    let start = Instant::now();
    let client = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            break pid;
        }
        assert!(start.elapsed() < PATIENCE, "the client never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    (exec, client)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kwh-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    dir
}

/// Kills `exec` if the test fails before it is done with it.
struct Exec(Child);

impl Drop for Exec {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn a_killed_harness_exec_leaves_no_client_behind() {
    let dir = scratch("cleanup-exec-kill");
    let (exec, client) = exec_with_sleeping_client(&dir);
    let mut exec = Exec(exec);
    signal(&exec.0, "KILL");
    let _ = exec.0.wait();
    gone_within(client, "the client, after harness exec was killed");
    let _ = std::fs::remove_dir_all(&dir);
}

pub(crate) fn an_interrupted_harness_exec_stops_its_client_and_exits_130() {
    let dir = scratch("cleanup-exec-int");
    let (exec, client) = exec_with_sleeping_client(&dir);
    let mut exec = Exec(exec);
    signal(&exec.0, "INT");
    let mut said = String::new();
    std::io::Read::read_to_string(exec.0.stderr.as_mut().expect("stderr is piped"), &mut said)
        .expect("its stderr is readable");
    let status = exec.0.wait().expect("harness exec ends");
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    gone_within(client, "the client, after harness exec was interrupted");
    let _ = std::fs::remove_dir_all(&dir);
}
