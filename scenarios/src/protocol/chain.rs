//! Chain cases.

use std::rc::Rc;

use node_model::chain::checks::{
    self, EpochAgreement, FinalityAgreement, NoncesIncrease, SupplyConserved,
};
use node_model::chain::{self, ChainNode, ChainSetup, TransferWorkload, ValidatorId};
use sim_core::{NodeStatus, Sim, SimDuration, SimTime, World};

use super::{fault_schedule, heal_faults, heal_time, sim_config};
use crate::case::{Driven, RunOptions, SubResult};
use crate::model::{Cluster, FinalAssertion, Scenario, Sometimes, Workload};

/// The name of the chain's liveness check.
pub(crate) const LIVENESS: &str = "liveness: finality advances after healing";

pub(super) fn drive(scenario: &Scenario, seed: u64, options: &RunOptions) -> Driven {
    let (mut sim, _setup) = build(scenario, seed, options);
    run_phases(&mut sim, scenario);
    let extra = finals(&sim.world(), scenario);
    Driven {
        outcome: sim.outcome(),
        extra,
        trace: options.record_trace.then(|| sim.take_trace()),
        facts: facts(&sim.world()),
    }
}

/// The simulation of a chain case, with its checks, faults and workload in place.
pub(crate) fn build(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
) -> (Sim<ChainNode>, Rc<ChainSetup>) {
    let Cluster::Chain(config) = &scenario.cluster else {
        unreachable!("chain cases run chain clusters");
    };
    let (mut sim, setup) = chain::cluster(config.clone(), sim_config(scenario, seed, options))
        .expect("the scenario was validated");
    for name in &scenario.checks.invariants {
        match name.as_str() {
            "finality agreement" => sim.add_invariant(name, FinalityAgreement::new(&setup)),
            "supply conserved" => sim.add_invariant(name, SupplyConserved::new(&setup)),
            "nonces increase" => sim.add_invariant(name, NoncesIncrease::default()),
            "epoch agreement" => sim.add_invariant(name, EpochAgreement::default()),
            other => unreachable!("validated invariant name {other}"),
        }
    }
    for sometimes in &scenario.checks.sometimes {
        let name = sometimes.to_string();
        match sometimes.clone() {
            Sometimes::Attack(kind) => {
                sim.sometimes(&name, move |world| checks::attack_seen(world, &kind))
            }
            Sometimes::Rejected(reason) => {
                sim.sometimes(&name, move |world| checks::rejection_seen(world, &reason))
            }
        }
    }
    sim.schedule_all(&fault_schedule(scenario, seed));
    if let Some(Workload::Chain {
        rate,
        start,
        end,
        accounts,
        amount_max,
    }) = &scenario.workload
    {
        let workload = TransferWorkload {
            start: SimTime::ZERO + *start,
            end: SimTime::ZERO + *end,
            interval: SimDuration::from_nanos((1e9 / rate).round().max(1.0) as u64),
            accounts: accounts.iter().map(|a| Rc::from(a.as_str())).collect(),
            amount_max: *amount_max,
        };
        let mut rng = sim.rng("workload");
        workload.schedule(&mut sim, &setup, &mut rng);
    }
    (sim, setup)
}

/// The fault phase, then the heal phase with its liveness check. Stops early on a
/// violation (the outcome says which).
pub(crate) fn run_phases(sim: &mut Sim<ChainNode>, scenario: &Scenario) {
    let heal_at = heal_time(scenario);
    if sim.run_to(heal_at).is_err() {
        return;
    }
    for fault in heal_faults(sim.node_count()) {
        sim.schedule(heal_at, fault);
    }
    if sim.run_to(heal_at).is_err() {
        return;
    }
    let world = sim.world();
    let baseline = world
        .nodes()
        .map(|(_, n)| n.status().final_height)
        .max()
        .unwrap_or(0);
    let target = baseline + scenario.heal.progress;
    let deadline = heal_at + scenario.heal.within;
    sim.eventually(LIVENESS, deadline, move |world| {
        checks::final_height_of_all_up(world).is_some_and(|height| height >= target)
    });
    let _ = sim.run_to(deadline);
}

