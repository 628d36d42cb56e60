//! Repro files: one failing case, portable and human-readable.
//!
//! A repro file holds the full scenario (as a `[scenario]` table in the scenario file
//! format), the implementation, the seed, the detsim version that wrote it and the
//! trace hash the case produced. `detsim repro FILE` replays it and checks that the
//! trace hash matches, so a stale repro (other build, edited scenario) says so.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use sim_core::Choices;

use crate::case::{CaseResult, RunOptions, Verdict};
use crate::error::InputError;
use crate::file::ScenarioFile;
use crate::model::Scenario;
use crate::registry::{Nesting, Registry};

/// Is `text` a version number: `MAJOR.MINOR.PATCH`, maybe with a `-pre` suffix?
fn is_version(text: &str) -> bool {
    let core = text.split_once('-').map_or(text, |(core, _)| core);
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads repro text into its file form, refusing a scenario file and a version that is
/// not one.
fn read_file(
    source: &str,
    located: &dyn Fn(InputError) -> InputError,
) -> Result<ReproFile, InputError> {
    if crate::discover::FileKind::of(source) == crate::discover::FileKind::Scenario {
        return Err(located(InputError::new(
            "this is a scenario file, not a repro file (one failing case)",
        ))
        .with_help(
            "run it with `detsim run FILE --seed N` (or your CLI's `run`); \
             `run --save-failures DIR` writes repro files",
        ));
    }
    let file: ReproFile =
        toml::from_str(source).map_err(|e| located(InputError::from_toml(source, &e)))?;
    if !is_version(file.detsim_version.get_ref()) {
        return Err(located(InputError::at(
            source,
            file.detsim_version.span(),
            format!(
                "\"{}\" is not a detsim version",
                file.detsim_version.get_ref()
            ),
        ))
        .with_help(format!(
            "write the version that wrote the file, like \"{}\"",
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(file)
}

/// The file form of a repro.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReproFile {
    /// The detsim version that wrote it.
    pub detsim_version: Spanned<String>,
    /// The implementation to run.
    pub implementation: Spanned<String>,
    /// The seed.
    pub seed: u64,
    /// The trace hash the case produced, `0x` and 16 hex digits.
    pub expected_trace_hash: Spanned<String>,
    /// How the case ended.
    pub expected_verdict: Spanned<String>,
    /// What failed, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Choice mode: the tape that decided the run's draws, in hex (fuzz findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Spanned<String>>,
    /// The scenario.
    pub scenario: ScenarioFile,
}

/// A validated repro.
#[derive(Clone, Debug)]
pub struct Repro {
    /// The scenario.
    pub scenario: Scenario,
    /// The implementation, by name.
    pub implementation: String,
    /// The seed.
    pub seed: u64,
    /// The expected trace hash.
    pub expected_trace_hash: u64,
    /// The expected verdict.
    pub expected_verdict: String,
    /// The version that wrote it.
    pub detsim_version: String,
    /// Choice mode: the tape that decided the run's draws (see [`RunOptions::choices`]).
    pub choices: Option<Vec<u8>>,
}

const HEADER: &str = "# detsim repro file: one case, replayed exactly by `detsim repro <this file>`\n\
# (or the `repro` of the detsim CLI of the protocol's own crate).\n\
# Shrink it with `detsim shrink <this file> -o smaller.toml`.\n\n";

impl Repro {
    /// The repro of a finished case.
    pub fn of(scenario: &Scenario, result: &CaseResult) -> Repro {
        Repro {
            scenario: scenario.clone(),
            implementation: result.implementation.clone(),
            seed: result.seed,
            expected_trace_hash: result.trace_hash,
            expected_verdict: result.verdict.name().to_string(),
            detsim_version: env!("CARGO_PKG_VERSION").to_string(),
            choices: None,
        }
    }

    /// The options that replay this repro (its tape, if any).
    pub fn run_options(&self, record_trace: bool) -> RunOptions {
        RunOptions {
            record_trace,
            choices: self.choices.clone().map(Choices::new),
            ..RunOptions::default()
        }
    }

    /// The repro as file text.
    pub fn to_toml(&self, failure: Option<&str>) -> String {
        let mut scenario = self.scenario.file.clone();
        scenario.name = Some(crate::file::built(self.scenario.name.clone()));
        if let (Some(table), Some(random)) =
            (&mut scenario.random_faults, &self.scenario.random_faults)
        {
            pin_generator(table, random);
        }
        let file = ReproFile {
            detsim_version: crate::file::built(self.detsim_version.clone()),
            implementation: Spanned::new(0..0, self.implementation.clone()),
            seed: self.seed,
            expected_trace_hash: Spanned::new(0..0, format!("0x{:016x}", self.expected_trace_hash)),
            expected_verdict: Spanned::new(0..0, self.expected_verdict.clone()),
            failure: failure.map(str::to_string),
            choices: self
                .choices
                .as_ref()
                .map(|bytes| Spanned::new(0..0, hex(bytes))),
            scenario,
        };
        format!(
            "{HEADER}{}",
            toml::to_string(&file).expect("repro files serialise")
        )
    }

    /// Writes the repro to `path`.
    pub fn write(&self, path: &Path, failure: Option<&str>) -> Result<(), InputError> {
        std::fs::write(path, self.to_toml(failure))
            .map_err(|e| InputError::new(format!("cannot write {}: {e}", path.display())))
    }

    /// Parses repro text (`path` for error messages), with the protocols of `registry`.
    pub fn parse(
        registry: &Registry,
        source: &str,
        path: Option<&Path>,
    ) -> Result<Repro, InputError> {
        let located = |error: InputError| match path {
            Some(path) => error.in_file(path),
            None => error,
        };
        let mut file = read_file(source, &located)?;
        if let Some(table) = &mut file.scenario.random_faults {
            // Written before the pace could vary: the generator ran at a steady one, and
            // its crash points waited only for messages sent.
            table
                .tempo
                .get_or_insert_with(|| crate::file::built("steady".to_string()));
            let sends = vec![crate::file::built("sends".to_string())];
            table
                .moments
                .get_or_insert_with(|| Spanned::new(0..0, sends));
        }
        let hash_text = file.expected_trace_hash.get_ref();
        let expected_trace_hash = hash_text
            .strip_prefix("0x")
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .ok_or_else(|| {
                located(InputError::at(
                    source,
                    file.expected_trace_hash.span(),
                    format!("\"{hash_text}\" is not a trace hash"),
                ))
                .with_help("write 0x followed by 16 hex digits, as detsim prints them")
            })?;
        let verdict = file.expected_verdict.get_ref().clone();
        let known = ["pass", "safety", "liveness", "panic", "limit", "skipped"];
        if !known.contains(&verdict.as_str()) {
            return Err(located(InputError::at(
                source,
                file.expected_verdict.span(),
                format!("unknown verdict \"{verdict}\""),
            ))
            .with_help(format!("expected one of: {}", known.join(", "))));
        }
        let choices = match &file.choices {
            None => None,
            Some(text) => Some(unhex(text.get_ref()).ok_or_else(|| {
                located(InputError::at(
                    source,
                    text.span(),
                    "`choices` is not a string of hex digit pairs",
                ))
                .with_help("write the tape as detsim wrote it: two hex digits per byte")
            })?),
        };
        let scenario = registry
            .validate(file.scenario, source, Nesting::Repro, path)
            .map_err(located)?;
        let implementation = file.implementation.get_ref().clone();
        if !scenario.implementations.contains(&implementation) {
            return Err(located(InputError::at(
                source,
                file.implementation.span(),
                format!("the scenario has no implementation \"{implementation}\""),
            ))
            .with_help(format!(
                "its implementations are: {}",
                scenario.implementations.join(", ")
            )));
        }
        Ok(Repro {
            scenario,
            implementation,
            seed: file.seed,
            expected_trace_hash,
            expected_verdict: verdict,
            detsim_version: file.detsim_version.into_inner(),
            choices,
        })
    }

    /// Reads and parses the repro file at `path`.
    pub fn load(registry: &Registry, path: &Path) -> Result<Repro, InputError> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(format!("cannot read {}: {e}", path.display())))?;
        Repro::parse(registry, &source, Some(path))
    }

    /// Does `result` reproduce this repro exactly?
    pub fn matches(&self, result: &CaseResult) -> bool {
        result.trace_hash == self.expected_trace_hash
            && result.verdict.name() == self.expected_verdict
    }
}

/// Bytes as lower-case hex, two digits each.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The bytes of a hex string, or `None` if it is not pairs of hex digits.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

/// `true` if `verdict` is one a repro is worth saving for.
pub fn worth_saving(verdict: Verdict) -> bool {
    verdict.is_failure()
}

/// Pins what the generator drew from where the file left it to the protocol's fault
/// model (the kinds, the timing, the bounds): a later detsim, or a protocol that
/// changed its model, still replays the file as it was.
fn pin_generator(table: &mut crate::file::RandomFaultsFile, random: &crate::model::RandomFaults) {
    use crate::file::built;
    use crate::units::{format_chance, format_duration};
    let generator = &random.generator;
    if table.kinds.is_none() && table.weights.is_none() {
        let kinds = crate::protocol::FaultKind::ALL
            .into_iter()
            .filter(|&kind| random.draws(kind))
            .map(|kind| built(kind.name().to_string()))
            .collect();
        table.kinds = Some(Spanned::new(0..0, kinds));
    }
    for (slot, value) in [
        (&mut table.mean_interval, generator.mean_interval),
        (&mut table.outage_min, generator.outage_min),
        (&mut table.outage_max, generator.outage_max),
        (&mut table.clock_skew_max, generator.clock_skew_max),
    ] {
        slot.get_or_insert_with(|| built(format_duration(value)));
    }
    table
        .max_down
        .get_or_insert_with(|| Spanned::new(0..0, generator.max_down));
    table
        .clock_drift_max_ppm
        .get_or_insert_with(|| Spanned::new(0..0, generator.clock_drift_max_ppm));
    table
        .unsynced_kept
        .get_or_insert_with(|| built(format_chance(generator.unsynced_kept)));
    let tempo = match generator.tempo {
        sim_core::Tempo::Steady => "steady",
        sim_core::Tempo::Varied => "varied",
    };
    table.tempo.get_or_insert_with(|| built(tempo.to_string()));
    table.moments.get_or_insert_with(|| {
        let names = random.moments.names().into_iter();
        Spanned::new(0..0, names.map(|name| built(name.to_string())).collect())
    });
}
