//! The counter's invariants, checked after every step. Each keeps its own record of
//! what clients were told, to compare the nodes against.

use sim_core::{Invariant, NodeId, NodeStatus, World};

use crate::node::{CounterNode, Event};

/// "acknowledged increments survive": no running node holds fewer of its own increments
/// than it acknowledged.
pub const DURABLE: &str = "acknowledged increments survive";
/// "no phantom increments": no node believes another made more increments than that node
/// ever counted. (Not "acknowledged": a node that crashes after its increment is durable
/// but before the client hears back made the increment all the same, as a server that
/// dies after its commit and before its reply did.)
pub const NO_PHANTOMS: &str = "no phantom increments";

/// The highest count each node acknowledged, from the observations.
#[derive(Debug, Default)]
struct Acknowledged(Vec<u64>);

impl Acknowledged {
    fn record(&mut self, world: &World<'_, CounterNode>) {
        self.0.resize(world.node_count() as usize, 0);
        for observation in world.observations() {
            let Event::Acked { count } = observation.value;
            let slot = &mut self.0[observation.node.index()];
            *slot = (*slot).max(count);
        }
    }
}

/// See [`DURABLE`].
#[derive(Debug, Default)]
pub struct Durable(Acknowledged);

impl Invariant<CounterNode> for Durable {
    fn check(&mut self, world: &World<'_, CounterNode>) -> Result<(), String> {
        self.0.record(world);
        for (id, node) in world.nodes() {
            let acked = self.0.0[id.index()];
            if world.status(id) == NodeStatus::Up && node.own() < acked {
                return Err(format!(
                    "node-{} holds {} of its increments, but acknowledged {acked}",
                    id.0,
                    node.own()
                ));
            }
        }
        Ok(())
    }
}

/// See [`NO_PHANTOMS`]: the highest count each node has held of its own, looked at after
/// every step.
#[derive(Debug, Default)]
pub struct NoPhantoms(Vec<u64>);

impl Invariant<CounterNode> for NoPhantoms {
    fn check(&mut self, world: &World<'_, CounterNode>) -> Result<(), String> {
        self.0.resize(world.node_count() as usize, 0);
        for (id, node) in world.nodes() {
            let held = &mut self.0[id.index()];
            *held = (*held).max(node.own());
        }
        for (id, node) in world.nodes() {
            for peer in world.node_ids().filter(|&peer| peer != id) {
                let believed = node.count_of(peer);
                let counted = self.0[peer.index()];
                if believed > counted {
                    return Err(format!(
                        "node-{} believes node-{} made {believed} increments, but it counted {counted}",
                        id.0, peer.0
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The sum of every count as the running nodes of `nodes` agree on it, or `None` if
/// they do not agree (or none runs).
pub fn agreed_total(world: &World<'_, CounterNode>, nodes: &[NodeId]) -> Option<u64> {
    let mut views = nodes
        .iter()
        .filter(|&&id| world.status(id) == NodeStatus::Up)
        .filter_map(|&id| world.node(id))
        .map(CounterNode::view);
    let first = views.next()?;
    views.all(|view| view == first).then(|| first.iter().sum())
}
