//! What an exec client's story is told from: its calls and checks, and what the judge read off
//! them.

use std::time::Duration;

use super::reactions::Resumes;
use super::waits::Waits;
use crate::trace::Trace;
use crate::verdict::call::Call;
use crate::verdict::reaction::Reaction;
use crate::verdict::scorecard::Check;

/// What the story is told from.
pub(super) struct Facts<'f, 'a> {
    pub(super) trace: &'f Trace,
    pub(super) calls: &'f [Call<'a>],
    pub(super) checks: &'f [Check],
    pub(super) end: Duration,
    pub(super) deadline: Duration,
    pub(super) waits: &'f Waits,
    /// When the run was stopped as a request storm, if it was.
    pub(super) storm: Option<Duration>,
    /// When the rate check failed: the check and the cycle the client repeated.
    pub(super) rate: Option<(&'f Check, Option<&'f str>)>,
    pub(super) first_fault: Option<Duration>,
    pub(super) pending: Option<&'f Call<'a>>,
    pub(super) after_gone: &'f [(Duration, &'f Call<'a>, Reaction)],
    /// When the survived check failed, the check.
    pub(super) survived: Option<&'f Check>,
    pub(super) resumes: &'f Resumes,
    pub(super) open: Option<&'f Call<'a>>,
    /// When the kept-up check failed, the check.
    pub(super) behind: Option<&'f Check>,
}
