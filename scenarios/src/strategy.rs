//! [proptest] strategies for whole scenarios of any protocol, and a case check that
//! leaves a repro file behind when it fails (feature `proptest`).
//!
//! [`scenario`] takes a strategy of *base* scenarios (often just one, with `Just`; a
//! protocol's own crate can draw cluster sizes and workloads into bases) and draws, for
//! each, a network (latency up to 50 ms, loss up to 5%) and a fault timeline of the kinds
//! its protocol claims to survive, each fault repaired by the end of the fault phase.
//! It shrinks structurally: a failing scenario shrinks to fewer and shorter faults, a
//! plainer network and an earlier base, not just to another seed. [`check_case`] runs one
//! case and, when it fails, writes a repro file and fails the property with the commands
//! that replay and shrink it, so a failure found by `cargo test` continues at the command
//! line.
//!
//! ```no_run
//! # fn registry() -> scenarios::Registry { scenarios::Registry::new() }
//! use proptest::prelude::*;
//! use scenarios::strategy::{check_case, scenario};
//!
//! let base = registry().load("tests/counter.toml".as_ref()).unwrap();
//! proptest!(|(scenario in scenario(Just(base.clone())), seed: u64)| {
//!     check_case(&scenario, "counter", seed)?;
//! });
//! ```
//!
//! [proptest]: https://docs.rs/proptest

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sim_core::strategy::{FaultSpace, fault_schedule, latency};
use sim_core::{Chance, FaultSchedule, Latency};

use crate::case::{CaseResult, run_case};
use crate::file::{LatencyFile, ParetoFile, Spanned};
use crate::model::Scenario;
use crate::parse::faults_weights;
use crate::repro::Repro;
use crate::shrink::{reparse, timeline};
use crate::testing::{file_name, repro_dir};
use crate::units::{format_chance, format_duration};

/// Scenarios drawn from `bases`: each base with a drawn latency, loss and fault
/// timeline (added to its own). Panics if a drawn scenario does not validate, which
/// would be a bug here: only valid shapes are drawn.
pub fn scenario(bases: impl Strategy<Value = Scenario>) -> impl Strategy<Value = Scenario> {
    bases
        .prop_flat_map(|base| {
            let mut space = FaultSpace::new(base.node_count(), base.duration);
            space.weights = faults_weights(base.fault_model.kinds);
            (Just(base), latency(), 0_u32..=5, fault_schedule(space))
        })
        .prop_map(|(base, latency, loss, faults)| build(&base, &latency, loss, &faults))
}

fn build(
    base: &Scenario,
    latency: &Latency,
    loss_percent: u32,
    faults: &FaultSchedule,
) -> Scenario {
    let mut file = base.file.clone();
    let network = &mut file.network;
    network.latency = Some(Spanned::new(0..0, latency_file(latency)));
    if loss_percent > 0 {
        let loss = format_chance(Chance::percent(loss_percent));
        network.loss = Some(Spanned::new(0..0, loss));
    }
    file.faults = timeline(&base.faults.clone().merged(faults), base);
    let mut drawn = reparse(base, &file).expect("a drawn scenario validates");
    drawn.name.clone_from(&base.name);
    drawn.path.clone_from(&base.path);
    drawn
}

fn latency_file(latency: &Latency) -> LatencyFile {
    match *latency {
        Latency::Constant(delay) => LatencyFile::Constant(format_duration(delay)),
        Latency::Uniform { min, max } => LatencyFile::Uniform {
            uniform: [format_duration(min), format_duration(max)],
        },
        Latency::Pareto { min, max, shape } => LatencyFile::Pareto {
            pareto: ParetoFile {
                min: format_duration(min),
                max: format_duration(max),
                shape,
            },
        },
    }
}

/// Runs `scenario` against `implementation` with `seed`. If the case fails (safety,
/// liveness, panic, limit), writes a repro file to [`repro_dir`] and returns a
/// failure that says how to replay and shrink it.
///
/// While proptest shrinks, each smaller failing case overwrites the file, so when the
/// property finally fails the file holds the smallest case proptest found.
pub fn check_case(
    scenario: &Scenario,
    implementation: &str,
    seed: u64,
) -> Result<CaseResult, TestCaseError> {
    let result = run_case(scenario, implementation, seed);
    if !result.verdict.is_failure() {
        return Ok(result);
    }
    let summary = result.summary();
    let dir = repro_dir();
    let path = dir.join(file_name(&format!(
        "{}-{implementation}.toml",
        scenario.name
    )));
    let written = std::fs::create_dir_all(&dir)
        .map_err(|error| error.to_string())
        .and_then(|()| {
            Repro::of(scenario, &result)
                .write(&path, Some(&summary))
                .map_err(|error| error.to_string())
        });
    let how = match written {
        Ok(()) => format!(
            "repro file: {path}\n  replay:  detsim repro {path}\n  shrink:  detsim shrink {path} -o smaller.toml",
            path = path.display()
        ),
        Err(error) => format!("(could not write a repro file: {error})"),
    };
    Err(TestCaseError::fail(format!("{summary}\n  {how}")))
}
