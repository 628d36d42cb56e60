//! Same seed, same run; other seed, other run; and the checker that finds a leak.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use sim_core::{
    Chance, Choices, Context, FaultGenerator, Latency, LinkConfig, NetworkConfig, Node, NodeId,
    Sim, SimConfig, SimDuration, SimRng, SimTime, TieBreak, Trace, check_determinism,
};

/// Gossips a counter to random peers on a timer, on a lossy, jittery network.
#[derive(Debug, Default)]
struct Chatter {
    heard: u64,
}

impl Node for Chatter {
    type Message = u64;
    type Timer = ();
    type Observation = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(10), ());
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, message: u64) {
        self.heard = self.heard.wrapping_add(message);
        ctx.disk().write("heard", self.heard.to_le_bytes().to_vec());
        if ctx.rng().chance(1, 3) {
            ctx.disk().sync();
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, (): ()) {
        let peers: Vec<NodeId> = ctx.peers().collect();
        let target = *ctx.rng().pick(&peers).unwrap();
        let message = ctx.rng().below(1_000);
        ctx.send(target, message);
        let jitter = ctx.rng().between(5, 15);
        ctx.set_timer(SimDuration::from_millis(jitter), ());
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        if let Ok(Some(bytes)) = ctx.disk().read("heard") {
            self.heard = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
        }
        self.on_start(ctx);
    }
}

fn config(seed: u64, tie_break: TieBreak) -> SimConfig {
    SimConfig {
        network: NetworkConfig {
            default_link: LinkConfig {
                latency: Latency::Uniform {
                    min: SimDuration::from_millis(1),
                    max: SimDuration::from_millis(20),
                },
                loss: Chance::percent(5),
                duplicate: Chance::percent(2),
                ..LinkConfig::default()
            },
            ..NetworkConfig::default()
        },
        tie_break,
        ..SimConfig::new(seed)
    }
}

fn chatter(seed: u64, tie_break: TieBreak) -> Sim<Chatter> {
    chatter_with(config(seed, tie_break))
}

fn chatter_with(config: SimConfig) -> Sim<Chatter> {
    let seed = config.seed;
    let mut sim = Sim::new(config);
    let nodes: Vec<NodeId> = (0..5)
        .map(|_| sim.add_node(|_| Chatter::default()))
        .collect();
    let mut generator = FaultGenerator::new(SimTime::from_secs(1), SimTime::from_secs(20));
    generator.max_down = 2;
    sim.schedule_all(&generator.generate(&nodes, &mut SimRng::new(seed, "faults")));
    sim
}

fn run(seed: u64, tie_break: TieBreak) -> u64 {
    let mut sim = chatter(seed, tie_break);
    sim.run_for(SimDuration::from_secs(30)).unwrap();
    assert!(sim.stats().faults > 5, "the run had faults");
    sim.trace_hash()
}

#[test]
fn the_same_seed_gives_the_same_trace_hash() {
    assert_eq!(run(11, TieBreak::Fifo), run(11, TieBreak::Fifo));
    assert_eq!(run(11, TieBreak::Random), run(11, TieBreak::Random));
}

#[test]
fn another_seed_gives_another_trace_hash() {
    assert_ne!(run(11, TieBreak::Fifo), run(12, TieBreak::Fifo));
}

#[test]
fn random_tie_breaking_explores_another_order() {
    assert_ne!(run(11, TieBreak::Fifo), run(11, TieBreak::Random));
}

#[test]
fn the_determinism_check_passes_a_deterministic_simulation() {
    let hash = check_determinism(
        || chatter(5, TieBreak::Random),
        |sim| sim.run_for(SimDuration::from_secs(10)),
    )
    .unwrap();
    assert_eq!(hash, {
        let mut sim = chatter(5, TieBreak::Random);
        sim.run_for(SimDuration::from_secs(10)).unwrap();
        sim.trace_hash()
    });
}

/// A node with a leak: it keeps state in a global between runs, as a node that reads
/// the wall clock or iterates a hash map effectively does.
#[derive(Debug, Default)]
struct Leaky;

static RUNS: AtomicU64 = AtomicU64::new(0);

