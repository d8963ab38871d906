//! Paths the server understands: discovery, and the resource's collection and objects.

use super::query::Query;
use crate::scenario::ResourceSpec;
use crate::trace::Verb;

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Version,
    /// `/metrics`: the process's own figures, in Prometheus' text format.
    Metrics,
    CoreVersions,
    Groups,
    GroupVersion {
        group: String,
        version: String,
    },
    /// The collection, in one namespace or across all; `forced_watch` for `/watch/` paths.
    Collection {
        namespace: Option<String>,
        forced_watch: bool,
    },
    Object {
        namespace: Option<String>,
        name: String,
    },
    NotFound,
}

impl Route {
    pub(crate) fn of(path: &str, resource: &ResourceSpec) -> Self {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        match segments.as_slice() {
            ["version"] => Self::Version,
            ["metrics"] => Self::Metrics,
            ["api"] => Self::CoreVersions,
            ["apis"] => Self::Groups,
            ["api", version] => Self::GroupVersion {
                group: String::new(),
                version: (*version).into(),
            },
            ["apis", group, version] => Self::GroupVersion {
                group: (*group).into(),
                version: (*version).into(),
            },
            ["api", version, rest @ ..]
                if resource.group.is_empty() && *version == resource.version =>
            {
                Self::resource(rest, resource)
            }
            ["apis", group, version, rest @ ..]
                if *group == resource.group && *version == resource.version =>
            {
                Self::resource(rest, resource)
            }
            _ => Self::NotFound,
        }
    }

    fn resource(rest: &[&str], resource: &ResourceSpec) -> Self {
        let (forced_watch, rest) = match rest {
            ["watch", rest @ ..] => (true, rest),
            _ => (false, rest),
        };
        let plural = resource.plural.as_str();
        let namespaced = resource.namespaced;
        match rest {
            [p] if *p == plural => Self::Collection {
                namespace: None,
                forced_watch,
            },
            [p, name] if *p == plural && !forced_watch && !namespaced => Self::Object {
                namespace: None,
                name: (*name).into(),
            },
            ["namespaces", ns, p] if *p == plural && namespaced => Self::Collection {
                namespace: Some((*ns).into()),
                forced_watch,
            },
            ["namespaces", ns, p, name] if *p == plural && namespaced && !forced_watch => {
                Self::Object {
                    namespace: Some((*ns).into()),
                    name: (*name).into(),
                }
            }
            _ => Self::NotFound,
        }
    }
}

/// What the server takes a request for, from its route and query.
pub(crate) fn verb_of(route: &Route, query: &Query) -> Verb {
    match route {
        Route::Collection { forced_watch, .. } if *forced_watch || query.flag("watch") => {
            Verb::Watch
        }
        Route::Collection { .. } if query.get("continue").is_some_and(|c| !c.is_empty()) => {
            Verb::ListPage
        }
        Route::Collection { .. } => Verb::List,
        Route::Object { .. } => Verb::Get,
        _ => Verb::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> ResourceSpec {
        ResourceSpec::core_events()
    }

    #[test]
    fn namespaced_and_cluster_wide_collections_and_objects_resolve() {
        let r = events();
        assert_eq!(
            Route::of("/api/v1/events", &r),
            Route::Collection {
                namespace: None,
                forced_watch: false
            }
        );
        assert_eq!(
            Route::of("/api/v1/namespaces/default/events", &r),
            Route::Collection {
                namespace: Some("default".into()),
                forced_watch: false
            }
        );
        assert_eq!(
            Route::of("/api/v1/watch/namespaces/default/events", &r),
            Route::Collection {
                namespace: Some("default".into()),
                forced_watch: true
            }
        );
        assert_eq!(
            Route::of("/api/v1/namespaces/default/events/ev-1", &r),
            Route::Object {
                namespace: Some("default".into()),
                name: "ev-1".into()
            }
        );
    }

    #[test]
    fn other_resources_and_groups_are_not_found() {
        let r = events();
        assert_eq!(Route::of("/api/v1/pods", &r), Route::NotFound);
        assert_eq!(Route::of("/apis/apps/v1/deployments", &r), Route::NotFound);
        assert_eq!(
            Route::of("/api/v1/events/ev-1", &r),
            Route::NotFound,
            "a namespaced object needs its namespace"
        );
        assert_eq!(Route::of("/apis", &r), Route::Groups);
    }
}
