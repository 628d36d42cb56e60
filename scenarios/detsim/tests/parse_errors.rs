//! Bad scenario files give located, helpful errors, and never panic.

use proptest::prelude::*;

fn parse_scenario(source: &str) -> Result<scenarios::Scenario, scenarios::InputError> {
    detsim::registry().parse(source, None)
}

fn error(source: &str) -> String {
    parse_scenario(source)
        .expect_err("the file is invalid")
        .to_string()
}

fn assert_error(source: &str, position: &str, message: &str) {
    let text = error(source);
    assert!(
        text.starts_with(&format!("line {position}: error: ")),
        "wrong position:\n{text}"
    );
    assert!(text.contains(message), "missing {message:?}:\n{text}");
}

const BASE: &str = "protocol = \"chain\"\nduration = \"60s\"\n";

#[test]
fn an_unknown_field_is_an_error_with_its_position() {
    let text = error(&format!("{BASE}[cluster]\nvalidatorz = 4\n"));
    assert!(
        text.starts_with("line 4, column 1: error: unknown field `validatorz`"),
        "{text}"
    );
    assert!(text.contains("expected one of"), "{text}");
}

#[test]
fn a_wrong_type_names_what_was_expected() {
    let text = error(&format!("{BASE}[cluster]\nvalidators = \"four\"\n"));
    assert!(
        text.contains("line 4") && text.contains("invalid type"),
        "{text}"
    );
}

#[test]
fn a_missing_protocol_or_duration_says_what_to_add() {
    assert!(error("duration = \"1s\"\n").contains("add `protocol = \"chain\"`"));
    assert!(error("protocol = \"raft\"\n").contains("add `duration = \"60s\"`"));
}

#[test]
fn an_unknown_protocol_lists_the_known_ones() {
    assert_error(
        "protocol = \"paxos\"\nduration = \"1s\"\n",
        "1, column 12",
        "this program knows: chain, raft",
    );
}

#[test]
fn a_bad_duration_shows_the_expected_form() {
    assert_error(
        "protocol = \"chain\"\nduration = \"sixty\"\n",
        "2, column 12",
        "expected a duration like",
    );
}

#[test]
fn an_out_of_range_value_says_what_range_is_allowed() {
    let text = error(&format!("{BASE}[cluster]\nvalidators = 0\n"));
    assert!(
        text.contains("line 4, column 14") && text.contains("validators = 0 is out of range"),
        "{text}"
    );
    assert!(text.contains("between 1 and 100"), "{text}");
}

#[test]
fn an_unknown_node_name_lists_the_clusters_nodes() {
    let text = error(&format!(
        "{BASE}[[faults]]\nat = \"5s\"\ncrash = \"validator-9\"\n"
    ));
    assert!(
        text.contains("line 5, column 9") && text.contains("unknown node \"validator-9\""),
        "{text}"
    );
    assert!(
        text.contains("validator-0, validator-1, validator-2, validator-3"),
        "{text}"
    );
}

#[test]
fn faults_out_of_time_order_are_an_error() {
    let source = format!(
        "{BASE}[[faults]]\nat = \"20s\"\ncrash = \"validator-1\"\n[[faults]]\nat = \"10s\"\nrestart = \"validator-1\"\n"
    );
    let text = error(&source);
    assert!(
        text.contains("line 7") && text.contains("comes before the previous one"),
        "{text}"
    );
    assert!(text.contains("list faults in time order"), "{text}");
}

#[test]
fn a_fault_after_the_fault_phase_is_an_error() {
    let text = error(&format!(
        "{BASE}[[faults]]\nat = \"90s\"\ncrash = \"validator-1\"\n"
    ));
    assert!(text.contains("after the end of the fault phase"), "{text}");
}

#[test]
fn a_fault_needs_exactly_one_action() {
    let both = error(&format!(
        "{BASE}[[faults]]\nat = \"5s\"\ncrash = \"validator-1\"\npause = \"validator-2\"\n"
    ));
    assert!(
        both.contains("exactly one action") && both.contains("`crash` and `pause`"),
        "{both}"
    );
    let none = error(&format!("{BASE}[[faults]]\nat = \"5s\"\n"));
    assert!(
        none.contains("has no action") && none.contains("add one of"),
        "{none}"
    );
}

