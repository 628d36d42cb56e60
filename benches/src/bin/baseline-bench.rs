//! `baseline-bench <w1|w2|w3> [seed] [param]`: the benchmark workloads on a bare event
//! loop, the practical speed limit for detsim's design on a machine.
//!
//! No engine: a binary heap of `(time, seq)` events, one ChaCha8 stream per node and one
//! for the network, nodes as plain integers. It has none of detsim's features (no
//! network model, no interceptors, no checks, no trace hash), which is the point: the
//! ratio of `detsim-bench` to this loop, measured in one run on one machine, says what
//! those features cost. `benches/compare` runs both. It prints the same `RESULT` line
//! as `detsim-bench`, and W1's conformance trace is the same (`w1 1 1000000` prints
//! `trace=0xfa7b85d780553f25`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::process::ExitCode;
use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

const FOLD_INIT: u64 = 0xcbf2_9ce4_8422_2325;
const MS: u64 = 1_000_000;

fn fold(hash: u64, word: u64) -> u64 {
    (hash ^ word).wrapping_mul(0x0000_0100_0000_01b3)
}

/// One event: a delivery (`payload`, `from` → `to`) or a timer (`to` only).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    time: u64,
    seq: u64,
    from: u32,
    to: u32,
    payload: u64,
}

/// The loop: events in `(time, seq)` order.
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Event>>,
    seq: u64,
}

impl Queue {
    fn push(&mut self, time: u64, from: u32, to: u32, payload: u64) {
        self.seq += 1;
        self.heap.push(Reverse(Event {
            time,
            seq: self.seq,
            from,
            to,
            payload,
        }));
    }

    fn pop(&mut self) -> Option<Event> {
        self.heap.pop().map(|Reverse(event)| event)
    }
}

/// What a run produced.
struct Run {
    delivered: u64,
    timers: u64,
    virtual_ns: u64,
    trace: u64,
}

fn record(trace: &mut u64, event: &Event) {
    for word in [
        event.time,
        u64::from(event.from),
        u64::from(event.to),
        event.payload,
    ] {
        *trace = fold(*trace, word);
    }
}

/// W1: two nodes bounce a counter over a 1 ms link, `2 × round_trips` deliveries.
fn ping_pong(round_trips: u64) -> Run {
    let mut queue = Queue::default();
    let mut trace = FOLD_INIT;
    let mut delivered = 0;
    let mut last = 0;
    queue.push(MS, 0, 1, 0);
    while let Some(event) = queue.pop() {
        record(&mut trace, &event);
        delivered += 1;
        last = event.time;
        if delivered < 2 * round_trips {
            queue.push(event.time + MS, event.to, event.from, event.payload + 1);
        }
    }
    Run {
        delivered,
        timers: 0,
        virtual_ns: last,
        trace,
    }
}

/// W2: 32 nodes; every delivery makes its receiver send one message to a random peer
/// (1% dropped at the sender and replaced at once); latency uniform in 1–10 ms.
fn gossip(seed: u64, seconds: u64) -> Run {
    const NODES: u32 = 32;
    let mut rngs: Vec<ChaCha8Rng> = (0..NODES)
        .map(|node| ChaCha8Rng::seed_from_u64(seed ^ (u64::from(node) + 1).rotate_left(17)))
        .collect();
    let mut network = ChaCha8Rng::seed_from_u64(seed);
    let mut sent = vec![0_u64; NODES as usize];
    let mut queue = Queue::default();
    let mut send = |queue: &mut Queue, now: u64, from: u32| loop {
        let rng = &mut rngs[from as usize];
        let pick = (rng.next_u64() % u64::from(NODES - 1)) as u32;
        let to = if pick >= from { pick + 1 } else { pick };
        sent[from as usize] += 1;
        let payload = (u64::from(from) << 48) | sent[from as usize];
        if rng.next_u64().is_multiple_of(100) {
            continue;
        }
        let latency = MS + network.next_u64() % (9 * MS + 1);
        queue.push(now + latency, from, to, payload);
        return;
    };
    for node in 0..NODES {
        send(&mut queue, 0, node);
    }
    let horizon = seconds * 1_000 * MS;
    let (mut trace, mut delivered) = (FOLD_INIT, 0);
    while let Some(event) = queue.pop() {
        if event.time > horizon {
            break;
        }
        record(&mut trace, &event);
        delivered += 1;
        send(&mut queue, event.time, event.to);
    }
    Run {
        delivered,
        timers: 0,
        virtual_ns: horizon,
        trace,
    }
}

/// W3: 1,000 nodes with a periodic 100 ms timer each.
fn timers(seconds: u64) -> Run {
    const NODES: u32 = 1_000;
    let mut counts = vec![0_u64; NODES as usize];
    let mut queue = Queue::default();
    for node in 0..NODES {
        queue.push(100 * MS, node, node, 0);
    }
    let horizon = seconds * 1_000 * MS;
    let mut fired = 0;
    while let Some(event) = queue.pop() {
        if event.time > horizon {
            break;
        }
        counts[event.to as usize] += 1;
        fired += 1;
        queue.push(event.time + 100 * MS, event.to, event.to, 0);
    }
    assert_eq!(counts.iter().sum::<u64>(), fired);
    Run {
        delivered: 0,
        timers: fired,
        virtual_ns: horizon,
        trace: FOLD_INIT,
    }
}

const USAGE: &str = "usage: baseline-bench <w1|w2|w3> [seed] [param]
  w1  ping-pong, param = round trips (default 1000000)
  w2  gossip, param = virtual seconds (default 60)
  w3  timers, param = virtual seconds (default 3600)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| match args.get(index) {
        None => Some(default),
        Some(text) => text.parse().ok(),
    };
    let workload = args.first().map_or("", String::as_str);
    let default = match workload {
        "w1" => 1_000_000,
        "w2" => 60,
        "w3" => 3_600,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (Some(seed), Some(param)) = (number(1, 1), number(2, default)) else {
        eprintln!("expected whole numbers\n{USAGE}");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let run = match workload {
        "w1" => ping_pong(param),
        "w2" => gossip(seed, param),
        _ => timers(param),
    };
    let wall = started.elapsed().as_secs_f64();
    println!(
        "RESULT framework=baseline workload={workload} seed={seed} events={} delivered={} timers={} virtual_s={:.6} inner_wall_s={wall:.6} trace=0x{:016x}",
        run.delivered + run.timers,
        run.delivered,
        run.timers,
        run.virtual_ns as f64 / 1e9,
        run.trace
    );
    ExitCode::SUCCESS
}
