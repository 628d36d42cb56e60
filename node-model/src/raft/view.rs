//! What every Raft implementation shows the checkers, whoever wrote it.
//!
//! Our own Raft ([`super::RaftNode`]) and the adapter around the `raft` crate both
//! implement [`RaftView`] and report [`RaftEvent`]s as observations, so one set of
//! invariants ([`super::checks`]) and one linearizability checker
//! ([`super::history`]) judge both.

use std::fmt;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

/// A replica's role in its current term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asks for votes (raft-rs's pre-candidates count as candidates).
    Candidate,
    /// Leads its term.
    Leader,
}

/// A key of the replicated key-value store.
pub type Key = u32;
/// A value of the replicated key-value store.
pub type Value = u64;

/// A client operation on the key-value store. Reads go through the log, so they are
/// linearizable like writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: Key,
        /// The new value.
        value: Value,
    },
    /// Read `key`.
    Get {
        /// The key.
        key: Key,
    },
}

impl Op {
    /// The key the operation touches.
    pub fn key(&self) -> Key {
        match *self {
            Op::Put { key, .. } | Op::Get { key } => key,
        }
    }
}

/// Identifies one client request across retries: the client and its request number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    /// The client.
    pub client: u32,
    /// The client's request number, unique per client.
    pub sequence: u64,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}#{}", self.client, self.sequence)
    }
}

/// A command in the replicated log: one client request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Command {
    /// Who asked, for deduplication and replies.
    pub request: RequestId,
    /// What to do.
    pub op: Op,
}

/// An entry of a replica's log, as the checkers compare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEntry {
    /// The term in which a leader created the entry.
    pub term: u64,
    /// The command, or `None` for an entry without one (a leader's no-op).
    pub command: Option<Command>,
}

/// What a Raft replica reports to the checkers, as observations.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftEvent {
    /// The replica became leader of `term`.
    BecameLeader {
        /// The term it leads.
        term: u64,
    },
    /// The replica applied the entry at `index` to its state machine.
    Applied {
        /// The log index.
        index: u64,
        /// The entry.
        entry: LogEntry,
    },
    /// A client request reached the replica (the invocation, for the history).
    Invoked {
        /// The request.
        request: RequestId,
        /// Its operation.
        op: Op,
    },
    /// The replica answered a client request after applying it.
    Returned {
        /// The request.
        request: RequestId,
        /// For a read, the value read (`None` if the key was never written); for a
        /// write, `None`.
        value: Option<Value>,
    },
}

/// A read-only view of a Raft replica, for invariants.
pub trait RaftView {
    /// The replica's current term.
    fn term(&self) -> u64;
    /// The replica's role.
    fn role(&self) -> Role;
    /// The highest log index known to be committed.
    fn commit_index(&self) -> u64;
    /// The index of the last entry in the log (0 if empty).
    fn last_index(&self) -> u64;
    /// The entry at `index` (from 1), if the log holds it.
    fn entry(&self, index: u64) -> Option<LogEntry>;
    /// The leader of the current term, if the replica knows it (itself when leading).
    fn leader_hint(&self) -> Option<NodeId>;
}