#[test]
fn a_bad_probability_says_how_to_write_one() {
    let text = error(&format!("{BASE}[network]\nloss = \"lots\"\n"));
    assert!(
        text.contains("line 4, column 8") && text.contains("expected a probability"),
        "{text}"
    );
}

#[test]
fn a_protocol_refuses_the_fields_of_another() {
    let text = error(&format!("{BASE}[cluster]\nreplicas = 3\n"));
    assert!(
        text.starts_with("line 4, column 1: error: unknown field `replicas`")
            && text.contains("`validators`"),
        "{text}"
    );
    let text = error("protocol = \"raft\"\nduration = \"1s\"\n[cluster]\nvalidators = 3\n");
    assert!(
        text.starts_with("line 4, column 1: error: unknown field `validators`")
            && text.contains("`replicas`"),
        "{text}"
    );
    let text =
        error("protocol = \"raft\"\nduration = \"1s\"\n[[checks.final]]\nmin_final_height = 3\n");
    assert!(text.contains("unknown field `min_final_height`"), "{text}");
}

#[test]
fn a_fault_kind_the_protocol_does_not_survive_is_refused() {
    let text = error(
        "protocol = \"raft\"\nduration = \"10s\"\n[[faults]]\nat = \"1s\"\nreset_data = \"replica-0\"\n",
    );
    assert!(
        text.starts_with("line 3, column 1: error: the raft protocol does not claim to survive `reset_data` faults"),
        "{text}"
    );
    let text = error(
        "protocol = \"raft\"\nduration = \"10s\"\n[random_faults]\nkinds = [\"crash\", \"disk\"]\n",
    );
    assert!(
        text.contains("line 4, column 19") && text.contains("does not claim to survive \"disk\""),
        "{text}"
    );
}

#[test]
fn sometimes_checks_are_refused_by_a_protocol_without_them() {
    let text =
        error("protocol = \"raft\"\nduration = \"1s\"\n[[checks.sometimes]]\nattack = \"x\"\n");
    assert!(text.contains("this protocol has no such table"), "{text}");
}

#[test]
fn an_unknown_account_in_the_workload_lists_genesis_accounts() {
    let text = error(&format!(
        "{BASE}[workload]\nrate = 5\naccounts = [\"alice\", \"mallory\"]\n"
    ));
    assert!(
        text.contains("unknown account \"mallory\"") && text.contains("alice, bob, carol"),
        "{text}"
    );
}

#[test]
fn an_unknown_invariant_lists_the_protocols_invariants() {
    let text = error(&format!("{BASE}[checks]\ninvariants = [\"no forks\"]\n"));
    assert!(
        text.contains("unknown invariant \"no forks\"") && text.contains("finality agreement"),
        "{text}"
    );
}

#[test]
fn an_unknown_adversary_lists_the_known_ones() {
    let text = error(&format!(
        "{BASE}[cluster.nodes.\"validator-1\"]\nadversary = \"sneaky\"\n"
    ));
    assert!(
        text.contains("unknown adversary `sneaky`") && text.contains("equivocate"),
        "{text}"
    );
}

#[cfg(not(feature = "adversarial"))]
#[test]
fn an_adversary_without_the_feature_is_refused_with_how_to_enable_it() {
    let source = format!("{BASE}[cluster.nodes.\"validator-1\"]\nadversary = \"equivocate\"\n");
    let scenario = parse_scenario(&source).expect("adversary scenarios validate in every build");
    let result = scenarios::run_case(&scenario, &scenario.implementations[0], 1);
    assert_eq!(result.verdict, scenarios::Verdict::Skipped);
    assert!(result.message.unwrap().contains("--features adversarial"));
}

#[test]
fn an_adversary_that_needs_a_validator_is_refused_for_an_observer() {
    let text = error(&format!(
        "{BASE}[cluster]\nobservers = 1\n[cluster.nodes.\"observer-0\"]\nadversary = \"equivocate\"\n"
    ));
    assert!(
        text.contains("needs a validator, but observer-0 is an observer"),
        "{text}"
    );
}

#[test]
fn an_unknown_preset_lists_the_presets() {
    let text = error(&format!("{BASE}preset = \"devnet\"\n"));
    assert!(
        text.contains("unknown preset") && text.contains("minimal, mainnet"),
        "{text}"
    );
}

