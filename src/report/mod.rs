//! Rendering what a run found: [`table`] for terminals, [`json`] and [`junit`] for machines and
//! CI, [`svg`] timelines, [`explain`] for one set-up's causal chain and trace, [`requests`]
//! for a live server's request log, and [`rust_test`] an explore finding as a test for kube-rs.
//! Renderers read the verdicts the run produced ([`crate::outcome`]) and never judge or read a
//! clock, so output is deterministic.

pub mod explain;
pub mod explore;
pub mod json;
pub mod junit;
pub mod requests;
pub mod rust_test;
pub mod svg;
pub mod table;
pub mod wrap;
