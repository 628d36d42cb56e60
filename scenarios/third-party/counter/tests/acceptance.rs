//! detsim's whole toolchain, from outside detsim, on a protocol it has never seen: the
//! acceptance test of the extension point. Everything here goes through public APIs.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use scenarios::fuzzing::{FuzzSetup, Target, case_of, is_finding, smoke_input};
use scenarios::repro::Repro;
use scenarios::swarm::{Shard, SwarmPlan, run_all};
use scenarios::vectors::{Vector, save_vector};
use scenarios::{Scenario, Verdict, run_case, run_case_with};

fn scenario(name: &str) -> Scenario {
    counter::registry()
        .load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios")
                .join(name),
        )
        .unwrap()
}

/// What the parser says about a scenario text it refuses.
fn parse_error(text: &str) -> String {
    counter::registry()
        .parse(text, None)
        .unwrap_err()
        .to_string()
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("counter-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The lowest seed of 0..300 at which the buggy twin fails, and its result.
fn first_failure() -> (u64, scenarios::CaseResult) {
    let buggy = scenario("buggy.toml");
    (0..300)
        .map(|seed| (seed, run_case(&buggy, "counter", seed)))
        .find(|(_, result)| result.verdict.is_failure())
        .expect("the planted bug is found within 300 seeds")
}

#[test]
fn a_scenario_with_the_protocols_own_tables_parses() {
    let buggy = scenario("buggy.toml");
    assert_eq!(buggy.protocol(), "counter");
    assert_eq!(buggy.implementations, ["counter"]);
    assert_eq!(buggy.node_names, ["node-0", "node-1", "node-2"]);
    let plan = buggy.plan::<counter::protocol::Counter>().unwrap();
    assert_eq!(plan.settings.ack, counter::node::Ack::BeforeSync);
}

#[test]
fn a_typo_in_the_protocols_own_table_is_reported_with_line_and_column() {
    let text = "protocol = \"counter\"\nduration = \"10s\"\n\n[cluster]\nnodes = 3\nak = \"before_sync\"\n";
    let error = parse_error(text);
    assert!(
        error.starts_with("line 6, column 1: error: unknown field `ak`, expected one of"),
        "{error}"
    );
    assert!(error.contains("`ack`"), "{error}");
    let text = "protocol = \"counter\"\nduration = \"10s\"\n[cluster]\nack = \"later\"\n";
    let error = parse_error(text);
    assert!(
        error.starts_with("line 4, column 7: error: unknown ack \"later\""),
        "{error}"
    );
    assert!(error.contains("help: use \"after_sync\""), "{error}");
    let text = "protocol = \"counter\"\nduration = \"10s\"\n[workload]\nstart = \"1s\"\n";
    let error = parse_error(text);
    assert!(error.contains("missing field `rate`"), "{error}");
}

#[test]
fn a_swarm_of_300_seeds_finds_the_bug_and_not_in_the_fixed_twin() {
    let plan = SwarmPlan {
        scenarios: vec![scenario("buggy.toml"), scenario("fixed.toml")],
        seeds: 0..=299,
        shard: Shard::ALL,
        implementations: None,
    };
    let results = run_all(&plan, 2);
    let failures = |name: &str| {
        results
            .iter()
            .filter(|r| r.scenario == name && r.verdict.is_failure())
            .collect::<Vec<_>>()
    };
    let buggy = failures("counter-buggy");
    assert!(!buggy.is_empty(), "the planted bug was not found");
    for result in &buggy {
        assert_eq!(result.verdict, Verdict::Safety, "{}", result.summary());
        let check = &result.violation.as_ref().unwrap().check;
        assert_eq!(check, counter::checks::DURABLE);
    }
    assert_eq!(failures("counter-fixed").len(), 0, "the fixed twin failed");
}

#[test]
fn the_saved_repro_file_replays_exactly() {
    let (_, result) = first_failure();
    let buggy = scenario("buggy.toml");
    let path = scratch("repro").join("failure.toml");
    Repro::of(&buggy, &result)
        .write(&path, Some(&result.summary()))
        .unwrap();
    let repro = Repro::load(&counter::registry(), &path).unwrap();
    let again = run_case_with(
        &repro.scenario,
        &repro.implementation,
        repro.seed,
        repro.run_options(false),
    )
    .0;
    assert!(repro.matches(&again), "{}", again.summary());
    assert_eq!(again.trace_hash, result.trace_hash);
}

#[test]
fn shrinking_reduces_the_failure_and_keeps_it() {
    let (_, result) = first_failure();
    let repro = Repro::of(&scenario("buggy.toml"), &result);
    let shrunk = scenarios::shrink::shrink(&repro, 400).unwrap();
    assert!(
        shrunk.after.faults < shrunk.before.faults,
        "{} -> {}",
        shrunk.before,
        shrunk.after
    );
    assert!(
        shrunk.after.faults <= 4,
        "a crash and its restart suffice: {}",
        shrunk.after
    );
    assert_eq!(shrunk.result.verdict, Verdict::Safety);
    assert_eq!(
        shrunk.result.violation.unwrap().check,
        counter::checks::DURABLE
    );
    let text = shrunk.repro.to_toml(None);
    let again = Repro::parse(&counter::registry(), &text, None).unwrap();
    let rerun = run_case(&again.scenario, &again.implementation, again.seed);
    assert!(again.matches(&rerun), "{}", rerun.summary());
}

#[test]
fn a_test_vector_records_and_replays() {
    let root = scratch("vectors");
    let (seed, _) = first_failure();
    let buggy = scenario("buggy.toml");
    let dir = save_vector(
        &root,
        &buggy,
        seed,
        "regressions",
        "lost-ack",
        counter::BUGGY,
    )
    .unwrap();
    assert!(
        dir.ends_with("default/counter/faults/regressions/lost-ack"),
        "{}",
        dir.display()
    );
    let vector = Vector::load(&counter::registry(), &dir).unwrap();
    let replayed = vector.replay();
    assert_eq!(replayed.len(), 1);
    assert_eq!(
        replayed[0].verdict,
        Verdict::Pass,
        "{}",
        replayed[0].summary()
    );
    assert!(vector.expected["counter"].facts.contains_key("total"));
}

#[test]
fn a_fuzz_case_built_from_it_finds_the_bug_and_replays() {
    let setup: FuzzSetup = counter::fuzz_setup();
    let input = (0..2_000)
        .map(|index| smoke_input(index, 2_048))
        .find(|input| {
            case_of(&setup, Target::FaultSchedule, input)
                .is_some_and(|case| is_finding(case.run().verdict))
        })
        .expect("the fault_schedule target finds the planted bug");
    let case = case_of(&setup, Target::FaultSchedule, &input).unwrap();
    let result = case.run();
    let repro = Repro::parse(setup.registry(), &case.repro(&result).to_toml(None), None).unwrap();
    let again = run_case_with(
        &repro.scenario,
        &repro.implementation,
        repro.seed,
        repro.run_options(false),
    )
    .0;
    assert!(repro.matches(&again), "{}", again.summary());
}

#[test]
fn fuzzed_fault_schedules_work_on_clusters_wider_than_a_byte() {
    // A partition's side is drawn from one byte; nodes past the eighth must neither
    // overflow that draw nor be lost from the partition.
    let wide = counter::FIXED
        .replace("nodes = 3", "nodes = 12")
        .replace("duration = \"20s\"", "duration = \"4s\"");
    let setup = FuzzSetup::from_texts(counter::registry(), &[("counter-wide", &wide)]).unwrap();
    let mut partitions = 0;
    for index in 0..24 {
        let case = case_of(&setup, Target::FaultSchedule, &smoke_input(index, 128))
            .expect("every input is a case");
        let result = case.run();
        assert_eq!(result.verdict, Verdict::Pass, "{}", result.summary());
        let text = case.repro(&result).to_toml(None);
        partitions += text.matches("partition = ").count();
    }
    assert!(partitions > 0, "some inputs partition the cluster");
}

#[test]
fn an_implementation_this_build_lacks_is_reported_skipped_with_how_to_get_it() {
    let mut registry = scenarios::Registry::new();
    registry
        .protocol(counter::protocol::Counter)
        .implementation(counter::protocol::CounterImpl)
        .unavailable("counter-remote", "start the remote cluster first");
    let scenario = registry.parse(counter::FIXED, None).unwrap();
    assert_eq!(scenario.implementations, ["counter", "counter-remote"]);
    let skipped = run_case(&scenario, "counter-remote", 1);
    assert_eq!(skipped.verdict, Verdict::Skipped);
    assert!(
        skipped.summary().contains("start the remote cluster first"),
        "{}",
        skipped.summary()
    );
    assert_eq!(run_case(&scenario, "counter", 1).verdict, Verdict::Pass);
}

#[test]
fn a_proptest_property_over_its_scenarios_runs() {
    let fixed = scenario("fixed.toml");
    let mut runner = TestRunner::new(Config {
        cases: 8,
        ..Config::default()
    });
    let strategy = (scenarios::strategy::scenario(Just(fixed)), any::<u64>());
    runner
        .run(&strategy, |(scenario, seed)| {
            scenarios::strategy::check_case(&scenario, "counter", seed)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_one_call_check_passes_the_fixed_twin_and_names_the_repro_of_the_buggy_one() {
    scenarios::testing::check(&scenario("fixed.toml"), 0..50);
    let buggy = scenario("buggy.toml");
    let failure = std::panic::catch_unwind(|| {
        scenarios::testing::Check::new(&buggy)
            .seeds(0..300)
            .command("counter-sim")
            .run()
    })
    .expect_err("the buggy twin fails");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    let (seed, _) = first_failure();
    assert!(
        message.starts_with(&format!("scenario `counter-buggy` failed against counter at seed {seed} (of seeds 0..300): [safety]")),
        "{message}"
    );
    let path = message
        .lines()
        .find_map(|line| line.trim().strip_prefix("repro file: "))
        .expect("the message names its repro file");
    assert!(
        path.contains("target") && path.contains("detsim-repros"),
        "{path}"
    );
    assert!(
        message.contains(&format!("replay:     counter-sim repro {path}")),
        "{message}"
    );
    let repro = Repro::load(&counter::registry(), Path::new(path)).unwrap();
    assert!(repro.matches(&run_case(
        &repro.scenario,
        &repro.implementation,
        repro.seed
    )));
}

#[test]
fn a_crash_point_names_a_kind_the_protocol_sends_or_is_refused() {
    let text = "protocol = \"counter\"\nduration = \"5s\"\n[[faults]]\nat = \"1s\"\ncrash_point = \"node-0\"\nkind = \"vote\"\n";
    let error = parse_error(text);
    assert!(error.starts_with("line 6, column 8: error: "), "{error}");
    assert!(
        error.contains("sends no message of kind \"vote\""),
        "{error}"
    );
    assert!(error.contains("its kinds are: view"), "{error}");
    let good = text.replace("\"vote\"", "\"view\"");
    assert!(counter::registry().parse(&good, None).is_ok());
}

#[test]
fn the_check_while_a_quorum_is_connected_points_at_the_crash_that_silenced_a_node() {
    let stalls = scenario("stalls.toml");
    let (seed, failure) = (0..50)
        .map(|seed| (seed, run_case(&stalls, "counter", seed)))
        .find(|(_, result)| result.verdict.is_failure())
        .expect("the silent node is noticed within 50 seeds");
    let violation = failure.violation.as_ref().expect("a violation");
    assert_eq!(
        violation.kind,
        sim_core::CheckKind::Whenever,
        "{}",
        failure.summary()
    );
    assert_eq!(violation.check, counter::protocol::SPREADS_WHILE_CONNECTED);

    // Without the check, the heal phase notices the same seed only at its deadline.
    let mut healed_only = stalls.clone();
    healed_only.while_connected = None;
    let late = run_case(&healed_only, "counter", seed);
    let late = late.violation.expect("the heal phase fails it too");
    assert_eq!(late.kind, sim_core::CheckKind::Eventually);
    assert!(
        late.time.duration_since(violation.time) >= sim_core::SimDuration::from_secs(1),
        "the windowed check fails it within a second, not at the heal deadline: \
         {violation} against {late}"
    );

    // The correct node passes the same check on every seed.
    let fixed = scenario("fixed.toml");
    assert!(fixed.while_connected.is_some());
    for seed in 0..200 {
        assert_verdict(&fixed, seed, Verdict::Pass);
    }
}

/// Runs `scenario` on `seed` and checks its verdict, naming the seed if it differs.
fn assert_verdict(scenario: &Scenario, seed: u64, verdict: Verdict) {
    let result = run_case(scenario, "counter", seed);
    assert_eq!(result.verdict, verdict, "seed {seed}: {}", result.summary());
}

#[test]
fn a_crash_timed_by_the_protocols_own_event_finds_the_bug_at_once() {
    let text = |ack: &str| {
        format!(
            "protocol = \"counter\"\nduration = \"10s\"\n[cluster]\nnodes = 3\nack = \"{ack}\"\n\
             [workload]\nrate = 10\n[[faults]]\nat = \"1s\"\ncrash_point = \"node-1\"\n\
             emits = \"acked\"\nfor = \"500ms\"\n"
        )
    };
    let registry = counter::registry();
    let buggy = registry.parse(&text("before_sync"), None).unwrap();
    let fixed = registry.parse(&text("after_sync"), None).unwrap();
    // Node 1 dies right after telling its next client the increment counted: before the
    // group commit in the buggy twin, after the sync in the fixed one.
    for seed in 0..5 {
        assert_verdict(&buggy, seed, Verdict::Safety);
        assert_verdict(&fixed, seed, Verdict::Pass);
    }
    let error = parse_error(&text("before_sync").replace("\"acked\"", "\"ack\""));
    assert!(error.contains("its events are: acked"), "{error}");
}

#[test]
fn a_node_that_trusts_another_nodes_clock_is_caught_while_a_quorum_is_connected() {
    let clocks = scenario("clocks.toml");
    let (seed, failure) = (0..50)
        .map(|seed| (seed, run_case(&clocks, "counter", seed)))
        .find(|(_, result)| result.verdict.is_failure())
        .expect("the clock bug is found within 50 seeds");
    let violation = failure.violation.as_ref().expect("a violation");
    assert_eq!(violation.check, counter::protocol::SPREADS_WHILE_CONNECTED);
    let words = scenarios::words::schedule_words(&clocks, seed, violation.time, 50);
    assert!(
        words.contains("clock_skew") || words.contains("clock_drift"),
        "a clock fault came first: {words}"
    );
    // The same schedule, with every view kept, passes.
    let text = std::fs::read_to_string(clocks.path.as_ref().unwrap()).unwrap();
    let trusting = counter::registry()
        .parse(&text.replace("view_max_age = \"500ms\"\n", ""), None)
        .unwrap();
    assert_verdict(&trusting, seed, Verdict::Pass);
}
