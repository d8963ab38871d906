//! The load balancer in front of the replicas: which one a connection or a request reaches.
//!
//! A layer-4 balancer (`sticky`) picks a replica per TCP connection, in turn, and everything on
//! the connection goes there; a layer-7 one (`round_robin`) picks per request. A `failover`
//! fault is its health check failing every replica but one: from then on everything goes to
//! that one, and the connections it held to the others are reset.

use super::replicas::ReplicaId;
use crate::scenario::Balance;

/// The balancer's state.
#[derive(Debug)]
pub(crate) struct Balancer {
    policy: Balance,
    replicas: usize,
    /// The next replica in turn.
    next: usize,
    /// Everything goes here since a failover.
    only: Option<ReplicaId>,
}

impl Balancer {
    /// A balancer over `replicas` replicas (one: no balancer, everything goes to it).
    pub(crate) fn new(policy: Balance, replicas: usize) -> Self {
        Self {
            policy,
            replicas: replicas.max(1),
            next: 0,
            only: None,
        }
    }

    fn in_turn(&mut self) -> ReplicaId {
        if let Some(only) = self.only {
            return only;
        }
        let id = ReplicaId(self.next);
        self.next = (self.next + 1) % self.replicas;
        id
    }

    /// The replica a new connection is bound to; `None` when each request picks its own.
    pub(crate) fn connect(&mut self) -> Option<ReplicaId> {
        match self.policy {
            _ if self.replicas == 1 => Some(ReplicaId(0)),
            Balance::Sticky => Some(self.in_turn()),
            Balance::RoundRobin => None,
        }
    }

    /// The replica a request reaches: its connection's, or the next in turn.
    pub(crate) fn route(&mut self, bound: Option<ReplicaId>) -> ReplicaId {
        bound.unwrap_or_else(|| self.in_turn())
    }

    /// From now on everything goes to `to`.
    pub(crate) fn fail_over(&mut self, to: ReplicaId) {
        self.only = Some(to);
    }

    /// Where everything goes since a failover.
    pub(crate) fn only(&self) -> Option<ReplicaId> {
        self.only
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sticky_balancer_binds_connections_in_turn_and_a_failover_binds_them_all_to_one() {
        let mut lb = Balancer::new(Balance::Sticky, 3);
        let bound: Vec<_> = (0..4).map(|_| lb.connect()).collect();
        assert_eq!(bound, [0, 1, 2, 0].map(|i| Some(ReplicaId(i))));
        assert_eq!(lb.route(Some(ReplicaId(1))), ReplicaId(1));
        lb.fail_over(ReplicaId(2));
        assert_eq!(lb.connect(), Some(ReplicaId(2)));
    }

    #[test]
    fn a_round_robin_balancer_sends_each_request_to_the_next_replica() {
        let mut lb = Balancer::new(Balance::RoundRobin, 2);
        assert_eq!(lb.connect(), None);
        let routed: Vec<_> = (0..3).map(|_| lb.route(None)).collect();
        assert_eq!(routed, [0, 1, 0].map(ReplicaId));
        lb.fail_over(ReplicaId(1));
        assert_eq!(lb.route(None), ReplicaId(1));
    }

    #[test]
    fn one_replica_is_no_balancer() {
        let mut lb = Balancer::new(Balance::RoundRobin, 1);
        assert_eq!(lb.connect(), Some(ReplicaId(0)));
    }
}
