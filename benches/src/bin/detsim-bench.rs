//! `detsim-bench <w1|w2|w3|chain> <seed> <param>`: runs one benchmark workload and
//! prints one `RESULT` line for `benches/compare`.

use std::process::ExitCode;
use std::time::Instant;

use benches::workloads::{self, Report};

const USAGE: &str = "usage: detsim-bench <w1|w2|w3|w4|chain> [seed] [param]
  w1     ping-pong, param = round trips (default 1000000)
  w2     gossip, param = virtual seconds (default 60)
  w3     timers, param = virtual seconds (default 3600)
  w4     gossip at scale, 20 virtual seconds, param = nodes (default 10000)
  chain  4-validator chain with 1 s blocks and 10 tx/s, invariants after every step,
         param = virtual seconds (default 3600)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(workload) = args.first().map(String::as_str) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let number = |index: usize, default: u64| -> Result<u64, String> {
        match args.get(index) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("expected a whole number, got {text:?}\n{USAGE}")),
        }
    };
    let run = |default: u64, run: fn(u64, u64) -> Report| -> Result<(Report, f64), String> {
        let (seed, param) = (number(1, 1)?, number(2, default)?);
        let started = Instant::now();
        let report = run(seed, param);
        Ok((report, started.elapsed().as_secs_f64()))
    };
    if workload == "chain" {
        return chain(number(1, 1), number(2, 3_600));
    }
    let result = match workload {
        "w1" => run(1_000_000, workloads::ping_pong),
        "w2" => run(60, workloads::gossip),
        "w3" => run(3_600, workloads::timers),
        "w4" => run(10_000, |seed, nodes| {
            workloads::gossip_at_scale(seed, u32::try_from(nodes).unwrap_or(u32::MAX).max(2))
        }),
        other => Err(format!("unknown workload {other:?}\n{USAGE}")),
    };
    match result {
        Ok((report, wall)) => {
            let seed = args.get(1).map_or("1", String::as_str);
            let events = report.delivered + report.timers;
            println!(
                "RESULT framework=detsim workload={workload} seed={seed} events={events} delivered={} timers={} virtual_s={:.6} inner_wall_s={wall:.6} trace=0x{:016x} peak_rss_mib={}",
                report.delivered,
                report.timers,
                report.virtual_time.as_secs_f64(),
                report.trace,
                peak_rss_mib().map_or_else(|| "unknown".to_string(), |mib| format!("{mib:.1}"))
            );
            eprintln!("engine_trace=0x{:016x}", report.engine_trace);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the chain benchmark and prints its RESULT line (events = steps).
fn chain(seed: Result<u64, String>, seconds: Result<u64, String>) -> ExitCode {
    let (seed, seconds) = match (seed, seconds) {
        (Ok(seed), Ok(seconds)) => (seed, seconds),
        (Err(message), _) | (_, Err(message)) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let report = benches::chain::run(seed, seconds);
    let wall = started.elapsed().as_secs_f64();
    println!(
        "RESULT framework=detsim workload=chain seed={seed} events={} delivered={} timers={} virtual_s={seconds}.000000 inner_wall_s={wall:.6} trace=0x{:016x}",
        report.steps, report.delivered, report.timers, report.trace
    );
    eprintln!(
        "final_height={} submitted={} speedup={:.0}x",
        report.final_height,
        report.submitted,
        seconds as f64 / wall
    );
    ExitCode::SUCCESS
}

/// The process's peak resident memory so far, in MiB, as Linux counts it (`VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