#[test]
fn a_syntax_error_points_at_the_line() {
    let text = error("protocol = \"chain\nduration = \"60s\"\n");
    assert!(text.starts_with("line 1"), "{text}");
}

#[test]
fn a_scenario_file_error_names_the_file() {
    let dir = std::env::temp_dir().join(format!("detsim-parse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, format!("{BASE}[network]\ntie_break = \"lifo\"\n")).unwrap();
    let text = detsim::registry().load(&path).unwrap_err().to_string();
    assert!(
        text.starts_with(&format!(
            "{}:4:13: error: unknown tie_break",
            path.display()
        )),
        "{text}"
    );
    assert!(text.contains("use \"fifo\" or \"random\""), "{text}");
}

proptest! {
    /// Whatever bytes replace part of a valid scenario, parsing returns (no panic).
    #[test]
    fn mangled_scenarios_never_panic(at in 0..400_usize, junk in "[ -~\\n]{0,12}") {
        let valid = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../suite/partition-and-heal.toml")).unwrap();
        let at = at.min(valid.len());
        let at = (0..=at).rev().find(|&i| valid.is_char_boundary(i)).unwrap_or(0);
        let mangled = format!("{}{}{}", &valid[..at], junk, &valid[at..]);
        let _ = parse_scenario(&mangled);
    }
}

#[test]
fn converged_false_is_refused_not_read_as_true() {
    let source = format!("{BASE}[[checks.final]]\nconverged = false\n");
    let text = error(&source);
    assert!(
        text.contains("`converged = false` asserts nothing"),
        "{text}"
    );
    assert!(text.contains("converged = true"), "{text}");
}

#[test]
fn a_cluster_whose_fields_disagree_points_at_its_table() {
    let raft = "protocol = \"raft\"\nduration = \"10s\"\n\n[cluster.raft]\nelection_timeout_min = \"100ms\"\nheartbeat_interval = \"200ms\"\n";
    assert_error(
        raft,
        "4, column 2",
        "cluster.raft: heartbeat_interval (200ms) must be shorter than election_timeout_min (100ms)",
    );
    let chain =
        format!("{BASE}[cluster]\nvalidators = 4\n[cluster.genesis]\nstakes = [1, 1, 1, 1, 1]\n");
    assert_error(&chain, "3, column 1", "at most one stake per validator");
}

const RAFT: &str = "protocol = \"raft\"\nduration = \"10s\"\n";