fn up_nodes<'a>(world: &'a World<'_, ChainNode>) -> Vec<&'a ChainNode> {
    world
        .nodes()
        .filter(|&(id, _)| world.status(id) == NodeStatus::Up)
        .map(|(_, node)| node)
        .collect()
}

/// Facts about the end state: lowest final height, its block, the head's epoch and
/// validators.
fn facts(world: &World<'_, ChainNode>) -> crate::case::Facts {
    let mut facts = crate::case::Facts::new();
    let nodes = up_nodes(world);
    if let Some(first) = nodes.first() {
        let lowest = nodes
            .iter()
            .map(|n| n.status().final_height)
            .min()
            .unwrap_or(0);
        let status = first.status();
        facts.insert("final_height".to_string(), lowest.to_string());
        let block = first
            .block_at(lowest)
            .map_or_else(String::new, |b| b.hash.to_string());
        facts.insert("final_block".to_string(), block);
        facts.insert("epoch".to_string(), status.epoch.to_string());
        facts.insert(
            "validators".to_string(),
            status.validators.len().to_string(),
        );
    }
    facts.insert("nodes_up".to_string(), nodes.len().to_string());
    facts
}

/// The final assertions, each with whether its failure is a liveness failure.
fn finals(world: &World<'_, ChainNode>, scenario: &Scenario) -> Vec<(SubResult, bool)> {
    let nodes = up_nodes(world);
    scenario
        .checks
        .finals
        .iter()
        .map(|assertion| {
            let verdict = judge(assertion, &nodes);
            let sub = SubResult::final_check(assertion.to_string(), verdict);
            (sub, assertion.is_liveness())
        })
        .collect()
}

fn judge(assertion: &FinalAssertion, nodes: &[&ChainNode]) -> Result<String, String> {
    let Some(first) = nodes.first() else {
        return Err("no node is running".to_string());
    };
    let lowest = nodes
        .iter()
        .map(|n| n.status().final_height)
        .min()
        .unwrap_or(0);
    match assertion {
        FinalAssertion::MinFinalHeight(height) => {
            match nodes.iter().find(|n| n.status().final_height < *height) {
                Some(node) => Err(format!(
                    "{} is only at final height {}",
                    node.name(),
                    node.status().final_height
                )),
                None => Ok(format!("lowest final height {lowest}")),
            }
        }
        FinalAssertion::Converged => {
            let reference = first.block_at(lowest).map(|b| b.hash);
            let highest = nodes
                .iter()
                .map(|n| n.status().final_height)
                .max()
                .unwrap_or(0);
            match nodes
                .iter()
                .find(|n| n.block_at(lowest).map(|b| b.hash) != reference)
            {
                Some(node) => Err(format!(
                    "{} disagrees with {} at final height {lowest}",
                    node.name(),
                    first.name()
                )),
                None if highest - lowest > 2 => {
                    Err(format!("final heights range from {lowest} to {highest}"))
                }
                None => Ok(format!("all agree up to final height {lowest}")),
            }
        }
        FinalAssertion::Balance { account, balance } => {
            for node in nodes {
                let state = node.block_at(lowest).and_then(|b| node.state_of(b.hash));
                let actual = state
                    .and_then(|s| s.accounts.get(account.as_str()))
                    .map_or(0, |a| a.balance);
                if actual != *balance {
                    return Err(format!(
                        "{} has {account} at {actual} at final height {lowest}",
                        node.name()
                    ));
                }
            }
            Ok(format!("{account} holds {balance}"))
        }
        FinalAssertion::Validators(count) => {
            let actual = first.status().validators.len();
            if actual == *count {
                Ok(format!("{actual} validators"))
            } else {
                Err(format!("{actual} validators, expected {count}"))
            }
        }
        FinalAssertion::KickedOut(node) => {
            let validators = first.status().validators;
            if validators.contains(&ValidatorId(node.0)) {
                Err(format!(
                    "validator-{} is still a validator: {validators:?}",
                    node.0
                ))
            } else {
                Ok(format!("validators are {validators:?}"))
            }
        }
        FinalAssertion::MinCompleted(_) => unreachable!("validated: raft only"),
    }
}
