//! Discovery facts of every built-in resource of kube-apiserver 1.37.2, as the real server lists
//! them under `/api/v1` and `/apis/{group}/{version}` (captured from the anchor control plane;
//! `ci/conformance` holds the served resource's entry against it): short names (`cm`, `po`),
//! categories (`all`), the singular name, and the storage version hash. The entries live by
//! group: `discovery_known_core` (`/api/v1`) and `discovery_known_groups` (`/apis`); this file
//! holds their shape, and `discovery` looks them up.

/// One resource's entry.
pub(super) struct Known {
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) plural: &'static str,
    pub(super) singular: &'static str,
    pub(super) short_names: &'static [&'static str],
    pub(super) categories: &'static [&'static str],
    pub(super) storage_version_hash: &'static str,
}
