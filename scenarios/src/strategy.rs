//! [proptest] strategies for whole scenarios, and a case check that leaves a repro
//! file behind when it fails (feature `proptest`).
//!
//! [`scenario`] draws a cluster, a network, a fault timeline and a workload, and
//! shrinks structurally: a failing scenario shrinks to fewer and shorter faults, a
//! lighter workload, a plainer network, a smaller cluster and a shorter run — not just
//! to another seed. [`check_case`] runs one case and, when it fails, writes a repro
//! file and fails the property with the `detsim` commands that replay and shrink it,
//! so a failure found by `cargo test` continues at the command line.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use scenarios::strategy::{check_case, scenario};
//! use scenarios::{Implementation, Protocol};
//!
//! let mut runner = TestRunner::new(ProptestConfig::with_cases(2));
//! runner
//!     .run(&(scenario(Protocol::Raft), any::<u64>()), |(scenario, seed)| {
//!         check_case(&scenario, Implementation::DetsimRaft, seed)?;
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! [proptest]: https://docs.rs/proptest

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sim_core::strategy::{FaultSpace, fault_schedule, latency};
use sim_core::{Chance, FaultSchedule, FaultWeights, Latency, SimDuration};
use toml::Spanned;

use crate::builder::ScenarioBuilder;
use crate::case::{CaseResult, run_case};
use crate::file::{LatencyFile, ScenarioFile};
use crate::model::{Implementation, Protocol, Scenario};
use crate::repro::Repro;
use crate::shrink::{reparse, timeline};
use crate::units::{format_chance, format_duration};

/// The drawn shape of a scenario, before it is written as a file.
#[derive(Clone, Debug)]
struct Shape {
    protocol: Protocol,
    /// Chain: validators; Raft: replicas.
    nodes: u32,
    observers: u32,
    seconds: u64,
    rate: u32,
    latency: Latency,
    loss_percent: u32,
    faults: FaultSchedule,
}

/// A scenario of `protocol`: a chain of 4–6 validators and up to one observer over
/// 15–40 s, or 3–5 Raft replicas over 5–15 s; any latency up to 50 ms with up to 5%
/// loss; a fault timeline of every kind the protocol is meant to survive (Raft: no
/// lost or lying disks), each fault repaired by the end of the fault phase; and a
/// steady workload. The scenario's checks are the protocol's defaults: every safety
/// invariant, and liveness once the faults are healed.
pub fn scenario(protocol: Protocol) -> impl Strategy<Value = Scenario> {
    let (nodes, seconds, rate) = match protocol {
        Protocol::Chain => (4_u32..=6, 15_u64..=40, 1_u32..=10),
        Protocol::Raft => (3_u32..=5, 5_u64..=15, 5_u32..=40),
    };
    let observers = match protocol {
        Protocol::Chain => 0_u32..=1,
        Protocol::Raft => 0_u32..=0,
    };
    (nodes, observers, seconds, rate, latency(), 0_u32..=5)
        .prop_flat_map(move |(nodes, observers, seconds, rate, latency, loss)| {
            let mut space = FaultSpace::new(nodes + observers, SimDuration::from_secs(seconds));
            if protocol == Protocol::Raft {
                space.weights = FaultWeights {
                    reset_data: 0,
                    disk: 0,
                    ..FaultWeights::default()
                };
            }
            fault_schedule(space).prop_map(move |faults| Shape {
                protocol,
                nodes,
                observers,
                seconds,
                rate,
                latency,
                loss_percent: loss,
                faults,
            })
        })
        .prop_map(|shape| build(&shape))
}

/// The scenario a shape describes. Panics if it does not validate: the strategy only
/// draws valid shapes.
fn build(shape: &Shape) -> Scenario {
    let builder = match shape.protocol {
        Protocol::Chain => ScenarioBuilder::chain("proptest-chain")
            .validators(shape.nodes)
            .observers(shape.observers),
        Protocol::Raft => ScenarioBuilder::raft("proptest-raft").replicas(shape.nodes),
    };
    let builder = builder
        .describe("Drawn by scenarios::strategy::scenario.")
        .duration(&format!("{}s", shape.seconds))
        .workload(f64::from(shape.rate));
    let mut file: ScenarioFile = builder.into_file();
    let network = &mut file.network;
    network.latency = Some(Spanned::new(0..0, latency_file(&shape.latency)));
    if shape.loss_percent > 0 {
        let loss = format_chance(Chance::percent(shape.loss_percent));
        network.loss = Some(Spanned::new(0..0, loss));
    }
    let unfaulted = reparse(&file).expect("a drawn scenario validates");
    file.faults = timeline(&shape.faults, &unfaulted);
    reparse(&file).expect("a drawn scenario validates")
}

