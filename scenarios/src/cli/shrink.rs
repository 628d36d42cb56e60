//! `detsim shrink`: make a failing repro smaller.

use std::path::PathBuf;

use clap::Args;

use super::Session;
use super::out::say;
use crate::error::InputError;
use crate::repro::Repro;

/// Arguments of `detsim shrink`.
#[derive(Debug, Args)]
pub(super) struct ShrinkArgs {
    /// The failing repro file.
    file: PathBuf,
    /// Where to write the smaller repro.
    #[arg(short, long)]
    output: PathBuf,
    /// The most candidate runs to try.
    #[arg(long, default_value_t = 400)]
    budget: u32,
}

pub(super) fn shrink(cli: &Session<'_>, args: ShrinkArgs) -> Result<u8, InputError> {
    let repro = Repro::load(cli.registry, &args.file)?;
    let shrunk = crate::shrink::shrink(&repro, args.budget)?;
    shrunk
        .repro
        .write(&args.output, Some(&shrunk.result.summary()))?;
    say!("before: {}", shrunk.before);
    say!("after:  {}", shrunk.after);
    say!("still fails: {}", shrunk.result.summary());
    say!(
        "{} runs; wrote {} (replay: {} repro {})",
        shrunk.runs,
        args.output.display(),
        cli.program,
        args.output.display()
    );
    Ok(0)
}
