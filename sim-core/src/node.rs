//! The node interface: sans-IO state machines driven by the engine.
//!
//! A [`Node`] never performs I/O, never reads a clock, never spawns and never blocks.
//! It reacts to what the engine hands it (start, a message, a timer, recovery after a
//! crash, a link going down or up) and acts only through its [`Context`]: read the
//! (node-local) virtual time, draw from its own random stream, send messages, set and
//! cancel timers, read and write its disk, and record observations for the checkers.
//!
//! Nodes of different implementations can share one network as long as they share a
//! message type: make the simulation's node type a `Box<dyn Node<...>>` (or an enum);
//! `Box<T>` implements [`Node`] whenever `T` does.

use std::fmt;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::context::NodeContext;

/// The index of a node in the simulation: `0..node_count`, assigned in the order nodes
/// were added.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The id as an index into per-node tables.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// What a node's callbacks receive: the context of the node type `N`.
///
/// This alias keeps signatures short (`ctx: &mut Context<'_, Self>`) while the
/// underlying [`NodeContext`] is generic over the three associated types, which keeps
/// [`Node`] usable as a trait object.
pub type Context<'a, N> =
    NodeContext<'a, <N as Node>::Message, <N as Node>::Timer, <N as Node>::Observation>;

/// A sans-IO state machine that the engine drives.
///
/// Only [`Node::on_message`] is required. A node that is restarted after a crash is
/// built afresh by its factory (its volatile state is gone) and then receives
/// [`Node::on_recover`], in which it reads back what it synced to its disk.
///
/// ```
/// use sim_core::{Context, Node, NodeId, SimDuration};
///
/// /// Answers every ping with a pong carrying the next number.
/// struct Echo;
///
/// impl Node for Echo {
///     type Message = u64;
///     type Timer = ();
///     type Observation = ();
///
///     fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: u64) {
///         ctx.send(source, message + 1);
///     }
/// }
/// ```
pub trait Node: 'static {
    /// What nodes send each other. `Clone` allows the network to duplicate a message;
    /// `Debug` appears in traces and reports; [`Node::message_digest`] feeds the trace
    /// hash. No `Hash` is needed, so generated types (protobuf messages) can be sent
    /// as they are.
    type Message: Clone + fmt::Debug + 'static;
    /// The payload of a timer, handed back when it fires.
    type Timer: fmt::Debug + 'static;
    /// What the node reports to the checkers through [`NodeContext::observe`].
    type Observation: fmt::Debug + 'static;

    /// Called once when the node first starts (at the time it was added).
    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        let _ = ctx;
    }

    /// Called when a message from `source` is delivered.
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: Self::Message);

    /// Called when a timer set with [`NodeContext::set_timer`] fires.
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Self::Timer) {
        let _ = (ctx, timer);
    }

    /// Called instead of [`Node::on_start`] when a freshly built node replaces one that
    /// crashed. The disk holds what the old node had synced (or nothing, if its data was
    /// reset). By default this simply starts the node.
    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.on_start(ctx);
    }

    /// Called when this node's outbound link to `peer` goes down (`up == false`, the
    /// topology no longer lets messages through) or comes back up.
    fn on_link_change(&mut self, ctx: &mut Context<'_, Self>, peer: NodeId, up: bool) {
        let _ = (ctx, peer, up);
    }

    /// A digest of `message` for the trace hash: two runs that deliver the same
    /// messages in the same order hash alike. By default the digest of its `Debug`
    /// text, written straight into the hasher (no allocation), which every message
    /// has. Faster for a message that is `Hash`: `sim_core::digest(message)`; for one
    /// with a canonical encoding (protobuf), the digest of its bytes. Whatever it is,
    /// it must depend on the message alone.
    ///
    /// ```
    /// use sim_core::{Context, Node, NodeId};
    ///
    /// struct Ping;
    ///
    /// impl Node for Ping {
    ///     type Message = u64;
    ///     type Timer = ();
    ///     type Observation = ();
    ///
    ///     fn message_digest(message: &u64) -> u64 {
    ///         sim_core::digest(message)
    ///     }
    ///
    ///     fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: u64) {}
    /// }
    /// ```
    fn message_digest(message: &Self::Message) -> u64 {
        crate::trace::debug_digest(message)
    }

    /// A short name for the kind of `message` (`"RequestVote"`, `"Block"`): what faults
    /// that strike after a given kind of message match on ([`crate::Fault::CrashPoint`]),
    /// and what traces and reports call it. `"message"` unless the node says.
    fn message_kind(message: &Self::Message) -> &'static str
    where
        Self: Sized,
    {
        let _ = message;
        "message"
    }
}

impl<X: Node + ?Sized> Node for Box<X> {
    type Message = X::Message;
    type Timer = X::Timer;
    type Observation = X::Observation;

    fn message_digest(message: &X::Message) -> u64 {
        X::message_digest(message)
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        (**self).on_start(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: X::Message) {
        (**self).on_message(ctx, source, message);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: X::Timer) {
        (**self).on_timer(ctx, timer);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        (**self).on_recover(ctx);
    }

    fn on_link_change(&mut self, ctx: &mut Context<'_, Self>, peer: NodeId, up: bool) {
        (**self).on_link_change(ctx, peer, up);
    }
}

/// Whether a node is running, crashed or paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeStatus {
    /// Running: handles every event addressed to it.
    Up,
    /// Crashed: its volatile state is gone, events addressed to it are dropped, and it
    /// comes back only through a restart.
    Down,
    /// Paused (like `SIGSTOP`): its state is kept and events addressed to it wait until
    /// it is resumed.
    Paused,
}
