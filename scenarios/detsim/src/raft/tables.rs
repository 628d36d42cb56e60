//! Raft's scenario tables, exactly as written.

use scenarios::{Spanned, Text};
use serde::{Deserialize, Serialize};

/// `[cluster]`: the replicas and their settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RaftCluster {
    /// The number of replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Spanned<u32>>,
    /// Protocol settings.
    #[serde(default, skip_serializing_if = "RaftSettings::is_empty")]
    pub raft: RaftSettings,
}

/// `[cluster.raft]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RaftSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election_timeout_min: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election_timeout_max: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval: Option<Text>,
    /// `"before_reply"` (correct) or `"after_reply"` (the canary's planted bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote_sync: Option<Text>,
    /// A leader steps down when no quorum has answered it for an election timeout
    /// (detsim-raft; raft-rs always checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_quorum: Option<bool>,
    /// A replica asks whether it could win before it raises the term (detsim-raft;
    /// raft-rs always asks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_vote: Option<bool>,
}

impl RaftSettings {
    fn is_empty(&self) -> bool {
        self.election_timeout_min.is_none()
            && self.election_timeout_max.is_none()
            && self.heartbeat_interval.is_none()
            && self.vote_sync.is_none()
            && self.check_quorum.is_none()
            && self.pre_vote.is_none()
    }
}

/// `[workload]`: puts and gets on a few keys.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RaftWorkload {
    /// Requests per second.
    pub rate: Option<Spanned<f64>>,
    /// The first request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Text>,
    /// The last request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Text>,
    /// How many keys clients touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Spanned<u32>>,
    /// The share of reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads_percent: Option<Spanned<u32>>,
    /// How many clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Spanned<u32>>,
}

/// `[[checks.final]]`: exactly one assertion on the end state.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RaftFinal {
    /// Every running replica has committed the same log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// At least this many client requests completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_completed: Option<u64>,
}
