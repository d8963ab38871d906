//! Live mode: the same scenarios over real loopback TCP with a sped-up wall clock agree with
//! the simulation.

use kube_watch_harness::run::{Mode, RunOptions, RunReport, run};
use kube_watch_harness::scenario;

use crate::fixture::yaml_files;

/// Slow enough that a loaded 2-core machine's scheduling jitter stays inside the scenarios'
/// narrowest windows; the catalogue then takes as long as its longest scenario, 30 minutes,
/// over 20: 90 s of wall time, mostly idle. The narrowest window is early-bookmarks': its
/// delete lands 3 s before the first watch's 290 s deadline, so that watch must open within
/// 2 s of the start. A debug build beside two busy cores opened it 8.3 s late at speed 100
/// (83 ms of wall time), and the verdict flipped in 2 runs of 6 (slow-consumer's, now and
/// then, too); at speed 20 that delay is about 1.7 s, and 6 runs of 6 agreed.
const SPEED: u32 = 20;

/// Set-ups that only kube's own idle timeout rescues: kube-runtime gives up on a watch stream
/// idle for `timeout + 5 s` of its tokio time, which a live run sped up N× cannot scale without
/// also asking the server for a watch timeout N× too short. Live, they wait 295 s of wall time,
/// far past the scenario's end.
const IDLE_TIMEOUT_ONLY: &[(&str, &str)] = &[("half-open-connection", "defaults")];

/// What must agree: per set-up, whether it recovered. Which checks a failing set-up fails may
/// differ: a hot retry loop reaches the request cap in zero virtual time over the in-memory
/// transport, while over TCP each round trip takes real time, so the same loop can fail on
/// its request rate first.
fn verdicts(report: &RunReport) -> Vec<(String, bool)> {
    report
        .outcomes
        .iter()
        .filter(|o| !IDLE_TIMEOUT_ONLY.contains(&(report.scenario.as_str(), o.setup.as_str())))
        .map(|o| (o.setup.clone(), o.verdict.recovered))
        .collect()
}

#[test]
fn every_built_in_scenario_gets_the_same_verdicts_live_as_simulated() {
    let runs: Vec<_> = yaml_files("scenarios")
        .into_iter()
        .map(|path| {
            std::thread::spawn(move || {
                let scenario = scenario::load(&path).expect("built-in scenarios load");
                let simulated = run(&scenario, &RunOptions::default()).expect("simulated run");
                let live = run(
                    &scenario,
                    &RunOptions::default().mode(Mode::Live { speed: SPEED }),
                )
                .expect("live run");
                (path, simulated, live)
            })
        })
        .collect();
    for handle in runs {
        let (path, simulated, live) = handle.join().expect("a run thread does not panic");
        assert_eq!(
            verdicts(&live),
            verdicts(&simulated),
            "{}: live (speed {SPEED}) and simulated verdicts agree\nlive: {:#?}",
            path.display(),
            live.outcomes
                .iter()
                .map(|o| (&o.setup, &o.verdict))
                .collect::<Vec<_>>()
        );
    }
}
