//! The proof-of-stake chain of `node_model::chain` as a scenario protocol
//! (`protocol = "chain"`, implementation `detsim-chain`), built on the scenarios
//! extension point alone.
//!
//! Its tables: `[cluster]` (`validators`, `observers`, `shards`, `[cluster.genesis]`,
//! `[cluster.nodes."<name>"]`), `[workload]` (signed transfers), `[[checks.final]]`
//! (`min_final_height`, `converged`, `account` + `balance`, `validators`, `kicked_out`)
//! and `[[checks.sometimes]]` (`attack`, `rejected`); see docs/scenarios.md.

mod plan;
mod run;
mod tables;

pub use plan::{Chain, ChainAssertion, ChainPlan, INVARIANTS, Situation, Transfers, node_name};
pub(crate) use plan::{halved, steady_load};
pub use run::{DetsimChain, FINALITY_WHILE_CONNECTED, LIVENESS};
pub use tables::{ChainCluster, ChainFinal, ChainSometimes, ChainWorkload, Genesis, NodeSettings};
