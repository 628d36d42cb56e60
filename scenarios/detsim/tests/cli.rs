//! Every path of the `detsim` command line: subcommands, flags, exit codes, messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn detsim(args: &[&str]) -> Output {
    detsim_env(args, &[])
}

fn detsim_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_detsim"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(args)
        .env_remove("DETSIM_INJECT_PANIC");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("detsim runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the command's stderr says `text`, showing all of it if not.
fn assert_stderr_has(output: &Output, text: &str) {
    let stderr = stderr(output);
    assert!(stderr.contains(text), "expected {text:?} in:\n{stderr}");
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("detsim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_passing_run_exits_0_and_summarizes() {
    let output = detsim(&["run", "suite/smoke.toml", "--seeds", "0..3", "--jobs", "2"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("smoke") && text.contains("3 passed"),
        "{text}"
    );
    assert!(text.contains("3 cases: 3 passed, 0 failed"), "{text}");
    assert!(text.contains("seeds/s"), "{text}");
}

#[test]
fn a_safety_failure_exits_1_with_the_violation_and_a_repro_command() {
    let output = detsim(&["run", "canary/buggy.toml", "--seed", "2"]);
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("[safety] always check `raft: election safety` failed at t="),
        "{text}"
    );
    assert!(
        text.contains("repro: detsim run canary/buggy.toml --seed 2 --impl '^detsim-raft$'"),
        "{text}"
    );
}

#[test]
fn a_liveness_failure_exits_3() {
    let output = detsim(&[
        "run",
        "detsim/tests/fixtures/liveness-fails.toml",
        "--seed",
        "1",
    ]);
    assert_eq!(code(&output), 3, "{}", stdout(&output));
    assert!(
        stdout(&output)
            .contains("[liveness] eventually check `liveness: finality advances after healing`")
    );
}

#[test]
fn a_panic_is_caught_reported_with_its_seed_and_exits_4_while_the_swarm_goes_on() {
    let output = detsim_env(
        &["run", "suite/smoke.toml", "--seeds", "0..4"],
        &[("DETSIM_INJECT_PANIC", "2")],
    );
    assert_eq!(code(&output), 4, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("smoke/detsim-chain/seed=2 [panic] panicked: injected panic"),
        "{text}"
    );
    assert!(
        text.contains("4 cases: 3 passed, 1 failed (0 safety, 0 liveness, 1 panicked"),
        "{text}"
    );
}

#[test]
fn bad_input_exits_2_with_a_located_message() {
    let output = detsim(&["run", "detsim/tests/fixtures/bad-type.toml", "--seed", "1"]);
    assert_eq!(code(&output), 2);
    let text = stderr(&output);
    assert!(
        text.starts_with("detsim/tests/fixtures/bad-type.toml:4:14: error: invalid type"),
        "{text}"
    );

    let missing = detsim(&["run", "no/such/file.toml", "--seed", "1"]);
    assert_eq!(code(&missing), 2);
    assert_stderr_has(&missing, "no/such/file.toml: no such file or directory");

    for flags in [
        &["run", "suite/smoke.toml", "--seeds", "5..2"][..],
        &["run", "suite/smoke.toml", "--seeds", "banana"],
        &["run", "suite/smoke.toml", "--shard", "3/2"],
        &["run", "suite/smoke.toml", "--seed", "1", "--seeds", "0..2"],
        &["frobnicate"],
    ] {
        let output = detsim(flags);
        assert_eq!(code(&output), 2, "{flags:?}");
        assert!(
            stderr(&output).contains("error"),
            "{flags:?}: {}",
            stderr(&output)
        );
    }
    let range = detsim(&["run", "suite/smoke.toml", "--seeds", "5..2"]);
    assert_stderr_has(&range, "B must be greater than A");
}

#[test]
fn a_run_without_seeds_picks_one_and_prints_it_first() {
    let output = detsim(&["run", "suite/smoke.toml"]);
    assert_eq!(code(&output), 0);
    let first = stdout(&output)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.starts_with("seed: ") && first.contains("rerun with --seed"),
        "{first}"
    );
}

#[test]
fn filters_select_scenarios_and_implementations() {
    let output = detsim(&[
        "run",
        "suite",
        "--scenario",
        "^raft-smoke$",
        "--impl",
        "^detsim-raft$",
        "--seeds",
        "0..2",
    ]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("2 cases: 2 passed"), "{text}");
    assert!(!text.contains("raft-rs"), "{text}");
    let none = detsim(&["run", "suite", "--scenario", "^nothing$", "--seed", "1"]);
    assert_eq!(code(&none), 2);
    assert_stderr_has(&none, "no scenario matches");
    let no_impl = detsim(&[
        "run",
        "suite/smoke.toml",
        "--impl",
        "^raft-rs$",
        "--seed",
        "1",
    ]);
    assert_eq!(code(&no_impl), 2, "{}", stdout(&no_impl));
    assert_stderr_has(&no_impl, "no implementation");
}

#[test]
fn the_json_report_and_junit_xml_describe_every_case() {
    let dir = scratch("reports");
    let (json, xml) = (dir.join("report.json"), dir.join("junit.xml"));
    let output = detsim(&[
        "run",
        "canary/buggy.toml",
        "--seeds",
        "1..4",
        "--report",
        path(&json),
        "--junit",
        path(&xml),
    ]);
    assert_eq!(code(&output), 1);
    let lines = report_lines(&json);
    let (run, summary) = (&lines[0], &lines[lines.len() - 1]);
    assert_eq!(run["type"], "run");
    assert_eq!(run["schema"], "detsim-report/2");
    assert_eq!(run["seeds"], "1..4");
    assert_eq!(run["suites"][0]["scenario"], "buggy");
    assert_eq!(run["command"][1], "run");
    assert!(run["started_at"].as_str().unwrap().ends_with('Z'), "{run}");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["cases"], 3);
    assert_eq!(summary["safety"], 1);
    assert_eq!(
        summary["implementations"]["detsim-raft"]["fail"][0],
        "buggy"
    );
    assert_eq!(lines.len(), 5, "a run line, three cases, a summary");
    let case = &lines[2];
    assert_eq!(case["type"], "case");
    assert_eq!(case["seed"], 2);
    assert_eq!(case["verdict"], "safety");
    assert_eq!(case["violation"]["check"], "raft: election safety");
    assert!(case["trace_hash"].as_str().unwrap().starts_with("0x"));
    assert!(case["repro"].as_str().unwrap().contains("--seed 2"));
    assert!(
        case["sub_results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["check"] == "raft: election safety" && s["passed"] == false)
    );
    let junit = std::fs::read_to_string(&xml).unwrap();
    assert!(
        junit.contains("<testsuite name=\"buggy/detsim-raft\""),
        "{junit}"
    );
    assert!(
        junit.contains("name=\"seed=2\"")
            && junit.contains("classname=\"buggy.detsim-raft\"")
            && junit.contains("<failure")
            && junit.contains("timestamp=")
            && junit.contains("failures=\"1\""),
        "{junit}"
    );
}

/// The lines of a JSON report, parsed.
fn report_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn failures_are_saved_as_repro_files_that_replay_exactly() {
    let dir = scratch("repro");
    let output = detsim(&[
        "run",
        "canary/buggy.toml",
        "--seed",
        "2",
        "--save-failures",
        path(&dir),
    ]);
    assert_eq!(code(&output), 1);
    let repro = dir.join("buggy-detsim-raft-seed2.toml");
    assert!(stdout(&output).contains(&format!("detsim repro {}", repro.display())));
    let text = std::fs::read_to_string(&repro).unwrap();
    assert!(
        text.contains("seed = 2")
            && text.contains("expected_trace_hash = \"0x")
            && text.contains("[scenario]"),
        "{text}"
    );
    let trace = dir.join("trace.jsonl");
    let replay = detsim(&[
        "repro",
        path(&repro),
        "--trace",
        path(&trace),
        "--check-determinism",
    ]);
    assert_eq!(code(&replay), 1, "{}", stdout(&replay));
    let text = stdout(&replay);
    assert!(text.contains("reproduced exactly"), "{text}");
    assert!(
        text.contains("per node:") && text.contains("replica-0"),
        "{text}"
    );
    assert!(
        text.contains("faults: ") && text.contains("crash replica-"),
        "faults in scenario-file words: {text}"
    );
    assert!(
        !text.contains("NodeId("),
        "no Rust Debug text for faults: {text}"
    );
    assert!(
        text.contains("determinism: two runs took the same steps"),
        "{text}"
    );
    let lines = std::fs::read_to_string(&trace).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["step"], 1);
    assert!(lines.lines().count() > 100);
}

