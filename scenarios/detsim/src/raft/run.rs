//! Running Raft plans: on node-model's own Raft (`detsim-raft`) and, with the `raft-rs`
//! feature, on the `raft` crate through node-model's adapter (`raft-rs`). Both are
//! [`Replicas`] of a [`Backend`] that says how to build the cluster; installing the
//! checks, the workload, the liveness probes and the final checks are shared.

use std::cell::Cell;
use std::rc::Rc;

use node_model::raft::checks::{
    ElectionSafety, LeaderCompleteness, LogMatching, StateMachineSafety,
};
use node_model::raft::{
    HistoryHandle, Offer, Op, RaftEvent, RaftView, Replica, RequestId, Role, Workload,
    record_history,
};
use scenarios::{Case, Facts, FinalCheck, HealPhase, Implementation, Liveness, WhileConnected};
use sim_core::{NodeStatus, Sim, SimConfig, SimDuration, SimTime, World};

use super::plan::{LINEARIZABILITY, Raft, RaftAssertion, RaftPlan};

/// The name of Raft's liveness check.
pub const LIVENESS: &str = "liveness: requests complete after healing";
/// The name of Raft's check during the fault phase (`[checks.while_connected]`).
pub const LEADS_WHILE_CONNECTED: &str = "liveness: a connected quorum has a leader";
/// The client id of the requests that probe liveness after healing.
const PROBE_CLIENT: u32 = u32::MAX;
/// How many times a probe is offered, and how far apart: a client that has no answer
/// asks again (a leader may take a request and lose its leadership before answering).
const PROBE_ATTEMPTS: u64 = 10;
const PROBE_RETRY: SimDuration = SimDuration::from_millis(300);

/// A Raft implementation: its name and how to build a cluster of it.
pub trait Backend: Send + Sync + 'static {
    /// Its replicas.
    type Node: Replica;
    /// Its name in scenario files.
    const NAME: &'static str;
    /// What it is, for reports.
    fn version(&self) -> String;
    /// A simulation of the plan's replicas, built with `config`.
    fn cluster(&self, plan: &RaftPlan, config: SimConfig) -> Sim<Self::Node>;
}

/// The Raft implementation running `B`'s replicas.
#[derive(Clone, Copy, Debug, Default)]
pub struct Replicas<B>(pub B);

/// node-model's own Raft.
#[derive(Clone, Copy, Debug, Default)]
pub struct DetsimRaft;

impl Backend for DetsimRaft {
    type Node = node_model::raft::RaftNode;
    const NAME: &'static str = "detsim-raft";

    fn version(&self) -> String {
        format!("node-model {}", env!("CARGO_PKG_VERSION"))
    }

    fn cluster(&self, plan: &RaftPlan, config: SimConfig) -> Sim<Self::Node> {
        node_model::raft::cluster_with(config, plan.replicas, &plan.config)
    }
}

/// The `raft` crate (tikv raft-rs 0.7) through node-model's adapter.
#[cfg(feature = "raft-rs")]
#[derive(Clone, Copy, Debug, Default)]
pub struct RaftRs;

#[cfg(feature = "raft-rs")]
impl Backend for RaftRs {
    type Node = node_model::raft_rs::RaftRsNode;
    const NAME: &'static str = "raft-rs";

    fn version(&self) -> String {
        "raft 0.7 (tikv raft-rs)".to_string()
    }

    fn cluster(&self, plan: &RaftPlan, config: SimConfig) -> Sim<Self::Node> {
        node_model::raft_rs::cluster_with(config, plan.replicas, &raft_rs_config(&plan.config))
    }
}

/// raft-rs settings equivalent to `config`: 10 ms ticks, election and heartbeat ticks
/// from the timeouts (raft-rs draws its election timeout in `[e, 2e)` ticks).
#[cfg(feature = "raft-rs")]
fn raft_rs_config(config: &node_model::raft::RaftConfig) -> node_model::raft_rs::RaftRsConfig {
    let tick = node_model::raft_rs::RaftRsConfig::default().tick_interval;
    let ticks =
        |d: SimDuration| u32::try_from((d.as_nanos() / tick.as_nanos()).max(1)).unwrap_or(u32::MAX);
    node_model::raft_rs::RaftRsConfig {
        election_ticks: ticks(config.election_timeout_min).max(2),
        heartbeat_ticks: ticks(config.heartbeat_interval),
        ..node_model::raft_rs::RaftRsConfig::default()
    }
}

impl<B: Backend> Implementation<Raft> for Replicas<B> {
    type Node = B::Node;
    type State = HistoryHandle;

    fn name(&self) -> &str {
        B::NAME
    }

    fn version(&self) -> Option<String> {
        Some(self.0.version())
    }

    /// The cluster with the chosen invariants and the client history recorder.
    fn build(&self, case: &Case<'_, Raft>, config: SimConfig) -> (Sim<B::Node>, HistoryHandle) {
        let mut sim = self.0.cluster(case.plan, config);
        for name in case.invariants() {
            match name {
                "raft: election safety" => sim.add_invariant(name, ElectionSafety::default()),
                "raft: log matching" => sim.add_invariant(name, LogMatching::default()),
                "raft: leader completeness" => {
                    sim.add_invariant(name, LeaderCompleteness::default());
                }
                "raft: state machine safety" => {
                    sim.add_invariant(name, StateMachineSafety::default());
                }
                LINEARIZABILITY => {}
                other => unreachable!("validated invariant name {other}"),
            }
        }
        let history = record_history(&mut sim);
        (sim, history)
    }

