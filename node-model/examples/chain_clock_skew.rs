//! Validators whose clocks are off by minutes, over three and a half hours of a
//! proof-of-stake chain, in a fraction of a second.
//!
//! ```sh
//! cargo run --release -p node-model --example chain_clock_skew
//! ```
//!
//! A block carries its producer's clock reading, and a node refuses a block stamped more
//! than `max_clock_drift` (five seconds) ahead of its own clock. So:
//!
//! - validator-6, three minutes ahead, stamps blocks everyone else refuses: its turns
//!   are skipped and it is kicked out at the next epoch boundary but one;
//! - validator-5, three minutes behind, refuses everyone else's blocks until its clock
//!   catches up with their stamps: it trails the chain by three minutes, builds only on
//!   stale heads, and is kicked out too; once its clock is set right it catches up at
//!   once, but stays out of the validator set;
//! - validator-4, four seconds ahead, is within the allowance and carries on.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use node_model::chain::{ChainEvent, ChainNode};
use sim_core::{Fault, NodeId, Sim, SimTime};

use common::{BLOCK_TIME, at, clock, print_epochs, stopwatch, wan_chain};

const MINUTES_AHEAD: i64 = 3 * 60 * 1_000_000_000;

fn main() {
    let elapsed = stopwatch();
    let (mut sim, setup) = wan_chain(2);
    println!(
        "7 validators, a block every {BLOCK_TIME}, epochs of 180 blocks; a block may be \
         stamped at most {} ahead of its receiver's clock",
        setup.config.genesis.max_clock_drift
    );
    let refused = count_refusals(&mut sim);
    let skew = |node, offset_ns| Fault::ClockSkew {
        node: NodeId(node),
        offset_ns,
    };
    sim.schedule(at(1, 0), skew(6, MINUTES_AHEAD));
    sim.schedule(at(1, 0), skew(5, -MINUTES_AHEAD));
    sim.schedule(at(1, 0), skew(4, 4_000_000_000));
    sim.schedule(at(2, 30), skew(5, MINUTES_AHEAD));
    println!("1:00:00  validator-6's clock jumps 3 minutes ahead, validator-5's 3 minutes back,");
    println!("         validator-4's 4 seconds ahead; 2:30:00 validator-5's clock is set right\n");

    println!("virtual  validator-5's clock  its head (stamped)  node 0's head (stamped)");
    for minutes in (45..=210).step_by(15) {
        sim.run_to(at(0, minutes)).expect("no invariant broken");
        let world = sim.world();
        let (late, node0) = (head(&sim, 5), head(&sim, 0));
        println!(
            "{}  {}              {:>5} ({})       {:>5} ({})",
            clock(sim.now()),
            clock(world.local_time(NodeId(5))),
            late.0,
            clock(late.1),
            node0.0,
            clock(node0.1)
        );
    }
    println!(
        "\nblocks refused as \"from the future\", by node: {:?}",
        refused.borrow()
    );
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

/// A node's head: its height and timestamp.
fn head(sim: &Sim<ChainNode>, node: u32) -> (u64, SimTime) {
    let node = sim.node(NodeId(node)).expect("up");
    let height = node.status().latest_height;
    (height, node.block_at(height).expect("canonical").timestamp)
}

/// Counts, by node, the blocks it refused because they were stamped in its future.
fn count_refusals(sim: &mut Sim<ChainNode>) -> Rc<RefCell<BTreeMap<u32, u64>>> {
    let counts: Rc<RefCell<BTreeMap<u32, u64>>> = Rc::default();
    let sink = Rc::clone(&counts);
    sim.always("count refusals", move |world| {
        for observation in world.observations() {
            if observation.value
                == (ChainEvent::Rejected {
                    reason: "block from the future",
                })
            {
                *sink.borrow_mut().entry(observation.node.0).or_insert(0) += 1;
            }
        }
        Ok(())
    });
    counts
}
