//! The `detsim` command line, as a library call: a crate with protocols of its own gets
//! a CLI with every subcommand in a few lines.
//!
//! ```no_run
//! # fn my_registry() -> scenarios::Registry { scenarios::Registry::new() }
//! // src/main.rs of your crate:
//! fn main() -> std::process::ExitCode {
//!     scenarios::cli::main(my_registry())
//! }
//! ```
//!
//! Subcommands: `run` (swarms over seed ranges, `--jobs`, `--shard K/N`, regex filters,
//! `--fail-fast`, `--timeout`, `--report`, `--junit`, `--save-failures`), `repro` (replay
//! a repro file exactly, `--trace`, `--check-determinism`, `--from-fuzz`), `shrink`,
//! `list`, `save-vector`, `merge` (the reports of `--shard` jobs into one).
//!
//! Exit codes: 0 everything passed; 1 a safety invariant failed (or a test vector no
//! longer matches); 2 bad input (a flag, a scenario or repro file); 3 a liveness check
//! failed (or a run hit a limit); 4 a node or the engine panicked; 5 a repro file did
//! not reproduce (its trace hash differs); 130 interrupted (Ctrl-C, SIGTERM), with the
//! reports of the cases that ran.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::discover::scenario_files;
use crate::error::InputError;
#[cfg(feature = "fuzzing")]
use crate::fuzzing::FuzzSetup;
use crate::registry::Registry;
use out::say;

mod merge;
mod out;
mod repro;
mod run;
mod shrink;
mod vector;

/// Runs the CLI with the protocols of `registry` on the process's arguments, and returns
/// its exit code.
pub fn main(registry: Registry) -> ExitCode {
    Cli::new(registry).main()
}

/// A detsim CLI: a registry, and what else its subcommands need.
#[derive(Debug)]
pub struct Cli {
    registry: Registry,
    #[cfg(feature = "fuzzing")]
    fuzzing: Option<FuzzSetup>,
    about: Option<String>,
}

impl Cli {
    /// A CLI for the protocols of `registry`.
    pub fn new(registry: Registry) -> Cli {
        Cli {
            registry,
            #[cfg(feature = "fuzzing")]
            fuzzing: None,
            about: None,
        }
    }

    /// What the fuzz targets of this program work on, for `repro --from-fuzz`.
    #[cfg(feature = "fuzzing")]
    #[must_use]
    pub fn fuzzing(mut self, setup: FuzzSetup) -> Cli {
        self.fuzzing = Some(setup);
        self
    }

    /// The one-line description `--help` shows (default: a deterministic simulator for
    /// the registered protocols).
    #[must_use]
    pub fn about(mut self, about: &str) -> Cli {
        self.about = Some(about.to_string());
        self
    }

    /// Runs on the process's arguments.
    pub fn main(&self) -> ExitCode {
        self.run(std::env::args_os())
    }

    /// Runs on `args` (the first is the program's name), and returns the exit code.
    pub fn run(&self, args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let name = args
            .first()
            .and_then(|arg0| Path::new(arg0).file_stem())
            .map_or_else(
                || "detsim".to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
        let about = self.about.clone().unwrap_or_else(|| {
            format!(
                "A deterministic simulator for {}: run scenario swarms, replay and shrink \
                 failures, record test vectors.",
                self.registry.protocol_names().join(", ")
            )
        });
        let command = Args::command()
            .name(name.clone())
            .bin_name(name.clone())
            .about(about);
        let parsed = command
            .try_get_matches_from(args)
            .and_then(|matches| Args::from_arg_matches(&matches));
        let args = match parsed {
            Ok(args) => args,
            Err(error) => {
                let _ = error.print();
                return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
            }
        };
        let cli = Session {
            registry: &self.registry,
            program: name,
            #[cfg(feature = "fuzzing")]
            fuzzing: self.fuzzing.as_ref(),
        };
        let result = match args.command {
            Command::Run(args) => run::run(&cli, args),
            Command::Repro(args) => repro::repro(&cli, args),
            Command::Shrink(args) => shrink::shrink(&cli, args),
            Command::List { paths } => list(&cli, &paths),
            Command::SaveVector(args) => vector::save(&cli, args),
            Command::Merge(args) => merge::merge(&cli, args),
        };
        match result {
            Ok(code) => ExitCode::from(code),
            Err(error) => {
                eprintln!("{error}");
                ExitCode::from(2)
            }
        }
    }
}

/// One run of the CLI: what its subcommands see.
struct Session<'a> {
    registry: &'a Registry,
    /// The name it was started by, for the commands it prints (`detsim`, `counter-sim`).
    program: String,
    #[cfg(feature = "fuzzing")]
    fuzzing: Option<&'a FuzzSetup>,
}

/// The arguments, as clap reads them.
#[derive(Debug, Parser)]
#[command(name = "detsim", version, long_about = None, propagate_version = true)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files (or directories of them, or test vectors) over seeds.
    Run(run::RunArgs),
    /// Replay a repro file and check that it reproduces exactly.
    Repro(repro::ReproArgs),
    /// Shrink a failing repro file while the same check still fails.
    Shrink(shrink::ShrinkArgs),
    /// List scenarios with their descriptions and tags.
    List {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Record a scenario at a seed as a test vector.
    SaveVector(vector::SaveVectorArgs),
    /// Merge the JSON reports of `run --shard K/N` jobs into one (and one JUnit XML).
    Merge(merge::MergeArgs),
}

/// `list`: every scenario with its protocol, implementations, tags and description.
fn list(cli: &Session<'_>, paths: &[PathBuf]) -> Result<u8, InputError> {
    for file in scenario_files(paths)? {
        let scenario = cli.registry.load(&file)?;
        let tags = if scenario.tags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", scenario.tags.join(", "))
        };
        say!(
            "{}  ({}: {}){tags}",
            scenario.name,
            scenario.protocol(),
            scenario.implementations.join(", ")
        );
        say!("    {}", file.display());
        if !scenario.description.is_empty() {
            say!("    {}", scenario.description);
        }
    }
    Ok(0)
}
