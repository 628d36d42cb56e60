//! The chain as scenario files see it: its tables checked into a [`ChainPlan`].

use std::fmt;

use node_model::chain::{Adversary, ChainConfig, NodeOverrides};
use scenarios::{
    FaultKinds, FaultModel, InputError, Protocol, Smaller, Source, Spanned, Tables, built,
};
use sim_core::{NodeId, SimDuration};

use super::tables::{ChainCluster, ChainFinal, ChainSometimes, ChainWorkload};
use crate::presets::{self, Preset};

/// The proof-of-stake chain of `node_model::chain`: `protocol = "chain"`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Chain;

/// The chain's invariants, by name (see `node_model::chain::checks`).
pub const INVARIANTS: [&str; 4] = [
    "finality agreement",
    "supply conserved",
    "nonces increase",
    "epoch agreement",
];

/// A chain scenario, checked.
#[derive(Clone, Debug)]
pub struct ChainPlan {
    /// The cluster, preset and overrides applied.
    pub config: ChainConfig,
    /// The client load.
    pub workload: Option<Transfers>,
    /// Assertions at the end.
    pub finals: Vec<ChainAssertion>,
    /// Situations that must be reached.
    pub sometimes: Vec<Situation>,
}

/// Signed transfers between accounts.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfers {
    /// Transfers per second.
    pub rate: f64,
    /// The first submission.
    pub start: SimDuration,
    /// The last submission.
    pub end: SimDuration,
    /// Who sends and receives.
    pub accounts: Vec<String>,
    /// The largest amount.
    pub amount_max: u64,
}

/// An assertion on the state at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainAssertion {
    /// Every running node's final height is at least this.
    MinFinalHeight(u64),
    /// Every running node holds the same final block.
    Converged,
    /// The account's balance at the final block, on every running node.
    Balance {
        /// The account.
        account: String,
        /// The expected balance.
        balance: u64,
    },
    /// The head epoch's validator set has this many members.
    Validators(usize),
    /// This node is not a validator of the head's epoch.
    KickedOut(NodeId),
}

impl ChainAssertion {
    /// `true` for assertions about progress (a failure is a liveness failure).
    pub fn is_liveness(&self) -> bool {
        matches!(
            self,
            ChainAssertion::MinFinalHeight(_) | ChainAssertion::Converged
        )
    }
}

impl fmt::Display for ChainAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainAssertion::MinFinalHeight(height) => write!(f, "final height >= {height}"),
            ChainAssertion::Converged => f.write_str("converged"),
            ChainAssertion::Balance { account, balance } => {
                write!(f, "{account}'s balance = {balance}")
            }
            ChainAssertion::Validators(count) => write!(f, "{count} validators"),
            ChainAssertion::KickedOut(node) => write!(f, "{node} kicked out"),
        }
    }
}

/// A situation that must be reached at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Situation {
    /// An adversary carried out this attack.
    Attack(String),
    /// A node rejected something for this reason.
    Rejected(String),
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Situation::Attack(kind) => write!(f, "attack {kind}"),
            Situation::Rejected(reason) => write!(f, "rejected: {reason}"),
        }
    }
}

/// The name of node `index` of a cluster with `validators` validators.
pub fn node_name(index: u32, validators: u32) -> String {
    if index < validators {
        format!("validator-{index}")
    } else {
        format!("observer-{}", index - validators)
    }
}

impl Protocol for Chain {
    type Cluster = ChainCluster;
    type Workload = ChainWorkload;
    type Final = ChainFinal;
    type Sometimes = ChainSometimes;
    type Plan = ChainPlan;

    fn name(&self) -> &str {
        "chain"
    }

    fn invariants(&self) -> &[&str] {
        &INVARIANTS
    }

    fn fault_kinds(&self) -> FaultKinds {
        FaultKinds::ALL
    }

    /// Every kind, on the time scale of a block; its stores recover from any subset of
    /// unsynced writes.
    fn fault_model(&self, plan: &ChainPlan) -> FaultModel {
        FaultModel {
            time_scale: plan.config.genesis.block_time,
            unsynced_kept: true,
            ..FaultModel::new(self.fault_kinds())
        }
    }

