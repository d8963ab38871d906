//! Rendering run reports: [`table`] for terminals, [`json`] for machines. Renderers take the
//! reports and a writer; they never read a clock, so output is deterministic.

pub mod json;
pub mod table;
