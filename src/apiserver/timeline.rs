//! Playing a scenario's timeline on a server in (virtual or real) time: its steps, background
//! churn and etcd's periodic compaction.

use std::borrow::Borrow;
use std::time::Duration;

use super::server::ApiServer;
use crate::scenario::{Action, Scenario};

/// Plays the scenario's timeline, background churn and periodic compaction on `server` until
/// the scenario's duration has passed. Times are relative to the server's recorder start.
///
/// The steps at time zero are applied before this returns, so no request can arrive before
/// them, whichever task the runtime polls first; the rest happens in the returned future.
///
/// `scenario` is owned or shared (`Arc<Scenario>`), so runs of one scenario need not copy it.
pub fn play<S>(server: ApiServer, scenario: S) -> impl Future<Output = ()> + Send + 'static
where
    S: Borrow<Scenario> + Send + 'static,
{
    let at_start = scenario
        .borrow()
        .timeline
        .iter()
        .take_while(|step| step.at.is_zero())
        .count();
    for step in &scenario.borrow().timeline[..at_start] {
        apply(&server, &step.action);
    }
    async move {
        let scenario = scenario.borrow();
        let end = scenario.duration;
        tokio::join!(
            steps(&server, scenario, at_start),
            every(&server, scenario.server.churn_interval, end, |s| s.churn()),
            compaction(&server, scenario.server.compaction_interval, end),
        );
    }
}

fn apply(server: &ApiServer, action: &Action) {
    match action {
        Action::Write(write) => server.write(write),
        Action::Fault(fault) => server.inject(fault),
    }
}

async fn steps(server: &ApiServer, scenario: &Scenario, skip: usize) {
    for step in &scenario.timeline[skip..] {
        sleep_to(server, step.at).await;
        apply(server, &step.action);
    }
}

async fn every(
    server: &ApiServer,
    interval: Option<Duration>,
    end: Duration,
    tick: impl Fn(&ApiServer),
) {
    let Some(interval) = interval else { return };
    let mut at = interval;
    while at <= end {
        sleep_to(server, at).await;
        tick(server);
        at += interval;
    }
}

/// etcd's compactor: each run compacts at the revision recorded at the previous run, so 5 to
/// 10 minutes of history survive (apiserver `storage/etcd3/compact.go`).
async fn compaction(server: &ApiServer, interval: Option<Duration>, end: Duration) {
    let Some(interval) = interval else { return };
    let mut recorded = server.revision();
    let mut at = interval;
    while at <= end {
        sleep_to(server, at).await;
        server.compact_to(recorded);
        recorded = server.revision();
        at += interval;
    }
}

async fn sleep_to(server: &ApiServer, at: Duration) {
    server.recorder().sleep_until(at).await;
}
