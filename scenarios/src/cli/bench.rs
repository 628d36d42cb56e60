//! `detsim bench`: the workloads of BENCHMARKS.md, as `detsim-bench` runs them.

use std::time::Instant;

use benches::workloads;
use clap::Args;
use scenarios::InputError;

/// Arguments of `detsim bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// `w1`, `w2`, `w3`, `chain` or `all`.
    #[arg(default_value = "all")]
    workload: String,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The workload's parameter (W1: round trips; W2, W3, chain: virtual seconds),
    /// instead of BENCHMARKS.md's default.
    #[arg(long)]
    param: Option<u64>,
}

pub(crate) fn bench(args: &BenchArgs) -> Result<u8, InputError> {
    let names: Vec<&str> = match args.workload.as_str() {
        "all" => vec!["w1", "w2", "w3", "chain"],
        "w1" | "w2" | "w3" | "chain" => vec![args.workload.as_str()],
        other => {
            return Err(InputError::new(format!("unknown workload \"{other}\""))
                .with_help("use w1, w2, w3, chain or all"));
        }
    };
    for name in names {
        let started = Instant::now();
        let param = |default| args.param.unwrap_or(default);
        let (events, virtual_s, trace) = match name {
            "w1" => {
                let r = workloads::ping_pong(args.seed, param(1_000_000));
                (r.delivered, r.virtual_time.as_secs_f64(), r.trace)
            }
            "w2" => {
                let r = workloads::gossip(args.seed, param(60));
                (r.delivered, r.virtual_time.as_secs_f64(), r.trace)
            }
            "w3" => {
                let r = workloads::timers(args.seed, param(3_600));
                (r.timers, r.virtual_time.as_secs_f64(), r.trace)
            }
            _ => {
                let seconds = param(3_600);
                let r = benches::chain::run(args.seed, seconds);
                (r.steps, seconds as f64, r.trace)
            }
        };
        let wall = started.elapsed().as_secs_f64();
        println!(
            "RESULT framework=detsim workload={name} seed={} events={events} virtual_s={virtual_s:.6} inner_wall_s={wall:.6} trace=0x{trace:016x} ({:.1} M events/s, {:.0}x real time)",
            args.seed,
            events as f64 / wall / 1e6,
            virtual_s / wall
        );
    }
    Ok(0)
}
