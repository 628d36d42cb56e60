//! `[checks.while_connected]`: liveness judged during the fault phase, whenever a quorum
//! is up and connected, catches what the heal phase's check never sees.

use scenarios::{Verdict, run_case};
use sim_core::{CheckKind, SimTime};

fn parse(text: &str) -> scenarios::Scenario {
    detsim::registry().parse(text, None).unwrap()
}

/// The swarm Raft scenario of the suite, with `raft` as its `[cluster.raft]` settings
/// and `checks` appended, and outages of at least a second at a steady pace: the
/// livelock needs a cut that outlasts several elections.
fn swarm_raft(raft: &str, checks: &str) -> scenarios::Scenario {
    swarm_raft_drawing(raft, "", checks)
}

/// [`swarm_raft`] with `random` appended to its `[random_faults]`.
fn swarm_raft_drawing(raft: &str, random: &str, checks: &str) -> scenarios::Scenario {
    parse(&format!(
        r#"
protocol = "raft"
duration = "30s"
[cluster]
replicas = 5
raft = {{ {raft} }}
[workload]
rate = 20
[random_faults]
start = "2s"
end = "30s"
mean_interval = "1s"
outage_min = "1s"
outage_max = "4s"
max_down = 2
tempo = "steady"
{random}
{checks}
"#
    ))
}

const WHILE_CONNECTED: &str = "[checks.while_connected]\nafter = \"2s\"\nwithin = \"3s\"\n";

/// The first of `seeds` on which detsim-raft fails `scenario`, with its result.
fn first_failure(
    scenario: &scenarios::Scenario,
    seeds: std::ops::Range<u64>,
) -> Option<scenarios::CaseResult> {
    seeds
        .map(|seed| run_case(scenario, "detsim-raft", seed))
        .find(|result| result.verdict != Verdict::Pass)
}

#[test]
fn a_raft_without_pre_vote_or_check_quorum_loses_its_leader_while_a_majority_is_connected() {
    let checked = swarm_raft("", WHILE_CONNECTED);
    let failure = first_failure(&checked, 0..200).expect("a leaderless connected majority");
    assert_eq!(failure.verdict, Verdict::Liveness, "{}", failure.summary());
    let violation = failure.violation.as_ref().unwrap();
    assert_eq!(violation.kind, CheckKind::Whenever);
    assert_eq!(violation.check, detsim::raft::LEADS_WHILE_CONNECTED);
    let (from, to) = violation.window.expect("the window that was missed");
    assert_eq!(to.duration_since(from), sim_core::SimDuration::from_secs(3));
    assert!(
        to < SimTime::from_secs(30),
        "found during the fault phase: {violation}"
    );

    // Judged only after healing, the same schedule passes: the heal phase repairs what
    // kept the majority leaderless.
    let healed_only = swarm_raft("", "");
    let result = run_case(&healed_only, "detsim-raft", failure.seed);
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.summary());
}

#[test]
fn pre_vote_and_check_quorum_keep_a_connected_majority_led() {
    let unguarded = swarm_raft("", WHILE_CONNECTED);
    let guarded = swarm_raft("check_quorum = true, pre_vote = true", WHILE_CONNECTED);
    let failing: Vec<u64> = (0..100)
        .filter(|&seed| run_case(&unguarded, "detsim-raft", seed).verdict != Verdict::Pass)
        .collect();
    assert!(
        !failing.is_empty(),
        "the unguarded Raft fails somewhere in 0..100"
    );
    for seed in failing {
        let result = run_case(&guarded, "detsim-raft", seed);
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "seed {seed}: {}",
            result.summary()
        );
        let check = result
            .sub_results
            .iter()
            .find(|sub| sub.kind == "whenever")
            .expect("the check is reported");
        assert!(
            check.passed && check.detail.starts_with("in force from"),
            "{check:?}"
        );
    }
}

#[test]
fn each_half_of_the_fix_is_needed() {
    // Cuts and crashes only: the livelocks each half leaves need a one-way cut.
    let cuts = "kinds = [\"one_way\", \"partition\", \"crash\"]";
    for raft in ["check_quorum = true", "pre_vote = true"] {
        let scenario = swarm_raft_drawing(raft, cuts, WHILE_CONNECTED);
        let failure = first_failure(&scenario, 0..300);
        assert!(failure.is_some(), "with only {raft}, some seed fails");
    }
}

#[test]
fn a_scenario_that_does_not_ask_has_no_such_check() {
    let result = run_case(&swarm_raft("", ""), "detsim-raft", 0);
    assert!(result.sub_results.iter().all(|sub| sub.kind != "whenever"));
}
