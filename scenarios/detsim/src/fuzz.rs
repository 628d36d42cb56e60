//! The setup of detsim's own cargo-fuzz targets (in `fuzz/`): the canary first, the
//! focus of `fault_schedule` and `choices`, then the suite's smoke and swarm scenarios of
//! each protocol for `scenario_seed`.

use scenarios::fuzzing::FuzzSetup;
use sim_core::SimDuration;

/// The canary's buggy twin: a Raft replica replies to a vote request before its vote is
/// synced. The fuzz smoke run must break it.
pub const CANARY: &str = include_str!("../../canary/buggy.toml");

/// The scenarios `scenario_seed` picks from, the canary first.
const SCENARIOS: [(&str, &str); 5] = [
    ("canary-buggy", CANARY),
    ("smoke", include_str!("../../suite/smoke.toml")),
    ("raft-smoke", include_str!("../../suite/raft-smoke.toml")),
    ("swarm-chain", include_str!("../../suite/swarm-chain.toml")),
    ("swarm-raft", include_str!("../../suite/swarm-raft.toml")),
];

/// What detsim's fuzz targets work on. `fault_schedule` runs the canary's cluster for 4 s
/// before its heal phase, so that a fuzzer's few faults are dense and each run is quick.
pub fn fuzz_setup() -> FuzzSetup {
    FuzzSetup::from_texts(crate::registry(), &SCENARIOS)
        .expect("the bundled scenarios parse")
        .fault_phase(SimDuration::from_secs(4))
}
