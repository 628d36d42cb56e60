//! What a node can do while it handles an event.

use crate::clock::Clock;
use crate::core::{Core, Observation};
use crate::disk::Disk;
use crate::node::NodeId;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use crate::timer::TimerId;

/// A node's window on the simulation during one callback.
///
/// Nodes name it through the [`Context`](crate::Context) alias:
/// `ctx: &mut Context<'_, Self>`. Everything a node does goes through here, so the
/// engine sees (and can fault) every effect.
#[derive(Debug)]
pub struct NodeContext<'a, M, T, O> {
    pub(crate) id: NodeId,
    pub(crate) incarnation: u32,
    pub(crate) clock: &'a Clock,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) disk: &'a mut Disk,
    pub(crate) core: &'a mut Core<M, T, O>,
}

impl<M: Clone + 'static, T, O> NodeContext<'_, M, T, O> {
    /// This node's reading of the virtual clock (skew and drift applied).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.clock.local(self.core.now)
    }

    /// This node's id.
    #[inline]
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The number of nodes in the simulation.
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.core.node_count
    }

    /// Every other node, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<M, T, O> {
        let me = self.id;
        (0..self.core.node_count)
            .map(NodeId)
            .filter(move |&id| id != me)
    }

    /// This node's own random stream (`"node/<id>"`), independent of every other node's.
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Sends `message` to `target` through the interceptors and the network model.
    /// Sending to oneself delivers after the interceptors' delay only, with no link faults.
    #[inline]
    pub fn send(&mut self, target: NodeId, message: M) {
        self.core.send(self.id, target, message);
    }

    /// Sends a copy of `message` to every other node.
    pub fn broadcast(&mut self, message: M) {
        for target in (0..self.core.node_count).map(NodeId) {
            if target != self.id {
                self.core.send(self.id, target, message.clone());
            }
        }
    }

    /// Fires `timer` after `after` has passed on this node's clock. A crash cancels every
    /// pending timer of the node.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, timer: T) -> TimerId {
        let delay = self.clock.true_duration(after);
        self.core.set_timer(self.id, self.incarnation, delay, timer)
    }

    /// Cancels a pending timer; returns `false` if it already fired or was cancelled.
    #[inline]
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.core.timers.retire(timer)
    }

    /// This node's disk.
    #[inline]
    pub fn disk(&mut self) -> &mut Disk {
        self.disk
    }

    /// Reports `value` to the checkers; they see it after this step.
    pub fn observe(&mut self, value: O) {
        self.core.observations.push(Observation {
            node: self.id,
            time: self.core.now,
            value,
        });
    }
}
