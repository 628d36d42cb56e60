//! Property tests: the chain's and Raft's safety invariants hold under any fault
//! schedule, network and workload the strategies draw — and the raft-rs adapter's too.
//!
//! Each property draws its inputs from `sim_core::strategy` and `node_model::strategy`,
//! so a failure shrinks to the fewest, shortest faults and requests that still break
//! it. CI runs a few cases; `PROPTEST_CASES=500 cargo test -p node-model --all-features
//! --test properties` runs many more. proptest records failing inputs under
//! `properties.proptest-regressions` beside this file and replays them first on the next
//! run.

#![cfg(feature = "proptest")]

use node_model::chain::{self, ChainConfig};
use node_model::raft::{self, RaftConfig, Replica, VoteSync};
use node_model::strategy::{RequestPlan, request_plan, transfer_plan};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestError, TestRunner};
use sim_core::strategy::{FaultSpace, fault_schedule, network_config};
use sim_core::{FaultSchedule, FaultWeights, NetworkConfig, Sim, SimConfig, SimDuration, SimTime};

/// Cases per property: few by default (CI), more with `PROPTEST_CASES`. The inputs
/// are drawn from a fixed seed, so CI is reproducible; `PROPTEST_RNG_SEED=<n>`
/// explores others.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig {
        // Every case is a whole simulation: keep shrinking bounded.
        max_shrink_iters: 2_000,
        ..ProptestConfig::default() // reads PROPTEST_CASES and PROPTEST_RNG_SEED
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 6;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0xde7_5eed);
    }
    config
}

/// The faults Raft is built to survive: no lost disks, no lying disks.
fn raft_faults(replicas: u32, duration: SimDuration) -> FaultSpace {
    FaultSpace {
        weights: FaultWeights {
            reset_data: 0,
            disk: 0,
            ..FaultWeights::default()
        },
        ..FaultSpace::new(replicas, duration)
    }
}

fn sim_config(seed: u64, network: NetworkConfig) -> SimConfig {
    SimConfig {
        network,
        ..SimConfig::new(seed)
    }
}

/// One Raft case, on any implementation: every invariant holds and the client
/// history is linearizable.
fn replicas_case<N: Replica>(
    mut sim: Sim<N>,
    faults: &FaultSchedule,
    requests: &RequestPlan,
    run_for: SimDuration,
) -> Result<(), TestCaseError> {
    let seed = sim.seed();
    raft::checks::install(&mut sim);
    let history = raft::record_history(&mut sim);
    sim.schedule_all(faults);
    requests.schedule(&mut sim);
    let outcome = sim.run_for(run_for);
    prop_assert!(outcome.is_ok(), "seed {}: {}", seed, outcome.unwrap_err());
    let report = history.check();
    prop_assert!(report.is_ok(), "seed {}: {}", seed, report.unwrap_err());
    Ok(())
}

/// [`replicas_case`] on five of our Raft replicas.
fn raft_case(
    seed: u64,
    network: NetworkConfig,
    faults: &FaultSchedule,
    requests: &RequestPlan,
    config: &RaftConfig,
    run_for: SimDuration,
) -> Result<(), TestCaseError> {
    let sim = raft::cluster_with(sim_config(seed, network), 5, config);
    replicas_case(sim, faults, requests, run_for)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_chain_is_safe_under_any_faults_network_and_transfers(
        seed: u64,
        network in network_config(5),
        faults in fault_schedule(FaultSpace::new(5, SimDuration::from_secs(30))),
        transfers in transfer_plan(5, SimDuration::from_secs(30), 60),
    ) {
        let config = ChainConfig { observers: 1, ..ChainConfig::default() };
        let (mut sim, setup) = chain::cluster(config, sim_config(seed, network)).unwrap();
        chain::checks::install(&mut sim, &setup);
        sim.schedule_all(&faults);
        transfers.schedule(&mut sim, &setup);
        let outcome = sim.run_to(SimTime::from_secs(40));
        prop_assert!(outcome.is_ok(), "seed {}: {}", seed, outcome.unwrap_err());
    }

    #[test]
    fn raft_is_safe_and_linearizable_under_any_faults_network_and_requests(
        seed: u64,
        network in network_config(5),
        faults in fault_schedule(raft_faults(5, SimDuration::from_secs(10))),
        requests in request_plan(4, 3, SimDuration::from_secs(10), 80),
    ) {
        let config = RaftConfig::default();
        raft_case(seed, network, &faults, &requests, &config, SimDuration::from_secs(14))?;
    }
}

/// The Raft property is not vacuous: with the planted vote bug (a vote made durable
/// only after the reply left, see `raft::canary`), crash-heavy schedules break it,
/// and the failure shrinks to a handful of faults.
#[test]
fn the_raft_property_finds_the_planted_vote_bug() {
    let canary = raft::canary::canary_faults();
    let space = FaultSpace {
        weights: canary.weights,
        outage_max: canary.outage_max,
        max_down: canary.max_down,
        max_faults: 40,
        ..FaultSpace::new(5, SimDuration::from_secs(3))
    };
    let buggy = RaftConfig {
        vote_sync: VoteSync::AfterReply,
        ..RaftConfig::default()
    };
    let inputs = (
        any::<u64>(),
        fault_schedule(space),
        request_plan(2, 2, SimDuration::from_secs(3), 20),
    );
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 2_000,
        max_shrink_iters: 5_000,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(1),
        ..ProptestConfig::default()
    });
    // The size of the first failing case, to compare with the shrunk one.
    let first = std::cell::Cell::new(None);
    let result = runner.run(&inputs, |(seed, faults, requests)| {
        let network = raft::canary::canary_network();
        let verdict = raft_case(
            seed,
            network,
            &faults,
            &requests,
            &buggy,
            SimDuration::from_secs(4),
        );
        if verdict.is_err() && first.get().is_none() {
            first.set(Some((faults.len(), requests.requests.len())));
        }
        verdict
    });
    let Err(TestError::Fail(reason, (_, faults, requests))) = result else {
        panic!("2,000 cases never broke the buggy twin: {result:?}");
    };
    let (first_faults, first_requests) = first.get().unwrap();
    println!(
        "{reason}\nshrunk from {first_faults} faults and {first_requests} requests to {} and {}",
        faults.len(),
        requests.requests.len()
    );
    assert!(reason.message().contains("raft:"), "{reason}");
    assert!(
        faults.len() < first_faults,
        "shrunk to {} faults",
        faults.len()
    );
    assert!(requests.requests.len() < first_requests, "shrunk requests");
}

#[cfg(feature = "raft-rs")]
proptest! {
    #![proptest_config(config())]

    #[test]
    fn raft_rs_is_safe_and_linearizable_under_any_faults_network_and_requests(
        seed: u64,
        network in network_config(3),
        faults in fault_schedule(raft_faults(3, SimDuration::from_secs(10))),
        requests in request_plan(4, 3, SimDuration::from_secs(10), 60),
    ) {
        use node_model::raft_rs::{self, RaftRsConfig};
        let config = RaftRsConfig::default();
        let sim = raft_rs::cluster_with(sim_config(seed, network), 3, &config);
        replicas_case(sim, &faults, &requests, SimDuration::from_secs(14))?;
    }
}
