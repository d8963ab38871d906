//! How late a delivery may be and still count as on time: the judge forgives it when it
//! looks for disruptions, and the rules that tell a late delivery from a lost one use the same.

use std::time::Duration;

/// How long delivering a write to a healthy watcher may take before the gap counts as a
/// disruption, in simulated mode. The in-memory transport delivers in zero virtual time, so
/// this only forgives what a real network would also take.
pub const DELIVERY_LAG: Duration = Duration::from_secs(1);
