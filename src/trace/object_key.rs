//! How the trace names an object ([`ObjectKey`]), the way the store and kube's reflector do.

/// An object's identity: `namespace/name`, or `name` when cluster-scoped.
pub type ObjectKey = String;
