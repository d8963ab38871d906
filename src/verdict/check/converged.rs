//! Converged: at the end the watcher's view equals the truth. The kube-rs judge holds its view
//! (and a reflector's store) to it; the exec-client judge the cache the client wrote.

use crate::check_name::CheckName;
use crate::verdict::fold::{Objects, describe_difference};
use crate::verdict::scorecard::Check;

/// The kube-rs watcher's view and its reflector's `store`, if it kept one. `converged`: the view
/// ended equal to the truth, and the run was neither ended early nor stopped.
pub(in crate::verdict) fn view_converged(
    converged: bool,
    view: &Objects,
    truth: &Objects,
    store: Option<&Objects>,
) -> Check {
    let store_detail = match store {
        Some(store) if store != truth => format!(
            "; the reflector store differs from the truth: {}",
            describe_difference(store, truth)
        ),
        _ => String::new(),
    };
    Check {
        name: CheckName::Converged,
        passed: converged,
        detail: if converged {
            format!(
                "the view matched the truth's {} objects at the end",
                truth.len()
            )
        } else if view == truth && store_detail.is_empty() {
            "the view matched the truth at the end only because nothing changed after the watcher stopped".into()
        } else if view == truth {
            store_detail.trim_start_matches("; ").to_owned()
        } else {
            format!(
                "at the end the view differs from the truth: {}{store_detail}",
                describe_difference(view, truth)
            )
        },
    }
}

/// The cache an exec client wrote against the truth it selects.
pub(in crate::verdict) fn cache_converged(cache: &Objects, truth: &Objects) -> Check {
    let difference = describe_difference(cache, truth);
    Check {
        name: CheckName::Converged,
        passed: difference.is_empty(),
        detail: if difference.is_empty() {
            format!(
                "the cache it wrote equals the truth ({} objects)",
                truth.len()
            )
        } else {
            format!("the cache it wrote differs from the truth: {difference}")
        },
    }
}
