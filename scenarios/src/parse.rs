//! From scenario file to validated [`Scenario`]: strict, located, and all-or-nothing.
//!
//! TOML syntax errors, wrong types and unknown fields are caught by the TOML reader;
//! everything else (units, ranges, node and account names, time order, exactly one
//! action per fault) is checked here. Every error names the file, line and column,
//! what is wrong and what would be right. Nothing runs until the whole file is valid.

use std::ops::Range;
use std::path::Path;

use node_model::chain::{Adversary, ChainConfig, NodeOverrides};
use node_model::raft::RaftConfig;
use node_model::raft::canary::VoteSync;
use sim_core::{
    Chance, FaultSchedule, Latency, LinkConfig, LinkOverride, NetworkConfig, NodeId, SimDuration,
    SimTime, TieBreak,
};
use toml::Spanned;

use crate::error::InputError;
use crate::file::{LatencyFile, LinkSettings, ScenarioFile, Text};
use crate::model::{Cluster, Heal, Implementation, Protocol, Scenario};
use crate::preset::Preset;
use crate::units::{parse_chance, parse_duration};

mod checks;
mod faults;

/// Reads and validates the scenario file at `path`.
pub fn load_scenario(path: &Path) -> Result<Scenario, InputError> {
    let source = std::fs::read_to_string(path)
        .map_err(|error| InputError::new(format!("cannot read {}: {error}", path.display())))?;
    parse_scenario(&source, Some(path)).map_err(|error| error.in_file(path))
}

/// Parses and validates scenario text (`path` names the scenario when it has no name).
pub fn parse_scenario(source: &str, path: Option<&Path>) -> Result<Scenario, InputError> {
    let file: ScenarioFile =
        toml::from_str(source).map_err(|error| InputError::from_toml(source, &error))?;
    validate(file, source, path)
}

/// Validates a scenario already read from `source` (spans point into it).
pub fn validate(
    file: ScenarioFile,
    source: &str,
    path: Option<&Path>,
) -> Result<Scenario, InputError> {
    Parser { source }.scenario(file, path)
}

/// The validator: knows the source text, to locate errors.
pub(crate) struct Parser<'a> {
    pub(crate) source: &'a str,
}