    fn workload(&self, case: &Case<'_, Raft>, sim: &mut Sim<B::Node>, _: &mut HistoryHandle) {
        let Some(requests) = case.plan.workload else {
            return;
        };
        let mean = (1e9 / requests.rate).round().max(2.0) as u64;
        let workload = Workload {
            start: SimTime::ZERO + requests.start,
            end: SimTime::ZERO + requests.end,
            interval_min: SimDuration::from_nanos(mean / 2),
            interval_max: SimDuration::from_nanos(mean * 3 / 2),
            keys: requests.keys,
            clients: requests.clients,
            reads_percent: requests.reads_percent,
        };
        workload.schedule(sim);
    }

    /// `progress` probe reads must complete. Probe `p` is a read offered to the core
    /// every 300 ms until one of its attempts (each its own request,
    /// `p * PROBE_ATTEMPTS + attempt`) is answered, starting 200 ms × (p + 1) after the
    /// heal.
    fn liveness(
        &self,
        _: &Case<'_, Raft>,
        heal: &HealPhase,
        sim: &mut Sim<B::Node>,
        _: &mut HistoryHandle,
    ) -> Option<Liveness<B::Node>> {
        let probes = heal.progress;
        let answered: Vec<Rc<Cell<bool>>> = (0..probes).map(|_| Rc::default()).collect();
        let mut rng = sim.rng("probes");
        let mut replicas = heal.core.clone();
        for (probe, flag) in (0..probes).zip(&answered) {
            let first = heal.at + SimDuration::from_millis(200 * (probe + 1));
            for attempt in 0..PROBE_ATTEMPTS {
                let request = RequestId {
                    client: PROBE_CLIENT,
                    sequence: probe * PROBE_ATTEMPTS + attempt,
                };
                let at = first + SimDuration::from_nanos(PROBE_RETRY.as_nanos() * attempt);
                rng.shuffle(&mut replicas);
                Offer::new(request, Op::Get { key: 0 })
                    .until_answered(Rc::clone(flag))
                    .schedule(sim, at, &replicas);
            }
        }
        Some(Liveness::new(
            LIVENESS,
            move |world: &World<'_, B::Node>| {
                for observation in world.observations() {
                    if let RaftEvent::Returned { request, .. } = observation.value
                        && request.client == PROBE_CLIENT
                    {
                        answered[(request.sequence / PROBE_ATTEMPTS) as usize].set(true);
                    }
                }
                answered.iter().all(|flag| flag.get())
            },
        ))
    }

    /// Whenever a quorum has been up and linked, one of them leads with a quorum of
    /// followers linked to it (a leader cut off from the rest does not count).
    fn while_connected(
        &self,
        _: &Case<'_, Raft>,
        connected: &WhileConnected,
        _: &mut Sim<B::Node>,
        _: &mut HistoryHandle,
    ) -> Option<Liveness<B::Node>> {
        let quorum = connected.quorum as usize;
        Some(Liveness::new(
            LEADS_WHILE_CONNECTED,
            move |world: &World<'_, B::Node>| {
                world.nodes().any(|(id, replica)| {
                    replica.role() == Role::Leader
                        && world.is_up(id)
                        && world.linked_with(id).count() + 1 >= quorum
                })
            },
        ))
    }

    fn finals(
        &self,
        case: &Case<'_, Raft>,
        world: &World<'_, B::Node>,
        history: &HistoryHandle,
    ) -> Vec<FinalCheck> {
        let up: Vec<&B::Node> = world
            .nodes()
            .filter(|&(id, _)| world.status(id) == NodeStatus::Up)
            .map(|(_, node)| node)
            .collect();
        let mut checks: Vec<FinalCheck> = case
            .plan
            .finals
            .iter()
            .map(|assertion| match assertion {
                RaftAssertion::Converged => {
                    FinalCheck::liveness(assertion.to_string(), converged(&up))
                }
                RaftAssertion::MinCompleted(count) => {
                    let done = history.history().completed() as u64;
                    let outcome = if done >= *count {
                        Ok(format!("{done} completed"))
                    } else {
                        Err(format!("only {done} completed"))
                    };
                    FinalCheck::liveness(assertion.to_string(), outcome)
                }
            })
            .collect();
        if case.checks(LINEARIZABILITY) {
            let outcome = match history.check() {
                Ok(report) => Ok(format!("{report:?}")),
                Err(error) => Err(error.to_string()),
            };
            checks.push(FinalCheck::safety(LINEARIZABILITY, outcome));
        }
        checks
    }

    /// The highest commit index and how many client requests completed.
    fn facts(
        &self,
        _: &Case<'_, Raft>,
        world: &World<'_, B::Node>,
        history: &HistoryHandle,
    ) -> Facts {
        let mut facts = Facts::new();
        let commit = world
            .nodes()
            .map(|(_, n)| n.commit_index())
            .max()
            .unwrap_or(0);
        facts.insert("commit_index".to_string(), commit.to_string());
        facts.insert(
            "completed".to_string(),
            history.history().completed().to_string(),
        );
        facts
    }
}

/// Every running replica has committed the same log.
fn converged<N: RaftView>(replicas: &[&N]) -> Result<String, String> {
    let Some(first) = replicas.first() else {
        return Err("no replica is running".to_string());
    };
    let commit = first.commit_index();
    if let Some(other) = replicas.iter().find(|r| r.commit_index() != commit) {
        return Err(format!(
            "commit indexes differ: {} and {}",
            commit,
            other.commit_index()
        ));
    }
    for index in 1..=commit {
        let entry = first.entry(index);
        if replicas.iter().any(|r| r.entry(index) != entry) {
            return Err(format!("logs differ at committed index {index}"));
        }
    }
    Ok(format!("all committed {commit} entries"))
}
