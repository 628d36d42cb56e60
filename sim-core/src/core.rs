//! The engine state that node contexts act on: the clock, the queue, the network and
//! interceptors, timers and the observations of the current step.
//!
//! Nodes live beside this state (in `Sim`), so that a node's callback can hold `&mut`
//! to itself and, through its context, `&mut` to everything here.

use crate::interceptor::{Chain, Envelope};
use crate::network::Network;
use crate::node::NodeId;
use crate::queue::EventQueue;
use crate::time::{SimDuration, SimTime};
use crate::timer::{TimerId, TimerSlots};

/// A message on the wire, from send to delivery.
#[derive(Clone, Debug)]
pub(crate) struct Delivery<M> {
    pub(crate) route: Route,
    pub(crate) sent_at: SimTime,
    pub(crate) message: M,
}

/// The source and target of a delivery, packed in one word.
///
/// Queue entries are written when a message is sent and read back when it is due,
/// often a few instructions later. Two 4-byte ids stored apart and then loaded as one
/// 8-byte word defeat the CPU's store-to-load forwarding (about 15 cycles each time,
/// a fifth of a W1 delivery); one 8-byte word is stored and loaded whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Route(u64);

impl Route {
    #[inline(always)]
    pub(crate) fn new(source: NodeId, target: NodeId) -> Route {
        Route(u64::from(source.0) | (u64::from(target.0) << 32))
    }

    #[inline(always)]
    pub(crate) fn source(self) -> NodeId {
        NodeId(self.0 as u32)
    }

    #[inline(always)]
    pub(crate) fn target(self) -> NodeId {
        NodeId((self.0 >> 32) as u32)
    }
}

/// A pending timer of one incarnation of a node.
#[derive(Debug)]
pub(crate) struct TimerEvent<T> {
    pub(crate) node: NodeId,
    pub(crate) incarnation: u32,
    pub(crate) id: TimerId,
    pub(crate) payload: T,
}

/// Everything that can be in the event queue.
///
/// `repr(u64)`: an explicit tag makes the dispatch `match` a plain jump instead of
/// decoding a niche, and a whole-word tag keeps the first word of every entry a single
/// store and a single load. With a one-byte tag, the small variants' fields share that
/// word, so moving an entry (which the queue does right after it was written) reads it
/// back in pieces and misses store-to-load forwarding: W1 ran 12% slower.
#[derive(Debug)]
#[repr(u64)]
pub(crate) enum Event<M, T> {
    /// A node starts for the first time.
    Start { node: NodeId },
    /// A message reaches the end of its link.
    Deliver(Delivery<M>),
    /// A message that has left the network and waited for its paused target.
    Arrived(Delivery<M>),
    /// A timer fires.
    Timer(TimerEvent<T>),
    /// A scheduled fault (an index into the simulation's fault table).
    Fault(u32),
    /// A node learns that its outbound link to `peer` went down or up.
    LinkChange {
        node: NodeId,
        peer: NodeId,
        up: bool,
    },
    /// A call into a node (an index into the simulation's call table).
    Call { node: NodeId, index: u32 },
}

/// Something a node reported to the checkers during the current step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation<O> {
    /// The node that observed it.
    pub node: NodeId,
    /// The true virtual time of the step.
    pub time: SimTime,
    /// What was observed.
    pub value: O,
}

/// Engine state shared with node contexts.
#[derive(Debug)]
pub(crate) struct Core<M, T, O> {
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<Event<M, T>>,
    pub(crate) network: Network,
    pub(crate) chain: Chain<M>,
    pub(crate) timers: TimerSlots,
    pub(crate) observations: Vec<Observation<O>>,
    pub(crate) node_count: u32,
    /// Deliveries waiting for a clog to clear, in arrival order, with the queue order
    /// key they were sent with.
    pub(crate) held: Vec<(u64, Delivery<M>)>,
    /// Bumped by every fault applied and every node added: who is up and who can reach
    /// whom changes only when it does (see [`crate::World::fault_epoch`]).
    pub(crate) epoch: u64,
    /// The node type's [`crate::Node::message_kind`].
    pub(crate) message_kind: fn(&M) -> &'static str,
    /// The protocol events of the step so far, when a full trace is recorded.
    pub(crate) events: Option<Vec<String>>,
}

impl<M: Clone + 'static, T, O> Core<M, T, O> {
    /// Sends a message: through the interceptor chain, then the network model.
    #[inline(always)]
    pub(crate) fn send(&mut self, source: NodeId, target: NodeId, message: M) {
        assert!(
            target.0 < self.node_count,
            "{source} sent a message to {target}, but there are only {} nodes",
            self.node_count
        );
        let envelope = Envelope {
            source,
            target,
            sent_at: self.now,
            message,
        };
        let Core {
            chain,
            network,
            queue,
            node_count,
            ..
        } = self;
        if chain.is_empty() {
            route(network, queue, envelope, SimDuration::ZERO);
        } else {
            chain.run(envelope, *node_count, |envelope, delay| {
                route(network, queue, envelope, delay);
            });
        }
    }

    /// Schedules a timer for `node` after `delay` of true time.
    #[inline]
    pub(crate) fn set_timer(
        &mut self,
        node: NodeId,
        incarnation: u32,
        delay: SimDuration,
        payload: T,
    ) -> TimerId {
        let id = self.timers.allocate();
        let timer = TimerEvent {
            node,
            incarnation,
            id,
            payload,
        };
        self.queue.push(self.now + delay, Event::Timer(timer));
        id
    }
}

/// Hands one message to the network model and queues its deliveries.
#[inline(always)]
fn route<M: Clone, T>(
    network: &mut Network,
    queue: &mut EventQueue<Event<M, T>>,
    envelope: Envelope<M>,
    delay: SimDuration,
) {
    let Envelope {
        source,
        target,
        sent_at,
        message,
    } = envelope;
    let arrivals = network.route(sent_at, source, target, delay);
    let delivery = |message| {
        Event::Deliver(Delivery {
            route: Route::new(source, target),
            sent_at,
            message,
        })
    };
    match (arrivals.first, arrivals.second) {
        (Some(first), Some(second)) => {
            queue.push(first, delivery(message.clone()));
            queue.push(second, delivery(message));
        }
        (Some(first), None) => queue.push(first, delivery(message)),
        (None, _) => {}
    }
}
