//! Running chain plans on node-model's chain: `implementation = "detsim-chain"`.

use std::rc::Rc;

use node_model::chain::checks::{
    self, EpochAgreement, FinalityAgreement, NoncesIncrease, SupplyConserved,
};
use node_model::chain::{self as model, ChainNode, ChainSetup, TransferWorkload, ValidatorId};
use scenarios::{Case, Facts, FinalCheck, HealPhase, Implementation, Liveness, WhileConnected};
use sim_core::{ConnectedGroup, NodeId, NodeStatus, Sim, SimConfig, SimDuration, SimTime, World};

use super::plan::{Chain, ChainAssertion, ChainPlan, Situation};

/// The name of the chain's liveness check.
pub const LIVENESS: &str = "liveness: finality advances after healing";
/// The name of the chain's check during the fault phase (`[checks.while_connected]`).
pub const FINALITY_WHILE_CONNECTED: &str =
    "liveness: finality advances while a quorum is connected";

/// node-model's chain.
#[derive(Clone, Copy, Debug, Default)]
pub struct DetsimChain;

impl Implementation<Chain> for DetsimChain {
    type Node = ChainNode;
    type State = Rc<ChainSetup>;

    fn name(&self) -> &str {
        "detsim-chain"
    }

    fn version(&self) -> Option<String> {
        Some(format!("node-model {}", env!("CARGO_PKG_VERSION")))
    }

    fn unsupported(&self, plan: &ChainPlan) -> Option<String> {
        let byzantine = plan
            .config
            .overrides
            .values()
            .any(|o| o.adversary.is_some());
        (byzantine && !cfg!(feature = "adversarial")).then(|| {
            "the scenario asks for byzantine nodes, which this build refuses: rebuild detsim with \
             `--features adversarial` to consent"
                .to_string()
        })
    }

    fn build(&self, case: &Case<'_, Chain>, config: SimConfig) -> (Sim<ChainNode>, Rc<ChainSetup>) {
        let (mut sim, setup) =
            model::cluster(case.plan.config.clone(), config).expect("the scenario was validated");
        for name in case.invariants() {
            match name {
                "finality agreement" => sim.add_invariant(name, FinalityAgreement::new(&setup)),
                "supply conserved" => sim.add_invariant(name, SupplyConserved::new(&setup)),
                "nonces increase" => sim.add_invariant(name, NoncesIncrease::default()),
                "epoch agreement" => sim.add_invariant(name, EpochAgreement::default()),
                other => unreachable!("validated invariant name {other}"),
            }
        }
        for situation in &case.plan.sometimes {
            let name = situation.to_string();
            match situation.clone() {
                Situation::Attack(kind) => {
                    sim.sometimes(&name, move |world| checks::attack_seen(world, &kind));
                }
                Situation::Rejected(reason) => {
                    sim.sometimes(&name, move |world| checks::rejection_seen(world, &reason));
                }
            }
        }
        (sim, setup)
    }

    fn workload(
        &self,
        case: &Case<'_, Chain>,
        sim: &mut Sim<ChainNode>,
        setup: &mut Rc<ChainSetup>,
    ) {
        let Some(transfers) = &case.plan.workload else {
            return;
        };
        let workload = TransferWorkload {
            start: SimTime::ZERO + transfers.start,
            end: SimTime::ZERO + transfers.end,
            interval: SimDuration::from_nanos((1e9 / transfers.rate).round().max(1.0) as u64),
            accounts: transfers
                .accounts
                .iter()
                .map(|a| Rc::from(a.as_str()))
                .collect(),
            amount_max: transfers.amount_max,
        };
        let mut rng = sim.rng("workload");
        workload.schedule(sim, setup, &mut rng);
    }

    /// Finality advances by `progress` heights, beyond the highest final height any node
    /// had when the heal phase began, on every running node of the core.
    fn liveness(
        &self,
        _: &Case<'_, Chain>,
        heal: &HealPhase,
        sim: &mut Sim<ChainNode>,
        _: &mut Rc<ChainSetup>,
    ) -> Option<Liveness<ChainNode>> {
        let baseline = sim
            .world()
            .nodes()
            .map(|(_, n)| n.status().final_height)
            .max()
            .unwrap_or(0);
        let target = baseline + heal.progress;
        let core = heal.core.clone();
        Some(Liveness::new(LIVENESS, move |world| {
            lowest_final_height(world, &core).is_some_and(|height| height >= target)
        }))
    }

