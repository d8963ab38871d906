//! Window rules and the first-non-`Pass`-wins evaluation.

use std::time::Duration;

/// What a rule says about one thing the server is about to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// No rule applies: send it as usual.
    Pass,
    /// Leave it out; the `&str` names the fault that dropped it.
    Drop(&'static str),
}

/// A fault in force for `[start, end)` of virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    start: Duration,
    end: Duration,
    cause: &'static str,
}

impl FaultRule {
    /// A rule that drops bookmarks from `start` for `duration`.
    #[must_use]
    pub fn silence(start: Duration, duration: Duration, cause: &'static str) -> Self {
        Self {
            start,
            end: start + duration,
            cause,
        }
    }

    fn bookmark(&self, now: Duration) -> Action {
        if (self.start..self.end).contains(&now) {
            Action::Drop(self.cause)
        } else {
            Action::Pass
        }
    }
}

/// The rules of one run, in declaration order.
#[derive(Debug, Clone, Default)]
pub struct FaultRules {
    rules: Vec<FaultRule>,
}

impl FaultRules {
    /// Adds a rule after the ones already there.
    pub fn push(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// What to do with a bookmark due at virtual time `now`: the first rule that does not pass wins.
    #[must_use]
    pub fn bookmark(&self, now: Duration) -> Action {
        self.rules
            .iter()
            .map(|r| r.bookmark(now))
            .find(|a| *a != Action::Pass)
            .unwrap_or(Action::Pass)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_window_drops_bookmarks_only_inside_its_half_open_range() {
        let mut rules = FaultRules::default();
        rules.push(FaultRule::silence(S(60), S(60), "drop_bookmarks"));
        assert_eq!(rules.bookmark(S(59)), Action::Pass);
        assert_eq!(rules.bookmark(S(60)), Action::Drop("drop_bookmarks"));
        assert_eq!(rules.bookmark(S(119)), Action::Drop("drop_bookmarks"));
        assert_eq!(rules.bookmark(S(120)), Action::Pass);
    }

    #[test]
    fn the_first_rule_that_does_not_pass_names_the_cause() {
        let mut rules = FaultRules::default();
        rules.push(FaultRule::silence(S(0), S(100), "idle"));
        rules.push(FaultRule::silence(S(50), S(100), "drop_bookmarks"));
        assert_eq!(rules.bookmark(S(60)), Action::Drop("idle"));
        assert_eq!(rules.bookmark(S(120)), Action::Drop("drop_bookmarks"));
    }
}