fn latency_file(latency: &Latency) -> LatencyFile {
    match *latency {
        Latency::Constant(delay) => LatencyFile::Constant(format_duration(delay)),
        Latency::Uniform { min, max } => LatencyFile::Uniform {
            uniform: [format_duration(min), format_duration(max)],
        },
        Latency::Pareto { min, max, shape } => LatencyFile::Pareto {
            pareto: crate::file::ParetoFile {
                min: format_duration(min),
                max: format_duration(max),
                shape,
            },
        },
    }
}

/// Where [`check_case`] writes repro files: `$DETSIM_REPRO_DIR`, or `detsim-repros`
/// in the system's temporary directory.
pub fn repro_dir() -> PathBuf {
    std::env::var_os("DETSIM_REPRO_DIR")
        .map_or_else(|| std::env::temp_dir().join("detsim-repros"), PathBuf::from)
}

/// Runs `scenario` against `implementation` with `seed`. If the case fails (safety,
/// liveness, panic, limit), writes a repro file to [`repro_dir`] and returns a
/// failure that says how to replay and shrink it.
///
/// While proptest shrinks, each smaller failing case overwrites the file, so when the
/// property finally fails the file holds the smallest case proptest found.
pub fn check_case(
    scenario: &Scenario,
    implementation: Implementation,
    seed: u64,
) -> Result<CaseResult, TestCaseError> {
    let result = run_case(scenario, implementation, seed);
    if !result.verdict.is_failure() {
        return Ok(result);
    }
    let summary = result.summary();
    let dir = repro_dir();
    let path = dir.join(format!("{}-{}.toml", scenario.name, implementation.name()));
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

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{TestError, TestRunner};

    use super::*;

    #[test]
    fn drawn_scenarios_validate_and_run() {
        let mut runner = TestRunner::deterministic();
        for protocol in [Protocol::Chain, Protocol::Raft] {
            for _ in 0..8 {
                let scenario = scenario(protocol).new_tree(&mut runner).unwrap().current();
                assert_eq!(scenario.protocol, protocol);
                let result = run_case(&scenario, scenario.implementations[0], 1);
                assert!(result.steps > 100, "{}", result.summary());
            }
        }
    }

    #[test]
    fn a_failing_scenario_shrinks_to_one_fault_on_the_smallest_cluster() {
        // The "bug": any crash. The property fails; the minimal scenario has one
        // crash (and its restart), the smallest cluster and the shortest run.
        let mut runner = TestRunner::deterministic();
        let result = runner.run(&scenario(Protocol::Raft), |scenario| {
            let crashes = scenario
                .faults
                .iter()
                .filter(|t| matches!(t.fault, sim_core::Fault::Crash(_)))
                .count();
            prop_assert_eq!(crashes, 0);
            Ok(())
        });
        let Err(TestError::Fail(_, minimal)) = result else {
            panic!("the property should fail");
        };
        assert_eq!(minimal.faults.len(), 2, "{:?}", minimal.faults);
        assert_eq!(minimal.node_names.len(), 3);
        assert_eq!(minimal.duration, SimDuration::from_secs(5));
    }

    #[test]
    fn check_case_writes_a_repro_that_replays_exactly() {
        let canary = crate::parse::load_scenario(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("canary/buggy.toml"),
        )
        .unwrap();
        let error = check_case(&canary, Implementation::DetsimRaft, 21).unwrap_err();
        let message = error.to_string();
        let path = message
            .lines()
            .find_map(|line| line.trim().strip_prefix("repro file: "))
            .expect("the failure names its repro file");
        let repro = Repro::load(std::path::Path::new(path)).unwrap();
        let again = run_case(&repro.scenario, repro.implementation, repro.seed);
        assert!(repro.matches(&again), "{}", again.summary());
        assert!(message.contains("detsim repro "), "{message}");
        assert!(check_case(&canary, Implementation::DetsimRaft, 0).is_ok());
    }
}
