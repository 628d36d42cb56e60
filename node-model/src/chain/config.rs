//! How a test cluster of the chain is configured: the way blockchain teams configure
//! a local cluster (validators, observers, shards, genesis overrides, per-node overrides).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;
use thiserror::Error;

use crate::chain::adversary::Adversary;

/// The genesis parameters every node agrees on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Genesis {
    /// Identifies the chain; keys and the producer schedule derive from it.
    pub chain_id: u64,
    /// Blocks (heights) per epoch.
    pub epoch_length: u64,
    /// A validator that produced less than this percentage of its expected blocks in an
    /// epoch is removed from the next epoch's validator set.
    pub kickout_threshold_percent: u32,
    /// The time between blocks.
    pub block_time: SimDuration,
    /// The stake of each validator, in validator order. Missing entries default to
    /// `default_stake`.
    pub stakes: Vec<u64>,
    /// The stake of a validator not listed in `stakes`.
    pub default_stake: u64,
    /// Account balances at genesis (validators' own accounts get `default_balance`).
    pub balances: BTreeMap<String, u64>,
    /// The balance of each validator's account unless `balances` names it.
    pub default_balance: u64,
    /// The most transactions a block includes per shard.
    pub max_txs_per_chunk: u32,
    /// How far in the future (by the receiver's clock) a block's timestamp may be.
    pub max_clock_drift: SimDuration,
    /// Kick-outs never shrink the validator set below this many (the best producers
    /// stay); `None` means two thirds of the genesis validators, rounded up.
    pub min_validators: Option<u32>,
}

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            chain_id: 1,
            epoch_length: 20,
            kickout_threshold_percent: 60,
            block_time: SimDuration::from_secs(1),
            stakes: Vec::new(),
            default_stake: 100,
            balances: BTreeMap::from([
                ("alice".to_string(), 1_000_000),
                ("bob".to_string(), 1_000_000),
                ("carol".to_string(), 1_000_000),
            ]),
            default_balance: 1_000,
            max_txs_per_chunk: 100,
            max_clock_drift: SimDuration::from_secs(5),
            min_validators: None,
        }
    }
}

/// Settings of one node that differ from everyone else's, by node index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeOverrides {
    /// Extra delay before producing a block (a slow producer).
    pub produce_delay: Option<SimDuration>,
    /// `false` for a validator that never endorses blocks (misconfigured, not malicious).
    pub endorse: Option<bool>,
    /// Blocks per sync response.
    pub sync_batch: Option<u32>,
    /// The most transactions the mempool holds.
    pub mempool_capacity: Option<usize>,
    /// Byzantine behaviour, requested by name; needs the `adversarial` feature.
    pub adversary: Option<Adversary>,
}

/// A whole cluster: who runs, with which genesis and which per-node settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainConfig {
    /// Block producers with stake: nodes `0..validators`.
    pub validators: u32,
    /// Nodes that follow the chain without voting: the nodes after the validators.
    pub observers: u32,
    /// Shards the accounts are split into.
    pub shards: u32,
    /// Genesis parameters.
    pub genesis: Genesis,
    /// Per-node settings, by node index.
    pub overrides: BTreeMap<u32, NodeOverrides>,
}

impl Default for ChainConfig {
    /// Four validators, no observers, one shard, default genesis.
    fn default() -> Self {
        ChainConfig {
            validators: 4,
            observers: 0,
            shards: 1,
            genesis: Genesis::default(),
            overrides: BTreeMap::new(),
        }
    }
}

/// A configuration that cannot run, and why.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A value is out of range.
    #[error("{field} = {value}: {expected}")]
    OutOfRange {
        /// The offending setting.
        field: &'static str,
        /// Its value.
        value: String,
        /// What would be right.
        expected: &'static str,
    },
    /// An override names a node that does not exist.
    #[error("overrides name node {index}, but the cluster has {nodes} nodes (0..{nodes})")]
    UnknownNode {
        /// The index named.
        index: u32,
        /// How many nodes there are.
        nodes: u32,
    },
    /// An adversary was requested without the `adversarial` feature, or for a node
    /// that cannot play it.
    #[error("{0}")]
    Adversary(String),
}

impl ChainConfig {
    /// The total number of nodes.
    pub fn node_count(&self) -> u32 {
        self.validators + self.observers
    }

