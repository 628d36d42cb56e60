//! `detsim save-vector`: record a scenario at a seed as a test vector.

use std::path::PathBuf;

use clap::Args;

use super::Session;
use super::out::say;
use crate::error::InputError;
use crate::vectors::save_vector;

/// Arguments of `detsim save-vector`.
#[derive(Debug, Args)]
pub(super) struct SaveVectorArgs {
    /// The scenario file.
    file: PathBuf,
    /// The seed.
    #[arg(long)]
    seed: u64,
    /// The suite to file it under.
    #[arg(long, default_value = "regressions")]
    suite: String,
    /// The case name (default: the scenario's name and seed).
    #[arg(long)]
    case: Option<String>,
    /// The vectors root.
    #[arg(long, default_value = "vectors")]
    out: PathBuf,
}

pub(super) fn save(cli: &Session<'_>, args: SaveVectorArgs) -> Result<u8, InputError> {
    let source = std::fs::read_to_string(&args.file)
        .map_err(|e| InputError::new(format!("cannot read {}: {e}", args.file.display())))?;
    let scenario = cli
        .registry
        .parse(&source, Some(&args.file))
        .map_err(|e| e.in_file(&args.file))?;
    let case = args
        .case
        .unwrap_or_else(|| format!("{}-seed{}", scenario.name, args.seed));
    let dir = save_vector(&args.out, &scenario, args.seed, &args.suite, &case, &source)?;
    say!("saved test vector {}", dir.display());
    Ok(0)
}
