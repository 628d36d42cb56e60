//! The benchmark workloads (W1 ping-pong, W2 gossip, W3 timers, and the
//! proof-of-stake chain; see docs/performance.md), written as
//! ordinary nodes against sim-core's public API and run by the real engine: network
//! model, interceptor chain, check hook and trace hashing all in place, no fast path.
//!
//! The `detsim-bench` binary runs one workload and prints a `RESULT` line;
//! `baseline-bench` runs W1–W3 on a bare event loop, and `benches/compare` compares the
//! two. The criterion benchmarks in `benches/` time the engine's pieces.

#![deny(missing_docs)]

pub mod chain;
pub mod workloads;

/// The crate's README, so that `cargo test --doc` runs its examples.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct Readme;
