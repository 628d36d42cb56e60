//! `detsim`: run scenario swarms, replay and shrink failures, list scenarios, record
//! test vectors, run the benchmarks.
//!
//! Exit codes: 0 everything passed; 1 a safety invariant failed (or a test vector no
//! longer matches); 2 bad input (a flag, a scenario or repro file); 3 a liveness check
//! failed (or a run hit a limit); 4 a node or the engine panicked; 5 a repro file did
//! not reproduce (its trace hash differs).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scenarios::InputError;

mod cli;

/// detsim: a deterministic simulator for distributed and blockchain node software.
#[derive(Debug, Parser)]
#[command(name = "detsim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files (or directories of them, or test vectors) over seeds.
    Run(cli::run::RunArgs),
    /// Replay a repro file and check that it reproduces exactly.
    Repro(cli::repro::ReproArgs),
    /// Shrink a failing repro file while the same check still fails.
    Shrink(cli::shrink::ShrinkArgs),
    /// List scenarios with their descriptions and tags.
    List {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Record a scenario at a seed as a test vector.
    SaveVector(cli::vector::SaveVectorArgs),
    /// Run the workloads of BENCHMARKS.md and print their RESULT lines.
    Bench(cli::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cli::run::run(args),
        Command::Repro(args) => cli::repro::repro(args),
        Command::Shrink(args) => cli::shrink::shrink(args),
        Command::List { paths } => cli::list(&paths),
        Command::SaveVector(args) => cli::vector::save(args),
        Command::Bench(args) => cli::bench::bench(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{}", render(&error));
            ExitCode::from(2)
        }
    }
}

fn render(error: &InputError) -> String {
    error.to_string()
}
