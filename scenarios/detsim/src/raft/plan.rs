//! Raft as scenario files see it: its tables checked into a [`RaftPlan`].

use node_model::raft::RaftConfig;
use node_model::raft::canary::VoteSync;
use scenarios::{
    FaultKind, FaultKinds, FaultModel, InputError, NoTable, Protocol, Smaller, Source, Spanned,
    Tables, built,
};
use sim_core::SimDuration;

use super::tables::{RaftCluster, RaftFinal, RaftWorkload};
use crate::chain::{halved, steady_load};
use crate::presets::{self, Preset};

/// A replicated key-value store over Raft: `protocol = "raft"`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Raft;

/// Raft's invariants, by name (see `node_model::raft::checks`); linearizability is
/// checked on the client history at the end.
pub const INVARIANTS: [&str; 5] = [
    "raft: election safety",
    "raft: log matching",
    "raft: leader completeness",
    "raft: state machine safety",
    LINEARIZABILITY,
];

/// The invariant checked on the whole client history at the end of a case.
pub const LINEARIZABILITY: &str = "raft: linearizability";

/// A Raft scenario, checked.
#[derive(Clone, Debug)]
pub struct RaftPlan {
    /// The number of replicas.
    pub replicas: u32,
    /// Their settings.
    pub config: RaftConfig,
    /// The client load.
    pub workload: Option<Requests>,
    /// Assertions at the end.
    pub finals: Vec<RaftAssertion>,
}

/// Puts and gets on a few keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requests {
    /// Requests per second.
    pub rate: f64,
    /// The first request.
    pub start: SimDuration,
    /// The last request.
    pub end: SimDuration,
    /// Keys touched.
    pub keys: u32,
    /// Share of reads.
    pub reads_percent: u32,
    /// Clients.
    pub clients: u32,
}

/// An assertion on the state at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftAssertion {
    /// Every running replica has committed the same log.
    Converged,
    /// At least this many client requests completed.
    MinCompleted(u64),
}

impl std::fmt::Display for RaftAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RaftAssertion::Converged => f.write_str("converged"),
            RaftAssertion::MinCompleted(count) => write!(f, "completed requests >= {count}"),
        }
    }
}

impl Protocol for Raft {
    type Cluster = RaftCluster;
    type Workload = RaftWorkload;
    type Final = RaftFinal;
    type Sometimes = NoTable;
    type Plan = RaftPlan;

    fn name(&self) -> &str {
        "raft"
    }

    fn invariants(&self) -> &[&str] {
        &INVARIANTS
    }

    /// Raft replicas keep no checksums and cannot rejoin after a wipe: disk faults and
    /// data resets are out of scope.
    fn fault_kinds(&self) -> FaultKinds {
        FaultKinds::ALL
            .without(FaultKind::Disk)
            .without(FaultKind::ResetData)
    }

    /// On the time scale of the shortest election timeout. Not `unsynced_kept`: its log
    /// keeps an entry per key, and a crash that kept a later entry but lost an earlier
    /// one leaves a log the replica refuses to load (it halts rather than guess).
    fn fault_model(&self, plan: &RaftPlan) -> FaultModel {
        FaultModel {
            time_scale: plan.config.election_timeout_min,
            ..FaultModel::new(self.fault_kinds())
        }
    }

