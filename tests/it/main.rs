//! The one integration test binary (one link step): the server against the wire reference,
//! the built-in scenarios, scenario errors, and the command line.

mod apiserver;
mod bad_files;
mod cli;
mod consumer_shape;
mod emitted;
mod explore;
mod explore_scale;
mod fault_wire;
mod fixture;
mod floor;
mod fuzz;
mod fuzz_corpus;
mod gzip_watch;
mod history;
mod kube_defaults;
mod large;
mod layout;
mod live;
mod load;
mod malformed;
mod proxy_input;
mod replicas;
mod report;
mod restart;
mod scenario_errors;
mod scenarios;
mod schema;
mod slow_reader;
mod storable;
mod tolerate;
mod user_watcher;
mod wire;
