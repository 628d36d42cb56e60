//! What Raft replicas send each other: the two RPCs of the Raft paper and their replies.
//!
//! Every message carries its sender's term; a replica that sees a higher term adopts it
//! and becomes a follower before it looks at anything else. Replies carry what the
//! sender needs without remembering what it asked, so that lost, duplicated and
//! reordered messages are all harmless.

use serde::{Deserialize, Serialize};

use super::view::LogEntry;

/// A message between two Raft replicas.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftMessage {
    /// A candidate asks for a vote in `term`.
    RequestVote {
        /// The candidate's term.
        term: u64,
        /// The index of the candidate's last log entry.
        last_log_index: u64,
        /// The term of the candidate's last log entry (0 for an empty log).
        last_log_term: u64,
    },
    /// The answer to a [`RaftMessage::RequestVote`].
    Vote {
        /// The voter's term (after it saw the request).
        term: u64,
        /// Whether the voter voted for the candidate.
        granted: bool,
    },
    /// A leader replicates entries (none, for a heartbeat) and tells how far it has
    /// committed.
    AppendEntries {
        /// The leader's term.
        term: u64,
        /// The index of the entry just before `entries`.
        prev_log_index: u64,
        /// The term of that entry (0 when `prev_log_index` is 0).
        prev_log_term: u64,
        /// The entries to store after `prev_log_index`, in order.
        entries: Vec<LogEntry>,
        /// The leader's commit index.
        leader_commit: u64,
    },
    /// The answer to a [`RaftMessage::AppendEntries`].
    AppendReply {
        /// The follower's term (after it saw the append).
        term: u64,
        /// Whether the follower's log matched at `prev_log_index` and now holds the
        /// entries.
        success: bool,
        /// On success, the index up to which the follower's log is known to match the
        /// leader's. On failure, an index below the rejected `prev_log_index` from
        /// which the leader should try again (the follower's last index if its log is
        /// too short).
        index: u64,
    },
    /// With `pre_vote`: would the receiver vote for the sender in `term` (one above the
    /// sender's own)? Nobody adopts the term of a pre-vote or its answer.
    PreVote {
        /// The term the sender would stand in.
        term: u64,
        /// The index of the sender's last log entry.
        last_log_index: u64,
        /// The term of the sender's last log entry (0 for an empty log).
        last_log_term: u64,
    },
    /// The answer to a [`RaftMessage::PreVote`].
    PreVoteReply {
        /// The term asked about if `granted`, else the receiver's own term.
        term: u64,
        /// Whether the receiver would vote.
        granted: bool,
    },
}

impl RaftMessage {
    /// The sender's term.
    pub fn term(&self) -> u64 {
        match *self {
            RaftMessage::RequestVote { term, .. }
            | RaftMessage::Vote { term, .. }
            | RaftMessage::AppendEntries { term, .. }
            | RaftMessage::AppendReply { term, .. }
            | RaftMessage::PreVote { term, .. }
            | RaftMessage::PreVoteReply { term, .. } => term,
        }
    }

    /// Every kind, as [`RaftMessage::kind`] names them (raft-rs's messages map onto the
    /// same names).
    pub const KINDS: [&'static str; 6] = [
        "RequestVote",
        "Vote",
        "AppendEntries",
        "AppendReply",
        "PreVote",
        "PreVoteReply",
    ];

    /// Its kind, for traces and for faults that strike after a given kind.
    pub fn kind(&self) -> &'static str {
        match self {
            RaftMessage::RequestVote { .. } => "RequestVote",
            RaftMessage::Vote { .. } => "Vote",
            RaftMessage::AppendEntries { .. } => "AppendEntries",
            RaftMessage::AppendReply { .. } => "AppendReply",
            RaftMessage::PreVote { .. } => "PreVote",
            RaftMessage::PreVoteReply { .. } => "PreVoteReply",
        }
    }

    /// Is it a pre-vote or its answer, whose term nobody adopts?
    pub fn is_pre_vote(&self) -> bool {
        matches!(
            self,
            RaftMessage::PreVote { .. } | RaftMessage::PreVoteReply { .. }
        )
    }
}
