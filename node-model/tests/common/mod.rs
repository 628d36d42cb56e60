//! What the Raft tests share, for any implementation (our Raft, raft-rs): a checked
//! cluster, the settled leader, client requests and what they returned.

#![allow(dead_code)] // each test file uses its own share

use node_model::raft::{self, HistoryHandle, NotLeader, Op, RaftView, Replica, RequestId, Role};
use sim_core::{NodeId, Sim, SimDuration, World};

/// `sim` with every Raft check installed and its client history recorded.
pub(crate) fn checked<N: Replica>(mut sim: Sim<N>) -> (Sim<N>, HistoryHandle) {
    raft::checks::install(&mut sim);
    let history = raft::record_history(&mut sim);
    (sim, history)
}

/// The leader that a majority (itself included) follows in its term, if any.
pub(crate) fn settled_leader<N: Replica>(world: &World<'_, N>) -> Option<NodeId> {
    let (leader, node) = world.nodes().find(|(_, n)| n.role() == Role::Leader)?;
    let followers = world
        .nodes()
        .filter(|(_, n)| n.term() == node.term() && RaftView::leader_hint(*n) == Some(leader))
        .count();
    (followers > world.node_count() as usize / 2).then_some(leader)
}

/// Runs until a settled leader exists (within `within`) and returns it.
pub(crate) fn await_leader<N: Replica>(sim: &mut Sim<N>, within: SimDuration) -> NodeId {
    let deadline = sim.now() + within;
    sim.run_until(|world| settled_leader(world).is_some(), deadline)
        .expect("a leader is elected in time");
    settled_leader(&sim.world()).expect("just checked")
}

/// Client 0's request number `sequence`.
pub(crate) fn request(sequence: u64) -> RequestId {
    RequestId {
        client: 0,
        sequence,
    }
}

/// Submits `op` as request `sequence` to `node` now.
pub(crate) fn submit<N: Replica>(
    sim: &mut Sim<N>,
    node: NodeId,
    sequence: u64,
    op: Op,
) -> Result<(), NotLeader> {
    let submitted = sim.call(node, move |replica, ctx| {
        replica.submit_request(ctx, request(sequence), op)
    });
    submitted.expect("the replica is up")
}

/// What request `sequence` returned, if it did.
pub(crate) fn returned(history: &HistoryHandle, sequence: u64) -> Option<Option<u64>> {
    let history = history.history();
    let operation = history
        .operations()
        .find(|o| o.request == request(sequence))?;
    operation.returned.map(|(_, value)| value)
}

pub(crate) fn ms(millis: u64) -> SimDuration {
    SimDuration::from_millis(millis)
}

pub(crate) fn put(key: u32, value: u64) -> Op {
    Op::Put { key, value }
}

/// Shared test: one leader among five replicas, every replica in its term and
/// following it, and without faults it stays.
pub(crate) fn a_leader_is_elected_and_it_is_unique<N: Replica>(
    (mut sim, _): (Sim<N>, HistoryHandle),
) {
    let leader = await_leader(&mut sim, ms(2_000));
    let term = sim.node(leader).unwrap().term();
    sim.run_for(SimDuration::from_secs(5)).unwrap();
    let world = sim.world();
    let leaders: Vec<NodeId> = world
        .nodes()
        .filter(|(_, n)| n.role() == Role::Leader)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(leaders, [leader], "one leader, and without faults it stays");
    for (id, node) in world.nodes() {
        assert_eq!(node.term(), term, "{id} is in the leader's term");
        assert_eq!(
            RaftView::leader_hint(node),
            Some(leader),
            "{id} follows the leader"
        );
    }
}

/// Shared test: a cluster of one leads, commits a write on the spot and reads it back.
pub(crate) fn a_single_replica_leads_and_commits_alone<N: Replica>(
    (mut sim, history): (Sim<N>, HistoryHandle),
) {
    let leader = await_leader(&mut sim, ms(1_000));
    submit(&mut sim, leader, 1, put(1, 7)).unwrap();
    assert_eq!(returned(&history, 1), Some(None), "committed on the spot");
    submit(&mut sim, leader, 2, Op::Get { key: 1 }).unwrap();
    assert_eq!(returned(&history, 2), Some(Some(7)), "and read back");
}
