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
