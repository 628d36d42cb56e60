//! # scenarios: every tool above the engine, for any protocol
//!
//! A protocol plugs in through one extension point ([`Protocol`] and [`Implementation`],
//! registered in a [`Registry`]) and gets: scenario files (TOML) with a strict parser
//! that names the file, line and column of every mistake, including mistakes in the
//! protocol's own tables; a Rust builder; one phase driver (fault phase, heal of a core,
//! liveness by a deadline, final assertions); the swarm that runs thousands of seeds on
//! all cores; JSON and JUnit reports; repro files; shrinking; test vectors; proptest
//! strategies; fuzz targets; a one-call check for `cargo test`; and a command line of its
//! own ([`cli::main`]).
//!
//! Nothing here knows any protocol by name: detsim's own chain and Raft (the `detsim`
//! crate) use exactly this surface. docs/testing-your-own-protocol.md walks through a
//! protocol of your own, from an empty crate to a failing seed, its repro file and its
//! shrunk form.
//!
//! ```
#![doc = include_str!("../examples/doc_protocol.rs")]
//! ```

#![deny(missing_docs)]

mod builder;
mod case;
pub mod cli;
pub mod discover;
mod drive;
pub mod error;
pub mod file;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod model;
mod parse;
pub mod protocol;
mod registry;
pub mod report;
pub mod repro;
pub mod shrink;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod swarm;
pub mod testing;
pub mod timeline;
pub mod units;
pub mod vectors;
mod wall;
pub mod words;

pub use builder::{Fault, ScenarioBuilder};
pub use case::{
    CaseResult, RunOptions, SubResult, Verdict, check_determinism, check_determinism_with,
    run_case, run_case_with,
};
pub use error::InputError;
pub use file::{Spanned, Text, built};
pub use model::{
    DrawnMoments, Heal, HealNodes, HealOthers, RandomFaults, Scenario, WhileConnected,
};
pub use parse::{Source, node_listing};
pub use protocol::{
    Case, Facts, FaultKind, FaultKinds, FaultModel, FinalCheck, HealPhase, Implementation,
    Liveness, NoTable, Protocol, Smaller, Table, Tables,
};
pub use registry::{ProtocolEntry, Registry};

/// The crate's README, so that `cargo test --doc` runs its examples.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct Readme;
