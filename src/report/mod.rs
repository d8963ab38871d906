//! Rendering what a run found: [`table`] for terminals, [`json`] and [`junit`] for machines and
//! CI, [`svg`] timelines, [`explain`] for one set-up's causal chain and trace, and [`requests`]
//! for a live server's request log. Renderers read the verdicts the run produced
//! ([`crate::outcome`]) and never judge or read a clock, so output is deterministic.

pub mod explain;
pub mod explore;
pub mod json;
pub mod junit;
pub mod requests;
pub mod svg;
pub mod table;
