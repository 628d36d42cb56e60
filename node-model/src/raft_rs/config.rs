//! The settings of one raft-rs replica: the tick, raft-rs's own knobs in ticks, and
//! the switch that keeps elections deterministic.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// How a [`super::RaftRsNode`] paces the raft crate's `RawNode`, and which of its
/// options it turns on.
///
/// raft-rs counts time in ticks: the node calls `RawNode::tick` once every
/// `tick_interval` of its virtual clock. The defaults give the Raft paper's pacing
/// with 10 ms ticks: elections time out after a random 150–300 ms (15–29 ticks),
/// leaders send a heartbeat every 30 ms. Pre-vote and check-quorum are on, as TiKV
/// runs raft-rs in production. Check user input with [`RaftRsConfig::validate`]; a
/// replica built from an invalid config panics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftRsConfig {
    /// The virtual time between two `RawNode::tick` calls.
    pub tick_interval: SimDuration,
    /// raft-rs's `election_tick`: a follower that hears from no leader for a random
    /// number of ticks in `election_ticks..2 * election_ticks` stands for election.
    pub election_ticks: u32,
    /// raft-rs's `heartbeat_tick`: a leader sends heartbeats every this many ticks.
    pub heartbeat_ticks: u32,
    /// raft-rs's `pre_vote`: ask whether an election could be won before starting one,
    /// so that a replica cut off from the others does not disrupt them on its return.
    pub pre_vote: bool,
    /// raft-rs's `check_quorum`: a leader that has not heard from a quorum for an
    /// election timeout steps down.
    pub check_quorum: bool,
    /// raft-rs's `max_size_per_msg`: the most bytes of entries one append carries, so
    /// that a lagging follower catches up in bounded messages.
    pub message_bytes_max: u64,
    /// raft-rs's `max_inflight_msgs`: the most appends in flight to one follower.
    pub inflight_messages_max: u32,
    /// Replace every election timeout that raft-rs draws with one drawn from the
    /// replica's seeded stream (default: on).
    ///
    /// raft-rs 0.7 draws its randomized election timeouts from `rand::thread_rng()`,
    /// randomness seeded by the operating system. The timeout decides when a follower
    /// stands for election, so without this two runs of the same seed elect different
    /// replicas at different times and diverge at the first election: no failure could
    /// be replayed. With it, after every call into the `RawNode` that changed the
    /// replica's (term, role) (which is when raft-rs redraws), the adapter overwrites
    /// the timeout through raft-rs's public `set_randomized_election_timeout`, with a
    /// draw in raft-rs's own range; raft-rs then behaves as if the draw had been its
    /// own. Turn it off only to show what goes wrong.
    pub seeded_election_timeouts: bool,
}

impl Default for RaftRsConfig {
    fn default() -> Self {
        RaftRsConfig {
            tick_interval: SimDuration::from_millis(10),
            election_ticks: 15,
            heartbeat_ticks: 3,
            pre_vote: true,
            check_quorum: true,
            message_bytes_max: 64 * 1024,
            inflight_messages_max: 256,
            seeded_election_timeouts: true,
        }
    }
}

impl RaftRsConfig {
    /// Checks the settings, returning what is wrong and what to change, in words.
    pub fn validate(&self) -> Result<(), String> {
        if self.tick_interval == SimDuration::ZERO {
            return Err("tick_interval must be greater than zero".to_string());
        }
        self.raft_config(1)
            .validate()
            .map_err(|error| format!("raft-rs rejects the settings: {error}"))
    }

    /// The raft crate's config for the replica with raft id `id` (not zero). The
    /// randomized election timeout stays in raft-rs's default range,
    /// `election_ticks..2 * election_ticks`.
    pub(crate) fn raft_config(&self, id: u64) -> raft::Config {
        raft::Config {
            id,
            election_tick: as_usize(self.election_ticks),
            heartbeat_tick: as_usize(self.heartbeat_ticks),
            // Restarted replicas re-apply their log from the start: the key-value store
            // is volatile, like our own Raft's.
            applied: 0,
            max_size_per_msg: self.message_bytes_max,
            max_inflight_msgs: as_usize(self.inflight_messages_max),
            check_quorum: self.check_quorum,
            pre_vote: self.pre_vote,
            ..raft::Config::default()
        }
    }
}

fn as_usize(count: u32) -> usize {
    usize::try_from(count).expect("a u32 fits in a usize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_validate_and_time_out_after_150_to_300_ms() {
        let config = RaftRsConfig::default();
        assert_eq!(config.validate(), Ok(()));
        let raft = config.raft_config(1);
        let tick_ms = config.tick_interval.as_nanos() / 1_000_000;
        assert_eq!(raft.min_election_tick() as u64 * tick_ms, 150);
        assert_eq!(raft.max_election_tick() as u64 * tick_ms, 300);
    }

    #[test]
    fn a_heartbeat_as_slow_as_the_election_timeout_is_refused_by_raft_rs() {
        let config = RaftRsConfig {
            heartbeat_ticks: 15,
            ..RaftRsConfig::default()
        };
        let error = config.validate().unwrap_err();
        assert!(error.contains("election tick"), "{error}");
    }
}