    /// Whenever a quorum has been up and linked, finality keeps advancing among them:
    /// the highest final height in the largest connected group grows at least once
    /// every `within`. Owed only while the group's validators hold more than two thirds
    /// of the stake of the epoch its most advanced node is in (a validator kicked out
    /// for missing its blocks no longer counts; a group of too little stake owes
    /// nothing).
    fn while_connected(
        &self,
        _: &Case<'_, Chain>,
        _: &WhileConnected,
        _: &mut Sim<ChainNode>,
        _: &mut Rc<ChainSetup>,
    ) -> Option<Liveness<ChainNode>> {
        let mut group = ConnectedGroup::default();
        let mut highest = 0;
        Some(Liveness::new(
            FINALITY_WHILE_CONNECTED,
            move |world: &World<'_, ChainNode>| {
                let members: Vec<&ChainNode> = group
                    .of(world)
                    .iter()
                    .filter_map(|&id| world.node(id))
                    .collect();
                if !holds_supermajority(&members) {
                    return true;
                }
                let height = members
                    .iter()
                    .map(|node| node.status().final_height)
                    .max()
                    .unwrap_or(0);
                let grew = height > highest;
                highest = highest.max(height);
                grew
            },
        ))
    }

    fn finals(
        &self,
        case: &Case<'_, Chain>,
        world: &World<'_, ChainNode>,
        _: &Rc<ChainSetup>,
    ) -> Vec<FinalCheck> {
        let nodes = up_nodes(world);
        case.plan
            .finals
            .iter()
            .map(|assertion| {
                let outcome = judge(assertion, &nodes, case);
                let name = match assertion {
                    ChainAssertion::KickedOut(node) => {
                        format!("{} kicked out", case.scenario.node_name(*node))
                    }
                    other => other.to_string(),
                };
                if assertion.is_liveness() {
                    FinalCheck::liveness(name, outcome)
                } else {
                    FinalCheck::safety(name, outcome)
                }
            })
            .collect()
    }

    /// The lowest final height, its block, the head's epoch and validators.
    fn facts(
        &self,
        _: &Case<'_, Chain>,
        world: &World<'_, ChainNode>,
        _: &Rc<ChainSetup>,
    ) -> Facts {
        let mut facts = Facts::new();
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
}

/// The lowest final height among the running nodes of `core` (`None` if none runs).
/// Do the validators among `members` hold more than two thirds of the stake of the epoch
/// the most advanced of them is in?
fn holds_supermajority(members: &[&ChainNode]) -> bool {
    let Some(ahead) = members
        .iter()
        .max_by_key(|node| node.tree().head().block.height)
    else {
        return false;
    };
    let state = &ahead.tree().head().state;
    let held: u64 = members
        .iter()
        .filter_map(|node| node.validator_id())
        .map(|validator| state.stake_of(validator))
        .sum();
    3 * u128::from(held) > 2 * u128::from(state.total_stake())
}

fn lowest_final_height(world: &World<'_, ChainNode>, core: &[NodeId]) -> Option<u64> {
    core.iter()
        .filter(|&&id| world.status(id) == NodeStatus::Up)
        .filter_map(|&id| world.node(id))
        .map(|node| node.status().final_height)
        .min()
}

fn up_nodes<'a>(world: &'a World<'_, ChainNode>) -> Vec<&'a ChainNode> {
    world
        .nodes()
        .filter(|&(id, _)| world.status(id) == NodeStatus::Up)
        .map(|(_, node)| node)
        .collect()
}

fn judge(
    assertion: &ChainAssertion,
    nodes: &[&ChainNode],
    case: &Case<'_, Chain>,
) -> Result<String, String> {
    let Some(first) = nodes.first() else {
        return Err("no node is running".to_string());
    };
    let lowest = nodes
        .iter()
        .map(|n| n.status().final_height)
        .min()
        .unwrap_or(0);
    match assertion {
        ChainAssertion::MinFinalHeight(height) => {
            match nodes.iter().find(|n| n.status().final_height < *height) {
                Some(node) => Err(format!(
                    "{} is only at final height {}",
                    node.name(),
                    node.status().final_height
                )),
                None => Ok(format!("lowest final height {lowest}")),
            }
        }
        ChainAssertion::Converged => converged(nodes, lowest),
        ChainAssertion::Balance { account, balance } => {
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
        ChainAssertion::Validators(count) => {
            let actual = first.status().validators.len();
            if actual == *count {
                Ok(format!("{actual} validators"))
            } else {
                Err(format!("{actual} validators, expected {count}"))
            }
        }
        ChainAssertion::KickedOut(node) => {
            let validators = first.status().validators;
            let names: Vec<&str> = validators
                .iter()
                .map(|v| case.scenario.node_name(NodeId(v.0)))
                .collect();
            if validators.contains(&ValidatorId(node.0)) {
                Err(format!(
                    "{} is still a validator: the validators are {}",
                    case.scenario.node_name(*node),
                    names.join(", ")
                ))
            } else {
                Ok(format!("the validators are {}", names.join(", ")))
            }
        }
    }
}

/// Every node holds the same block at the lowest final height, and final heights are at
/// most 2 apart.
fn converged(nodes: &[&ChainNode], lowest: u64) -> Result<String, String> {
    let first = nodes[0];
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
