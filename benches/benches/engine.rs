//! Criterion benchmarks of the engine's pieces, each isolated so that a regression shows
//! where it happens: randomness, trace hashing, the event queue (timers), the network
//! model (plain and faulty links), the interceptor chain and the check hook.
//!
//! Run with `cargo bench -p benches --bench engine`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::trace::{TRACE_HASH_INIT, digest, fold};
use sim_core::{
    Chance, Context, Envelope, InterceptorContext, Latency, LinkConfig, NetworkConfig, Node,
    NodeId, Sim, SimConfig, SimDuration, SimRng, Verdict,
};

/// Events per measured run.
const EVENTS: u64 = 10_000;

/// Bounces a counter between two nodes until it reaches `EVENTS`.
struct Bounce;

impl Node for Bounce {
    type Message = u64;
    type Timer = ();
    type Observation = ();

    fn message_digest(message: &u64) -> u64 {
        sim_core::digest(message)
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        if ctx.id() == NodeId(0) {
            ctx.send(NodeId(1), 0);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, count: u64) {
        if count < EVENTS {
            ctx.send(source, count + 1);
        }
    }
}

/// Re-arms a timer; `period_ms` differs per node so that the queue stays shuffled.
struct Tick(u64);

impl Node for Tick {
    type Message = ();
    type Timer = ();
    type Observation = ();

    fn message_digest(message: &()) -> u64 {
        sim_core::digest(message)
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(self.0), ());
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, (): ()) {}

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, (): ()) {
        ctx.set_timer(SimDuration::from_millis(self.0), ());
    }
}

fn bounce(link: LinkConfig) -> Sim<Bounce> {
    let mut sim = Sim::new(SimConfig {
        network: NetworkConfig {
            default_link: link,
            ..NetworkConfig::default()
        },
        ..SimConfig::new(1)
    });
    sim.add_node(|_| Bounce);
    sim.add_node(|_| Bounce);
    sim
}

fn run_bounce(mut sim: Sim<Bounce>) -> u64 {
    sim.run_for(SimDuration::from_secs(1_000_000))
        .expect("no checks fail");
    sim.trace_hash()
}

fn randomness(c: &mut Criterion) {
    let mut group = c.benchmark_group("rng");
    group.throughput(Throughput::Elements(1));
    let mut rng = SimRng::new(1, "bench");
    group.bench_function("next_u64", |b| b.iter(|| black_box(rng.next_u64())));
    group.bench_function("below", |b| {
        b.iter(|| black_box(rng.below(black_box(9_000_001))))
    });
    group.bench_function("chance", |b| b.iter(|| black_box(rng.chance(1, 100))));
    group.finish();
}

fn trace_hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("trace");
    group.throughput(Throughput::Elements(1));
    group.bench_function("fold", |b| {
        let mut hash = TRACE_HASH_INIT;
        b.iter(|| {
            hash = fold(hash, black_box(42));
            hash
        });
    });
    let message = (
        7_u64,
        "a block of transactions".to_string(),
        vec![1_u32; 16],
    );
    group.bench_function("digest_message", |b| b.iter(|| digest(black_box(&message))));
    group.finish();
}

fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue");
    for nodes in [10_u64, 1_000] {
        group.throughput(Throughput::Elements(nodes * 100));
        group.bench_function(format!("timers/{nodes}_nodes"), |b| {
            b.iter_batched(
                || {
                    let mut sim = Sim::with_seed(1);
                    for id in 0..nodes {
                        sim.add_node(move |_| Tick(100 + id % 7));
                    }
                    sim
                },
                |mut sim| {
                    sim.run_for(SimDuration::from_millis(100 * 100))
                        .expect("no checks");
                    sim.trace_hash()
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn network(c: &mut Criterion) {
    let mut group = c.benchmark_group("network");
    group.throughput(Throughput::Elements(EVENTS));
    let links = [
        ("constant", LinkConfig::default()),
        (
            "uniform",
            LinkConfig::with_latency(Latency::Uniform {
                min: SimDuration::from_millis(1),
                max: SimDuration::from_millis(10),
            }),
        ),
        (
            // Duplicates would multiply the bouncing balls; reordering on a FIFO link
            // exercises the same slow path without changing the workload.
            "reordering_fifo",
            LinkConfig {
                reorder: Chance::percent(1),
                reorder_delay_max: SimDuration::from_millis(5),
                fifo: true,
                ..LinkConfig::default()
            },
        ),
    ];
    for (name, link) in links {
        group.bench_function(name, |b| {
            b.iter_batched(|| bounce(link.clone()), run_bounce, BatchSize::SmallInput);
        });
    }
    group.finish();
}

fn interceptors(c: &mut Criterion) {
    let mut group = c.benchmark_group("interceptors");
    group.throughput(Throughput::Elements(EVENTS));
    for chain in [0, 1, 4] {
        group.bench_function(format!("pass_chain_{chain}"), |b| {
            b.iter_batched(
                || {
                    let mut sim = bounce(LinkConfig::default());
                    for index in 0..chain {
                        sim.intercept(
                            &format!("pass-{index}"),
                            |_: &mut InterceptorContext<'_, u64>, _: &Envelope<u64>| Verdict::Pass,
                        );
                    }
                    sim
                },
                run_bounce,
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn checks(c: &mut Criterion) {
    let mut group = c.benchmark_group("checks");
    group.throughput(Throughput::Elements(EVENTS));
    for count in [0, 1, 8] {
        group.bench_function(format!("always_{count}"), |b| {
            b.iter_batched(
                || {
                    let mut sim = bounce(LinkConfig::default());
                    for index in 0..count {
                        sim.always(&format!("one ball {index}"), |world| {
                            if world.in_flight().count() <= 1 {
                                Ok(())
                            } else {
                                Err("two balls".to_string())
                            }
                        });
                    }
                    sim
                },
                run_bounce,
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    randomness,
    trace_hashing,
    event_queue,
    network,
    interceptors,
    checks
);
criterion_main!(benches);
