//! The counter's nodes: a grow-only replicated counter with group commit.
//!
//! Each node counts the increments it accepted and keeps, for every node, the highest
//! count it has heard of; it gossips its whole view every `gossip_interval`, and a view
//! merges another by taking the larger count of each node. A node alone decides its own
//! count: it persists it, and recovers it from its disk after a crash.
//!
//! Persisting uses group commit: an increment is written at once, and the disk is synced
//! every `flush_interval`. With [`Ack::AfterSync`] a client's increment is acknowledged
//! only once it is durable (the increment syncs on the spot). [`Ack::BeforeSync`] is the
//! planted bug: it acknowledges at once and leaves the sync to the next flush, so a crash
//! inside that window loses increments that clients were told had happened.

use sim_core::{Context, Node, NodeId, SimDuration, SimTime};

/// When a node acknowledges an increment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// Once the increment is on disk (correct).
    AfterSync,
    /// At once, before the next flush syncs it (the planted bug).
    BeforeSync,
}

/// A node's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How often a node sends its view to every peer.
    pub gossip_interval: SimDuration,
    /// How often unsynced increments are synced.
    pub flush_interval: SimDuration,
    /// When an increment is acknowledged.
    pub ack: Ack,
    /// Whether a restarted node gossips again. `false` is a second planted bug, a
    /// liveness one: a node back from a crash takes increments but never tells anyone.
    pub gossip_after_restart: bool,
    /// Drop views stamped longer ago than this by this node's clock. Set, it is a
    /// third planted bug, a clock one: the stamp is the sender's clock, and two clocks
    /// are not one, so a node whose clock is behind by more than this is never heard.
    pub view_max_age: Option<SimDuration>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            gossip_interval: SimDuration::from_millis(100),
            flush_interval: SimDuration::from_millis(10),
            ack: Ack::AfterSync,
            gossip_after_restart: true,
            view_max_age: None,
        }
    }
}

/// What nodes send each other: a view, the highest count known of every node, stamped
/// with the sender's clock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct View(pub Vec<u64>, pub SimTime);

/// A node's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// Send the view to every peer.
    Gossip,
    /// Sync unsynced increments.
    Flush,
}

/// What a node tells the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A client was told its increment is this node's `count`-th.
    Acked {
        /// The node's count after the increment.
        count: u64,
    },
}

/// One node of the counter.
#[derive(Debug)]
pub struct CounterNode {
    id: NodeId,
    settings: Settings,
    /// The highest count known of every node; `counts[id]` is this node's own.
    counts: Vec<u64>,
    /// Increments written but not yet synced.
    dirty: bool,
}

/// The disk key of a node's own count.
const COUNT: &str = "count";

/// The protocol event of a node that has told a client its increment counted (see
/// [`sim_core::NodeContext::event`]): the moment a crash hurts most.
pub const ACKED: &str = "acked";

impl CounterNode {
    /// Node `id` of a cluster of `nodes`.
    pub fn new(id: NodeId, nodes: u32, settings: Settings) -> CounterNode {
        CounterNode {
            id,
            settings,
            counts: vec![0; nodes as usize],
            dirty: false,
        }
    }

    /// A client's increment: counts it, persists it, and acknowledges it.
    pub fn increment(&mut self, ctx: &mut Context<'_, Self>) {
        let own = &mut self.counts[self.id.index()];
        *own += 1;
        let count = *own;
        ctx.disk().write(COUNT, count.to_le_bytes());
        match self.settings.ack {
            Ack::AfterSync => ctx.disk().sync(),
            Ack::BeforeSync => self.dirty = true,
        }
        ctx.observe(Event::Acked { count });
        ctx.event(ACKED);
    }

    /// This node's own count.
    pub fn own(&self) -> u64 {
        self.counts[self.id.index()]
    }

    /// The highest count this node knows of `node`.
    pub fn count_of(&self, node: NodeId) -> u64 {
        self.counts[node.index()]
    }

    /// The sum of every node's count, as this node knows it.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The whole view.
    pub fn view(&self) -> &[u64] {
        &self.counts
    }

    fn start_timers(&mut self, ctx: &mut Context<'_, Self>, gossip: bool) {
        if gossip {
            ctx.set_timer(self.settings.gossip_interval, Tick::Gossip);
        }
        if self.settings.ack == Ack::BeforeSync {
            ctx.set_timer(self.settings.flush_interval, Tick::Flush);
        }
    }
}

impl Node for CounterNode {
    type Message = View;
    type Timer = Tick;
    type Observation = Event;

    fn message_kind(_: &View) -> &'static str {
        "view"
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.start_timers(ctx, true);
    }

    /// A restarted node reads its own count back from its disk; the others' counts come
    /// back with the next views it hears.
    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let stored = ctx
            .disk()
            .read(COUNT)
            .ok()
            .flatten()
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_le_bytes);
        self.counts[self.id.index()] = stored.unwrap_or(0);
        self.start_timers(ctx, self.settings.gossip_after_restart);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, view: View) {
        let View(counts, stamped) = view;
        if let Some(max_age) = self.settings.view_max_age
            && ctx.now() > stamped.saturating_add(max_age)
        {
            return; // The planted clock bug: `stamped` is another node's clock.
        }
        for (index, (mine, theirs)) in self.counts.iter_mut().zip(counts).enumerate() {
            if index != self.id.index() {
                *mine = (*mine).max(theirs);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, tick: Tick) {
        match tick {
            Tick::Gossip => {
                ctx.broadcast(View(self.counts.clone(), ctx.now()));
                ctx.set_timer(self.settings.gossip_interval, Tick::Gossip);
            }
            Tick::Flush => {
                if self.dirty {
                    ctx.disk().sync();
                    self.dirty = false;
                }
                ctx.set_timer(self.settings.flush_interval, Tick::Flush);
            }
        }
    }
}
