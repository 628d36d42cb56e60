//! proptest strategies for chain and Raft scenarios (feature `proptest`): the cluster
//! sizes, run lengths and loads are drawn here, the network and faults by
//! [`scenarios::strategy::scenario`].
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use scenarios::strategy::check_case;
//!
//! let mut runner = TestRunner::new(ProptestConfig::with_cases(2));
//! runner
//!     .run(&(detsim::strategy::raft(), any::<u64>()), |(scenario, seed)| {
//!         check_case(&scenario, "detsim-raft", seed)?;
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use proptest::prelude::*;
use scenarios::{Scenario, ScenarioBuilder, built};

use crate::chain::{ChainCluster, ChainWorkload};
use crate::raft::{RaftCluster, RaftWorkload};

/// A chain scenario: 4–6 validators and up to one observer over 15–40 s, 1–10 transfers
/// a second; a drawn network and fault timeline of every kind the chain survives. Its
/// checks are the chain's defaults: every safety invariant, and liveness once the faults
/// are healed.
pub fn chain() -> impl Strategy<Value = Scenario> {
    let bases = (4_u32..=6, 0_u32..=1, 15_u64..=40, 1_u32..=10).prop_map(
        |(validators, observers, seconds, rate)| {
            let cluster = ChainCluster {
                validators: Some(built(validators)),
                observers: Some(built(observers)),
                ..ChainCluster::default()
            };
            base("chain", "proptest-chain", seconds)
                .cluster(&cluster)
                .workload(&ChainWorkload {
                    rate: Some(built(f64::from(rate))),
                    ..ChainWorkload::default()
                })
                .build(&crate::registry())
                .expect("a drawn chain scenario validates")
        },
    );
    scenarios::strategy::scenario(bases)
}

/// A Raft scenario: 3–5 replicas over 5–15 s, 5–40 requests a second; a drawn network
/// and fault timeline of every kind Raft survives (no lost or lying disks).
pub fn raft() -> impl Strategy<Value = Scenario> {
    let bases = (3_u32..=5, 5_u64..=15, 5_u32..=40).prop_map(|(replicas, seconds, rate)| {
        let cluster = RaftCluster {
            replicas: Some(built(replicas)),
            ..RaftCluster::default()
        };
        base("raft", "proptest-raft", seconds)
            .cluster(&cluster)
            .workload(&RaftWorkload {
                rate: Some(built(f64::from(rate))),
                ..RaftWorkload::default()
            })
            .build(&crate::registry())
            .expect("a drawn raft scenario validates")
    });
    scenarios::strategy::scenario(bases)
}

fn base(protocol: &str, name: &str, seconds: u64) -> ScenarioBuilder {
    ScenarioBuilder::new(protocol, name)
        .describe("Drawn by detsim::strategy.")
        .duration(&format!("{seconds}s"))
}
