//! `detsim repro`: replay a repro file exactly, show what happened, check determinism.

use std::path::PathBuf;

use clap::Args;

use super::Session;
use super::out::say;
use crate::case::{check_determinism_with, run_case_with};
use crate::error::InputError;
#[cfg(feature = "fuzzing")]
use crate::fuzzing::{self, FuzzSetup, Target};
use crate::report::Tally;
use crate::repro::Repro;
use crate::timeline::{summarize, write_json_lines};
use crate::words::schedule_words;

/// Arguments of `detsim repro`.
#[derive(Debug, Args)]
pub(super) struct ReproArgs {
    /// The repro file (with --from-fuzz: the fuzzer's crash artifact).
    file: PathBuf,
    /// FILE is a `cargo fuzz` crash artifact: write the case it describes as a repro
    /// file, then replay that.
    #[arg(long)]
    from_fuzz: bool,
    /// With --from-fuzz: the target that wrote the artifact (default: the name of the
    /// artifact's directory, as `cargo fuzz` lays them out).
    #[arg(long, requires = "from_fuzz")]
    target: Option<String>,
    /// With --from-fuzz: where to write the repro file (default: ARTIFACT.repro.toml).
    #[arg(long, short, requires = "from_fuzz")]
    output: Option<PathBuf>,
    /// Write the full trace here as JSON lines (one line per step).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Run the case twice and report the first step at which the runs differ.
    #[arg(long)]
    check_determinism: bool,
}

pub(super) fn repro(cli: &Session<'_>, args: ReproArgs) -> Result<u8, InputError> {
    let file = if args.from_fuzz {
        match from_fuzz(cli, &args)? {
            Ok(file) => file,
            Err(exit_code) => return Ok(exit_code),
        }
    } else {
        args.file.clone()
    };
    let repro = Repro::load(cli.registry, &file)?;
    let scenario = &repro.scenario;
    say!(
        "replaying {} against {} with seed {} (written by detsim {})",
        scenario.name,
        repro.implementation,
        repro.seed,
        repro.detsim_version
    );
    let (result, trace) = run_case_with(
        scenario,
        &repro.implementation,
        repro.seed,
        repro.run_options(true),
    );
    if let Some(trace) = &trace {
        let end = trace
            .records
            .last()
            .map_or(sim_core::SimTime::ZERO, |r| r.time);
        say!("{}", schedule_words(scenario, repro.seed, end, 16));
        say!("{}", summarize(trace, scenario, repro.seed, 12));
        if let Some(path) = &args.trace {
            write_json_lines(trace, scenario, path)?;
            say!("trace: {} ({} steps)", path.display(), trace.records.len());
        }
    }
    say!("verdict: {} — {}", result.verdict, result.summary());
    say!(
        "trace hash: 0x{:016x} (expected 0x{:016x})",
        result.trace_hash,
        repro.expected_trace_hash
    );
    if args.check_determinism {
        match check_determinism_with(
            scenario,
            &repro.implementation,
            repro.seed,
            &repro.run_options(false),
        ) {
            Ok(hash) => say!("determinism: two runs took the same steps (trace 0x{hash:016x})"),
            Err(divergence) => {
                say!("determinism: NOT deterministic\n{divergence}");
                return Ok(1);
            }
        }
    }
    if !repro.matches(&result) {
        say!(
            "NOT REPRODUCED: expected verdict {} with trace 0x{:016x}; the build or the scenario changed",
            repro.expected_verdict,
            repro.expected_trace_hash
        );
        return Ok(5);
    }
    say!("reproduced exactly");
    Ok(Tally::of([&result]).exit_code())
}

/// Turns a crash artifact into a repro file and returns its path; a parser target's
/// artifact is replayed here and now, giving the exit code instead.
#[cfg(not(feature = "fuzzing"))]
fn from_fuzz(_: &Session<'_>, _: &ReproArgs) -> Result<Result<PathBuf, u8>, InputError> {
    Err(
        InputError::new("this program was built without fuzz support")
            .with_help("build scenarios with its `fuzzing` feature (on by default)"),
    )
}

/// Turns a crash artifact into a repro file and returns its path; a parser target's
/// artifact is replayed here and now, giving the exit code instead.
#[cfg(feature = "fuzzing")]
fn from_fuzz(cli: &Session<'_>, args: &ReproArgs) -> Result<Result<PathBuf, u8>, InputError> {
    let setup = cli.fuzzing.ok_or_else(|| {
        InputError::new("this program has no fuzz targets registered").with_help(
            "give its CLI a fuzz setup: scenarios::cli::Cli::new(registry).fuzzing(setup)",
        )
    })?;
    let artifact = &args.file;
    let bytes = std::fs::read(artifact)
        .map_err(|e| InputError::new(format!("cannot read {}: {e}", artifact.display())))?;
    let name = match &args.target {
        Some(name) => name.clone(),
        None => artifact
            .parent()
            .and_then(|dir| dir.file_name())
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string(),
    };
    let target: Target = name.parse().map_err(|message: String| {
        InputError::new(message).with_help(
            "name the target with --target (cargo fuzz keeps artifacts in fuzz/artifacts/<target>/)",
        )
    })?;
    let Some(case) = fuzzing::case_of(setup, target, &bytes) else {
        if matches!(target, Target::ParseScenario | Target::ParseRepro) {
            return Ok(Err(replay_parser(setup, target, &bytes)));
        }
        return Err(InputError::new(format!(
            "{} is too short to describe a {target} case ({} bytes)",
            artifact.display(),
            bytes.len()
        )));
    };
    let result = case.run();
    let output = args.output.clone().unwrap_or_else(|| {
        let mut name = artifact.as_os_str().to_os_string();
        name.push(".repro.toml");
        PathBuf::from(name)
    });
    case.repro(&result)
        .write(&output, Some(&result.summary()))?;
    say!(
        "{target} artifact {} -> repro file {}",
        artifact.display(),
        output.display()
    );
    Ok(Ok(output))
}

/// Runs a parser target's artifact and says whether the parser panicked; returns the
/// exit code (4 for a panic, as for a panicking case).
#[cfg(feature = "fuzzing")]
fn replay_parser(setup: &FuzzSetup, target: Target, bytes: &[u8]) -> u8 {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fuzzing::fuzz(setup, target, bytes);
    }));
    match outcome {
        Ok(()) => {
            say!("{target}: the parser handled this input without panicking");
            0
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            say!("{target}: the parser PANICKED: {message}");
            4
        }
    }
}
