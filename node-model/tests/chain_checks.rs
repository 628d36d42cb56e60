//! Each chain invariant catches a planted violation: the planted observations go through
//! the real pipeline (a node reports them during a step) to the real checkers.

use std::rc::Rc;

use node_model::chain::checks::{
    EpochAgreement, FinalityAgreement, NoncesIncrease, SupplyConserved,
};
use node_model::chain::types::AppliedTransaction;
use node_model::chain::{self, ChainConfig, ChainEvent, ChainNode, ChainSetup, ValidatorId};
use node_model::crypto::CryptoHash;
use sim_core::{CheckKind, NodeId, Sim, SimConfig, SimDuration, Stop};

fn quiet_cluster() -> (Sim<ChainNode>, Rc<ChainSetup>) {
    chain::cluster(ChainConfig::default(), SimConfig::new(1)).unwrap()
}

/// Makes `node` report `event` in a step, then runs a moment; returns the stop, if any.
fn plant(sim: &mut Sim<ChainNode>, node: u32, event: ChainEvent) -> Option<Stop> {
    sim.call(NodeId(node), move |_, ctx| ctx.observe(event));
    sim.run_for(SimDuration::from_millis(1)).err()
}

fn finalized(height: u64, hash: u64, parent: u64, applied: Vec<AppliedTransaction>) -> ChainEvent {
    ChainEvent::Finalized {
        height,
        hash: CryptoHash(hash),
        parent: CryptoHash(parent),
        applied,
    }
}

fn violation(stop: Option<Stop>) -> String {
    let stop = stop.expect("the planted violation was caught");
    let violation = stop.violation().expect("a check failed");
    assert_eq!(violation.kind, CheckKind::Always);
    violation.message.clone()
}

#[test]
fn finality_agreement_catches_two_final_blocks_at_one_height() {
    let (mut sim, setup) = quiet_cluster();
    sim.add_invariant("finality agreement", FinalityAgreement::new(&setup));
    let genesis = setup.genesis_block.hash.0;
    assert!(plant(&mut sim, 0, finalized(1, 10, genesis, Vec::new())).is_none());
    let message = violation(plant(&mut sim, 1, finalized(1, 11, genesis, Vec::new())));
    assert!(
        message.contains("conflicting final blocks at height 1"),
        "{message}"
    );
}

#[test]
fn finality_agreement_catches_final_chains_that_are_not_prefixes() {
    let (mut sim, setup) = quiet_cluster();
    sim.add_invariant("finality agreement", FinalityAgreement::new(&setup));
    let genesis = setup.genesis_block.hash.0;
    assert!(plant(&mut sim, 0, finalized(1, 10, genesis, Vec::new())).is_none());
    // Height 3 built on something other than the final block at height 1.
    let message = violation(plant(&mut sim, 2, finalized(3, 30, 99, Vec::new())));
    assert!(message.contains("final chains diverge"), "{message}");
}

#[test]
fn supply_conserved_catches_a_final_state_with_the_wrong_supply() {
    let (mut sim, setup) = quiet_cluster();
    // Plant the violation in the expectation: the real genesis state holds one coin less
    // than this checker was told genesis created.
    let mut inflated = ChainSetup::new(setup.config.clone());
    inflated.total_supply += 1;
    sim.add_invariant("supply conserved", SupplyConserved::new(&inflated));
    let genesis = setup.genesis_block.hash.0;
    let message = violation(plant(&mut sim, 0, finalized(0, genesis, 0, Vec::new())));
    assert!(message.contains("but genesis created"), "{message}");
}

fn transfer(hash: u64, signer: &str, nonce: u64) -> AppliedTransaction {
    AppliedTransaction {
        hash: CryptoHash(hash),
        signer: signer.into(),
        nonce,
    }
}

#[test]
fn nonces_increase_catches_a_transaction_applied_twice() {
    let (mut sim, _) = quiet_cluster();
    sim.add_invariant("nonces increase", NoncesIncrease::default());
    assert!(
        plant(
            &mut sim,
            0,
            finalized(1, 10, 0, vec![transfer(7, "alice", 1)])
        )
        .is_none()
    );
    let message = violation(plant(
        &mut sim,
        0,
        finalized(2, 20, 10, vec![transfer(7, "alice", 2)]),
    ));
    assert!(message.contains("applied twice"), "{message}");
}

#[test]
fn nonces_increase_catches_a_nonce_going_backwards() {
    let (mut sim, _) = quiet_cluster();
    sim.add_invariant("nonces increase", NoncesIncrease::default());
    assert!(
        plant(
            &mut sim,
            0,
            finalized(1, 10, 0, vec![transfer(7, "alice", 5)])
        )
        .is_none()
    );
    let message = violation(plant(
        &mut sim,
        0,
        finalized(2, 20, 10, vec![transfer(8, "alice", 5)]),
    ));
    assert!(message.contains("nonce went from 5 to 5"), "{message}");
}

#[test]
fn epoch_agreement_catches_two_validator_sets_for_one_epoch() {
    let (mut sim, _) = quiet_cluster();
    sim.add_invariant("epoch agreement", EpochAgreement::default());
    let set = |ids: &[u32]| ids.iter().copied().map(ValidatorId).collect::<Vec<_>>();
    let epoch = |validators| ChainEvent::EpochStarted {
        epoch: 1,
        validators,
    };
    assert!(plant(&mut sim, 0, epoch(set(&[0, 1, 2]))).is_none());
    assert!(plant(&mut sim, 1, epoch(set(&[0, 1, 2]))).is_none());
    let message = violation(plant(&mut sim, 2, epoch(set(&[0, 1, 3]))));
    assert!(message.contains("epoch 1"), "{message}");
}

#[test]
fn a_liveness_check_fails_when_finality_cannot_advance() {
    let (mut sim, setup) = chain::cluster(ChainConfig::default(), SimConfig::new(2)).unwrap();
    chain::checks::install(&mut sim, &setup);
    // Two of four validators down: no 2/3 of stake, so finality must stall.
    sim.schedule(
        sim_core::SimTime::from_secs(5),
        sim_core::Fault::Crash(NodeId(0)),
    );
    sim.schedule(
        sim_core::SimTime::from_secs(5),
        sim_core::Fault::Crash(NodeId(1)),
    );
    sim.run_for(SimDuration::from_secs(6)).unwrap();
    let stuck = chain::checks::final_height_of_all_up(&sim.world()).unwrap();
    sim.eventually(
        "finality advances",
        sim_core::SimTime::from_secs(30),
        move |world| chain::checks::final_height_of_all_up(world).is_some_and(|h| h > stuck + 3),
    );
    let stop = sim.run_for(SimDuration::from_secs(60)).unwrap_err();
    assert_eq!(stop.violation().unwrap().kind, CheckKind::Eventually);
}
