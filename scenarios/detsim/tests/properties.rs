//! Whole-scenario property tests: any scenario the strategy draws passes — every
//! safety invariant holds, and the cluster is live again once its faults are healed —
//! for the chain, our Raft and raft-rs.
//!
//! A failure leaves a repro file and prints `detsim repro <file>` (see
//! `scenarios::strategy::check_case`). CI runs a few cases from a fixed seed;
//! `PROPTEST_CASES=500 cargo test -p scenarios --all-features --test properties` runs
//! more, and `PROPTEST_RNG_SEED=<n>` explores other cases.

#![cfg(feature = "proptest")]

use detsim::strategy::{chain, raft};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use scenarios::strategy::check_case;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig {
        max_shrink_iters: 1_000,
        ..ProptestConfig::default() // reads PROPTEST_CASES and PROPTEST_RNG_SEED
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 4;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0xde7_5eed);
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_chain_scenario_passes(scenario in chain(), seed: u64) {
        check_case(&scenario, "detsim-chain", seed)?;
    }

    #[test]
    fn any_raft_scenario_passes(scenario in raft(), seed: u64) {
        check_case(&scenario, "detsim-raft", seed)?;
    }
}

#[cfg(feature = "raft-rs")]
proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_raft_scenario_passes_on_raft_rs(scenario in raft(), seed: u64) {
        check_case(&scenario, "raft-rs", seed)?;
    }
}
