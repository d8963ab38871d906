//! The checks of a verdict, one file per check, shared by the two judges: the kube-rs judge
//! (`judge.rs`, from the watcher's own trace) and the exec-client judge (`blackbox/`, from what
//! the server saw a client do). Where the two judge a check alike they call one function;
//! where they differ, the two functions sit side by side in the check's file.

pub(super) mod backoff;
pub(super) mod checkpoints;
pub(super) mod converged;
pub(super) mod deadline;
pub(super) mod kept_up;
pub(super) mod monotonic;
pub(super) mod refused_repeat;
pub(super) mod relist_after_gone;
pub(super) mod relists;
pub(super) mod request_rate;
pub(super) mod resumable;
pub(super) mod resume_from_last;
pub(super) mod retry_after;
pub(super) mod survived;