impl Parser<'_> {
    pub(crate) fn error(&self, span: Range<usize>, message: impl Into<String>) -> InputError {
        InputError::at(self.source, span, message)
    }

    fn missing(&self, field: &str, example: &str) -> InputError {
        InputError::new(format!("missing required field `{field}`"))
            .with_help(format!("add `{example}`"))
    }

    pub(crate) fn duration(&self, text: &Text) -> Result<SimDuration, InputError> {
        parse_duration(text.get_ref()).map_err(|message| self.error(text.span(), message))
    }

    pub(crate) fn time(&self, text: &Text) -> Result<SimTime, InputError> {
        Ok(SimTime::ZERO + self.duration(text)?)
    }

    pub(crate) fn chance(&self, text: &Text) -> Result<Chance, InputError> {
        parse_chance(text.get_ref()).map_err(|message| self.error(text.span(), message))
    }

    /// A signed duration in nanoseconds (`"-500ms"`).
    pub(crate) fn offset(&self, text: &Text) -> Result<i64, InputError> {
        let raw = text.get_ref().trim();
        let (sign, magnitude) = match raw.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let nanos =
            parse_duration(magnitude).map_err(|message| self.error(text.span(), message))?;
        i64::try_from(nanos.as_nanos())
            .map(|n| sign * n)
            .map_err(|_| self.error(text.span(), "clock offset too large"))
    }

    pub(crate) fn range<T: Copy + PartialOrd + std::fmt::Display>(
        &self,
        value: &Spanned<T>,
        range: std::ops::RangeInclusive<T>,
        what: &str,
    ) -> Result<T, InputError> {
        let inner = *value.get_ref();
        if range.contains(&inner) {
            Ok(inner)
        } else {
            Err(self
                .error(value.span(), format!("{what} = {inner} is out of range"))
                .with_help(format!(
                    "use a value between {} and {}",
                    range.start(),
                    range.end()
                )))
        }
    }

    fn scenario(&self, file: ScenarioFile, path: Option<&Path>) -> Result<Scenario, InputError> {
        let protocol_text = file
            .protocol
            .as_ref()
            .ok_or_else(|| self.missing("protocol", "protocol = \"chain\""))?;
        let protocol: Protocol = protocol_text
            .get_ref()
            .parse()
            .map_err(|m: String| self.error(protocol_text.span(), m))?;
        let preset = match &file.preset {
            Some(name) => {
                Some(Preset::named(name.get_ref()).map_err(|m| self.error(name.span(), m))?)
            }
            None => None,
        };
        let duration_text = file
            .duration
            .as_ref()
            .ok_or_else(|| self.missing("duration", "duration = \"60s\""))?;
        let duration = self.duration(duration_text)?;
        if duration == SimDuration::ZERO {
            return Err(self.error(
                duration_text.span(),
                "the duration must be longer than zero",
            ));
        }
        let (cluster, node_names) = self.cluster(&file, protocol, preset.as_ref())?;
        let names = NodeNames(&node_names);
        let (network, tie_break) = self.network(&file, &names)?;
        let faults = self.faults(&file, &names, duration)?;
        let random_faults = self.random_faults(&file, protocol, duration)?;
        let workload = self.workload(&file, &cluster, duration)?;
        let checks = self.checks(&file, &cluster, &names, protocol)?;
        let heal = self.heal(&file)?;
        let implementations = self.implementations(&file, protocol)?;
        let name = file.name.clone().unwrap_or_else(|| {
            path.and_then(|p| p.file_stem()).map_or_else(
                || "scenario".to_string(),
                |stem| stem.to_string_lossy().into_owned(),
            )
        });
        Ok(Scenario {
            name,
            description: file.description.clone().unwrap_or_default(),
            tags: file.tags.clone(),
            path: path.map(Path::to_path_buf),
            protocol,
            implementations,
            preset: file.preset.as_ref().map(|p| p.get_ref().clone()),
            duration,
            node_names,
            cluster,
            network,
            tie_break,
            faults,
            random_faults,
            workload,
            checks,
            heal,
            file,
        })
    }

    fn implementations(
        &self,
        file: &ScenarioFile,
        protocol: Protocol,
    ) -> Result<Vec<Implementation>, InputError> {
        let Some(names) = &file.implementations else {
            return Ok(protocol.implementations().to_vec());
        };
        let mut implementations = Vec::new();
        for name in names {
            let implementation: Implementation = name
                .get_ref()
                .parse()
                .map_err(|m: String| self.error(name.span(), m))?;
            if implementation.protocol() != protocol {
                return Err(self.error(
                    name.span(),
                    format!(
                        "{implementation} implements {}, not {protocol}",
                        implementation.protocol()
                    ),
                ));
            }
            if !implementations.contains(&implementation) {
                implementations.push(implementation);
            }
        }
        if implementations.is_empty() {
            return Err(InputError::new("`implementations` is empty")
                .with_help("list at least one, or leave it out to run them all"));
        }
        Ok(implementations)
    }

    fn cluster(
        &self,
        file: &ScenarioFile,
        protocol: Protocol,
        preset: Option<&Preset>,
    ) -> Result<(Cluster, Vec<String>), InputError> {
        match protocol {
            Protocol::Chain => {
                let config = self.chain_cluster(file, preset)?;
                let names = (0..config.node_count())
                    .map(|i| protocol.node_name(i, config.validators))
                    .collect();
                let mut config = config;
                self.node_overrides(file, &mut config, &names)?;
                Ok((Cluster::Chain(config), names))
            }
            Protocol::Raft => {
                let (replicas, config) = self.raft_cluster(file, preset)?;
                let names = (0..replicas).map(|i| protocol.node_name(i, 0)).collect();
                if !file.cluster.nodes.is_empty() {
                    let (name, node) = file.cluster.nodes.iter().next().expect("not empty");
                    return Err(self.error(
                        node.span(),
                        format!(
                            "per-node overrides (here for \"{name}\") are only for chain scenarios"
                        ),
                    ));
                }
                Ok((Cluster::Raft { replicas, config }, names))
            }
        }
    }

    fn chain_cluster(
        &self,
        file: &ScenarioFile,
        preset: Option<&Preset>,
    ) -> Result<ChainConfig, InputError> {
        let mut config = ChainConfig::default();
        if let Some(preset) = preset {
            preset.apply_chain(&mut config);
        }
        let cluster = &file.cluster;
        for (field, value) in [("replicas", &cluster.replicas)] {
            if let Some(value) = value {
                return Err(self
                    .error(value.span(), format!("`{field}` is for raft scenarios"))
                    .with_help("chain clusters have `validators` and `observers`"));
            }
        }
        if let Some(v) = &cluster.validators {
            config.validators = self.range(v, 1..=100, "validators")?;
        }
        if let Some(o) = &cluster.observers {
            config.observers = self.range(o, 0..=100, "observers")?;
        }
        if let Some(s) = &cluster.shards {
            config.shards = self.range(s, 1..=16, "shards")?;
        }
        self.genesis(file, &mut config)?;
        Ok(config)
    }

    fn genesis(&self, file: &ScenarioFile, config: &mut ChainConfig) -> Result<(), InputError> {
        let g = &file.cluster.genesis;
        let genesis = &mut config.genesis;
        if let Some(id) = g.chain_id {
            genesis.chain_id = id;
        }
        if let Some(length) = &g.epoch_length {
            genesis.epoch_length = self.range(length, 2..=1_000_000, "epoch_length")?;
        }
        if let Some(threshold) = &g.kickout_threshold_percent {
            genesis.kickout_threshold_percent =
                self.range(threshold, 0..=100, "kickout_threshold_percent")?;
        }
        if let Some(time) = &g.block_time {
            genesis.block_time = self.duration(time)?;
            if genesis.block_time < SimDuration::from_millis(1) {
                return Err(self.error(time.span(), "block_time must be at least 1ms"));
            }
        }
        if let Some(stakes) = &g.stakes {
            genesis.stakes = stakes.clone();
        }
        if let Some(stake) = g.default_stake {
            genesis.default_stake = stake;
        }
        if let Some(balances) = &g.balances {
            genesis.balances = balances.clone();
        }
        if let Some(balance) = g.default_balance {
            genesis.default_balance = balance;
        }
        if let Some(max) = &g.max_txs_per_chunk {
            genesis.max_txs_per_chunk = self.range(max, 1..=100_000, "max_txs_per_chunk")?;
        }
        if let Some(drift) = &g.max_clock_drift {
            genesis.max_clock_drift = self.duration(drift)?;
        }
        if let Some(min) = &g.min_validators {
            genesis.min_validators =
                Some(self.range(min, 1..=config.validators, "min_validators")?);
        }
        config.validate().map_err(|error| {
            InputError::new(format!("cluster: {error}"))
                .with_help("see the [cluster] and [cluster.genesis] tables")
        })
    }

    fn node_overrides(
        &self,
        file: &ScenarioFile,
        config: &mut ChainConfig,
        names: &Vec<String>,
    ) -> Result<(), InputError> {
        for (name, node) in &file.cluster.nodes {
            let Some(index) = names.iter().position(|n| n == name) else {
                return Err(self
                    .error(node.span(), format!("unknown node \"{name}\""))
                    .with_help(NodeNames(names).listing()));
            };
            let node = node.get_ref();
            let mut overrides = NodeOverrides::default();
            if let Some(delay) = &node.produce_delay {
                overrides.produce_delay = Some(self.duration(delay)?);
            }
            overrides.endorse = node.endorse;
            overrides.sync_batch = node.sync_batch;
            overrides.mempool_capacity = node.mempool_capacity;
            if let Some(adversary) = &node.adversary {
                let parsed: Adversary = adversary
                    .get_ref()
                    .parse()
                    .map_err(|m: String| self.error(adversary.span(), m))?;
                if parsed.needs_validator() && index as u32 >= config.validators {
                    return Err(self.error(
                        adversary.span(),
                        format!(
                            "adversary `{parsed}` needs a validator, but {name} is an observer"
                        ),
                    ));
                }
                // Whether this build may run it is decided when a case runs (a build
                // without the `adversarial` feature refuses it as skipped, with how to
                // enable it), so that such scenarios still list and validate.
                overrides.adversary = Some(parsed);
            }
            config.overrides.insert(index as u32, overrides);
        }
        Ok(())
    }

    fn raft_cluster(
        &self,
        file: &ScenarioFile,
        preset: Option<&Preset>,
    ) -> Result<(u32, RaftConfig), InputError> {
        let cluster = &file.cluster;
        for (field, value) in [
            ("validators", &cluster.validators),
            ("observers", &cluster.observers),
            ("shards", &cluster.shards),
        ] {
            if let Some(value) = value {
                return Err(self
                    .error(value.span(), format!("`{field}` is for chain scenarios"))
                    .with_help("raft clusters have `replicas`"));
            }
        }
        let mut replicas = 3;
        let mut config = RaftConfig::default();
        if let Some(preset) = preset {
            replicas = preset.apply_raft(&mut config);
        }
        if let Some(r) = &cluster.replicas {
            replicas = self.range(r, 1..=15, "replicas")?;
        }
        let raft = &cluster.raft;
        if let Some(t) = &raft.election_timeout_min {
            config.election_timeout_min = self.duration(t)?;
        }
        if let Some(t) = &raft.election_timeout_max {
            config.election_timeout_max = self.duration(t)?;
        }
        if let Some(t) = &raft.heartbeat_interval {
            config.heartbeat_interval = self.duration(t)?;
        }
        if let Some(sync) = &raft.vote_sync {
            config.vote_sync = match sync.get_ref().as_str() {
                "before_reply" => VoteSync::BeforeReply,
                "after_reply" => VoteSync::AfterReply,
                other => {
                    return Err(self.error(sync.span(), format!("unknown vote_sync \"{other}\""))
                        .with_help("use \"before_reply\" (correct) or \"after_reply\" (the canary's planted bug)"));
                }
            };
        }
        config
            .validate()
            .map_err(|m| InputError::new(format!("cluster.raft: {m}")))?;
        Ok((replicas, config))
    }

    fn network(
        &self,
        file: &ScenarioFile,
        names: &NodeNames<'_>,
    ) -> Result<(NetworkConfig, TieBreak), InputError> {
        let network = &file.network;
        let default_link = self.link(network.settings(), LinkConfig::default())?;
        let mut links = Vec::new();
        for link in &network.links {
            let source = names.resolve(self, &link.from)?;
            let target = names.resolve(self, &link.to)?;
            if source == target {
                return Err(self.error(link.to.span(), "a link needs two different nodes"));
            }
            let config = self.link(link.settings(), default_link.clone())?;
            links.push(LinkOverride {
                source,
                target,
                config,
            });
        }
        let tie_break = match network
            .tie_break
            .as_ref()
            .map(|t| (t, t.get_ref().as_str()))
        {
            None | Some((_, "fifo")) => TieBreak::Fifo,
            Some((_, "random")) => TieBreak::Random,
            Some((text, other)) => {
                return Err(self
                    .error(text.span(), format!("unknown tie_break \"{other}\""))
                    .with_help("use \"fifo\" or \"random\""));
            }
        };
        let config = NetworkConfig {
            default_link,
            links,
            ..NetworkConfig::default()
        };
        Ok((config, tie_break))
    }

    fn link(
        &self,
        settings: LinkSettings<'_>,
        mut link: LinkConfig,
    ) -> Result<LinkConfig, InputError> {
        if let Some(latency) = settings.latency {
            link.latency = self.latency(latency)?;
        }
        for (text, slot) in [
            (settings.loss, &mut link.loss),
            (settings.duplicate, &mut link.duplicate),
            (settings.reorder, &mut link.reorder),
        ] {
            if let Some(text) = text {
                *slot = self.chance(text)?;
            }
        }
        if let Some(delay) = settings.reorder_delay_max {
            link.reorder_delay_max = self.duration(delay)?;
        }
        if let Some(fifo) = settings.fifo {
            link.fifo = fifo;
        }
        if let Some(capacity) = settings.queue_capacity {
            link.queue_capacity = self.range(capacity, 1..=u32::MAX, "queue_capacity")?;
        }
        if let Err(message) = link.validate() {
            let span = settings
                .reorder
                .or(settings.loss)
                .map_or(0..0, Spanned::span);
            return Err(self.error(span, format!("network: {message}")));
        }
        Ok(link)
    }

    fn latency(&self, latency: &Spanned<LatencyFile>) -> Result<Latency, InputError> {
        let duration = |text: &str| {
            parse_duration(text).map_err(|message| self.error(latency.span(), message))
        };
        let parsed = match latency.get_ref() {
            LatencyFile::Constant(delay) => Latency::Constant(duration(delay)?),
            LatencyFile::Uniform {
                uniform: [min, max],
            } => Latency::Uniform {
                min: duration(min)?,
                max: duration(max)?,
            },
            LatencyFile::Pareto { pareto } => Latency::Pareto {
                min: duration(&pareto.min)?,
                max: duration(&pareto.max)?,
                shape: pareto.shape,
            },
        };
        parsed
            .validate()
            .map_err(|message| self.error(latency.span(), message))?;
        Ok(parsed)
    }

    fn heal(&self, file: &ScenarioFile) -> Result<Heal, InputError> {
        let mut heal = Heal::default();
        if let Some(table) = &file.heal {
            if let Some(within) = &table.within {
                heal.within = self.duration(within)?;
            }
            if let Some(progress) = &table.progress {
                heal.progress = self.range(progress, 0..=1_000_000, "progress")?;
            }
        }
        Ok(heal)
    }
}

