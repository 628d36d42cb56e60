//! The heal phase repairs a core, not everyone: liveness is also judged with a minority
//! still down or cut off.

use scenarios::{RunOptions, Verdict, run_case, run_case_with};
use sim_core::{NodeId, StepKind};

fn parse(text: &str) -> scenarios::Scenario {
    detsim::registry().parse(text, None).unwrap()
}

/// The faults the heal phase applied to validator-3, in order, as the trace prints them.
fn heal_faults_on_validator_3(scenario: &scenarios::Scenario) -> Vec<String> {
    let options = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let (_, trace) = run_case_with(scenario, "detsim-chain", 1, options);
    let heal_at = scenario.heal_time();
    trace
        .expect("the trace was asked for")
        .records
        .into_iter()
        .filter(|r| r.kind == StepKind::Fault && r.time == heal_at && r.node == Some(NodeId(3)))
        .map(|r| r.detail)
        .collect()
}

const CHAIN: &str = r#"
protocol = "chain"
preset = "minimal"
duration = "20s"
[workload]
rate = 5
[[faults]]
at = "5s"
crash = "validator-3"
"#;

#[test]
fn a_chain_stays_live_with_one_validator_of_four_left_down() {
    let scenario = parse(&format!(
        "{CHAIN}[heal]\nnodes = [\"validator-0\", \"validator-1\", \"validator-2\"]\n"
    ));
    for seed in 0..4 {
        let result = run_case(&scenario, "detsim-chain", seed);
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "seed {seed}: {}",
            result.summary()
        );
        assert_eq!(result.facts["nodes_up"], "3", "validator-3 stays crashed");
    }
}

#[test]
fn an_isolated_minority_keeps_running_and_liveness_is_judged_on_the_core() {
    let scenario = parse(&format!(
        "{CHAIN}[heal]\nnodes = [\"validator-0\", \"validator-1\", \"validator-2\"]\nothers = \"isolate\"\n"
    ));
    let result = run_case(&scenario, "detsim-chain", 1);
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.summary());
    assert_eq!(result.facts["nodes_up"], "4", "validator-3 runs again");
    let faults = heal_faults_on_validator_3(&scenario);
    assert_eq!(
        (
            faults.first().map(String::as_str),
            faults.last().map(String::as_str)
        ),
        (
            Some("Restart(NodeId(3))"),
            Some("Partition(Isolate(NodeId(3)))")
        ),
        "validator-3 is restarted, then cut off: {faults:?}"
    );
}

#[test]
fn the_default_for_the_others_is_to_crash_them_even_if_no_fault_touched_them() {
    let quiet = CHAIN.split("[[faults]]").next().unwrap();
    let scenario = parse(&format!(
        "{quiet}[heal]\nnodes = [\"validator-0\", \"validator-1\", \"validator-2\"]\n"
    ));
    assert_eq!(heal_faults_on_validator_3(&scenario), ["Crash(NodeId(3))"]);
    assert_eq!(
        run_case(&scenario, "detsim-chain", 1).facts["nodes_up"],
        "3"
    );
}

#[test]
fn a_chain_with_half_its_stake_down_is_not_live_and_says_so() {
    let scenario = parse(&format!(
        "{CHAIN}[heal]\nwithin = \"10s\"\nnodes = [\"validator-0\", \"validator-1\"]\n"
    ));
    let result = run_case(&scenario, "detsim-chain", 1);
    assert_eq!(result.verdict, Verdict::Liveness, "{}", result.summary());
    let check = result.violation.map(|v| v.check).unwrap_or_default();
    assert_eq!(check, "liveness: finality advances after healing");
}

#[test]
fn raft_stays_live_with_a_minority_down_whichever_it_is() {
    let scenario = parse(
        r#"
        protocol = "raft"
        duration = "10s"
        [cluster]
        replicas = 5
        [workload]
        rate = 20
        [heal]
        nodes = "majority"
        "#,
    );
    let mut left_out = std::collections::BTreeSet::new();
    for seed in 0..12 {
        let result = run_case(&scenario, "detsim-raft", seed);
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "seed {seed}: {}",
            result.summary()
        );
        let (core, others) = scenario.heal.split(scenario.node_count(), seed);
        assert_eq!((core.len(), others.len()), (3, 2));
        left_out.insert(others);
    }
    assert!(
        left_out.len() > 3,
        "each seed draws its own majority: {left_out:?}"
    );
}

#[test]
fn as_left_leaves_the_others_failed_as_the_fault_phase_left_them() {
    let scenario = parse(&format!(
        "{CHAIN}[heal]\nnodes = [\"validator-0\", \"validator-1\", \"validator-2\"]\nothers = \"as_left\"\n"
    ));
    let result = run_case(&scenario, "detsim-chain", 1);
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.summary());
    assert_eq!(
        result.facts["nodes_up"], "3",
        "validator-3 was crashed at 5s and stays so"
    );
    assert_eq!(heal_faults_on_validator_3(&scenario), Vec::<String>::new());

    let quiet = CHAIN.split("[[faults]]").next().unwrap();
    let untouched = parse(&format!(
        "{quiet}[heal]\nnodes = [\"validator-0\", \"validator-1\", \"validator-2\"]\nothers = \"as_left\"\n"
    ));
    let result = run_case(&untouched, "detsim-chain", 1);
    assert_eq!(
        result.facts["nodes_up"], "4",
        "no fault touched validator-3"
    );
}

#[test]
fn a_bad_heal_table_is_located() {
    let registry = detsim::registry();
    let error = registry
        .parse(&format!("{CHAIN}[heal]\nnodes = [\"validator-9\"]\n"), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("line 11, column 9") && error.contains("unknown node \"validator-9\""),
        "{error}"
    );
    let error = registry
        .parse(&format!("{CHAIN}[heal]\nothers = \"explode\"\n"), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("line 11, column 10: error: unknown value others = \"explode\""),
        "{error}"
    );
}
