//! A proof-of-stake chain in the image of the node software blockchain teams test today.
//!
//! - **Cluster**: validators (block producers with stake) and observers (follow without
//!   voting), accounts split into shards, genesis overrides, per-node overrides
//!   ([`ChainConfig`]).
//! - **Production**: a stake-weighted producer per height; a producer that misses its
//!   turn is skipped after a block time ([`ChainNode`]).
//! - **Finality**: validators endorse blocks Casper-FFG style; a block endorsed by more
//!   than 2/3 of the stake is justified, and a justified block whose child is justified
//!   is final ([`tree`]).
//! - **Epochs**: every `epoch_length` heights the validator set is recomputed from stake
//!   and each validator's produced/expected blocks; those below the kick-out threshold
//!   leave ([`state`]).
//! - **Accounts**: balances, transfers signed by the sender's key with increasing nonces,
//!   routed to the sender's shard, credited across shards one block later.
//! - **Queries** like a node's RPC ([`query`]), **block sync** for restarted and reset
//!   nodes ([`sync`]), **adversaries** behind the `adversarial` feature ([`adversary`]),
//!   and the **invariants** that catch its failures ([`checks`]).
//!
//! ```
//! use node_model::chain::{self, ChainConfig};
//! use sim_core::{SimConfig, SimDuration};
//!
//! let (mut sim, setup) = chain::cluster(ChainConfig::default(), SimConfig::new(7)).unwrap();
//! chain::checks::install(&mut sim, &setup);
//! sim.run_for(SimDuration::from_secs(30)).unwrap();
//! let status = sim.node(sim_core::NodeId(0)).unwrap().status();
//! assert!(status.final_height >= 20, "{status:?}");
//! ```

pub mod adversary;
mod behaviour;
pub mod checks;
pub mod client;
mod cluster;
pub mod config;
pub mod mempool;
mod node;
mod produce;
pub mod query;
pub mod state;
pub mod sync;
pub mod tree;
pub mod types;

pub use adversary::Adversary;
pub use client::{TransferWorkload, Wallet};
pub use cluster::cluster;
pub use config::{ChainConfig, ConfigError, Genesis, NodeOverrides};
pub use node::{ChainNode, LastVote};
pub use produce::TxRejection;
pub use query::{AccountView, Status};
pub use state::{ChainSetup, ChainState, TxFailure, TxOutcome};
pub use types::{
    AccountId, Block, ChainEvent, ChainMessage, ChainTimer, Endorsement, SignedTransaction,
    Transfer, ValidatorId,
};
