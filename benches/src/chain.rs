//! The chain benchmark of docs/performance.md: a 4-validator proof-of-stake chain with 1 s
//! blocks and a steady transaction load, every invariant checked after every step.

use std::rc::Rc;

use node_model::chain::{self, ChainConfig, TransferWorkload};
use sim_core::{SimConfig, SimDuration, SimRng, SimTime};

/// What a chain run produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// Steps taken (deliveries, timers, calls).
    pub steps: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Timers fired.
    pub timers: u64,
    /// The lowest final height among the validators at the end.
    pub final_height: u64,
    /// Transactions submitted.
    pub submitted: u64,
    /// The engine's trace hash.
    pub trace: u64,
}

/// Transactions per second of the steady load.
pub const TRANSACTIONS_PER_SECOND: u64 = 10;

/// Runs the chain for `seconds` of virtual time.
pub fn run(seed: u64, seconds: u64) -> ChainReport {
    let config = ChainConfig::default();
    let (mut sim, setup) =
        chain::cluster(config, SimConfig::new(seed)).expect("the default config is valid");
    chain::checks::install(&mut sim, &setup);
    let accounts = setup.accounts();
    let workload = TransferWorkload {
        start: SimTime::from_millis(500),
        end: SimTime::from_secs(seconds),
        interval: SimDuration::from_nanos(1_000_000_000 / TRANSACTIONS_PER_SECOND),
        accounts,
        amount_max: 100,
    };
    let submitted = workload.schedule(
        &mut sim,
        &Rc::clone(&setup),
        &mut SimRng::new(seed, "workload"),
    );
    sim.run_for(SimDuration::from_secs(seconds))
        .unwrap_or_else(|stop| panic!("the chain benchmark failed a check: {stop}"));
    let world = sim.world();
    let final_height = chain::checks::final_height_of_all_up(&world).unwrap_or(0);
    let stats = sim.stats();
    ChainReport {
        steps: stats.steps,
        delivered: stats.deliveries,
        timers: stats.timers,
        final_height,
        submitted,
        trace: sim.trace_hash(),
    }
}