#[test]
fn a_damaged_repro_file_gives_a_clear_error() {
    let dir = scratch("damaged");
    detsim(&[
        "run",
        "canary/buggy.toml",
        "--seed",
        "2",
        "--save-failures",
        path(&dir),
    ]);
    let repro = dir.join("buggy-detsim-raft-seed2.toml");
    let text = std::fs::read_to_string(&repro).unwrap();

    let truncated = dir.join("truncated.toml");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let output = detsim(&["repro", path(&truncated)]);
    assert_eq!(code(&output), 2);
    assert_stderr_has(&output, &format!("{}:", truncated.display()));

    let bad_hash = dir.join("bad-hash.toml");
    std::fs::write(
        &bad_hash,
        text.replace("expected_trace_hash = \"0x", "expected_trace_hash = \"zz"),
    )
    .unwrap();
    let output = detsim(&["repro", path(&bad_hash)]);
    assert_eq!(code(&output), 2);
    assert_stderr_has(&output, "is not a trace hash");

    // A fuzzer's tape that is not hex: the line and what to write.
    let bad_tape = dir.join("bad-tape.toml");
    let with_tape = text.replace("seed = 2\n", "seed = 2\nchoices = \"0fz\"\n");
    assert_ne!(with_tape, text);
    std::fs::write(&bad_tape, with_tape).unwrap();
    let output = detsim(&["repro", path(&bad_tape)]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(message.contains("bad-tape.toml"), "{message}");
    assert!(message.contains("choices = \"0fz\""), "{message}");
    assert!(
        message.contains("not a string of hex digit pairs"),
        "{message}"
    );
    assert!(message.contains("two hex digits per byte"), "{message}");

    let stale = dir.join("stale.toml");
    let hash_at =
        text.find("expected_trace_hash = \"0x").unwrap() + "expected_trace_hash = \"0x".len();
    let flipped = if &text[hash_at..=hash_at] == "0" {
        "1"
    } else {
        "0"
    };
    std::fs::write(
        &stale,
        format!("{}{flipped}{}", &text[..hash_at], &text[hash_at + 1..]),
    )
    .unwrap();
    let output = detsim(&["repro", path(&stale)]);
    assert_eq!(code(&output), 5);
    assert!(
        stdout(&output).contains("NOT REPRODUCED"),
        "{}",
        stdout(&output)
    );

    let output = detsim(&["repro", path(&dir.join("missing.toml"))]);
    assert_eq!(code(&output), 2);
    assert_stderr_has(&output, "cannot read");
}

#[test]
fn shrinking_keeps_the_failure_and_makes_the_repro_smaller() {
    let dir = scratch("shrink");
    detsim(&[
        "run",
        "canary/buggy.toml",
        "--seed",
        "2",
        "--save-failures",
        path(&dir),
    ]);
    let (repro, small) = (
        dir.join("buggy-detsim-raft-seed2.toml"),
        dir.join("small.toml"),
    );
    let output = detsim(&[
        "shrink",
        path(&repro),
        "-o",
        path(&small),
        "--budget",
        "150",
    ]);
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    let text = stdout(&output);
    let faults = |label: &str| -> usize {
        let line = text.lines().find(|l| l.starts_with(label)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(faults("after:") < faults("before:"), "{text}");
    assert!(
        text.contains("still fails: always check `raft: election safety`"),
        "{text}"
    );
    let replay = detsim(&["repro", path(&small)]);
    assert_eq!(code(&replay), 1, "{}", stdout(&replay));
    assert!(stdout(&replay).contains("reproduced exactly"));

    let passing = dir.join("passing.toml");
    std::fs::write(
        &passing,
        std::fs::read_to_string(&small)
            .unwrap()
            .replace("after_reply", "before_reply"),
    )
    .unwrap();
    let output = detsim(&["shrink", path(&passing), "-o", path(&dir.join("x.toml"))]);
    assert_eq!(code(&output), 2);
    assert_stderr_has(&output, "does not fail");
}

#[test]
fn list_shows_names_descriptions_and_tags() {
    let output = detsim(&["list", "suite"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    assert!(
        text.contains("epoch-kickout  (chain: detsim-chain) [epoch, kick-out, partition, chain]"),
        "{text}"
    );
    assert!(text.contains("kicked out at the epoch switch"), "{text}");
    assert!(
        text.contains("raft-smoke  (raft: detsim-raft, raft-rs)"),
        "{text}"
    );
}

#[test]
fn test_vectors_are_saved_and_replayed_and_a_changed_outcome_is_a_mismatch() {
    let dir = scratch("vectors");
    let output = detsim(&[
        "save-vector",
        "suite/raft-smoke.toml",
        "--seed",
        "3",
        "--suite",
        "curated",
        "--out",
        path(&dir),
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let case = dir.join("minimal/raft/smoke/curated/raft-smoke-seed3");
    assert!(case.join("expected.toml").is_file() && case.join("meta.toml").is_file());
    let replay = detsim(&["run", path(&dir)]);
    assert_eq!(code(&replay), 0, "{}", stdout(&replay));
    assert!(
        stdout(&replay).contains("detsim-raft: pass"),
        "{}",
        stdout(&replay)
    );

    let expected = case.join("expected.toml");
    let text = std::fs::read_to_string(&expected).unwrap();
    std::fs::write(
        &expected,
        text.replacen("trace_hash = \"0x", "trace_hash = \"0x1", 1),
    )
    .unwrap();
    let replay = detsim(&["run", path(&dir)]);
    assert_eq!(code(&replay), 1, "{}", stdout(&replay));
    assert!(
        stdout(&replay).contains("FAILED mismatch")
            && stdout(&replay).contains("differs from the vector"),
        "{}",
        stdout(&replay)
    );
}

#[test]
fn a_fuzz_crash_artifact_becomes_a_repro_file_that_reproduces() {
    use scenarios::fuzzing::{Target, case_of, is_finding, smoke_input};
    // An input of the `choices` target that breaks the canary, laid out as cargo fuzz
    // leaves it: fuzz/artifacts/<target>/crash-<hash>.
    let setup = detsim::fuzz_setup();
    let input = (0..)
        .map(|index| smoke_input(index, 4_096))
        .find(|input| {
            is_finding(
                case_of(&setup, Target::Choices, input)
                    .unwrap()
                    .run()
                    .verdict,
            )
        })
        .unwrap();
    let dir = scratch("from-fuzz").join("artifacts").join("choices");
    std::fs::create_dir_all(&dir).unwrap();
    let artifact = dir.join("crash-0123");
    std::fs::write(&artifact, &input).unwrap();
    let output = detsim(&["repro", "--from-fuzz", path(&artifact)]);
    let text = stdout(&output);
    assert_eq!(
        code(&output),
        1,
        "a reproduced safety failure: {text}{}",
        stderr(&output)
    );
    assert!(text.contains("reproduced exactly"), "{text}");
    assert!(text.contains("raft:"), "{text}");
    let repro = dir.join("crash-0123.repro.toml");
    let again = detsim(&["repro", path(&repro)]);
    assert_eq!(code(&again), 1, "{}", stdout(&again));
    assert!(
        std::fs::read_to_string(&repro)
            .unwrap()
            .contains("choices = \"")
    );

    // A target the directory does not name must be given; a wrong one is refused.
    let elsewhere = scratch("from-fuzz-elsewhere").join("crash-1");
    std::fs::write(&elsewhere, &input).unwrap();
    let refused = detsim(&["repro", "--from-fuzz", path(&elsewhere)]);
    assert_eq!(code(&refused), 2, "{}", stdout(&refused));
    assert_stderr_has(&refused, "--target");
    let named = detsim(&[
        "repro",
        "--from-fuzz",
        path(&elsewhere),
        "--target",
        "choices",
    ]);
    assert_eq!(code(&named), 1, "{}", stdout(&named));
}

#[test]
fn a_parser_artifact_is_replayed_and_reported() {
    let dir = scratch("from-fuzz-parser");
    let artifact = dir.join("crash-parse");
    std::fs::write(&artifact, b"protocol = \"raft\"\nduration = 5").unwrap();
    let output = detsim(&[
        "repro",
        "--from-fuzz",
        path(&artifact),
        "--target",
        "parse_scenario",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("without panicking"),
        "{}",
        stdout(&output)
    );
}
