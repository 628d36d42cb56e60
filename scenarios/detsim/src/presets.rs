//! Configuration presets: named key-value sets (`minimal`, `mainnet`) that chain and Raft
//! scenarios build on (`preset = "minimal"`), in the manner of consensus-spec test
//! configs. Keys are only ever added, so an old scenario keeps meaning what it meant.

use node_model::chain::ChainConfig;
use node_model::raft::RaftConfig;
use scenarios::units::parse_duration;
use serde::Deserialize;

/// A preset's values.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Chain values.
    pub chain: ChainPreset,
    /// Raft values.
    pub raft: RaftPreset,
}

/// A preset's chain values.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ChainPreset {
    pub validators: u32,
    pub observers: u32,
    pub shards: u32,
    pub epoch_length: u64,
    pub block_time: String,
    pub kickout_threshold_percent: u32,
    pub max_txs_per_chunk: u32,
    pub max_clock_drift: String,
}

/// A preset's Raft values.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RaftPreset {
    pub replicas: u32,
    pub election_timeout_min: String,
    pub election_timeout_max: String,
    pub heartbeat_interval: String,
}

/// The presets, by name.
const PRESETS: [(&str, &str); 2] = [
    ("minimal", include_str!("../presets/minimal.toml")),
    ("mainnet", include_str!("../presets/mainnet.toml")),
];

/// The names of the presets.
pub const NAMES: [&str; 2] = ["minimal", "mainnet"];

impl Preset {
    /// The preset called `name`: one of [`NAMES`] (the scenario parser has checked).
    pub fn named(name: &str) -> Preset {
        let (_, text) = PRESETS
            .iter()
            .find(|&&(n, _)| n == name)
            .unwrap_or_else(|| panic!("no preset \"{name}\" (the parser checks preset names)"));
        toml::from_str(text).expect("built-in presets are valid")
    }

    /// Writes the preset's chain values into `config`.
    pub fn apply_chain(&self, config: &mut ChainConfig) {
        let chain = &self.chain;
        config.validators = chain.validators;
        config.observers = chain.observers;
        config.shards = chain.shards;
        config.genesis.epoch_length = chain.epoch_length;
        config.genesis.block_time = parse_duration(&chain.block_time).expect("built-in preset");
        config.genesis.kickout_threshold_percent = chain.kickout_threshold_percent;
        config.genesis.max_txs_per_chunk = chain.max_txs_per_chunk;
        config.genesis.max_clock_drift =
            parse_duration(&chain.max_clock_drift).expect("built-in preset");
    }

    /// Writes the preset's Raft values into `config`; returns the replica count.
    pub fn apply_raft(&self, config: &mut RaftConfig) -> u32 {
        let raft = &self.raft;
        config.election_timeout_min =
            parse_duration(&raft.election_timeout_min).expect("built-in preset");
        config.election_timeout_max =
            parse_duration(&raft.election_timeout_max).expect("built-in preset");
        config.heartbeat_interval =
            parse_duration(&raft.heartbeat_interval).expect("built-in preset");
        raft.replicas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_yields_a_valid_cluster() {
        for (name, _) in PRESETS {
            assert!(NAMES.contains(&name));
            let preset = Preset::named(name);
            let mut chain = ChainConfig::default();
            preset.apply_chain(&mut chain);
            assert_eq!(chain.validate(), Ok(()), "{name}");
            let mut raft = RaftConfig::default();
            preset.apply_raft(&mut raft);
            assert_eq!(raft.validate(), Ok(()), "{name}");
        }
    }
}
