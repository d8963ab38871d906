//! A drawn timeline with what else was drawn for it ([`Drawn`]): the server's settings, and the
//! choices that made it, which coverage feedback learns from.

use super::feature::Feature;
use super::timeline::Timeline;
use crate::scenario::ServerSettings;

/// One drawn run: its faults, the server settings put over the scenario's, and the choices
/// that made them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawn {
    /// The faults, in time order.
    pub timeline: Timeline,
    /// The server's settings over the scenario's own; empty for the uniform search.
    pub server: ServerSettings,
    /// The choices the draw made; empty for the uniform search.
    pub features: Vec<Feature>,
}
