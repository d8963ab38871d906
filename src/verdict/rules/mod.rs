//! One rule per [`Mechanism`](crate::mechanism::Mechanism): each recognises its causal story in
//! a failed run's evidence and tells it as a chain of links — the fault, what the server
//! answered or sent, what the watcher did with it, and the state that followed. The rules live
//! by family (kube-client's retry, the consumer's stops, timeouts, delivery, refusals, replicas behind a load balancer, resume points, storms, a run's end), each with one
//! trace that fits it and one that does not; `order.rs` holds the one table of the order they
//! are tried in.

mod client_retry;
mod consumer_pace;
mod consumer_stops;
mod contract;
mod delivery;
pub(super) mod explanation;
mod initial_state;
mod order;
mod refusals;
mod replicas;
mod resume_point;
mod run_end;
mod storms;
mod timeouts;

pub(super) use order::diagnose;
