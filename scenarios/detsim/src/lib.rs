//! # detsim: the command line, with detsim's own protocols
//!
//! The `detsim` binary is [`scenarios::cli`] with the protocols of this crate registered:
//! a proof-of-stake chain ([`chain`]) and Raft ([`raft`]) with two implementations, our
//! own and the `raft` crate. They are registered through the public extension point of
//! `scenarios` ([`scenarios::Protocol`], [`scenarios::Implementation`]) and nothing more,
//! exactly as a protocol in someone else's crate is.
//!
//! ```
//! let registry = detsim::registry();
//! let scenario = registry.parse(r#"
//!     protocol = "raft"
//!     duration = "10s"
//!     [workload]
//!     rate = 20
//!     [[faults]]
//!     at = "3s"
//!     crash = "replica-0"
//!     [[faults]]
//!     at = "6s"
//!     restart = "replica-0"
//! "#, None).unwrap();
//! let result = scenarios::run_case(&scenario, "detsim-raft", 1);
//! assert_eq!(result.verdict, scenarios::Verdict::Pass, "{}", result.summary());
//! ```

#![deny(missing_docs)]

pub mod chain;
#[cfg(feature = "fuzzing")]
mod fuzz;
pub mod presets;
pub mod raft;
#[cfg(feature = "proptest")]
pub mod strategy;

#[cfg(feature = "fuzzing")]
pub use fuzz::{CANARY, fuzz_setup};
use scenarios::Registry;

/// Every protocol and implementation detsim ships: `chain` (`detsim-chain`) and `raft`
/// (`detsim-raft`, and `raft-rs` when built with the `raft-rs` feature; without it,
/// `raft-rs` cases are reported as skipped with how to get it).
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .protocol(chain::Chain)
        .implementation(chain::DetsimChain);
    let raft = registry.protocol(raft::Raft);
    raft.implementation(raft::Replicas(raft::DetsimRaft));
    #[cfg(feature = "raft-rs")]
    raft.implementation(raft::Replicas(raft::RaftRs));
    #[cfg(not(feature = "raft-rs"))]
    raft.unavailable("raft-rs", "rebuild with `--features raft-rs`");
    registry
}

/// The `detsim` CLI: [`registry`], and the fuzz targets' setup for `repro --from-fuzz`.
pub fn cli() -> scenarios::cli::Cli {
    let cli = scenarios::cli::Cli::new(registry());
    #[cfg(feature = "fuzzing")]
    let cli = cli.fuzzing(fuzz_setup());
    cli
}

/// The user guide's pages (`docs/*.md`) and the crate READMEs, so that `cargo test --doc`
/// compiles and runs every ```rust block in them. Each page is the documentation of one
/// item here. (The TOML examples are checked by `tests/guide.rs`; the pages about a
/// protocol of your own, by that protocol's crate in scenarios/third-party/.)
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../../docs/README.md")]
    pub struct Index;
    #[doc = include_str!("../../../docs/getting-started.md")]
    pub struct GettingStarted;
    #[doc = include_str!("../../../docs/writing-a-node.md")]
    pub struct WritingANode;
    #[doc = include_str!("../../../docs/scenarios.md")]
    pub struct Scenarios;
    #[doc = include_str!("../../../docs/running-a-swarm.md")]
    pub struct RunningASwarm;
    #[doc = include_str!("../../../docs/reading-the-report.md")]
    pub struct ReadingTheReport;
    #[doc = include_str!("../../../docs/reproducing.md")]
    pub struct Reproducing;
    #[doc = include_str!("../../../docs/invariants.md")]
    pub struct Invariants;
    #[doc = include_str!("../../../docs/adversaries.md")]
    pub struct Adversaries;
    #[doc = include_str!("../../../docs/determinism.md")]
    pub struct Determinism;
    #[doc = include_str!("../../../docs/test-vectors.md")]
    pub struct TestVectors;
    #[doc = include_str!("../../../docs/protocols.md")]
    pub struct Protocols;
    #[doc = include_str!("../../../docs/performance.md")]
    pub struct Performance;
    #[doc = include_str!("../../../docs/glossary.md")]
    pub struct Glossary;
    /// (Its examples need proptest: they run with the `proptest` feature.)
    #[cfg(feature = "proptest")]
    #[doc = include_str!("../../../docs/property-tests.md")]
    pub struct PropertyTests;
    #[doc = include_str!("../../../docs/fuzzing.md")]
    pub struct Fuzzing;
    #[doc = include_str!("../../../docs/time-dependent-tests.md")]
    pub struct TimeDependentTests;
    #[doc = include_str!("../../../sim-core/README.md")]
    pub struct SimCoreReadme;
    #[doc = include_str!("../../../node-model/README.md")]
    pub struct NodeModelReadme;
    #[doc = include_str!("../README.md")]
    pub struct DetsimReadme;
}