    /// The name of node `index`: `validator-<i>` or `observer-<j>`.
    pub fn node_name(&self, index: u32) -> String {
        if index < self.validators {
            format!("validator-{index}")
        } else {
            format!("observer-{}", index - self.validators)
        }
    }

    /// The stake of validator `index`.
    pub fn stake(&self, index: u32) -> u64 {
        let stakes = &self.genesis.stakes;
        stakes
            .get(index as usize)
            .copied()
            .unwrap_or(self.genesis.default_stake)
    }

    /// The fewest validators kick-outs may leave.
    pub fn min_validators(&self) -> u32 {
        self.genesis
            .min_validators
            .unwrap_or((2 * self.validators).div_ceil(3))
            .clamp(1, self.validators)
    }

    /// The overrides of node `index` (defaults if none).
    pub fn overrides_of(&self, index: u32) -> NodeOverrides {
        self.overrides.get(&index).cloned().unwrap_or_default()
    }

    /// Checks that the configuration can run; says what to change if not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let out_of_range = |field, value: &dyn fmt::Display, expected| {
            Err(ConfigError::OutOfRange {
                field,
                value: value.to_string(),
                expected,
            })
        };
        if !(1..=100).contains(&self.validators) {
            return out_of_range("validators", &self.validators, "between 1 and 100");
        }
        if self.observers > 100 {
            return out_of_range("observers", &self.observers, "at most 100");
        }
        if !(1..=16).contains(&self.shards) {
            return out_of_range("shards", &self.shards, "between 1 and 16");
        }
        self.validate_genesis()?;
        for (&index, overrides) in &self.overrides {
            if index >= self.node_count() {
                return Err(ConfigError::UnknownNode {
                    index,
                    nodes: self.node_count(),
                });
            }
            if let Some(adversary) = overrides.adversary {
                adversary.check_allowed(index < self.validators)?;
            }
        }
        Ok(())
    }

    fn validate_genesis(&self) -> Result<(), ConfigError> {
        let genesis = &self.genesis;
        let out_of_range = |field, value: &dyn fmt::Display, expected| {
            Err(ConfigError::OutOfRange {
                field,
                value: value.to_string(),
                expected,
            })
        };
        if genesis.epoch_length < 2 {
            return out_of_range("genesis.epoch_length", &genesis.epoch_length, "at least 2");
        }
        if genesis.kickout_threshold_percent > 100 {
            return out_of_range(
                "genesis.kickout_threshold_percent",
                &genesis.kickout_threshold_percent,
                "a percentage between 0 and 100",
            );
        }
        if genesis.block_time < SimDuration::from_millis(1) {
            return out_of_range("genesis.block_time", &genesis.block_time, "at least 1 ms");
        }
        if genesis.stakes.len() > self.validators as usize {
            return out_of_range(
                "genesis.stakes",
                &genesis.stakes.len(),
                "at most one stake per validator",
            );
        }
        if (0..self.validators).any(|v| self.stake(v) == 0) {
            return out_of_range(
                "genesis.stakes",
                &0,
                "every validator needs a positive stake",
            );
        }
        if genesis.max_txs_per_chunk == 0 {
            return out_of_range("genesis.max_txs_per_chunk", &0, "at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cluster_is_valid() {
        assert_eq!(ChainConfig::default().validate(), Ok(()));
    }

    #[test]
    fn bad_values_say_what_would_be_right() {
        let config = ChainConfig {
            validators: 0,
            ..ChainConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert_eq!(error, "validators = 0: between 1 and 100");
        let mut config = ChainConfig::default();
        config.genesis.kickout_threshold_percent = 150;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("percentage")
        );
    }

    #[test]
    fn overrides_must_name_existing_nodes() {
        let mut config = ChainConfig::default();
        config.overrides.insert(9, NodeOverrides::default());
        let error = config.validate().unwrap_err();
        assert_eq!(error, ConfigError::UnknownNode { index: 9, nodes: 4 });
    }

    #[test]
    fn names_follow_the_roles() {
        let config = ChainConfig {
            observers: 2,
            ..ChainConfig::default()
        };
        assert_eq!(config.node_name(3), "validator-3");
        assert_eq!(config.node_name(5), "observer-1");
    }
}
