//! Each adversary attacks, the attack demonstrably happens, and honest nodes tolerate it:
//! every invariant holds and finality keeps advancing.

#![cfg(feature = "adversarial")]

use node_model::chain::{self, Adversary, ChainConfig, NodeOverrides, TransferWorkload, checks};
use sim_core::{SimConfig, SimDuration, SimRng, SimTime};

/// Runs 4 validators and an observer for a minute with `adversary` on validator-3 (or on
/// the observer for the adversaries that need no stake); returns how often the attack
/// and the expected defence were seen.
fn attack(adversary: Adversary, defence: Option<&'static str>, seed: u64) -> (u64, u64) {
    let mut config = ChainConfig {
        observers: 1,
        ..ChainConfig::default()
    };
    let node = if adversary.needs_validator() { 3 } else { 4 };
    config.overrides.insert(
        node,
        NodeOverrides {
            adversary: Some(adversary),
            ..NodeOverrides::default()
        },
    );
    let (mut sim, setup) = chain::cluster(config, SimConfig::new(seed)).unwrap();
    checks::install(&mut sim, &setup);
    let workload = TransferWorkload {
        start: SimTime::from_millis(100),
        end: SimTime::from_secs(50),
        interval: SimDuration::from_millis(200),
        accounts: setup.accounts(),
        amount_max: 10,
    };
    workload.schedule(&mut sim, &setup, &mut SimRng::new(seed, "workload"));
    let kind = adversary.name();
    sim.sometimes("attack happened", move |world| {
        checks::attack_seen(world, kind)
    });
    if let Some(reason) = defence {
        sim.sometimes("attack rejected", move |world| {
            checks::rejection_seen(world, reason)
        });
    }
    sim.run_for(SimDuration::from_secs(60))
        .unwrap_or_else(|stop| panic!("{adversary}: {stop}"));
    let honest = sim.node(sim_core::NodeId(0)).unwrap().status();
    assert!(
        honest.final_height >= 40,
        "{adversary} stalled finality: {honest:?}"
    );
    let coverage = sim.outcome().coverage;
    let hits = |name: &str| {
        coverage
            .iter()
            .find(|c| c.check == name)
            .map_or(0, |c| c.hits)
    };
    (hits("attack happened"), hits("attack rejected"))
}

#[test]
fn an_equivocating_producer_cannot_break_finality() {
    let (attacks, _) = attack(Adversary::Equivocate, None, 1);
    assert!(attacks > 0, "the producer never equivocated");
}

#[test]
fn a_producer_withholding_blocks_is_skipped() {
    let (attacks, _) = attack(Adversary::WithholdBlocks, None, 2);
    assert!(attacks > 0);
}

#[test]
fn a_validator_withholding_endorsements_cannot_stop_three_quarters() {
    let (attacks, _) = attack(Adversary::WithholdEndorsements, None, 3);
    assert!(attacks > 0);
}

#[test]
fn blocks_produced_out_of_turn_are_rejected() {
    let (attacks, rejected) = attack(Adversary::ProduceOutOfTurn, Some("wrong producer"), 4);
    assert!(
        attacks > 0 && rejected > 0,
        "{attacks} attacks, {rejected} rejections"
    );
}

#[test]
fn transactions_with_invalid_signatures_are_rejected() {
    let (attacks, rejected) = attack(
        Adversary::InvalidSignatures,
        Some("invalid transaction signature"),
        5,
    );
    assert!(
        attacks > 0 && rejected > 0,
        "{attacks} attacks, {rejected} rejections"
    );
}

#[test]
fn replayed_nonces_are_rejected_and_never_applied_twice() {
    let (attacks, rejected) = attack(Adversary::ReplayNonces, Some("replayed nonce"), 6);
    assert!(
        attacks > 0 && rejected > 0,
        "{attacks} attacks, {rejected} rejections"
    );
}

#[test]
fn replayed_old_messages_change_nothing() {
    let (attacks, _) = attack(Adversary::ReplayMessages, None, 7);
    assert!(attacks > 0);
}
