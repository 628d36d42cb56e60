//! The read-only view of a simulation that checks, predicates and tests inspect.

use crate::core::{Core, Event, Observation};
use crate::disk::Disk;
use crate::node::{Node, NodeId, NodeStatus};
use crate::sim::Slot;
use crate::time::SimTime;
use crate::topology::Topology;

/// Everything a checker may look at after a step: every node's state, the messages in
/// flight and the observations of the step. Nothing here can change the run.
pub struct World<'a, N: Node> {
    pub(crate) slots: &'a [Slot<N>],
    pub(crate) core: &'a Core<N::Message, N::Timer, N::Observation>,
    pub(crate) step: u64,
}

impl<N: Node> std::fmt::Debug for World<'_, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("now", &self.core.now)
            .field("step", &self.step)
            .field("nodes", &self.slots.len())
            .finish()
    }
}

/// A message in flight, as a checker sees it.
#[derive(Debug)]
pub struct InFlight<'a, M> {
    /// The sender.
    pub source: NodeId,
    /// The receiver.
    pub target: NodeId,
    /// When it was sent (true time).
    pub sent_at: SimTime,
    /// When it will reach its target, or `None` if it is held by a clog or waiting for
    /// a paused target.
    pub arrives_at: Option<SimTime>,
    /// The message.
    pub message: &'a M,
}

impl<'a, N: Node> World<'a, N> {
    /// The current true virtual time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// The number of steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The number of nodes.
    pub fn node_count(&self) -> u32 {
        self.core.node_count
    }

    /// Every node id, in order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<N> {
        (0..self.core.node_count).map(NodeId)
    }

    /// The state of `node`, or `None` if it is crashed.
    pub fn node(&self, node: NodeId) -> Option<&'a N> {
        self.slots[node.index()].node.as_ref()
    }

    /// Every node that has state (running or paused), with its id.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &'a N)> + use<'a, N> {
        let slots: &'a [Slot<N>] = self.slots;
        slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| Some((NodeId(index as u32), slot.node.as_ref()?)))
    }

    /// Whether `node` is up, down or paused.
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.slots[node.index()].status
    }

    /// `node`'s disk, for checks on durable state.
    pub fn disk(&self, node: NodeId) -> &'a Disk {
        &self.slots[node.index()].env.disk
    }

    /// `node`'s reading of the clock.
    pub fn local_time(&self, node: NodeId) -> SimTime {
        self.slots[node.index()].env.clock.local(self.core.now)
    }

    /// Is `node` up: neither crashed nor paused?
    pub fn is_up(&self, node: NodeId) -> bool {
        self.status(node) == NodeStatus::Up
    }

    /// Would a message `source` sends `target` now get through, as far as faults go: no
    /// partition cuts the link (either kind), neither the link nor its ends are clogged,
    /// and the link does not lose every message. Whether the two are up is
    /// [`World::is_up`]'s question.
    pub fn can_send(&self, source: NodeId, target: NodeId) -> bool {
        self.core.network.can_send(source, target)
    }

    /// Are `a` and `b` both up, with messages getting through both ways?
    pub fn linked(&self, a: NodeId, b: NodeId) -> bool {
        self.is_up(a) && self.is_up(b) && self.can_send(a, b) && self.can_send(b, a)
    }

    /// The up nodes linked with `node` (not `node` itself), in id order.
    pub fn linked_with(&self, node: NodeId) -> impl Iterator<Item = NodeId> + use<'_, 'a, N> {
        self.node_ids()
            .filter(move |&other| other != node && self.linked(node, other))
    }

    /// The largest group of up nodes that are all linked to each other, in id order: the
    /// nodes that can make progress together (see [`crate::connectivity`]). Of several
    /// groups of that size, the same one in every run.
    ///
    /// It looks at every pair of up nodes, so it is meant for clusters of tens or
    /// hundreds of nodes; to call it after every step, cache the answer by
    /// [`World::fault_epoch`] (as [`crate::QuorumConnected`] does).
    pub fn largest_connected_group(&self) -> Vec<NodeId> {
        let nodes = self.core.node_count as usize;
        let up = (0..nodes).filter(|&index| self.is_up(NodeId(index as u32)));
        crate::connectivity::largest_group(nodes, up, |a, b| {
            let (a, b) = (NodeId(a as u32), NodeId(b as u32));
            self.can_send(a, b) && self.can_send(b, a)
        })
    }

    /// A number that changes whenever a fault is applied, a crash point strikes or a
    /// node is added, and only then: who is up and who can reach whom stay as they were
    /// while it stays the same. Checks that work those out cache their answer by it.
    pub fn fault_epoch(&self) -> u64 {
        self.core.epoch
    }

    /// The topology as partitions have left it.
    pub fn topology(&self) -> &'a Topology {
        &self.core.network.topology
    }

    /// What nodes observed during the last step, in the order they observed it.
    pub fn observations(&self) -> &'a [Observation<N::Observation>] {
        &self.core.observations
    }

    /// Every message sent and not yet delivered, dropped or cut: queued on a link,
    /// held by a clog, or waiting for a paused target. The order is unspecified but
    /// the same in every run of the same seed.
    pub fn in_flight(&self) -> impl Iterator<Item = InFlight<'a, N::Message>> + use<'a, N> {
        let core: &'a Core<N::Message, N::Timer, N::Observation> = self.core;
        let slots: &'a [Slot<N>] = self.slots;
        let queued = core
            .queue
            .iter()
            .filter_map(|(time, event)| in_flight(event, Some(time)));
        let held = core.held.iter().map(|(_, delivery)| InFlight {
            source: delivery.route.source(),
            target: delivery.route.target(),
            sent_at: delivery.sent_at,
            arrives_at: None,
            message: &delivery.message,
        });
        let deferred = slots
            .iter()
            .flat_map(|slot| slot.deferred.iter())
            .filter_map(|event| in_flight(event, None));
        queued.chain(held).chain(deferred)
    }
}

fn in_flight<M, T>(event: &Event<M, T>, time: Option<SimTime>) -> Option<InFlight<'_, M>> {
    match event {
        Event::Deliver(delivery) | Event::Arrived(delivery) => Some(InFlight {
            source: delivery.route.source(),
            target: delivery.route.target(),
            sent_at: delivery.sent_at,
            arrives_at: time,
            message: &delivery.message,
        }),
        _ => None,
    }
}