    fn message_kinds(&self, _: &ChainPlan) -> Vec<&'static str> {
        node_model::chain::ChainMessage::KINDS.to_vec()
    }

    fn presets(&self) -> &[&str] {
        &presets::NAMES
    }

    fn plan(&self, tables: Tables<'_, Self>) -> Result<ChainPlan, InputError> {
        let source = tables.source;
        let cluster = tables.cluster();
        let mut config = config(&source, &cluster, tables.preset)?;
        config.validate().map_err(|error| {
            tables
                .cluster_error(format!("cluster: {error}"))
                .with_help("see the [cluster] and [cluster.genesis] tables")
        })?;
        let names = node_names(&config);
        node_overrides(&source, &cluster, &mut config, &names)?;
        let workload = match &tables.workload {
            Some(table) => Some(workload(&source, table, &config, tables.duration)?),
            None => None,
        };
        let finals = tables
            .finals
            .iter()
            .map(|entry| final_assertion(&source, entry, &names))
            .collect::<Result<_, _>>()?;
        let sometimes = tables
            .sometimes
            .iter()
            .map(|entry| situation(&source, entry))
            .collect::<Result<_, _>>()?;
        Ok(ChainPlan {
            config,
            workload,
            finals,
            sometimes,
        })
    }

    fn node_names(&self, plan: &ChainPlan) -> Vec<String> {
        node_names(&plan.config)
    }

    /// The fewest validators that hold more than two thirds of the genesis stake
    /// whichever they are: the lightest ones first.
    fn quorum(&self, plan: &ChainPlan) -> u32 {
        let config = &plan.config;
        let mut stakes: Vec<u64> = (0..config.validators).map(|v| config.stake(v)).collect();
        stakes.sort_unstable();
        let total: u128 = stakes.iter().map(|&s| u128::from(s)).sum();
        let mut held = 0u128;
        for (count, stake) in (1..).zip(stakes) {
            held += u128::from(stake);
            if 3 * held > 2 * total {
                return count;
            }
        }
        config.validators.max(1)
    }

    fn runner(&self, plan: &ChainPlan) -> Option<&str> {
        let byzantine = plan
            .config
            .overrides
            .values()
            .any(|o| o.adversary.is_some());
        byzantine.then_some("adversary")
    }

    fn requests(&self, plan: &ChainPlan) -> u64 {
        plan.workload
            .as_ref()
            .map_or(0, |w| ((w.end - w.start).as_secs_f64() * w.rate) as u64)
    }

    fn shrink(
        &self,
        cluster: &ChainCluster,
        workload: Option<&ChainWorkload>,
    ) -> Vec<Smaller<Self>> {
        let mut smaller = Vec::new();
        if let Some(workload) = workload
            && let Some(rate) = halved(workload.rate.as_ref())
        {
            smaller.push(Smaller {
                cluster: cluster.clone(),
                workload: Some(ChainWorkload {
                    rate: Some(rate),
                    ..workload.clone()
                }),
            });
        }
        for (count, floor, set) in [
            (
                &cluster.observers,
                0,
                set_observers as fn(&mut ChainCluster, u32),
            ),
            (&cluster.validators, 1, set_validators),
        ] {
            if let Some(count) = count.as_ref().map(|c| *c.get_ref())
                && count > floor
            {
                let mut fewer = cluster.clone();
                set(&mut fewer, count - 1);
                smaller.push(Smaller {
                    cluster: fewer,
                    workload: workload.cloned(),
                });
            }
        }
        smaller
    }
}

fn set_observers(cluster: &mut ChainCluster, count: u32) {
    cluster.observers = Some(built(count));
}

fn set_validators(cluster: &mut ChainCluster, count: u32) {
    cluster.validators = Some(built(count));
}

fn node_names(config: &ChainConfig) -> Vec<String> {
    (0..config.node_count())
        .map(|i| node_name(i, config.validators))
        .collect()
}

