//! A tiny harness for hand-written engine tests: a node that records everything that
//! happens to it, and helpers to poke it.

#![allow(dead_code, unreachable_pub)]

use sim_core::{Context, Node, NodeId, Sim, SimConfig, SimDuration, SimTime};

/// Records every event; sends only when a test tells it to.
#[derive(Debug, Default)]
pub struct Recorder {
    pub started: bool,
    pub recovered: bool,
    pub received: Vec<(SimTime, NodeId, u64)>,
    pub fired: Vec<(SimTime, u64)>,
    pub links: Vec<(NodeId, bool)>,
    /// Read back from disk key "state" on recovery.
    pub restored: Option<Vec<u8>>,
}

impl Recorder {
    pub fn payloads(&self) -> Vec<u64> {
        self.received.iter().map(|&(_, _, p)| p).collect()
    }
}

impl Node for Recorder {
    type Message = u64;
    type Timer = u64;
    type Observation = u64;

    fn on_start(&mut self, _: &mut Context<'_, Self>) {
        self.started = true;
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: u64) {
        self.received.push((ctx.now(), source, message));
        ctx.observe(message);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: u64) {
        self.fired.push((ctx.now(), timer));
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.recovered = true;
        self.restored = ctx.disk().read("state").unwrap().map(<[u8]>::to_vec);
    }

    fn on_link_change(&mut self, _: &mut Context<'_, Self>, peer: NodeId, up: bool) {
        self.links.push((peer, up));
    }
}

/// A simulation of `n` recorders with the given config.
pub fn recorders(n: u32, config: SimConfig) -> Sim<Recorder> {
    let mut sim = Sim::new(config);
    for _ in 0..n {
        sim.add_node(|_| Recorder::default());
    }
    sim.run_for(SimDuration::ZERO)
        .expect("starting cannot fail");
    sim
}

/// Makes `source` send `payload` to `target` now.
pub fn send(sim: &mut Sim<Recorder>, source: u32, target: u32, payload: u64) {
    sim.call(NodeId(source), move |_, ctx| {
        ctx.send(NodeId(target), payload)
    })
    .expect("the sender is up");
}

/// The recorder state of a running node.
pub fn node(sim: &Sim<Recorder>, id: u32) -> &Recorder {
    sim.node(NodeId(id)).expect("the node is up")
}

pub fn ms(millis: u64) -> SimDuration {
    SimDuration::from_millis(millis)
}

pub fn at_ms(millis: u64) -> SimTime {
    SimTime::from_millis(millis)
}
