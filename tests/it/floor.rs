//! The server stands by what it said: over random timelines of writes, churn, compaction,
//! `expire_watches`, `expire_continue`, `watch_410` and restarts, probed by watches and LISTs
//! from random resourceVersions, a 410 is only ever sent for a resourceVersion below the floor
//! the server reports, a resourceVersion once called too old is never served again, the floors
//! never move back, and every watch it serves delivers exactly the history after its
//! resourceVersion: no event from below its floor, none missing.

use std::time::Duration;

use kube_watch_harness::fault::{Fault, GoneForm, Restart, Target};
use kube_watch_harness::scenario::{ObjectSpec, Write};
use kube_watch_harness::trace::{EventType, TraceKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::fixture::{World, json, scenario};

#[derive(Debug, Clone)]
enum Op {
    /// Update, delete or re-create object `0..3`.
    Write(u8),
    /// Writes to other resources.
    Churn(u8),
    /// Virtual time passes.
    Sleep(u16),
    Compact {
        retain: Option<u16>,
    },
    ExpireWatches,
    RestartKeep,
    /// The next watch from a resourceVersion gets the apiserver's own 410.
    Watch410,
    /// The next continue token expires.
    ExpireContinue,
    /// A watch, left open for `secs`, from the resourceVersion at this fraction (of 255) of
    /// the current revision.
    Watch {
        fraction: u8,
        secs: u16,
    },
    /// An exact LIST at such a resourceVersion.
    ExactList(u8),
    /// A LIST one object a page, every page.
    PagedList,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3_u8).prop_map(Op::Write),
        2 => (1..5_u8).prop_map(Op::Churn),
        2 => (0..200_u16).prop_map(Op::Sleep),
        1 => proptest::option::of(0..120_u16).prop_map(|retain| Op::Compact { retain }),
        1 => Just(Op::ExpireWatches),
        1 => Just(Op::RestartKeep),
        1 => Just(Op::Watch410),
        1 => Just(Op::ExpireContinue),
        3 => (any::<u8>(), 1..300_u16).prop_map(|(fraction, secs)| Op::Watch { fraction, secs }),
        2 => any::<u8>().prop_map(Op::ExactList),
        1 => Just(Op::PagedList),
    ]
}

fn at_fraction(current: u64, fraction: u8) -> u64 {
    (current * u64::from(fraction) / 255).max(1)
}

fn once() -> Target {
    Target {
        count: Some(1),
        ..Target::default()
    }
}

/// The revision a line of a watch carries.
fn revision(line: &serde_json::Value) -> Option<u64> {
    line["object"]["metadata"]["resourceVersion"]
        .as_str()?
        .parse()
        .ok()
}