/// The cluster's config: defaults, then the preset, then the table.
fn config(
    source: &Source<'_>,
    cluster: &ChainCluster,
    preset: Option<&str>,
) -> Result<ChainConfig, InputError> {
    let mut config = ChainConfig::default();
    if let Some(preset) = preset {
        Preset::named(preset).apply_chain(&mut config);
    }
    if let Some(v) = &cluster.validators {
        config.validators = source.range(v, 1..=100, "validators")?;
    }
    if let Some(o) = &cluster.observers {
        config.observers = source.range(o, 0..=100, "observers")?;
    }
    if let Some(s) = &cluster.shards {
        config.shards = source.range(s, 1..=16, "shards")?;
    }
    genesis(source, cluster, &mut config)?;
    Ok(config)
}

fn genesis(
    source: &Source<'_>,
    cluster: &ChainCluster,
    config: &mut ChainConfig,
) -> Result<(), InputError> {
    let g = &cluster.genesis;
    let genesis = &mut config.genesis;
    if let Some(id) = g.chain_id {
        genesis.chain_id = id;
    }
    if let Some(length) = &g.epoch_length {
        genesis.epoch_length = source.range(length, 2..=1_000_000, "epoch_length")?;
    }
    if let Some(threshold) = &g.kickout_threshold_percent {
        genesis.kickout_threshold_percent =
            source.range(threshold, 0..=100, "kickout_threshold_percent")?;
    }
    if let Some(time) = &g.block_time {
        genesis.block_time = source.duration(time)?;
        if genesis.block_time < SimDuration::from_millis(1) {
            return Err(source.error(time.span(), "block_time must be at least 1ms"));
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
        genesis.max_txs_per_chunk = source.range(max, 1..=100_000, "max_txs_per_chunk")?;
    }
    if let Some(drift) = &g.max_clock_drift {
        genesis.max_clock_drift = source.duration(drift)?;
    }
    if let Some(min) = &g.min_validators {
        genesis.min_validators =
            Some(source.range(min, 1..=config.validators, "min_validators")?);
    }
    Ok(())
}

fn node_overrides(
    source: &Source<'_>,
    cluster: &ChainCluster,
    config: &mut ChainConfig,
    names: &[String],
) -> Result<(), InputError> {
    for (name, node) in &cluster.nodes {
        let Some(index) = names.iter().position(|n| n == name) else {
            return Err(source
                .error(node.span(), format!("unknown node \"{name}\""))
                .with_help(scenarios::node_listing(names)));
        };
        let node = node.get_ref();
        let mut overrides = NodeOverrides::default();
        if let Some(delay) = &node.produce_delay {
            overrides.produce_delay = Some(source.duration(delay)?);
        }
        overrides.endorse = node.endorse;
        overrides.sync_batch = node.sync_batch;
        overrides.mempool_capacity = node.mempool_capacity;
        if let Some(adversary) = &node.adversary {
            let parsed: Adversary = adversary
                .get_ref()
                .parse()
                .map_err(|m: String| source.error(adversary.span(), m))?;
            if parsed.needs_validator() && index as u32 >= config.validators {
                return Err(source.error(
                    adversary.span(),
                    format!("adversary `{parsed}` needs a validator, but {name} is an observer"),
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

/// The workload: accounts must be genesis accounts.
fn workload(
    source: &Source<'_>,
    table: &Spanned<ChainWorkload>,
    config: &ChainConfig,
    duration: SimDuration,
) -> Result<Transfers, InputError> {
    let (rate, start, end) = steady_load(
        source,
        table.span(),
        table.get_ref().rate.as_ref(),
        table.get_ref().start.as_ref(),
        table.get_ref().end.as_ref(),
        duration,
    )?;
    let table = table.get_ref();
    let known: Vec<&String> = config.genesis.balances.keys().collect();
    let accounts = match &table.accounts {
        None => known.iter().map(|s| s.to_string()).collect(),
        Some(list) => {
            let mut accounts = Vec::new();
            for account in list {
                if !known.contains(&account.get_ref()) {
                    let names: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                    return Err(source
                        .error(
                            account.span(),
                            format!("unknown account \"{}\"", account.get_ref()),
                        )
                        .with_help(format!("genesis accounts are: {}", names.join(", "))));
                }
                accounts.push(account.get_ref().clone());
            }
            accounts
        }
    };
    if accounts.len() < 2 {
        return Err(
            InputError::new("a chain workload needs at least two accounts")
                .with_help("add accounts to [cluster.genesis.balances] or [workload] accounts"),
        );
    }
    Ok(Transfers {
        rate,
        start,
        end,
        accounts,
        amount_max: table.amount_max.unwrap_or(100),
    })
}

/// Half of a workload's `rate`, for shrinking, while that still means something (a
/// request every ten seconds at the least); shared with Raft.
pub(crate) fn halved(rate: Option<&Spanned<f64>>) -> Option<Spanned<f64>> {
    let rate = *rate?.get_ref();
    (rate >= 0.1).then(|| built(rate / 2.0))
}

/// The rate, start and end of a steady client load (shared with Raft's workload).
pub(crate) fn steady_load(
    source: &Source<'_>,
    table_span: std::ops::Range<usize>,
    rate: Option<&Spanned<f64>>,
    start: Option<&scenarios::Text>,
    end: Option<&scenarios::Text>,
    duration: SimDuration,
) -> Result<(f64, SimDuration, SimDuration), InputError> {
    let rate_text = rate.ok_or_else(|| {
        source
            .error(table_span, "the workload has no `rate`")
            .with_help("add `rate = 10` (requests per second) to [workload]")
    })?;
    let rate = *rate_text.get_ref();
    if !(rate > 0.0 && rate <= 100_000.0) {
        return Err(source
            .error(rate_text.span(), format!("rate = {rate} is out of range"))
            .with_help("use a rate above 0 and at most 100000 per second"));
    }
    let start_at = start.map_or(Ok(SimDuration::ZERO), |t| source.duration(t))?;
    let end_at = end.map_or(Ok(duration), |t| source.duration(t))?;
    if start_at > end_at {
        let span = start.map_or(0..0, Spanned::span);
        return Err(source.error(
            span,
            format!("the workload starts ({start_at}) after it ends ({end_at})"),
        ));
    }
    Ok((rate, start_at, end_at))
}

fn final_assertion(
    source: &Source<'_>,
    entry: &Spanned<ChainFinal>,
    names: &[String],
) -> Result<ChainAssertion, InputError> {
    let span = entry.span();
    let f = entry.get_ref();
    let set = [
        f.min_final_height.is_some(),
        f.converged.is_some(),
        f.account.is_some() || f.balance.is_some(),
        f.validators.is_some(),
        f.kicked_out.is_some(),
    ];
    if f.converged == Some(false) {
        return Err(source
            .error(span, "`converged = false` asserts nothing")
            .with_help("write `converged = true`, or remove this check"));
    }
    if set.iter().filter(|s| **s).count() != 1 {
        return Err(source
            .error(span, "a final check takes exactly one assertion")
            .with_help(
                "one of: min_final_height, converged, account + balance, validators, kicked_out",
            ));
    }
    if let Some(height) = f.min_final_height {
        return Ok(ChainAssertion::MinFinalHeight(height));
    }
    if f.converged.is_some() {
        return Ok(ChainAssertion::Converged);
    }
    if f.account.is_some() || f.balance.is_some() {
        let (Some(account), Some(balance)) = (&f.account, f.balance) else {
            return Err(source.error(span, "a balance check needs both `account` and `balance`"));
        };
        return Ok(ChainAssertion::Balance {
            account: account.get_ref().clone(),
            balance,
        });
    }
    if let Some(count) = f.validators {
        return Ok(ChainAssertion::Validators(count));
    }
    let node = f.kicked_out.as_ref().expect("the one assertion set");
    Ok(ChainAssertion::KickedOut(source.node(names, node)?))
}

fn situation(
    source: &Source<'_>,
    entry: &Spanned<ChainSometimes>,
) -> Result<Situation, InputError> {
    match (&entry.get_ref().attack, &entry.get_ref().rejected) {
        (Some(attack), None) => {
            let _: Adversary = attack
                .get_ref()
                .parse()
                .map_err(|m: String| source.error(attack.span(), m))?;
            Ok(Situation::Attack(attack.get_ref().clone()))
        }
        (None, Some(reason)) => Ok(Situation::Rejected(reason.get_ref().clone())),
        _ => Err(source.error(
            entry.span(),
            "a sometimes check takes exactly one of `attack` or `rejected`",
        )),
    }
}