/// (the rest of a Raft scenario file, the error's position, what it says)
const SEMANTIC_MISTAKES: [(&str, &str, &str); 33] = [
    (
        "start_spread = \"20s\"\n",
        "3, column 16",
        "a start spread of 20s is longer than the fault phase (10s)",
    ),
    (
        "[[faults]]\nat = \"1s\"\ncrash_point = \"replica-0\"\nkind = \"Vot\"\n",
        "6, column 8",
        "the raft protocol sends no message of kind \"Vot\"",
    ),
    (
        "[[faults]]\nat = \"1s\"\ncrash_point = \"replica-0\"\nemits = \"vote\"\n",
        "6, column 9",
        "the raft protocol emits no event \"vote\"",
    ),
    (
        "[[faults]]\nat = \"1s\"\ncrash_point = \"replica-0\"\nkind = \"Vote\"\nhandles = \"Vote\"\n",
        "7, column 11",
        "a crash_point waits for one moment",
    ),
    (
        "[[faults]]\nat = \"1s\"\ncrash = \"replica-0\"\nemits = \"voted\"\n",
        "6, column 9",
        "`emits` only applies to `crash_point`",
    ),
    (
        "[[faults]]\nat = \"1s\"\ncrash = \"replica-0\"\nafter = 2\n",
        "6, column 9",
        "`after` only applies to `crash_point`",
    ),
    (
        "[checks.while_connected]\nquorum = 4\n",
        "4, column 10",
        "quorum = 4 is out of range",
    ),
    (
        "[checks.while_connected]\nwithin = \"0s\"\n",
        "4, column 10",
        "leaves no time to make progress",
    ),
    (
        "[random_faults]\nkinds = []\n",
        "4, column 9",
        "no fault kind is left to draw",
    ),
    (
        "[random_faults]\nweights = { crash = 0 }\n",
        "4, column 11",
        "no fault kind is left to draw",
    ),
    (
        "[random_faults]\noutage_min = \"0s\"\noutage_max = \"0s\"\n",
        "5, column 14",
        "outage_max = 0s",
    ),
    (
        "[[faults]]\nat = \"1s\"\nswizzle = [\"replica-0\", \"replica-1\"]\nevery = \"0s\"\n",
        "6, column 9",
        "a swizzle `every` 0s does nothing",
    ),
    (
        "[[faults]]\nat = \"1s\"\nclog = \"replica-0\"\nfor = \"0s\"\n",
        "6, column 7",
        "a clog `for` 0s does nothing",
    ),
    (
        "[heal]\nprogress = 0\n",
        "4, column 12",
        "progress = 0 is out of range",
    ),
    (
        "[random_faults]\nstart = \"8s\"\nend = \"5s\"\n",
        "4, column 9",
        "random faults start at",
    ),
    (
        "[random_faults]\nmean_interval = \"0s\"\n",
        "4, column 17",
        "a mean interval of 0",
    ),
    (
        "[random_faults]\noutage_min = \"8s\"\noutage_max = \"5s\"\n",
        "4, column 14",
        "outage_min (8s) is longer than outage_max (5s)",
    ),
    (
        "[random_faults]\ntime_scale = \"0s\"\n",
        "4, column 14",
        "a time scale of 0",
    ),
    (
        "[random_faults]\nmoments = [\"sends\", \"sent\"]\n",
        "4, column 21",
        "unknown moment \"sent\"",
    ),
    (
        "[random_faults]\ntempo = \"bursty\"\n",
        "4, column 9",
        "unknown tempo \"bursty\"",
    ),
    (
        "[random_faults]\nclock_drift_max_ppm = 600000\n",
        "4, column 23",
        "clock_drift_max_ppm",
    ),
    (
        "[random_faults]\nunsynced_kept = \"150%\"\n",
        "4, column 17",
        "\"150%\" is above 100%",
    ),
    (
        "[[faults]]\nat = \"1s\"\ncrash = \"replica-0\"\nfor = \"1s\"\n",
        "6, column 7",
        "`for` only applies to `clog`, `clog_link`, `crash_point`, `pause_point` and `isolate_point`",
    ),
    (
        "[random_faults]\nmax_down = 9\n",
        "4, column 12",
        "max_down = 9 but the cluster has 3 nodes",
    ),
    (
        "[[faults]]\nat = \"1s\"\npartition = [[\"replica-0\", \"replica-1\"], [\"replica-1\"]]\n",
        "5, column 43",
        "replica-1 is in two partition groups",
    ),
    (
        "[heal]\nwithin = \"0s\"\n",
        "4, column 10",
        "a heal phase of 0s",
    ),
    (
        "[checks]\ninvariants = []\n",
        "4, column 14",
        "no safety property would be checked",
    ),
    (
        "implementations = []\n",
        "3, column 19",
        "nothing would run",
    ),
    (
        "name = \"../../x\"\n",
        "3, column 8",
        "\"../../x\" cannot name a scenario",
    ),
    (
        "name = \"\"\n",
        "3, column 8",
        "\"\" cannot name a scenario",
    ),
    (
        "[limits]\nmax_steps = 0\n",
        "4, column 13",
        "a step limit of 0",
    ),
    (
        "[cluster]\nreplicas = -3\n",
        "4, column 12",
        "a whole number from 0 to 4294967295",
    ),
    (
        "duration = \"6s\"\n",
        "3, column 1",
        "`duration` is set twice",
    ),
];

/// Mistakes that parse as TOML and used to run anyway (or fail far from their cause):
/// each is an error at its line and column, in plain words, with what to write.
#[test]
fn semantic_mistakes_are_refused_where_they_are_written() {
    for (tail, position, message) in SEMANTIC_MISTAKES {
        assert_error(&format!("{RAFT}{tail}"), position, message);
    }
    assert_error(
        "protocol = \"raft\"\nduration = \"-5s\"\n",
        "2, column 12",
        "\"-5s\" is negative",
    );
    assert_error(
        "protocol = \"raft\"\nduration = \"1000000h\"\n",
        "2, column 12",
        "more than the limit of 24h",
    );
    let raised = "protocol = \"raft\"\nduration = \"25h\"\n[limits]\nmax_duration = \"26h\"\n";
    assert!(
        parse_scenario(raised).is_ok(),
        "a raised limit lets a long scenario through"
    );
}
