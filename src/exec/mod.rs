//! `harness exec`: any client, in any language, judged the way `harness run` judges kube-rs
//! set-ups. The scenario is served on loopback ([`crate::live`]) and its timeline played; the
//! command runs with `KUBECONFIG` pointing at the server and [`VIEW_ENV`] naming a file it may
//! write its cache to ([`view`]); at the end it is stopped (SIGTERM, then SIGKILL after a grace
//! period) and each client it was — one per process, by who opened its connections — is
//! judged from what the server saw ([`crate::verdict::judge_client`]).

mod child;
mod error;
mod exec_options;
mod executed;
mod front;
mod play;
pub mod view;

pub use error::Error;
pub use exec_options::ExecOptions;
pub use executed::{Executed, exec};
pub use view::VIEW_ENV;