    fn message_kinds(&self, _: &RaftPlan) -> Vec<&'static str> {
        node_model::raft::RaftMessage::KINDS.to_vec()
    }

    fn events(&self, _: &RaftPlan) -> Vec<&'static str> {
        node_model::raft::EVENTS.to_vec()
    }

    fn presets(&self) -> &[&str] {
        &presets::NAMES
    }

    fn plan(&self, tables: Tables<'_, Self>) -> Result<RaftPlan, InputError> {
        let source = tables.source;
        let (replicas, config) = cluster(&source, &tables.cluster(), tables.preset)?;
        config
            .validate()
            .map_err(|m| tables.cluster_error(format!("cluster.raft: {m}")))?;
        let workload = match &tables.workload {
            Some(table) => Some(workload(&source, table, tables.duration)?),
            None => None,
        };
        let finals = tables
            .finals
            .iter()
            .map(|entry| final_assertion(&source, entry))
            .collect::<Result<_, _>>()?;
        Ok(RaftPlan {
            replicas,
            config,
            workload,
            finals,
        })
    }

    fn node_names(&self, plan: &RaftPlan) -> Vec<String> {
        (0..plan.replicas).map(|i| format!("replica-{i}")).collect()
    }

    fn requests(&self, plan: &RaftPlan) -> u64 {
        plan.workload
            .map_or(0, |w| ((w.end - w.start).as_secs_f64() * w.rate) as u64)
    }

    fn shrink(&self, cluster: &RaftCluster, workload: Option<&RaftWorkload>) -> Vec<Smaller<Self>> {
        let mut smaller = Vec::new();
        if let Some(workload) = workload
            && let Some(rate) = halved(workload.rate.as_ref())
        {
            smaller.push(Smaller {
                cluster: cluster.clone(),
                workload: Some(RaftWorkload {
                    rate: Some(rate),
                    ..workload.clone()
                }),
            });
        }
        if let Some(replicas) = cluster.replicas.as_ref().map(|r| *r.get_ref())
            && replicas > 1
        {
            let mut fewer = cluster.clone();
            fewer.replicas = Some(built(replicas - 1));
            smaller.push(Smaller {
                cluster: fewer,
                workload: workload.cloned(),
            });
        }
        smaller
    }
}

fn cluster(
    source: &Source<'_>,
    cluster: &RaftCluster,
    preset: Option<&str>,
) -> Result<(u32, RaftConfig), InputError> {
    let mut replicas = 3;
    let mut config = RaftConfig::default();
    if let Some(preset) = preset {
        replicas = Preset::named(preset).apply_raft(&mut config);
    }
    if let Some(r) = &cluster.replicas {
        replicas = source.range(r, 1..=15, "replicas")?;
    }
    let raft = &cluster.raft;
    if let Some(t) = &raft.election_timeout_min {
        config.election_timeout_min = source.duration(t)?;
    }
    if let Some(t) = &raft.election_timeout_max {
        config.election_timeout_max = source.duration(t)?;
    }
    if let Some(t) = &raft.heartbeat_interval {
        config.heartbeat_interval = source.duration(t)?;
    }
    if let Some(sync) = &raft.vote_sync {
        config.vote_sync = match sync.get_ref().as_str() {
            "before_reply" => VoteSync::BeforeReply,
            "after_reply" => VoteSync::AfterReply,
            other => {
                return Err(source
                    .error(sync.span(), format!("unknown vote_sync \"{other}\""))
                    .with_help(
                        "use \"before_reply\" (correct) or \"after_reply\" (the canary's planted bug)",
                    ));
            }
        };
    }
    if let Some(check) = raft.check_quorum {
        config.check_quorum = check;
    }
    if let Some(pre_vote) = raft.pre_vote {
        config.pre_vote = pre_vote;
    }
    Ok((replicas, config))
}

fn workload(
    source: &Source<'_>,
    table: &Spanned<RaftWorkload>,
    duration: SimDuration,
) -> Result<Requests, InputError> {
    let t = table.get_ref();
    let (rate, start, end) = steady_load(
        source,
        table.span(),
        t.rate.as_ref(),
        t.start.as_ref(),
        t.end.as_ref(),
        duration,
    )?;
    let keys = t
        .keys
        .as_ref()
        .map_or(Ok(4), |k| source.range(k, 1..=1_000_000, "keys"))?;
    let reads_percent = t
        .reads_percent
        .as_ref()
        .map_or(Ok(33), |r| source.range(r, 0..=100, "reads_percent"))?;
    let clients = t
        .clients
        .as_ref()
        .map_or(Ok(3), |c| source.range(c, 1..=10_000, "clients"))?;
    Ok(Requests {
        rate,
        start,
        end,
        keys,
        reads_percent,
        clients,
    })
}

fn final_assertion(
    source: &Source<'_>,
    entry: &Spanned<RaftFinal>,
) -> Result<RaftAssertion, InputError> {
    let span = entry.span();
    match (entry.get_ref().converged, entry.get_ref().min_completed) {
        (Some(false), None) => Err(source
            .error(span, "`converged = false` asserts nothing")
            .with_help("write `converged = true`, or remove this check")),
        (Some(true), None) => Ok(RaftAssertion::Converged),
        (None, Some(count)) => Ok(RaftAssertion::MinCompleted(count)),
        _ => Err(source
            .error(span, "a final check takes exactly one assertion")
            .with_help("one of: converged, min_completed")),
    }
}
