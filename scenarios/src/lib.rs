//! # scenarios: what a detsim user touches first
//!
//! Scenario files (TOML) and an equivalent Rust builder; a strict parser that names the
//! file, line and column of every mistake; the runner that takes a scenario, an
//! implementation and a seed through its fault and heal phases; the swarm that runs
//! thousands of seeds on all cores; JSON and JUnit reports; repro files; shrinking; test
//! vectors; and the `detsim` command line.
//!
//! ```
//! let scenario = scenarios::parse_scenario(r#"
//!     protocol = "chain"
//!     duration = "20s"
//!     [cluster]
//!     validators = 4
//!     [[faults]]
//!     at = "5s"
//!     crash = "validator-3"
//! "#, None).unwrap();
//! let result = scenarios::run_case(&scenario, scenario.implementations[0], 1);
//! assert_eq!(result.verdict, scenarios::Verdict::Pass, "{}", result.summary());
//! ```

#![deny(missing_docs)]

mod builder;
mod case;
pub mod discover;
pub mod error;
pub mod file;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod model;
mod parse;
mod preset;
mod protocol;
pub mod report;
pub mod repro;
pub mod shrink;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod swarm;
pub mod timeline;
pub mod units;
pub mod vectors;

pub use builder::{Fault, ScenarioBuilder};
pub use case::{CaseResult, Facts, RunOptions, SubResult, Verdict, run_case, run_case_with};
pub use error::InputError;
pub use model::{
    Checks, Cluster, FinalAssertion, Heal, Implementation, Protocol, RandomFaults, Runner,
    Scenario, Sometimes, Workload,
};
pub use parse::{load_scenario, parse_scenario, validate};
pub use preset::Preset;
pub use protocol::{check_determinism, check_determinism_with, fault_schedule};

/// The user guide's pages (`docs/*.md`) and the crate READMEs, so that `cargo test --doc`
/// compiles and runs every ```rust block in them. Each page is the documentation of one
/// item here. (The TOML examples are checked by `tests/guide.rs`.)
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../docs/README.md")]
    pub struct Index;
    #[doc = include_str!("../../docs/getting-started.md")]
    pub struct GettingStarted;
    #[doc = include_str!("../../docs/writing-a-node.md")]
    pub struct WritingANode;
    #[doc = include_str!("../../docs/scenarios.md")]
    pub struct Scenarios;
    #[doc = include_str!("../../docs/running-a-swarm.md")]
    pub struct RunningASwarm;
    #[doc = include_str!("../../docs/reading-the-report.md")]
    pub struct ReadingTheReport;
    #[doc = include_str!("../../docs/reproducing.md")]
    pub struct Reproducing;
    #[doc = include_str!("../../docs/invariants.md")]
    pub struct Invariants;
    #[doc = include_str!("../../docs/adversaries.md")]
    pub struct Adversaries;
    #[doc = include_str!("../../docs/determinism.md")]
    pub struct Determinism;
    #[doc = include_str!("../../docs/test-vectors.md")]
    pub struct TestVectors;
    #[doc = include_str!("../../docs/protocols.md")]
    pub struct Protocols;
    #[doc = include_str!("../../docs/performance.md")]
    pub struct Performance;
    #[doc = include_str!("../../docs/glossary.md")]
    pub struct Glossary;
    #[doc = include_str!("../../docs/property-tests.md")]
    pub struct PropertyTests;
    #[doc = include_str!("../../docs/fuzzing.md")]
    pub struct Fuzzing;
    #[doc = include_str!("../../docs/time-dependent-tests.md")]
    pub struct TimeDependentTests;
    #[doc = include_str!("../../sim-core/README.md")]
    pub struct SimCoreReadme;
    #[doc = include_str!("../../node-model/README.md")]
    pub struct NodeModelReadme;
    #[doc = include_str!("../README.md")]
    pub struct ScenariosReadme;
    #[doc = include_str!("../../benches/README.md")]
    pub struct BenchesReadme;
}
