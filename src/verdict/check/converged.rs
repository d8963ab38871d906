//! Converged: at the end what the client holds equals the truth. One check for both judges:
//! the kube-rs judge holds its view (and a reflector's store) to it, the exec judge the cache
//! the client wrote ([`Sight`] names which).

use crate::check_name::CheckName;
use crate::verdict::check::deadline::Sight;
use crate::verdict::fold::{Objects, describe_difference};
use crate::verdict::scorecard::Check;

/// What a client holds at the end, as its judge sees it.
pub(in crate::verdict) struct Held<'a> {
    pub(in crate::verdict) sight: Sight,
    /// Its view, or the cache it wrote.
    pub(in crate::verdict) objects: &'a Objects,
    /// A kube-rs reflector's store, if it kept one.
    pub(in crate::verdict) store: Option<&'a Objects>,
    /// It stopped reading before the end (its stream ended, or the run was stopped as a
    /// storm): a view equal to the truth then is only luck.
    pub(in crate::verdict) stopped_early: bool,
}

/// Converged: `held` equals the `truth` at the end, and it read to the end.
pub(in crate::verdict) fn converged(held: &Held<'_>, truth: &Objects) -> Check {
    let noun = match held.sight {
        Sight::View => "the view",
        Sight::Requests => "the cache it wrote",
    };
    let store_detail = match held.store {
        Some(store) if store != truth => format!(
            "; the reflector store differs from the truth: {}",
            describe_difference(store, truth)
        ),
        _ => String::new(),
    };
    let equal = held.objects == truth;
    let passed = equal && store_detail.is_empty() && !held.stopped_early;
    Check {
        name: CheckName::Converged,
        passed,
        detail: if passed {
            format!(
                "{noun} matched the truth's {} objects at the end",
                truth.len()
            )
        } else if equal && store_detail.is_empty() {
            format!(
                "{noun} matched the truth at the end only because nothing changed after the watcher stopped"
            )
        } else if equal {
            store_detail.trim_start_matches("; ").to_owned()
        } else {
            format!(
                "at the end {noun} differs from the truth: {}{store_detail}",
                describe_difference(held.objects, truth)
            )
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(keys: &[(&str, u64)]) -> Objects {
        keys.iter().map(|(k, rv)| ((*k).to_owned(), *rv)).collect()
    }

    fn held<'a>(sight: Sight, objects: &'a Objects, stopped_early: bool) -> Held<'a> {
        Held {
            sight,
            objects,
            store: None,
            stopped_early,
        }
    }

    #[test]
    fn what_a_client_holds_converges_when_it_equals_the_truth_whichever_judge_saw_it() {
        let truth = objects(&[("default/a", 3)]);
        let stale = objects(&[("default/a", 1)]);
        for sight in [Sight::View, Sight::Requests] {
            assert!(converged(&held(sight, &truth, false), &truth).passed);
            assert!(!converged(&held(sight, &stale, false), &truth).passed);
        }
        assert_eq!(
            converged(&held(Sight::Requests, &stale, false), &truth).detail,
            "at the end the cache it wrote differs from the truth: stale default/a at resourceVersion 1, truth 3"
        );
    }

    #[test]
    fn a_view_equal_to_the_truth_after_its_stream_ended_is_luck_and_a_stale_store_fails() {
        let truth = objects(&[("default/a", 3)]);
        let lucky = converged(&held(Sight::View, &truth, true), &truth);
        assert!(!lucky.passed);
        assert!(
            lucky.detail.contains("only because nothing changed"),
            "{}",
            lucky.detail
        );
        let store = objects(&[]);
        let with_store = Held {
            store: Some(&store),
            ..held(Sight::View, &truth, false)
        };
        let stale_store = converged(&with_store, &truth);
        assert!(!stale_store.passed);
        assert!(
            stale_store
                .detail
                .starts_with("the reflector store differs"),
            "{}",
            stale_store.detail
        );
    }
}
