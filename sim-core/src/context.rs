//! What a node can do while it handles an event.

use crate::clock::Clock;
use crate::core::{Core, Observation};
use crate::disk::{Disk, Effect};
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
    pub(crate) env: &'a mut NodeEnv,
    pub(crate) core: &'a mut Core<M, T, O>,
}

/// What the engine keeps for one node beside its state: everything a context lends.
/// (One pointer in the context instead of one per field: a context is built for every
/// step.)
#[derive(Debug)]
pub(crate) struct NodeEnv {
    pub(crate) id: NodeId,
    /// Moves on at every crash, so that timers of an earlier life never fire.
    pub(crate) incarnation: u32,
    pub(crate) rng: SimRng,
    pub(crate) disk: Disk,
    pub(crate) clock: Clock,
}

impl<M: Clone + 'static, T, O> NodeContext<'_, M, T, O> {
    /// This node's wall clock (skew and drift applied): the time to stamp on what it
    /// sends and to compare with others' stamps. A skew fault jumps it, even backwards.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.env.clock.local(self.core.now)
    }

    /// This node's monotonic clock: it runs at the node's clock rate (drift applies) but
    /// never jumps (skew does not), so it is the one to measure elapsed time with: rate
    /// limits, waiting periods, timeouts kept as deadlines. Only differences of its
    /// readings mean anything; do not compare them with [`NodeContext::now`].
    #[inline]
    pub fn monotonic_now(&self) -> SimTime {
        self.env.clock.monotonic(self.core.now)
    }

    /// This node's id.
    #[inline]
    pub fn id(&self) -> NodeId {
        self.env.id
    }

    /// The number of nodes in the simulation.
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.core.node_count
    }

    /// Every other node, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<M, T, O> {
        let me = self.env.id;
        (0..self.core.node_count)
            .map(NodeId)
            .filter(move |&id| id != me)
    }

    /// This node's own random stream (`"node/<id>"`), independent of every other node's.
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.env.rng
    }

    /// Sends `message` to `target` through the interceptors and the network model.
    /// Sending to oneself delivers after the interceptors' delay only, with no link faults.
    #[inline]
    pub fn send(&mut self, target: NodeId, message: M) {
        if self.env.disk.crash_point_armed() {
            self.send_past_crash_point(target, message);
            return;
        }
        self.core.send(self.env.id, target, message);
    }

    /// [`NodeContext::send`] with a crash point armed: the send counts against it, and
    /// past it nothing is sent.
    #[cold]
    #[inline(never)]
    fn send_past_crash_point(&mut self, target: NodeId, message: M) {
        let kind = (self.core.message_kind)(&message);
        if self.env.disk.effect(Effect::Send(kind)) {
            self.core.send(self.env.id, target, message);
        }
    }

    /// Sends a copy of `message` to every other node, in id order (a crash point may
    /// strike part of the way through).
    pub fn broadcast(&mut self, message: M) {
        for target in (0..self.core.node_count).map(NodeId) {
            if target != self.env.id {
                self.send(target, message.clone());
            }
        }
    }

    /// Fires `timer` after `after` has passed on this node's clock. A crash cancels every
    /// pending timer of the node.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, timer: T) -> TimerId {
        let delay = self.env.clock.true_duration(after);
        let env = &*self.env;
        self.core.set_timer(env.id, env.incarnation, delay, timer)
    }

    /// Cancels a pending timer; returns `false` if it already fired or was cancelled.
    #[inline]
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.core.timers.retire(timer)
    }

    /// This node's disk.
    #[inline]
    pub fn disk(&mut self) -> &mut Disk {
        &mut self.env.disk
    }

    /// Marks a moment of the protocol's own, such as `"voted"` or `"became leader"`,
    /// that a fault can be timed by: a crash point waiting for it
    /// ([`crate::Moment::Emits`]) strikes right here, and nothing after it in the
    /// handler happens. Name the events the nodes emit in the scenario protocol's
    /// `events` so that the fault generator draws them. A full trace
    /// ([`crate::SimConfig::record_trace`]) lists the events of each step. Otherwise it
    /// changes nothing: a run with events and one without are the same run.
    ///
    /// ```
    /// use sim_core::{Context, Fault, Moment, Node, NodeId, NodeStatus, Sim, SimConfig, SimTime};
    ///
    /// struct Voter;
    /// impl Node for Voter {
    ///     type Message = ();
    ///     type Timer = ();
    ///     type Observation = ();
    ///     fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, (): ()) {
    ///         ctx.disk().write("vote", *b"yes");
    ///         ctx.event("voted");
    ///         ctx.disk().sync();
    ///         ctx.send(from, ());
    ///     }
    /// }
    ///
    /// let mut sim = Sim::new(SimConfig::new(1));
    /// let (a, b) = (sim.add_node(|_| Voter), sim.add_node(|_| Voter));
    /// sim.schedule(SimTime::ZERO, Fault::CrashPoint {
    ///     node: b, after: 0, on: Some(Moment::Emits("voted".into())), down_for: None,
    ///     strike: sim_core::Strike::Crash,
    ///     until: None,
    /// });
    /// sim.run_to(SimTime::ZERO).unwrap();
    /// sim.call(a, |_, ctx| ctx.send(b, ()));
    /// sim.run_for(sim_core::SimDuration::from_millis(10)).unwrap();
    /// assert_eq!(sim.status(b), NodeStatus::Down, "crashed right after voting");
    /// assert_eq!(sim.disk(b).peek("vote"), None, "before the vote was synced");
    /// ```
    #[inline]
    pub fn event(&mut self, name: &str) {
        if self.env.disk.crash_point_armed() && !self.env.disk.effect(Effect::Event(name)) {
            return;
        }
        if let Some(events) = &mut self.core.events {
            events.push(name.to_string());
        }
    }

    /// Reports `value` to the checkers; they see it after this step.
    pub fn observe(&mut self, value: O) {
        if self.env.disk.crash_point_armed() && !self.env.disk.effect(Effect::Observe) {
            return;
        }
        self.core.observations.push(Observation {
            node: self.env.id,
            time: self.core.now,
            value,
        });
    }
}
