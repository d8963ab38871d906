//! Rendering run reports: [`table`] for terminals, [`json`] for machines, and [`requests`] for
//! a live server's request log. Renderers take what they render and never read a clock, so
//! output is deterministic.

pub mod json;
pub mod junit;
pub mod requests;
pub mod svg;
pub mod table;
