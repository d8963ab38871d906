//! The replicas behind the load balancer (`server.replicas`, `server.load_balancer`).

use std::collections::BTreeSet;
use std::time::Duration;

use super::validator::Validator;
use crate::scenario::error::Result;
use crate::scenario::file::ServerFile;
use crate::scenario::spec::ServerSpec;
use crate::scenario::topology::{Balance, ReplicaSpec};
use crate::span::format as fmt;

/// Whether `name` is a DNS-1123 label, as a host name in front of a load balancer is.
fn is_label(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= 63
        && edge(name.chars().next())
        && edge(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Validator<'_> {
    /// The replicas, each window at least the shortest the apiserver takes and at `window`
    /// when left out, and the balancer, which needs replicas to balance.
    pub(super) fn topology(
        &self,
        raw: &ServerFile,
        window: Duration,
    ) -> Result<(Vec<ReplicaSpec>, Balance)> {
        if raw.replicas.len() == 1 {
            let at = &raw.replicas[0].name.referenced;
            return Err(self.invalid(
                "server.replicas",
                Some(at),
                "one replica is one apiserver: leave `replicas` out, or list at least two",
            ));
        }
        let mut names = BTreeSet::new();
        let mut replicas = Vec::new();
        for (i, r) in raw.replicas.iter().enumerate() {
            let name = &r.name.value;
            let key = |k: &str| format!("server.replicas[{i}].{k}");
            if !is_label(name) {
                return Err(self.invalid(
                    key("name"),
                    Some(&r.name.referenced),
                    format!("{name:?} is not a DNS-1123 label (a-z, 0-9 and '-', at most 63)"),
                ));
            }
            if !names.insert(name.as_str()) {
                return Err(self.invalid(
                    key("name"),
                    Some(&r.name.referenced),
                    format!("a second replica named {name:?}"),
                ));
            }
            let own = r.watch_cache_window.as_ref();
            let window = own.map_or(window, |w| w.value.get());
            if window < ServerSpec::MIN_WATCH_CACHE_WINDOW {
                return Err(self.invalid(
                    key("watch_cache_window"),
                    own.map(|w| &w.referenced),
                    format!(
                        "kube-apiserver refuses a watch cache window below {}, found {}",
                        fmt(ServerSpec::MIN_WATCH_CACHE_WINDOW),
                        fmt(window)
                    ),
                ));
            }
            replicas.push(ReplicaSpec {
                name: name.clone(),
                cache_lag: r
                    .cache_lag
                    .as_ref()
                    .map_or(Duration::ZERO, |l| l.value.get()),
                watch_cache_window: window,
            });
        }
        let balance = match &raw.load_balancer {
            Some(b) if replicas.is_empty() => {
                return Err(self.invalid(
                    "server.load_balancer",
                    Some(&b.referenced),
                    "a load balancer needs `replicas` to balance over",
                ));
            }
            Some(b) => b.value,
            None => Balance::default(),
        };
        Ok((replicas, balance))
    }
}

#[cfg(test)]
mod tests {
    use super::is_label;

    #[test]
    fn replica_names_are_dns_labels() {
        for good in ["apiserver-0", "a", "kas-eu-west-1b"] {
            assert!(is_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "Apiserver", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_label(bad), "{bad}");
        }
    }
}
