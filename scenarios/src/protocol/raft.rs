//! Raft cases, for our Raft and (with the `raft-rs` feature) the raft-rs adapter.

use std::cell::Cell;
use std::rc::Rc;

use node_model::raft::checks::{
    ElectionSafety, LeaderCompleteness, LogMatching, StateMachineSafety,
};
use node_model::raft::{
    HistoryHandle, Offer, Op, RaftEvent, RaftView, Replica, RequestId, Workload as RaftWorkload,
    record_history,
};
use sim_core::{NodeStatus, Sim, SimDuration, SimTime, World};

use super::{fault_schedule, heal_faults, heal_time, sim_config};
use crate::case::{Driven, RunOptions, SubResult};
use crate::model::{Cluster, FinalAssertion, Scenario, Workload};

/// The name of Raft's liveness check.
pub(crate) const LIVENESS: &str = "liveness: requests complete after healing";
/// The client id of the requests that probe liveness after healing.
const PROBE_CLIENT: u32 = u32::MAX;

/// Our Raft's cluster of a scenario.
pub(crate) fn raft_cluster(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
) -> Sim<node_model::raft::RaftNode> {
    let Cluster::Raft { replicas, config } = &scenario.cluster else {
        unreachable!("raft cases run raft clusters");
    };
    node_model::raft::cluster_with(sim_config(scenario, seed, options), *replicas, config)
}

pub(super) fn drive(scenario: &Scenario, seed: u64, options: &RunOptions) -> Driven {
    let mut sim = raft_cluster(scenario, seed, options);
    drive_replicas(&mut sim, scenario, seed, options)
}

#[cfg(not(feature = "raft-rs"))]
pub(super) fn drive_raft_rs(_: &Scenario, _: u64, _: &RunOptions) -> Driven {
    unreachable!("unbuilt implementations are skipped before they run")
}

