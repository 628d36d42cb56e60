//! Raft as a scenario protocol (`protocol = "raft"`), with two implementations:
//! node-model's own Raft (`detsim-raft`) and the `raft` crate through node-model's
//! adapter (`raft-rs`, feature `raft-rs`), built on the scenarios extension point alone.
//!
//! Its tables: `[cluster]` (`replicas`, `[cluster.raft]`), `[workload]` (puts and gets),
//! `[[checks.final]]` (`converged`, `min_completed`); see docs/scenarios.md.

mod plan;
mod run;
mod tables;

pub use plan::{INVARIANTS, LINEARIZABILITY, Raft, RaftAssertion, RaftPlan, Requests};
#[cfg(feature = "raft-rs")]
pub use run::RaftRs;
pub use run::{Backend, DetsimRaft, LEADS_WHILE_CONNECTED, LIVENESS, Replicas};
pub use tables::{RaftCluster, RaftFinal, RaftSettings, RaftWorkload};
