//! Raft: a replicated key-value log, its invariants, and a linearizability checker.
//!
//! - [`RaftNode`]: our own Raft replica, a sans-IO state machine for sim-core's engine
//!   (elections, replication, commitment, a key-value store, persistence to the
//!   simulated disk);
//! - [`view`]: what every Raft implementation shows the checkers ([`RaftView`] and
//!   [`RaftEvent`]), ours and the adapter around the `raft` crate alike;
//! - [`checks`]: Raft's four safety properties as invariants;
//! - [`history`]: client histories and a bounded linearizability checker;
//! - [`cluster`](mod@cluster): a simulated cluster and a client workload;
//! - [`canary`]: a planted bug the harness must catch, and its fixed twin.

pub mod canary;
pub mod checks;
pub mod cluster;
mod config;
mod election;
pub mod history;
mod linearizability;
mod log;
pub(crate) mod machine;
mod message;
mod node;
mod replication;
pub(crate) mod storage;
pub mod view;

pub use canary::{CANARY_SEEDS, VoteSync, canary_run};
pub use cluster::{Offer, Replica, Workload, cluster, cluster_with, replicas};
pub use config::RaftConfig;
pub use election::{EVENT_BECAME_LEADER, EVENT_VOTED, EVENTS};
pub use history::{
    CheckReport, History, HistoryHandle, LinearizabilityError, Operation, record_history,
};
pub use message::RaftMessage;
pub use node::{NotLeader, RaftNode, RaftTimer};
pub use storage::StorageError;
pub use view::{Command, Key, LogEntry, Op, RaftEvent, RaftView, RequestId, Role, Value};
