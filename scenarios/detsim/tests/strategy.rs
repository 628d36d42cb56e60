//! detsim's proptest strategies draw valid scenarios, shrink them structurally, and a
//! failing case leaves a repro file that replays exactly.

#![cfg(feature = "proptest")]

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestError, TestRunner};
use scenarios::repro::Repro;
use scenarios::run_case;
use scenarios::strategy::check_case;
use sim_core::SimDuration;

#[test]
fn drawn_scenarios_validate_and_run() {
    let mut runner = TestRunner::deterministic();
    for (protocol, strategy) in [
        ("chain", detsim::strategy::chain().boxed()),
        ("raft", detsim::strategy::raft().boxed()),
    ] {
        for _ in 0..8 {
            let scenario = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(scenario.protocol(), protocol);
            let result = run_case(&scenario, &scenario.implementations[0], 1);
            assert!(result.steps > 100, "{}", result.summary());
        }
    }
}

#[test]
fn a_failing_scenario_shrinks_to_one_fault_on_the_smallest_cluster() {
    // The "bug": any crash. The property fails; the minimal scenario has one crash (and
    // its restart), the smallest cluster and the shortest run.
    let mut runner = TestRunner::deterministic();
    let result = runner.run(&detsim::strategy::raft(), |scenario| {
        let crashes = scenario
            .faults
            .iter()
            .filter(|t| matches!(t.fault, sim_core::Fault::Crash(_)))
            .count();
        prop_assert_eq!(crashes, 0);
        Ok(())
    });
    let Err(TestError::Fail(_, minimal)) = result else {
        panic!("the property should fail");
    };
    assert_eq!(minimal.faults.len(), 2, "{:?}", minimal.faults);
    assert_eq!(minimal.node_names.len(), 3);
    assert_eq!(minimal.duration, SimDuration::from_secs(5));
}

#[test]
fn check_case_writes_a_repro_that_replays_exactly() {
    let registry = detsim::registry();
    let canary = registry
        .load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../canary/buggy.toml"))
        .unwrap();
    let error = check_case(&canary, "detsim-raft", 2).unwrap_err();
    let message = error.to_string();
    let path = message
        .lines()
        .find_map(|line| line.trim().strip_prefix("repro file: "))
        .expect("the failure names its repro file");
    let repro = Repro::load(&registry, std::path::Path::new(path)).unwrap();
    let again = run_case(&repro.scenario, &repro.implementation, repro.seed);
    assert!(repro.matches(&again), "{}", again.summary());
    assert!(message.contains("detsim repro "), "{message}");
    assert!(check_case(&canary, "detsim-raft", 0).is_ok());
}