/// Plays `ops`, with watches left open in the background while the rest goes on, and checks
/// what the server said as it says it.
async fn play(ops: Vec<Op>, cached: bool) -> Result<(), TestCaseError> {
    let world = std::rc::Rc::new(World::without_client_retry(&scenario(
        &format!("watch_cache: {cached}"),
        "{ name: o0 }, { name: o1 }, { name: o2 }",
    )));
    let server = world.server.clone();
    let mut list_expired: Option<u64> = None;
    let mut floors = server.floors();
    let local = tokio::task::LocalSet::new();
    let mut watches = Vec::new();
    for op in ops {
        match op {
            Op::Write(i) => {
                let name = format!("o{i}");
                let namespace = Some("default".to_owned());
                let exists = exists(&world, usize::from(i));
                server.write(&match (exists, server.revision() % 3) {
                    (true, 0) => Write::Delete { name, namespace },
                    (true, _) => Write::Update {
                        name,
                        namespace,
                        labels: None,
                        body: [(
                            "data".into(),
                            serde_json::json!({ "rv": server.revision().to_string() }),
                        )]
                        .into(),
                    },
                    (false, _) => Write::Create(ObjectSpec {
                        name,
                        namespace,
                        labels: Default::default(),
                        body: Default::default(),
                    }),
                });
            }
            Op::Churn(n) => (0..n).for_each(|_| server.churn()),
            Op::Sleep(s) => {
                local
                    .run_until(tokio::time::sleep(Duration::from_secs(u64::from(s))))
                    .await;
            }
            Op::Compact { retain } => server.inject(&Fault::Compact {
                retain: retain.map(|s| Duration::from_secs(u64::from(s))),
            }),
            Op::ExpireWatches => server.inject(&Fault::ExpireWatches),
            Op::RestartKeep => server.inject(&Fault::Restart {
                restart: Restart::Keep,
                down: std::time::Duration::ZERO,
                drain: std::time::Duration::ZERO,
            }),
            Op::Watch410 => server.inject(&Fault::Watch410 {
                form: GoneForm::Event,
                message: None,
                code: true,
                target: once(),
            }),
            Op::ExpireContinue => server.inject(&Fault::ExpireContinue { target: once() }),
            Op::Watch { fraction, secs } => {
                let rv = at_fraction(server.revision(), fraction);
                let world = std::rc::Rc::clone(&world);
                watches.push(local.spawn_local(async move {
                    let body = world
                        .watch_body(&format!(
                            "/api/v1/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds={secs}"
                        ))
                        .await;
                    // A restart cuts the connection, possibly in the middle of a line.
                    let lines: Vec<serde_json::Value> = body
                        .split_inclusive('\n')
                        .filter(|l| l.ends_with('\n'))
                        .map(|l| json(l.as_bytes()))
                        .collect();
                    // Ended by a 410: the resourceVersion the client holds is too old now, and
                    // the floors never move back, so it is still below the floor when read.
                    if lines.last().is_some_and(|l| l["type"] == "ERROR") {
                        let resume = lines.iter().rev().find_map(revision).unwrap_or(rv);
                        let floor = world.server.floors().watch;
                        if resume >= floor {
                            return Err(format!("a 410 told a client at {resume} it is too old, but the server resumes watches from {floor}"));
                        }
                    }
                    Ok(())
                }));
            }
            Op::ExactList(fraction) => {
                let rv = at_fraction(server.revision(), fraction);
                let status = local
                    .run_until(world.get(&format!(
                        "/api/v1/configmaps?resourceVersion={rv}&resourceVersionMatch=Exact"
                    )))
                    .await
                    .status();
                if status == 410 {
                    prop_assert!(rv < server.floors().compacted);
                    list_expired = list_expired.max(Some(rv));
                } else {
                    prop_assert_eq!(status, 200);
                    prop_assert!(
                        list_expired.is_none_or(|e| rv > e),
                        "an exact LIST at {} after calling {:?} too old",
                        rv,
                        list_expired
                    );
                }
            }
            Op::PagedList => {
                let mut page = json(
                    local
                        .run_until(world.get("/api/v1/configmaps?limit=1"))
                        .await
                        .body(),
                );
                while let Some(token) = page["metadata"]["continue"].as_str().map(str::to_owned) {
                    let at: u64 = page["metadata"]["resourceVersion"]
                        .as_str()
                        .and_then(|rv| rv.parse().ok())
                        .unwrap_or(0);
                    let response = local
                        .run_until(
                            world.get(&format!("/api/v1/configmaps?limit=1&continue={token}")),
                        )
                        .await;
                    if response.status() == 410 {
                        prop_assert!(at < server.floors().compacted);
                        list_expired = list_expired.max(Some(at));
                        break;
                    }
                    prop_assert_eq!(response.status(), 200);
                    prop_assert!(list_expired.is_none_or(|e| at > e));
                    page = json(response.body());
                }
            }
        }
        let now = server.floors();
        prop_assert!(
            now.compacted >= floors.compacted && now.watch >= floors.watch,
            "the floors moved back: {:?} after {:?}",
            now,
            floors
        );
        floors = now;
    }
    // Every watch runs to its end.
    for watch in watches {
        let result = local
            .run_until(watch)
            .await
            .expect("the watch task finishes");
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
    served_exactly_their_history(&world)
}

/// From the server's own trace: every watch from a resourceVersion was served only when it was
/// at or above the floor, one told 410 only when below it, no watch was served from at or
/// below a resourceVersion a watch was told 410 for, and every watch served sent exactly the
/// writes after its resourceVersion, in order, without a gap.
fn served_exactly_their_history(world: &World) -> Result<(), TestCaseError> {
    let trace = world.recorder.snapshot();
    let mut expired: Option<u64> = None;
    let mut writes: Vec<u64> = Vec::new();
    let mut opened: std::collections::BTreeMap<u64, (u64, Vec<u64>)> = Default::default();
    for event in &trace {
        match &event.kind {
            TraceKind::Write {
                resource_version, ..
            } => writes.push(*resource_version),
            TraceKind::WatchOpened {
                request,
                from: Some(from),
                ..
            } => {
                opened.insert(*request, (*from, Vec::new()));
            }
            TraceKind::Sent { request, event } => {
                let Some((from, sent)) = opened.get_mut(request) else {
                    continue;
                };
                match event.type_ {
                    EventType::Error => {
                        let resume = sent.last().copied().unwrap_or(*from);
                        expired = expired.max(Some(resume));
                    }
                    EventType::Added | EventType::Modified | EventType::Deleted => {
                        sent.push(event.resource_version.expect("object events carry one"));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        if let TraceKind::WatchOpened {
            request,
            from: Some(from),
            floor,
            ..
        } = &event.kind
        {
            let sent: Vec<&EventType> = trace
                .iter()
                .filter_map(|e| match &e.kind {
                    TraceKind::Sent { request: r, event } if r == request => Some(&event.type_),
                    _ => None,
                })
                .collect();
            if from < floor {
                prop_assert_eq!(
                    sent,
                    vec![&EventType::Error],
                    "a watch from {} below the floor {} gets one ERROR",
                    from,
                    floor
                );
            } else {
                prop_assert!(
                    expired.is_none_or(|e| *from > e),
                    "served a watch from {} after telling a client at {:?} it was too old",
                    from,
                    expired
                );
            }
        }
    }
    for (request, (from, sent)) in opened {
        let after: Vec<u64> = writes.iter().copied().filter(|w| *w > from).collect();
        prop_assert!(
            after.starts_with(&sent),
            "watch {} from {} sent {:?}, not the start of {:?}",
            request,
            from,
            sent,
            after
        );
    }
    Ok(())
}

/// Whether object `index` exists, from the writes recorded so far.
fn exists(world: &World, index: usize) -> bool {
    let key = format!("default/o{index}");
    world
        .recorder
        .snapshot()
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            TraceKind::Write { key: k, exists, .. } if *k == key => Some(*exists),
            _ => None,
        })
        .unwrap_or(true)
}

#[test]
fn the_server_never_serves_history_it_called_expired_nor_a_watch_below_its_floor() {
    let mut runner = TestRunner::new(Config::with_cases(96));
    runner
        .run(
            &(proptest::collection::vec(op(), 1..40), any::<bool>()),
            |(ops, cached)| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .start_paused(true)
                    .build()
                    .unwrap();
                runtime.block_on(play(ops, cached))
            },
        )
        .expect("the server stands by what it said");
}
