//! The control plane leaves nothing behind: not when it is dropped, and not when the process
//! that started it is killed outright (SIGKILL skips every destructor; its reaper cleans up).

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kube_watch_harness::anchor::{Binaries, ControlPlane, ControlPlaneOptions};

/// Set in the child this test starts: it starts a control plane, says where, and waits to die.
pub(crate) const CHILD: &str = "KWH_ANCHOR_CLEANUP_CHILD";

/// In the child: start a control plane, print its directory and pids, and wait forever.
pub(crate) fn child(binaries: &Binaries) -> ! {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let plane = runtime
        .block_on(ControlPlane::start(
            binaries,
            ControlPlaneOptions::default(),
        ))
        .expect("the control plane starts");
    let pids: Vec<String> = plane.pids().iter().map(u32::to_string).collect();
    // NB: stdout is the parent's pipe, read line by line.
    #[expect(clippy::print_stdout, reason = "the parent reads this line")]
    {
        println!("{} {}", plane.dir().display(), pids.join(" "));
    }
    loop {
        std::thread::park();
    }
}

fn alive(pid: u32) -> bool {
    // A zombie has no /proc/PID/cmdline contents; a process that is gone has no directory.
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
}

fn gone_within(dir: &std::path::Path, pids: &[u32], limit: Duration) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !dir.exists() && pids.iter().all(|p| !alive(*p)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
    Err(format!(
        "after {limit:?}: directory {} {}, processes still running: {left:?}",
        dir.display(),
        if dir.exists() { "still there" } else { "gone" }
    ))
}

/// A control plane whose process is SIGKILLed is stopped and removed by its reaper.
pub(crate) fn a_killed_test_process_leaves_no_control_plane_behind() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("failed to start the child: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let mut words = line.split_whitespace();
    let dir = PathBuf::from(words.next().ok_or("the child printed nothing")?);
    let pids: Vec<u32> = words.filter_map(|w| w.parse().ok()).collect();
    if pids.len() != 3 || !dir.exists() || !pids.iter().all(|p| alive(*p)) {
        let _ = child.kill();
        return Err(format!("the child's control plane is not up: {line}"));
    }
    child.kill().map_err(|e| e.to_string())?;
    let _ = child.wait();
    // The reaper gives its group two seconds after SIGTERM.
    gone_within(&dir, &pids, Duration::from_secs(15))
}

/// A dropped control plane has stopped its processes and removed its directory.
pub(crate) async fn a_dropped_control_plane_leaves_nothing_behind(
    binaries: &Binaries,
) -> Result<(), String> {
    let plane = ControlPlane::start(binaries, ControlPlaneOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let (dir, pids) = (plane.dir().to_owned(), plane.pids());
    drop(plane);
    gone_within(&dir, &pids, Duration::from_secs(1))
}