/// Node names of a scenario, for resolving and for "did you mean" listings.
pub(crate) struct NodeNames<'a>(pub(crate) &'a Vec<String>);

impl NodeNames<'_> {
    /// The node called `name`.
    pub(crate) fn resolve(&self, parser: &Parser<'_>, name: &Text) -> Result<NodeId, InputError> {
        self.resolve_at(parser, name.get_ref(), name.span())
    }

    /// The node called `name`, whose value spans `span`.
    pub(crate) fn resolve_at(
        &self,
        parser: &Parser<'_>,
        name: &str,
        span: Range<usize>,
    ) -> Result<NodeId, InputError> {
        match self.0.iter().position(|n| n == name) {
            Some(index) => Ok(NodeId(index as u32)),
            None => Err(parser
                .error(span, format!("unknown node \"{name}\""))
                .with_help(self.listing())),
        }
    }

    fn listing(&self) -> String {
        let shown: Vec<&str> = self.0.iter().take(8).map(String::as_str).collect();
        let more = if self.0.len() > 8 { ", ..." } else { "" };
        format!("this cluster's nodes are: {}{more}", shown.join(", "))
    }
}

/// Makes sure timeline entries are in time order and within the fault phase.
pub(crate) fn check_order(
    parser: &Parser<'_>,
    schedule: &FaultSchedule,
    times: &[(SimTime, Range<usize>)],
    duration: SimDuration,
) -> Result<(), InputError> {
    let _ = schedule;
    let end = SimTime::ZERO + duration;
    for pair in times.windows(2) {
        if pair[1].0 < pair[0].0 {
            return Err(parser
                .error(
                    pair[1].1.clone(),
                    format!(
                        "this fault at {} comes before the previous one at {}",
                        pair[1].0, pair[0].0
                    ),
                )
                .with_help("list faults in time order"));
        }
    }
    if let Some((at, span)) = times.iter().find(|(at, _)| *at > end) {
        return Err(parser
            .error(
                span.clone(),
                format!("this fault at {at} is after the end of the fault phase ({end})"),
            )
            .with_help("make `duration` longer, or move the fault earlier"));
    }
    Ok(())
}
