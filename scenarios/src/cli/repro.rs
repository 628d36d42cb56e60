//! `detsim repro`: replay a repro file exactly, show what happened, check determinism.

use std::path::PathBuf;

use clap::Args;
use scenarios::report::Tally;
use scenarios::repro::Repro;
use scenarios::timeline::{summarize, write_json_lines};
use scenarios::{InputError, RunOptions, run_case_with};

/// Arguments of `detsim repro`.
#[derive(Debug, Args)]
pub(crate) struct ReproArgs {
    /// The repro file.
    file: PathBuf,
    /// Write the full trace here as JSON lines (one line per step).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Run the case twice and report the first step at which the runs differ.
    #[arg(long)]
    check_determinism: bool,
}

pub(crate) fn repro(args: ReproArgs) -> Result<u8, InputError> {
    let repro = Repro::load(&args.file)?;
    let scenario = &repro.scenario;
    println!(
        "replaying {} against {} with seed {} (written by detsim {})",
        scenario.name, repro.implementation, repro.seed, repro.detsim_version
    );
    let (result, trace) = run_case_with(
        scenario,
        repro.implementation,
        repro.seed,
        RunOptions { record_trace: true },
    );
    if let Some(trace) = &trace {
        println!("{}", summarize(trace, scenario, 12));
        if let Some(path) = &args.trace {
            write_json_lines(trace, scenario, path)?;
            println!("trace: {} ({} steps)", path.display(), trace.records.len());
        }
    }
    println!("verdict: {} — {}", result.verdict, result.summary());
    println!(
        "trace hash: 0x{:016x} (expected 0x{:016x})",
        result.trace_hash, repro.expected_trace_hash
    );
    if args.check_determinism {
        match scenarios::check_determinism(scenario, repro.implementation, repro.seed) {
            Ok(hash) => println!("determinism: two runs took the same steps (trace 0x{hash:016x})"),
            Err(divergence) => {
                println!("determinism: NOT deterministic\n{divergence}");
                return Ok(1);
            }
        }
    }
    if !repro.matches(&result) {
        println!(
            "NOT REPRODUCED: expected verdict {} with trace 0x{:016x}; the build or the scenario changed",
            repro.expected_verdict, repro.expected_trace_hash
        );
        return Ok(5);
    }
    println!("reproduced exactly");
    Ok(Tally::of([&result]).exit_code())
}