/// The raft-rs cluster of a scenario: our Raft settings in raft-rs's ticks.
#[cfg(feature = "raft-rs")]
pub(crate) fn raft_rs_cluster(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
) -> Sim<node_model::raft_rs::RaftRsNode> {
    let Cluster::Raft { replicas, config } = &scenario.cluster else {
        unreachable!("raft cases run raft clusters");
    };
    node_model::raft_rs::cluster_with(
        sim_config(scenario, seed, options),
        *replicas,
        &raft_rs_config(config),
    )
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

#[cfg(feature = "raft-rs")]
pub(super) fn drive_raft_rs(scenario: &Scenario, seed: u64, options: &RunOptions) -> Driven {
    let mut sim = raft_rs_cluster(scenario, seed, options);
    drive_replicas(&mut sim, scenario, seed, options)
}

/// Installs the checks, schedules faults and requests, runs the phases and judges.
pub(crate) fn drive_replicas<N: Replica>(
    sim: &mut Sim<N>,
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
) -> Driven {
    let history = prepare(sim, scenario, seed);
    let completed = run_phases(sim, scenario);
    let mut extra = finals(&sim.world(), scenario, &history, completed);
    if scenario
        .checks
        .invariants
        .iter()
        .any(|i| i == "raft: linearizability")
    {
        extra.push((linearizability(&history), false));
    }
    let mut facts = crate::case::Facts::new();
    let world = sim.world();
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
    Driven {
        outcome: sim.outcome(),
        extra,
        trace: options.record_trace.then(|| sim.take_trace()),
        facts,
    }
}

/// Installs checks, faults and the workload; returns the history recorder.
pub(crate) fn prepare<N: Replica>(
    sim: &mut Sim<N>,
    scenario: &Scenario,
    seed: u64,
) -> HistoryHandle {
    for name in &scenario.checks.invariants {
        match name.as_str() {
            "raft: election safety" => sim.add_invariant(name, ElectionSafety::default()),
            "raft: log matching" => sim.add_invariant(name, LogMatching::default()),
            "raft: leader completeness" => sim.add_invariant(name, LeaderCompleteness::default()),
            "raft: state machine safety" => sim.add_invariant(name, StateMachineSafety::default()),
            "raft: linearizability" => {}
            other => unreachable!("validated invariant name {other}"),
        }
    }
    let history = record_history(sim);
    sim.schedule_all(&fault_schedule(scenario, seed));
    if let Some(Workload::Raft {
        rate,
        start,
        end,
        keys,
        reads_percent,
        clients,
    }) = scenario.workload
    {
        let mean = (1e9 / rate).round().max(2.0) as u64;
        let workload = RaftWorkload {
            start: SimTime::ZERO + start,
            end: SimTime::ZERO + end,
            interval_min: SimDuration::from_nanos(mean / 2),
            interval_max: SimDuration::from_nanos(mean * 3 / 2),
            keys,
            clients,
            reads_percent,
        };
        workload.schedule(sim);
    }
    history
}

/// How many times a probe is offered, and how far apart: a client that has no answer
/// asks again (a leader may take a request and lose its leadership before answering).
const PROBE_ATTEMPTS: u64 = 10;
const PROBE_RETRY: SimDuration = SimDuration::from_millis(300);

/// The fault phase, then the heal phase: probe requests must complete within the bound.
/// Returns how many probes completed.
///
/// Probe `p` is a read offered every [`PROBE_RETRY`] until one of its attempts (each
/// its own request, `p * PROBE_ATTEMPTS + attempt`) is answered, starting 200 ms × (p
/// + 1) after the heal.
pub(crate) fn run_phases<N: Replica>(sim: &mut Sim<N>, scenario: &Scenario) -> u64 {
    let heal_at = heal_time(scenario);
    if sim.run_to(heal_at).is_err() {
        return 0;
    }
    for fault in heal_faults(sim.node_count()) {
        sim.schedule(heal_at, fault);
    }
    let probes = scenario.heal.progress;
    let answered: Vec<Rc<Cell<bool>>> = (0..probes).map(|_| Rc::default()).collect();
    let mut rng = sim.rng("probes");
    let mut replicas = node_model::raft::replicas(sim);
    for (probe, flag) in (0..probes).zip(&answered) {
        let first = heal_at + SimDuration::from_millis(200 * (probe + 1));
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
    let flags = answered.clone();
    let deadline = heal_at + scenario.heal.within;
    sim.eventually(LIVENESS, deadline, move |world| {
        for observation in world.observations() {
            if let RaftEvent::Returned { request, .. } = observation.value
                && request.client == PROBE_CLIENT
            {
                flags[(request.sequence / PROBE_ATTEMPTS) as usize].set(true);
            }
        }
        flags.iter().all(|flag| flag.get())
    });
    let _ = sim.run_to(deadline);
    answered.iter().filter(|flag| flag.get()).count() as u64
}

fn linearizability(history: &HistoryHandle) -> SubResult {
    let verdict = match history.check() {
        Ok(report) => Ok(format!("{report:?}")),
        Err(error) => Err(error.to_string()),
    };
    SubResult::final_check("raft: linearizability".to_string(), verdict)
}

fn finals<N: Replica>(
    world: &World<'_, N>,
    scenario: &Scenario,
    history: &HistoryHandle,
    _probes: u64,
) -> Vec<(SubResult, bool)> {
    let up: Vec<&N> = world
        .nodes()
        .filter(|&(id, _)| world.status(id) == NodeStatus::Up)
        .map(|(_, node)| node)
        .collect();
    scenario
        .checks
        .finals
        .iter()
        .map(|assertion| {
            let verdict = match assertion {
                FinalAssertion::Converged => converged(&up),
                FinalAssertion::MinCompleted(count) => {
                    let done = history.history().completed() as u64;
                    if done >= *count {
                        Ok(format!("{done} completed"))
                    } else {
                        Err(format!("only {done} completed"))
                    }
                }
                other => unreachable!("validated: {other} is not a raft assertion"),
            };
            let sub = SubResult::final_check(assertion.to_string(), verdict);
            (sub, assertion.is_liveness())
        })
        .collect()
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

#[cfg(not(feature = "raft-rs"))]
pub(super) fn check_raft_rs_determinism(
    _: &Scenario,
    _: u64,
    _: &RunOptions,
) -> Result<u64, Box<sim_core::Divergence>> {
    unreachable!("unbuilt implementations are skipped before they run")
}

#[cfg(feature = "raft-rs")]
pub(super) fn check_raft_rs_determinism(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
) -> Result<u64, Box<sim_core::Divergence>> {
    sim_core::check_determinism(
        || {
            let mut sim = raft_rs_cluster(scenario, seed, options);
            prepare(&mut sim, scenario, seed);
            sim
        },
        |sim| {
            run_phases(sim, scenario);
            Ok(())
        },
    )
}