impl Node for Leaky {
    type Message = u64;
    type Timer = ();
    type Observation = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        if ctx.id() == NodeId(0) {
            ctx.send(NodeId(1), 0);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, count: u64) {
        // After ten rounds, the reply depends on how many runs this process has seen.
        let leaked = if count == 10 {
            RUNS.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        ctx.send(source, count + 1 + leaked);
    }
}

#[test]
fn the_determinism_check_finds_the_first_divergent_step_of_a_leaky_node() {
    let divergence = check_determinism(
        || {
            let mut sim = Sim::with_seed(3);
            sim.add_node(|_| Leaky);
            sim.add_node(|_| Leaky);
            sim
        },
        |sim| sim.run_for(SimDuration::from_millis(30)),
    )
    .unwrap_err();
    // Steps 1-2 start the nodes; delivery k (payload k-1... ) is step k + 2. The message
    // carrying 10 is delivered at step 13 in both runs; its reply differs, so step 14
    // is the first to differ.
    assert_eq!(divergence.step, 14);
    let (first, second) = (
        divergence.first.clone().unwrap(),
        divergence.second.clone().unwrap(),
    );
    assert_ne!(first.detail, second.detail);
    assert_eq!(first.time, second.time);
    assert_eq!(divergence.context.len(), 5);
    assert!(divergence.to_string().contains("diverged at step 14"));
}

#[test]
fn a_recorded_trace_round_trips_and_matches_the_hash() {
    let build = || {
        let mut sim = chatter(9, TieBreak::Fifo);
        sim.run_for(SimDuration::from_secs(2)).unwrap();
        sim
    };
    let mut recorded = {
        let mut sim = Sim::new(SimConfig {
            record_trace: true,
            ..config(9, TieBreak::Fifo)
        });
        let nodes: Vec<NodeId> = (0..5)
            .map(|_| sim.add_node(|_| Chatter::default()))
            .collect();
        let mut generator = FaultGenerator::new(SimTime::from_secs(1), SimTime::from_secs(20));
        generator.max_down = 2;
        sim.schedule_all(&generator.generate(&nodes, &mut SimRng::new(9, "faults")));
        sim.run_for(SimDuration::from_secs(2)).unwrap();
        sim
    };
    let plain = build();
    assert_eq!(
        recorded.trace_hash(),
        plain.trace_hash(),
        "recording changes nothing"
    );
    let trace = recorded.take_trace();
    assert_eq!(trace.records.len() as u64, plain.outcome().stats.steps);
    assert_eq!(trace.records.last().unwrap().hash, plain.trace_hash());
    assert_eq!(Trace::decode(&trace.encode()).unwrap(), trace);
    assert!(trace.records.windows(2).all(|w| w[0].time <= w[1].time));
}

/// A chatter run in choice mode with `tape`.
fn run_tape(tape: &[u8]) -> (u64, usize) {
    let mut sim = chatter_with(SimConfig {
        choices: Some(Choices::new(tape.to_vec())),
        ..config(11, TieBreak::Random)
    });
    sim.run_for(SimDuration::from_secs(2)).unwrap();
    (sim.trace_hash(), sim.choices_used().unwrap())
}

#[test]
fn in_choice_mode_the_tape_decides_the_run() {
    let tape: Vec<u8> = (0..4_000_u32).map(|i| (i * 37 % 251) as u8).collect();
    let (hash, used) = run_tape(&tape);
    assert_eq!(used, tape.len(), "the run read the whole tape");
    assert_eq!(run_tape(&tape).0, hash, "the same tape gives the same run");
    // (Not every byte matters: a random tie-break keeps 24 bits of its eight bytes, and
    // many draws never reach the trace, such as a sync or not. Flip every byte.)
    let flipped: Vec<u8> = tape.iter().map(|byte| byte ^ 0x5a).collect();
    assert_ne!(run_tape(&flipped).0, hash, "changed bytes change the run");
    let mut later = tape.clone();
    later.extend_from_slice(&[9; 64]);
    assert_ne!(
        run_tape(&later).0,
        hash,
        "bytes past the old end now decide draws"
    );
}

#[test]
fn an_empty_tape_gives_the_seeded_run() {
    let (hash, used) = run_tape(&[]);
    assert_eq!(used, 0);
    let mut seeded = chatter(11, TieBreak::Random);
    seeded.run_for(SimDuration::from_secs(2)).unwrap();
    assert_eq!(hash, seeded.trace_hash());
}

#[test]
fn a_config_with_a_tape_builds_the_same_run_twice() {
    let tape: Vec<u8> = (0..500_u32).map(|i| (i * 13 % 256) as u8).collect();
    let config = SimConfig {
        choices: Some(Choices::new(tape)),
        ..config(4, TieBreak::Fifo)
    };
    let hash = check_determinism(
        || chatter_with(config.clone()),
        |sim| sim.run_for(SimDuration::from_secs(2)),
    )
    .unwrap_or_else(|divergence| panic!("{divergence}"));
    let mut seeded = chatter(4, TieBreak::Fifo);
    seeded.run_for(SimDuration::from_secs(2)).unwrap();
    assert_ne!(hash, seeded.trace_hash(), "the tape decided something");
}

/// A message type without `Hash`, as generated protobuf types are: an `f64` field and a
/// byte payload.
#[derive(Clone, Debug)]
struct Unhashable {
    weight: f64,
    payload: Vec<u8>,
}

/// Sends its peer one `Unhashable` whose weight is `self.0`.
struct Sender(f64);

impl Node for Sender {
    type Message = Unhashable;
    type Timer = ();
    type Observation = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        let peer = NodeId(1 - ctx.id().0);
        let weight = self.0;
        ctx.send(
            peer,
            Unhashable {
                weight,
                payload: vec![1, 2, 3],
            },
        );
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, message: Unhashable) {
        self.0 += message.weight + message.payload.len() as f64;
    }
}

fn unhashable_run(weight: f64) -> u64 {
    let mut sim = Sim::new(SimConfig::new(3));
    sim.add_node(move |_| Sender(weight));
    sim.add_node(move |_| Sender(weight));
    sim.run_for(SimDuration::from_secs(1)).unwrap();
    sim.trace_hash()
}

#[test]
fn messages_without_hash_are_hashed_by_their_debug_text() {
    assert_eq!(unhashable_run(0.5), unhashable_run(0.5));
    assert_ne!(
        unhashable_run(0.5),
        unhashable_run(0.25),
        "the message feeds the hash"
    );
    let message = |payload: Vec<u8>| Unhashable {
        weight: 0.5,
        payload,
    };
    assert_eq!(
        Sender::message_digest(&message(vec![1])),
        sim_core::debug_digest(&message(vec![1])),
        "the default digest is the Debug digest"
    );
    assert_ne!(
        Sender::message_digest(&message(vec![1])),
        Sender::message_digest(&message(vec![2]))
    );
}
