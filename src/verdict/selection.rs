//! What a client's request selects, read off its path and query: both judges' kept-up check
//! and the exec judge's truth read it.

use crate::apiserver::route::Route;
use crate::scenario::ResourceSpec;
use crate::selector::Selector;
use crate::trace::RequestRecord;

/// What a request for `resource` selects: its label and field selectors, and the namespace its
/// path names (`/api/v1/namespaces/NS/pods` sees only NS), as one selector.
pub(in crate::verdict) fn selector_of(record: &RequestRecord, resource: &ResourceSpec) -> Selector {
    let namespace = match Route::of(&record.path, resource) {
        Route::Collection {
            namespace: Some(namespace),
            ..
        } => Some(format!("metadata.namespace={namespace}")),
        _ => None,
    };
    let fields = match (
        record.param("fieldSelector").filter(|f| !f.is_empty()),
        namespace,
    ) {
        (Some(fields), Some(namespace)) => Some(format!("{fields},{namespace}")),
        (fields, namespace) => fields.or(namespace),
    };
    Selector::parse_for(
        &resource.group,
        &resource.kind,
        record.param("labelSelector").as_deref(),
        fields.as_deref(),
    )
    .unwrap_or_default()
}
