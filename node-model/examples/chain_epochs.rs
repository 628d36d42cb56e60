//! Five hours of a proof-of-stake chain in a fraction of a second: seven validators,
//! ten-second blocks, half-hour epochs, and validators that stop participating.
//!
//! ```sh
//! cargo run --release -p node-model --example chain_epochs
//! ```
//!
//! - validator-6 crashes for good: kicked out at the next epoch boundary but one;
//! - validator-5 is cut off by a partition for more than an epoch: it cannot finalize
//!   alone, is kicked out, and rejoins outside the validator set when the network heals;
//! - validator-4 loses its data: it restarts from genesis, keeps producing, and waits
//!   ten block times before voting again (it cannot know what it voted before);
//! - validator-3 crashes too, but kick-outs stop at the minimum of five validators.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use node_model::chain::{ChainMessage, ChainNode, ValidatorId};
use sim_core::{Fault, NodeId, Partition, Sim, SimTime, Verdict};

use common::{BLOCK_TIME, at, clock, print_epochs, stopwatch, wan_chain};

fn main() {
    let elapsed = stopwatch();
    let (mut sim, setup) = wan_chain(1);
    let votes = record_votes(&mut sim, 4);
    println!(
        "7 validators, a block every {BLOCK_TIME}, epochs of {} blocks, at least {} validators",
        setup.config.genesis.epoch_length,
        setup.config.min_validators()
    );

    let timeline = [
        (
            at(0, 55),
            "validator-6 crashes for good",
            Fault::Crash(NodeId(6)),
        ),
        (
            at(1, 40),
            "validator-5 is cut off",
            Fault::Partition(Partition::Isolate(NodeId(5))),
        ),
        (
            at(2, 20),
            "validator-4's disk is wiped",
            Fault::ResetData(NodeId(4)),
        ),
        (
            at(2, 21),
            "validator-4 restarts from genesis",
            Fault::Restart(NodeId(4)),
        ),
        (at(2, 45), "the partition heals", Fault::Heal),
        (
            at(3, 30),
            "validator-3 crashes for good",
            Fault::Crash(NodeId(3)),
        ),
    ];
    println!("\nvirtual  what happens                        what node 0 sees just before");
    for (time, what, fault) in timeline {
        sim.run_to(time).expect("no invariant broken");
        sim.schedule(time, fault);
        println!("{}  {what:<34}  {}", clock(time), describe(&sim, 0));
    }
    sim.run_to(at(5, 0)).expect("no invariant broken");
    println!("{}  {:<34}  {}", clock(sim.now()), "end", describe(&sim, 0));

    print_isolated_and_rejoined(&sim);
    print_embargo(&votes.borrow(), at(2, 21));
    print_epochs(sim.node(NodeId(0)).expect("up"));
    let outcome = sim.outcome();
    println!(
        "\n{} of virtual time, {} steps, invariants {}: {:.0?} of wall time",
        clock(sim.now()),
        outcome.stats.steps,
        if outcome.passed() { "held" } else { "BROKEN" },
        elapsed()
    );
}

fn describe(sim: &Sim<ChainNode>, node: u32) -> String {
    let status = sim.node(NodeId(node)).expect("up").status();
    let ids: Vec<u32> = status.validators.iter().map(|v| v.0).collect();
    format!(
        "head {:>4}, final {:>4}, epoch {}, validators {ids:?}",
        status.latest_height, status.final_height, status.epoch
    )
}

fn print_isolated_and_rejoined(sim: &Sim<ChainNode>) {
    let (rejoined, majority) = (
        sim.node(NodeId(5)).expect("up").status(),
        sim.node(NodeId(0)).expect("up").status(),
    );
    println!(
        "\nvalidator-5 since the heal: final block {} at height {} (node 0: {} at {}), \
         in the validator set: {}",
        rejoined.final_hash,
        rejoined.final_height,
        majority.final_hash,
        majority.final_height,
        rejoined.validators.contains(&ValidatorId(5))
    );
}

fn print_embargo(votes: &[(SimTime, u64)], restart: SimTime) {
    let before = votes.iter().rev().find(|(time, _)| *time < restart);
    let after = votes.iter().find(|(time, _)| *time >= restart);
    if let (Some((last, last_height)), Some((first, first_height))) = (before, after) {
        println!(
            "validator-4 voted last at {} (height {last_height}), restarted at {}, voted again \
             at {} (height {first_height}): ten block times of embargo, then the next blocks",
            clock(*last),
            clock(restart),
            clock(*first)
        );
    }
}

/// Records every vote `validator` sends (the copy to one peer stands for all).
fn record_votes(sim: &mut Sim<ChainNode>, validator: u32) -> Rc<RefCell<Vec<(SimTime, u64)>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&log);
    sim.intercept("record votes", move |_, envelope| {
        if let ChainMessage::Endorsement(vote) = &envelope.message
            && vote.validator == ValidatorId(validator)
            && envelope.target == NodeId(0)
        {
            sink.borrow_mut()
                .push((envelope.sent_at, vote.target_height));
        }
        Verdict::Pass
    });
    log
}
