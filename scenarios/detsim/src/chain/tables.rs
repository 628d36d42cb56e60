//! The chain's scenario tables, exactly as written.

use std::collections::BTreeMap;

use scenarios::{Spanned, Text};
use serde::{Deserialize, Serialize};

/// `[cluster]`: who runs, with which settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainCluster {
    /// Block producers with stake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validators: Option<Spanned<u32>>,
    /// Nodes that follow without voting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observers: Option<Spanned<u32>>,
    /// Shards the accounts are split into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<Spanned<u32>>,
    /// Genesis overrides.
    #[serde(default, skip_serializing_if = "Genesis::is_empty")]
    pub genesis: Genesis,
    /// Per-node overrides, by node name (`[cluster.nodes."validator-2"]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub nodes: BTreeMap<String, Spanned<NodeSettings>>,
}

/// `[cluster.genesis]`; every field optional (preset, then defaults, fill in).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Genesis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch_length: Option<Spanned<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kickout_threshold_percent: Option<Spanned<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_time: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stakes: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_stake: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_balance: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_txs_per_chunk: Option<Spanned<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_clock_drift: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_validators: Option<Spanned<u32>>,
}

impl Genesis {
    fn is_empty(&self) -> bool {
        toml::to_string(self).is_ok_and(|text| text.trim().is_empty())
    }
}

/// `[cluster.nodes."<name>"]`: settings of one node.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NodeSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produce_delay: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorse: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_batch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mempool_capacity: Option<usize>,
    /// A byzantine behaviour by name (needs a build with `--features adversarial`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adversary: Option<Text>,
}

/// `[workload]`: signed transfers between accounts.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainWorkload {
    /// Transfers per second.
    pub rate: Option<Spanned<f64>>,
    /// The first submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Text>,
    /// The last submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Text>,
    /// Who sends and receives (default: every genesis account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<Text>>,
    /// The largest amount of one transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_max: Option<u64>,
}

/// `[[checks.final]]`: exactly one assertion on the end state.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFinal {
    /// Every running node's final height is at least this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_final_height: Option<u64>,
    /// Every running node holds the same final block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// This account's balance at the final block, on every running node...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Text>,
    /// ...equals this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<u64>,
    /// The validator set of the head's epoch has this many members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validators: Option<usize>,
    /// This node is no longer a validator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kicked_out: Option<Text>,
}

/// `[[checks.sometimes]]`: exactly one situation that must be reached.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSometimes {
    /// An adversary carried out this attack (its name, e.g. `"equivocate"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack: Option<Text>,
    /// A node rejected something for this reason (e.g. `"wrong producer"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Text>,
}
