//! What a verdict says.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

use crate::check_name::CheckName;
use crate::mechanism::Mechanism;

/// The judgement of one set-up's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// Every check passed, or failed and is tolerated.
    pub recovered: bool,
    /// Each invariant with its outcome.
    pub checks: Vec<Check>,
    /// The protocol checks that failed and that the scenario tolerates for this set-up
    /// (`expect.tolerate`): they do not fail it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerated: Vec<CheckName>,
    /// Costs and timings.
    pub figures: Figures,
    /// How it failed; `None` when it recovered.
    pub mechanism: Option<Mechanism>,
    /// Why, as a causal chain, oldest first: the fault, what the server answered or sent, what
    /// the watcher did, and what followed. Empty when it recovered.
    pub chain: Vec<Link>,
    /// Where the watcher's view first left the truth after the first fault.
    pub first_divergence: Option<Divergence>,
    /// Why it did not recover, in words (the chain, the failing check, the faults); `None`
    /// when it recovered.
    pub diagnosis: Option<String>,
    /// What the reports draw, as the verdict found it.
    #[serde(skip)]
    pub marks: Marks,
}

/// One link of a causal chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// When, in virtual time.
    pub at: Duration,
    /// What happened, in words.
    pub text: String,
    /// The check whose words this link carries, if it quotes one: a diagnosis that tells the
    /// chain and then the failing checks does not say them twice.
    #[serde(skip)]
    pub quotes: Option<CheckName>,
}

impl Link {
    /// A link in words of its own.
    #[must_use]
    pub fn new(at: Duration, text: impl Into<String>) -> Self {
        Self {
            at,
            text: text.into(),
            quotes: None,
        }
    }

    /// A link that says what `check` found, in its words.
    #[must_use]
    pub fn quoting(at: Duration, check: &Check) -> Self {
        Self::quoting_in(at, check.detail.clone(), check)
    }

    /// A link whose `text` carries what `check` found.
    #[must_use]
    pub fn quoting_in(at: Duration, text: impl Into<String>, check: &Check) -> Self {
        Self {
            at,
            text: text.into(),
            quotes: Some(check.name),
        }
    }
}

/// Where a view first left the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// When, in virtual time.
    pub at: Duration,
    /// What differed then: `missing shop/web-1; stale shop/web-0 at resourceVersion 1, truth 91`.
    pub difference: String,
}

/// The marks of a run on its timeline, as the verdict judged them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// The delivery lag the verdict forgave.
    pub lag: Duration,
    /// The stretches out of sync for longer than the lag: `(start, end)`, `end` `None` when
    /// still open at the end.
    pub gaps: Vec<(Duration, Option<Duration>)>,
    /// When each relist (a full LIST after the first, or a streaming list) began.
    pub relists: Vec<Duration>,
    /// When the watcher emitted each error.
    pub errors: Vec<Duration>,
    /// The ids of the requests answered with an error (an HTTP error, or a watch that carried
    /// only an ERROR event).
    pub failed_requests: BTreeSet<u64>,
}

/// One invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// Which invariant.
    pub name: CheckName,
    /// Whether it held.
    pub passed: bool,
    /// What was found, in words.
    pub detail: String,
}

/// Costs and timings of one run, in virtual time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Requests the watcher made.
    pub requests: u64,
    /// Full LISTs after the first one.
    pub relists: u32,
    /// Errors the watcher emitted.
    pub errors: u32,
    /// Most requests in any sliding minute.
    pub peak_requests_per_minute: u32,
    /// When the faults first disrupted the watcher (its first error, or its view leaving the
    /// truth); `None` if they never did.
    pub disrupted_at: Option<Duration>,
    /// When it was back in sync for good; `None` if never.
    pub recovered_at: Option<Duration>,
    /// `recovered_at - disrupted_at`.
    pub recovery_latency: Option<Duration>,
    /// The longest stretch in which the view differed from the truth (past the delivery lag);
    /// `None` if it never did.
    pub blind_time: Option<Duration>,
}

impl Verdict {
    /// The verdict for a set-up whose run could not finish (`hung` past the wall-clock
    /// deadline, or else the harness thread running it died): not recovered, with `why`.
    #[must_use]
    pub fn not_finished(why: String, hung: bool) -> Self {
        let mechanism = if hung {
            Mechanism::Hung
        } else {
            Mechanism::Unknown
        };
        Self {
            recovered: false,
            checks: vec![Check {
                name: CheckName::Survived,
                passed: false,
                detail: why.clone(),
            }],
            tolerated: Vec::new(),
            figures: Figures::default(),
            mechanism: Some(mechanism),
            chain: vec![Link {
                at: Duration::ZERO,
                text: why.clone(),
                quotes: Some(CheckName::Survived),
            }],
            first_divergence: None,
            diagnosis: Some(why),
            marks: Marks::default(),
        }
    }
}
