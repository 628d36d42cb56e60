//! Building a simulated raft-rs cluster and driving it with client requests, as
//! [`crate::raft::cluster`] does for our own Raft.
//!
//! The client workload is the same [`crate::raft::Workload`], drawn the same way:
//! the same seed offers the same requests, at the same times, to the replicas in the
//! same order, whichever implementation runs. A difference in behaviour between the
//! two is then a difference between the implementations, not between their clients.

use sim_core::{Context, NodeId, Sim, SimConfig};

use super::config::RaftRsConfig;
use super::node::RaftRsNode;
use crate::raft::{NotLeader, Op, Replica, RequestId};

/// A simulation of `replicas` raft-rs replicas (nodes `0..replicas`) with the default
/// network, seeded with `seed`. Panics if `config` does not validate.
pub fn cluster(seed: u64, replicas: u32, config: &RaftRsConfig) -> Sim<RaftRsNode> {
    cluster_with(SimConfig::new(seed), replicas, config)
}

/// [`cluster`] with a simulation config of your own (network, limits, tracing).
pub fn cluster_with(
    sim_config: SimConfig,
    replicas: u32,
    config: &RaftRsConfig,
) -> Sim<RaftRsNode> {
    assert!(replicas >= 1, "a cluster has at least one replica");
    if let Err(error) = config.validate() {
        panic!("invalid raft-rs config: {error}");
    }
    let mut sim = Sim::new(sim_config);
    for _ in 0..replicas {
        let config = config.clone();
        sim.add_node(move |id| RaftRsNode::new(id, replicas, config.clone()));
    }
    sim
}

/// Every replica of `sim`, in id order.
pub fn replicas(sim: &Sim<RaftRsNode>) -> Vec<NodeId> {
    crate::raft::replicas(sim)
}

impl Replica for RaftRsNode {
    fn submit_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: RequestId,
        op: Op,
    ) -> Result<(), NotLeader> {
        self.submit(ctx, request, op)
    }
}
