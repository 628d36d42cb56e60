//! # node-model: the protocols detsim runs
//!
//! Realistic node state machines for sim-core's engine, each with the invariants that
//! catch its failures:
//!
//! - [`chain`]: a proof-of-stake chain in the image of the node software blockchain
//!   teams test today (validators and observers, shards, stake-weighted producers,
//!   BFT finality, epochs with kick-out, signed nonce-checked transfers, block sync);
//! - [`raft`]: Raft, a replicated key-value log with linearizable clients;
//! - `raft_rs` (feature `raft-rs`): an adapter that runs the `raft` crate's `RawNode`
//!   unchanged inside the engine.

#![deny(missing_docs)]

pub mod chain;
pub mod crypto;
pub mod raft;
#[cfg(feature = "raft-rs")]
pub mod raft_rs;
#[cfg(feature = "proptest")]
pub mod strategy;
