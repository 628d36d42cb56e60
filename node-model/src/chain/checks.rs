//! The chain's invariants, each a checker with its own canonical history.
//!
//! | check | catches |
//! |---|---|
//! | [`FinalityAgreement`] | two conflicting final blocks at a height; final chains that are not prefixes of each other |
//! | [`SupplyConserved`] | a final state whose balances plus credits in flight differ from genesis |
//! | [`NoncesIncrease`] | a final chain applying a transaction twice, or a signer's nonces not strictly increasing |
//! | [`EpochAgreement`] | two nodes finalizing different validator sets for one epoch |
//!
//! Liveness ("once healed with 2/3 of stake up, finality advances within a bound") is an
//! eventually check built from [`final_height_of_all_up`].

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Invariant, NodeId, NodeStatus, Sim, World};

use crate::chain::node::ChainNode;
use crate::chain::state::ChainSetup;
use crate::chain::types::{AccountId, ChainEvent, ValidatorId};
use crate::crypto::CryptoHash;

/// No two conflicting final blocks; every final chain is a prefix of every other.
#[derive(Debug)]
pub struct FinalityAgreement {
    /// The union of all final chains: height -> (hash, parent, first node to finalize it).
    chain: BTreeMap<u64, (CryptoHash, CryptoHash, NodeId)>,
}

impl FinalityAgreement {
    /// A checker that knows genesis.
    pub fn new(setup: &ChainSetup) -> FinalityAgreement {
        let genesis = &setup.genesis_block;
        FinalityAgreement {
            chain: BTreeMap::from([(0, (genesis.hash, genesis.parent, NodeId(0)))]),
        }
    }

    fn record(
        &mut self,
        node: NodeId,
        height: u64,
        hash: CryptoHash,
        parent: CryptoHash,
    ) -> Result<(), String> {
        if let Some(&(known, _, by)) = self.chain.get(&height) {
            if known != hash {
                return Err(format!(
                    "conflicting final blocks at height {height}: {known} (first final on {by}) and {hash} (final on {node})"
                ));
            }
            return Ok(());
        }
        if let Some((&below, &(below_hash, _, by))) = self.chain.range(..height).next_back()
            && below_hash != parent
        {
            return Err(format!(
                "final chains diverge: {node} finalized {hash} at height {height} on parent {parent}, \
                 but the final block below it is {below_hash} at height {below} (final on {by})"
            ));
        }
        if let Some((&above, &(above_hash, above_parent, by))) =
            self.chain.range(height + 1..).next()
            && above_parent != hash
        {
            return Err(format!(
                "final chains diverge: {node} finalized {hash} at height {height}, but {above_hash} \
                 at height {above} (final on {by}) has parent {above_parent}"
            ));
        }
        self.chain.insert(height, (hash, parent, node));
        Ok(())
    }
}

impl Invariant<ChainNode> for FinalityAgreement {
    fn check(&mut self, world: &World<'_, ChainNode>) -> Result<(), String> {
        for observation in world.observations() {
            if let ChainEvent::Finalized {
                height,
                hash,
                parent,
                ..
            } = &observation.value
            {
                self.record(observation.node, *height, *hash, *parent)?;
            }
        }
        Ok(())
    }
}

/// Every final state holds exactly the genesis supply (balances plus credits in flight).
#[derive(Debug)]
pub struct SupplyConserved {
    total: u64,
}

impl SupplyConserved {
    /// A checker of `setup`'s genesis supply.
    pub fn new(setup: &ChainSetup) -> SupplyConserved {
        SupplyConserved {
            total: setup.total_supply,
        }
    }
}

impl Invariant<ChainNode> for SupplyConserved {
    fn check(&mut self, world: &World<'_, ChainNode>) -> Result<(), String> {
        for observation in world.observations() {
            let ChainEvent::Finalized { height, hash, .. } = &observation.value else {
                continue;
            };
            let state = world.node(observation.node).and_then(|n| n.state_of(*hash));
            if let Some(state) = state {
                let supply = state.total_supply();
                if supply != self.total {
                    return Err(format!(
                        "{} holds a supply of {supply} after final block {hash} at height {height}, \
                         but genesis created {}",
                        observation.node, self.total
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Along the final chain, no transaction applies twice and each signer's nonces
/// strictly increase.
#[derive(Debug, Default)]
pub struct NoncesIncrease {
    heights: BTreeSet<u64>,
    applied: BTreeSet<CryptoHash>,
    nonces: BTreeMap<AccountId, u64>,
}

impl Invariant<ChainNode> for NoncesIncrease {
    fn check(&mut self, world: &World<'_, ChainNode>) -> Result<(), String> {
        for observation in world.observations() {
            let ChainEvent::Finalized {
                height, applied, ..
            } = &observation.value
            else {
                continue;
            };
            if !self.heights.insert(*height) {
                continue; // another node finalized it first
            }
            for tx in applied {
                if !self.applied.insert(tx.hash) {
                    return Err(format!(
                        "transaction {} applied twice (again at final height {height})",
                        tx.hash
                    ));
                }
                let last = self.nonces.entry(tx.signer.clone()).or_insert(0);
                if tx.nonce <= *last {
                    return Err(format!(
                        "{}'s nonce went from {} to {} at final height {height} (transaction {})",
                        tx.signer, last, tx.nonce, tx.hash
                    ));
                }
                *last = tx.nonce;
            }
        }
        Ok(())
    }
}

/// Every node that finalizes the start of an epoch agrees on its validator set.
#[derive(Debug, Default)]
pub struct EpochAgreement {
    epochs: BTreeMap<u64, (Vec<ValidatorId>, NodeId)>,
}

impl Invariant<ChainNode> for EpochAgreement {
    fn check(&mut self, world: &World<'_, ChainNode>) -> Result<(), String> {
        for observation in world.observations() {
            let ChainEvent::EpochStarted { epoch, validators } = &observation.value else {
                continue;
            };
            let (known, by) = self
                .epochs
                .entry(*epoch)
                .or_insert_with(|| (validators.clone(), observation.node));
            if known != validators {
                return Err(format!(
                    "epoch {epoch}: {by} has validators {known:?} but {} has {validators:?}",
                    observation.node
                ));
            }
        }
        Ok(())
    }
}

/// Registers every chain invariant on `sim`.
pub fn install(sim: &mut Sim<ChainNode>, setup: &ChainSetup) {
    sim.add_invariant("finality agreement", FinalityAgreement::new(setup));
    sim.add_invariant("supply conserved", SupplyConserved::new(setup));
    sim.add_invariant("nonces increase", NoncesIncrease::default());
    sim.add_invariant("epoch agreement", EpochAgreement::default());
}

/// The lowest final height among running nodes (`None` if no node runs): liveness
/// checks demand it advance.
pub fn final_height_of_all_up(world: &World<'_, ChainNode>) -> Option<u64> {
    world
        .nodes()
        .filter(|&(id, _)| world.status(id) == NodeStatus::Up)
        .map(|(_, node)| node.status().final_height)
        .min()
}

/// Did some node report this attack (for "sometimes" checks)?
pub fn attack_seen(world: &World<'_, ChainNode>, kind: &str) -> bool {
    world
        .observations()
        .iter()
        .any(|o| matches!(o.value, ChainEvent::Attack { kind: k } if k == kind))
}

/// Did some node reject something for this reason (for "sometimes" checks)?
pub fn rejection_seen(world: &World<'_, ChainNode>, reason: &str) -> bool {
    world
        .observations()
        .iter()
        .any(|o| matches!(o.value, ChainEvent::Rejected { reason: r } if r == reason))
}
