//! `harness explore`: the failures nobody wrote a scenario for. Random fault timelines, drawn
//! from a [`Budget`] over a scenario's own resource, objects, workload and set-ups, run in
//! virtual time and judged by the ordinary verdict; each way a set-up failed is shrunk to the
//! smallest timeline that still shows it and written as an ordinary scenario file.
//!
//! Entry point: [`explore`]. Deterministic for a seed: timeline `i` is drawn from a generator
//! seeded by the seed and `i`, and the [`Coverage`] learned from the earlier timelines of its
//! lane (`i % LANES`, in index order); findings are taken in run order, and each is shrunk by
//! itself, so `--jobs` changes how long it takes, never what it finds.
//!
//! Where things are: `explore_options.rs` how to explore; `budget.rs` what may be drawn and the
//! drawing of one fault; `search.rs` which search draws; `timeline.rs` a timeline and the
//! uniform search's draw of one; `guided.rs` the guided search's (`roles.rs` its pairs,
//! `server_draw.rs` its server settings, `feature.rs` its choices, `coverage.rs` the feedback
//! that weights them); `draw.rs` drawing run `i` by either, into a `drawn.rs`; `lanes.rs` the
//! runs of each lane in order; `exploration.rs` the run of them all; `failure.rs` a way a set-up
//! failed; `finding.rs` and `shrink.rs` making one a scenario.

mod budget;
mod coverage;
mod draw;
mod drawn;
mod error;
mod exploration;
mod explore_options;
mod failure;
mod feature;
mod finding;
mod guided;
mod lanes;
mod progress;
mod roles;
mod search;
mod server_draw;
mod shard;
mod shrink;
mod summary;
mod tally;
mod timeline;

pub use budget::{Budget, Error as BudgetError};
pub use coverage::Coverage;
pub use drawn::Drawn;
pub use error::Error;
pub use exploration::{Exploration, explore};
pub use explore_options::ExploreOptions;
pub use failure::Failure;
pub use feature::{Feature, Knob};
pub use finding::Finding;
pub use search::Search;
pub use shard::{LANES, Shard};
pub use summary::{
    DrawnServer, FindingRecord, ScenarioTotals, Summary, TimedFault, VERSION as SUMMARY_VERSION,
};
pub use timeline::Timeline;
