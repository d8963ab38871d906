//! Prints the request log and watcher events of one set-up of a scenario, for debugging.
//!
//! `cargo run --example trace -- scenarios/idle-expire.yaml defaults`
//!
//! With `KWH_LIVE_SPEED=N` in the environment the set-ups run against a live server sped up N×.

use kube_watch_harness::{run, scenario, trace::TraceKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: trace SCENARIO [SET-UP]")?;
    let wanted = args.next();
    let scenario = scenario::load(&path)?;
    let mut options = run::RunOptions::default();
    if let Ok(speed) = std::env::var("KWH_LIVE_SPEED") {
        options = options.mode(run::Mode::Live {
            speed: speed.parse()?,
        });
    }
    let report = run::run(&scenario, &options)?;
    for outcome in report
        .outcomes
        .iter()
        .filter(|o| wanted.as_ref().is_none_or(|w| *w == o.setup))
    {
        eprintln!("== {}", outcome.setup);
        for event in &outcome.trace {
            let at = scenario::format_duration(event.at);
            match &event.kind {
                TraceKind::Request(r) => eprintln!(
                    "{at:>10}  {} {}?{} -> {}",
                    r.method, r.path, r.query, r.status
                ),
                other => eprintln!("{at:>10}  {other:?}"),
            }
        }
    }
    Ok(())
}
