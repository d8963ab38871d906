//! The threads worlds run on, kept and reused. A world needs a thread of its own (a hung one is
//! given up on, and its thread with it), but a fresh thread for each of `harness explore`'s
//! hundreds of thousands of runs costs memory: glibc hands a new thread a free malloc arena
//! only once the last thread using it has fully exited, which the next spawn does not wait
//! for, so arenas multiply up to eight per core and each fragments on its own (an exploration
//! held 40% more after 10,000 timelines than after 1,000). A thread that finished its world
//! waits for the next; one whose world hung or panicked is never handed another.

use std::sync::{Mutex, mpsc};

/// A world to run; what it returns delivers its result, once its thread is idle again (so that
/// whoever gets the result and starts the next world finds this thread waiting for it).
pub(super) type Job = Box<dyn FnOnce() -> Deliver + Send>;

/// Delivers a world's result.
pub(super) type Deliver = Box<dyn FnOnce() + Send>;

/// Threads waiting for a world, each by the sender that hands it one.
static IDLE: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());

/// Runs `job` on an idle world thread, or on a new one when none is idle.
///
/// # Errors
/// The OS refused a new thread.
pub(super) fn run_on_a_world_thread(job: Job) -> std::io::Result<()> {
    let mut job = job;
    while let Some(idle) = IDLE.lock().ok().and_then(|mut idle| idle.pop()) {
        match idle.send(job) {
            Ok(()) => return Ok(()),
            // A thread leaves only by panicking while busy, so an idle one is there; but a
            // closed channel must not lose the world: try the next.
            Err(mpsc::SendError(back)) => job = back,
        }
    }
    let (sender, jobs) = mpsc::channel::<Job>();
    let mine = sender.clone();
    std::thread::Builder::new()
        .name("harness-world".into())
        .spawn(move || {
            for job in jobs {
                let deliver = job();
                if let Ok(mut idle) = IDLE.lock() {
                    idle.push(mine.clone());
                }
                deliver();
            }
        })?;
    // NB: the thread holds a sender of its own, so it is never told to stop: it waits.
    sender
        .send(job)
        .map_err(|_| std::io::Error::other("a new world thread was gone before its first world"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_that_finished_its_world_runs_a_later_one() {
        let (done, finished) = mpsc::channel();
        let first = done.clone();
        run_on_a_world_thread(Box::new(move || {
            Box::new(move || first.send(std::thread::current().id()).unwrap())
        }))
        .unwrap();
        let one = finished.recv().unwrap();
        // The thread is back on the idle list just after its world ends; other tests' worlds
        // may take it first, so a few worlds are run until one lands on it.
        let mut again = false;
        for _ in 0..100 {
            let next = done.clone();
            run_on_a_world_thread(Box::new(move || {
                Box::new(move || next.send(std::thread::current().id()).unwrap())
            }))
            .unwrap();
            if finished.recv().unwrap() == one {
                again = true;
                break;
            }
        }
        assert!(
            again,
            "the first world's thread ran none of 100 later worlds"
        );
    }
}
