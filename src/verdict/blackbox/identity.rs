//! Who a client is: the local processes that opened its connections, when the live server
//! could tell ([`crate::trace::RequestRecord::process`]), else its `User-Agent`.
//!
//! One process is one client whatever agents it sends (the JavaScript client sends two), and
//! two processes at work at once are two clients whatever agent they share. A process that
//! starts after another one with the same agents is done (a program restarted in a loop, as
//! `while :; do kubectl get -w; done`) is that client again, not a new one.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::trace::{RequestRecord, Trace, TraceKind, Verb};

/// One client's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientId {
    /// The requests of these local processes, one after another.
    Processes(Vec<u32>),
    /// The requests that carry one `User-Agent` (empty: none) and whose process is not known.
    Agent(String),
}

impl ClientId {
    /// Whether this client sent `request`.
    #[must_use]
    pub fn sent(&self, request: &RequestRecord) -> bool {
        match (self, request.process) {
            (Self::Processes(pids), Some(pid)) => pids.contains(&pid),
            (Self::Agent(agent), None) => request.agent == *agent,
            _ => false,
        }
    }
}

/// What one process did: when it was at work, and with which agents.
struct Span {
    pid: u32,
    first: Duration,
    last: Duration,
    agents: Vec<String>,
    /// Its watches that were answered 200 and have not ended.
    open: usize,
    /// Whether it listed or watched: a process that only asked for discovery is no client of
    /// the resource.
    listed: bool,
}

/// The clients that listed or watched, in the order of their first such request.
#[must_use]
pub fn clients(trace: &Trace) -> Vec<ClientId> {
    let mut clients: Vec<ClientId> = Vec::new();
    let mut processes: Vec<Span> = Vec::new();
    let mut watch_of: BTreeMap<u64, usize> = BTreeMap::new();
    for event in trace {
        match &event.kind {
            TraceKind::Request(r) => match r.process {
                Some(pid) => {
                    let i = processes
                        .iter()
                        .position(|p| p.pid == pid)
                        .unwrap_or_else(|| {
                            processes.push(Span {
                                pid,
                                first: event.at,
                                last: event.at,
                                agents: Vec::new(),
                                open: 0,
                                listed: false,
                            });
                            processes.len() - 1
                        });
                    let span = &mut processes[i];
                    span.last = span.last.max(event.at);
                    if !span.agents.contains(&r.agent) {
                        span.agents.push(r.agent.clone());
                    }
                    span.listed |= matches!(r.verb, Verb::List | Verb::ListPage | Verb::Watch);
                    if r.verb == Verb::Watch && r.status == 200 {
                        watch_of.insert(r.id, i);
                        span.open += 1;
                    }
                }
                None if matches!(r.verb, Verb::List | Verb::ListPage | Verb::Watch) => {
                    let id = ClientId::Agent(r.agent.clone());
                    if !clients.contains(&id) {
                        clients.push(id);
                    }
                }
                None => {}
            },
            // A watch keeps its process at work until it ends.
            TraceKind::WatchEnded { request, .. } => {
                if let Some(&i) = watch_of.get(request) {
                    processes[i].last = processes[i].last.max(event.at);
                    processes[i].open -= 1;
                }
            }
            _ => {}
        }
    }
    // A watch still open at the end keeps its process at work to the end.
    for span in &mut processes {
        if span.open > 0 {
            span.last = Duration::MAX;
        }
    }
    let mut chains: Vec<(Vec<u32>, Duration, Vec<String>)> = Vec::new();
    for span in processes.iter().filter(|p| p.listed) {
        match chains
            .iter_mut()
            .find(|(_, done_at, agents)| *agents == span.agents && *done_at <= span.first)
        {
            Some(chain) => {
                chain.0.push(span.pid);
                chain.1 = span.last;
            }
            None => chains.push((vec![span.pid], span.last, span.agents.clone())),
        }
    }
    let mut all: Vec<ClientId> = chains
        .into_iter()
        .map(|(pids, _, _)| ClientId::Processes(pids))
        .collect();
    all.append(&mut clients);
    all
}

/// The agents `client` sent, in the order of their first request.
#[must_use]
pub fn agents_of(trace: &Trace, client: &ClientId) -> Vec<String> {
    let mut agents: Vec<String> = Vec::new();
    for event in trace {
        if let TraceKind::Request(r) = &event.kind
            && client.sent(r)
            && !agents.contains(&r.agent)
        {
            agents.push(r.agent.clone());
        }
    }
    agents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{TraceEvent, WatchEnd};

    fn request(at: u64, id: u64, verb: Verb, agent: &str, process: Option<u32>) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::Request(RequestRecord {
                id,
                method: "GET".into(),
                path: "/api/v1/configmaps".into(),
                query: String::new(),
                status: 200,
                verb,
                agent: agent.into(),
                process,
                retry_after: None,
                replica: None,
            }),
        }
    }

    fn ended(at: u64, request: u64) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::WatchEnded {
                request,
                reason: WatchEnd::Timeout,
                events: 0,
            },
        }
    }

    #[test]
    fn one_process_is_one_client_whatever_agents_it_sends() {
        let trace = vec![
            request(
                1,
                1,
                Verb::List,
                "kubernetes-client-javascript/2.0.1",
                Some(7),
            ),
            request(2, 2, Verb::Watch, "undici", Some(7)),
        ];
        let clients = clients(&trace);
        assert_eq!(clients, [ClientId::Processes(vec![7])]);
        assert_eq!(
            agents_of(&trace, &clients[0]),
            ["kubernetes-client-javascript/2.0.1", "undici"]
        );
    }

    #[test]
    fn two_processes_at_work_at_once_are_two_clients_with_one_agent() {
        let trace = vec![
            request(1, 1, Verb::Watch, "kubectl/v1.33", Some(7)),
            request(2, 2, Verb::Watch, "kubectl/v1.33", Some(8)),
            ended(5, 1),
        ];
        assert_eq!(
            clients(&trace),
            [ClientId::Processes(vec![7]), ClientId::Processes(vec![8])]
        );
    }

    #[test]
    fn a_process_that_starts_after_another_with_its_agents_is_done_is_that_client_again() {
        let trace = vec![
            request(1, 1, Verb::List, "kubectl/v1.33", Some(7)),
            request(1, 2, Verb::Watch, "kubectl/v1.33", Some(7)),
            ended(3, 2),
            request(4, 3, Verb::List, "kubectl/v1.33", Some(9)),
            request(5, 4, Verb::List, "other/1", Some(10)),
        ];
        assert_eq!(
            clients(&trace),
            [
                ClientId::Processes(vec![7, 9]),
                ClientId::Processes(vec![10])
            ]
        );
    }

    #[test]
    fn without_its_process_a_client_is_its_agent_and_discovery_alone_is_no_client() {
        let trace = vec![
            request(1, 1, Verb::Other, "kubectl/v1.33", Some(7)),
            request(2, 2, Verb::List, "kube-rs", None),
        ];
        assert_eq!(clients(&trace), [ClientId::Agent("kube-rs".into())]);
    }
}
