//! How late a delivery may be and still count as on time: the judge forgives it when it
//! looks for disruptions, and the rules that tell a late delivery from a lost one use the same.

use std::time::Duration;

/// How long delivering a write to a healthy watcher may take before the gap counts as a
/// disruption, in simulated mode. The in-memory transport delivers in zero virtual time, so
/// this only forgives what a real network would also take.
pub const DELIVERY_LAG: Duration = Duration::from_secs(1);

/// Wall time a live delivery (write → server → loopback TCP → client → consumer) may take on a
/// busy machine before the gap counts as a disruption; multiplied by the speed in virtual time.
const LIVE_DELIVERY_LAG: Duration = Duration::from_millis(50);

/// The delivery lag forgiven on a live timeline played `speed` times faster than real time.
#[must_use]
pub fn live_delivery_lag(speed: u32) -> Duration {
    DELIVERY_LAG.max(LIVE_DELIVERY_LAG * speed)
}
