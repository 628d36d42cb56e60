//! An adapter that runs the `raft` crate (tikv raft-rs 0.7, its `RawNode`) unchanged
//! inside detsim's engine, judged by the same invariants as our own Raft.
//!
//! raft-rs is sans-IO already: `step`, `tick` and `propose` go in, a `Ready` of
//! entries to persist, messages to send and entries to apply comes out. The adapter
//! ([`RaftRsNode`]) supplies what raft-rs leaves to its application:
//!
//! - **time**: one `RawNode::tick` every [`RaftRsConfig::tick_interval`] of virtual
//!   time, from a timer;
//! - **the network**: raft-rs's protobuf messages travel unchanged as
//!   [`RaftRsMessage`]s; node `NodeId(i)` is raft id `i + 1`;
//! - **the disk**: each `Ready`'s entries and hard state are written to the simulated
//!   disk and synced before the messages that depend on them leave; a restarted
//!   replica rebuilds raft-rs's `MemStorage` from the disk (see `storage`);
//! - **the state machine**: committed entries are [`Command`](crate::raft::Command)s
//!   applied to a `BTreeMap` key-value store, with the client interface of our own
//!   Raft ([`RaftRsNode::submit`]);
//! - **what the checkers see**: the same [`RaftEvent`](crate::raft::RaftEvent)s and
//!   [`RaftView`](crate::raft::RaftView), so [`crate::raft::checks::install`] and
//!   [`crate::raft::record_history`] work unchanged on a `Sim<RaftRsNode>`;
//! - **determinism**: raft-rs draws its election timeouts from the operating system's
//!   randomness; the adapter replaces each draw with one from the replica's seeded
//!   stream, through raft-rs's public API, without changing its behaviour otherwise.
//!   Why and how: see the `timeout` module ([`RaftRsConfig::seeded_election_timeouts`]).
//!
//! ```
//! use node_model::raft::{self, Workload};
//! use node_model::raft_rs::{self as raft_rs, RaftRsConfig};
//! use sim_core::{SimDuration, SimTime};
//!
//! let mut sim = raft_rs::cluster(7, 3, &RaftRsConfig::default());
//! raft::checks::install(&mut sim);
//! let history = raft::record_history(&mut sim);
//! let workload = Workload::new(SimTime::from_secs(1), SimTime::from_secs(3));
//! workload.schedule(&mut sim);
//! sim.run_for(SimDuration::from_secs(4)).expect("no violation");
//! let report = history.check().expect("linearizable");
//! assert!(report.completed > 50, "{report:?}");
//! ```

mod cluster;
mod config;
mod message;
mod node;
mod ready;
mod storage;
mod timeout;

pub use cluster::{cluster, cluster_with, replicas};
pub use config::RaftRsConfig;
pub use message::RaftRsMessage;
pub use node::{RaftRsNode, RaftRsTimer};
