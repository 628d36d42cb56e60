//! The settings of one Raft replica: its timeouts, its batch size, and the canary switch.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::canary::VoteSync;

/// How a [`super::RaftNode`] paces itself, and whether it carries the planted bug.
///
/// The defaults are the Raft paper's: elections time out after a random 150–300 ms,
/// leaders send a heartbeat every 50 ms. Check user input with
/// [`RaftConfig::validate`]; a replica built from an invalid config panics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftConfig {
    /// The shortest time a follower waits without hearing from a leader before it
    /// stands for election.
    pub election_timeout_min: SimDuration,
    /// The longest such wait; each wait is drawn uniformly between the two bounds from
    /// the replica's own random stream, so that split votes do not repeat forever.
    pub election_timeout_max: SimDuration,
    /// How often a leader sends appends (empty ones are heartbeats), and how often a
    /// candidate asks again the peers that have not granted it their vote.
    pub heartbeat_interval: SimDuration,
    /// The most log entries one append carries, so that a lagging follower catches up
    /// in bounded messages.
    pub entries_per_append_max: u64,
    /// When a vote is made durable: the correct [`VoteSync::BeforeReply`] or the
    /// planted bug [`VoteSync::AfterReply`] (see [`super::canary`]).
    pub vote_sync: VoteSync,
    /// Whether a leader steps down when no quorum has answered it for the longest
    /// election timeout (raft-rs's `check_quorum`). Off by default, as in the Raft
    /// paper: a leader whose answers are cut off then keeps its followers from electing
    /// another, which `[checks.while_connected]` reports as a liveness failure.
    pub check_quorum: bool,
    /// Whether a replica first asks if it could win an election before it stands in a
    /// new term (raft-rs's `pre_vote`), and says no while it hears from a leader. Off by
    /// default, as in the Raft paper: a replica whose answers are cut off then keeps
    /// raising the term and deposing every leader the others elect.
    pub pre_vote: bool,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout_min: SimDuration::from_millis(150),
            election_timeout_max: SimDuration::from_millis(300),
            heartbeat_interval: SimDuration::from_millis(50),
            entries_per_append_max: 64,
            vote_sync: VoteSync::BeforeReply,
            check_quorum: false,
            pre_vote: false,
        }
    }
}

impl RaftConfig {
    /// Checks the settings, returning what is wrong and what to change, in words.
    pub fn validate(&self) -> Result<(), String> {
        if self.election_timeout_min == SimDuration::ZERO {
            return Err("election_timeout_min must be greater than zero".to_string());
        }
        if self.election_timeout_min > self.election_timeout_max {
            return Err(format!(
                "election_timeout_min ({}) is greater than election_timeout_max ({})",
                self.election_timeout_min, self.election_timeout_max
            ));
        }
        if self.heartbeat_interval == SimDuration::ZERO {
            return Err("heartbeat_interval must be greater than zero".to_string());
        }
        if self.heartbeat_interval >= self.election_timeout_min {
            return Err(format!(
                "heartbeat_interval ({}) must be shorter than election_timeout_min ({}), \
                 or followers time out between heartbeats",
                self.heartbeat_interval, self.election_timeout_min
            ));
        }
        if self.entries_per_append_max == 0 {
            return Err("entries_per_append_max must be at least 1".to_string());
        }
        Ok(())
    }
}
