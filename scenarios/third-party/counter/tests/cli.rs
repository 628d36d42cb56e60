//! The counter's own detsim CLI, `counter-sim`, as a user meets it: a real process, real
//! files, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn counter_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_counter-sim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("counter-sim runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("counter-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The streamed report speaks of this protocol, through the extension point alone.
fn assert_report_speaks_of_the_counter(report: &Path) {
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(report)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["schema"], "detsim-report/2");
    assert_eq!(lines[0]["program"], "counter-sim");
    assert_eq!(lines[0]["suites"][0]["protocol"], "counter");
    let summary = lines.last().unwrap();
    assert_eq!(summary["complete"], true);
    let rollups = summary["implementations"].as_object().unwrap();
    assert!(
        rollups.values().any(|r| r["fail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "counter-buggy")),
        "{summary}"
    );
}

#[test]
fn run_finds_the_bug_saves_it_and_repro_and_shrink_take_it_from_there() {
    let dir = scratch("run");
    let failures = dir.join("failures");
    let report = dir.join("report.jsonl");
    let output = counter_sim(&[
        "run",
        "scenarios",
        "--seeds",
        "0..100",
        "--save-failures",
        path(&failures),
        "--report",
        path(&report),
    ]);
    let text = stdout(&output);
    assert_eq!(code(&output), 1, "a safety failure: {text}");
    assert_report_speaks_of_the_counter(&report);
    let fixed = text
        .lines()
        .find(|l| l.starts_with("counter-fixed"))
        .unwrap_or_default();
    assert!(
        fixed.ends_with("100 passed"),
        "the fixed twin passes every seed: {text}"
    );
    assert!(
        text.contains("always check `acknowledged increments survive` failed"),
        "{text}"
    );
    assert!(
        text.contains("repro: counter-sim run scenarios/buggy.toml --seed "),
        "{text}"
    );
    let mut saved: Vec<PathBuf> = std::fs::read_dir(&failures)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    saved.sort();
    assert!(!saved.is_empty());
    assert!(text.contains("(replay: counter-sim repro "), "{text}");

    let replay = counter_sim(&["repro", path(&saved[0])]);
    assert_eq!(code(&replay), 1, "{}", stdout(&replay));
    assert!(
        stdout(&replay).contains("faults: ")
            && stdout(&replay).contains(" node-")
            && !stdout(&replay).contains("NodeId("),
        "the faults in scenario-file words, with this protocol's node names: {}",
        stdout(&replay)
    );
    assert!(
        stdout(&replay).contains("reproduced exactly"),
        "{}",
        stdout(&replay)
    );

    let smaller = dir.join("smaller.toml");
    let shrink = counter_sim(&["shrink", path(&saved[0]), "-o", path(&smaller)]);
    let shrunk = stdout(&shrink);
    assert_eq!(code(&shrink), 0, "{shrunk}");
    assert!(
        shrunk.contains("still fails: always check `acknowledged increments survive`"),
        "{shrunk}"
    );
    let faults = |line: &str| -> usize {
        shrunk
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .and_then(|rest| rest.trim().split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    assert!(faults("after:") < faults("before:"), "{shrunk}");
    let again = counter_sim(&["repro", path(&smaller)]);
    assert_eq!(code(&again), 1, "{}", stdout(&again));
    assert!(stdout(&again).contains("reproduced exactly"));
}

#[test]
fn list_and_a_typo_speak_the_protocols_words() {
    let output = counter_sim(&["list", "scenarios"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains("counter-buggy  (counter: counter)"),
        "{}",
        stdout(&output)
    );

    let dir = scratch("typo");
    let typo = dir.join("typo.toml");
    std::fs::write(
        &typo,
        "protocol = \"counter\"\nduration = \"5s\"\n[cluster]\nnode = 3\n",
    )
    .unwrap();
    let output = counter_sim(&["run", path(&typo), "--seed", "1"]);
    assert_eq!(code(&output), 2);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.starts_with(&format!(
            "{}:4:1: error: unknown field `node`",
            typo.display()
        )),
        "{error}"
    );
    let other = counter_sim(&["run", "../../suite/smoke.toml", "--seed", "1"]);
    assert_eq!(code(&other), 2);
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("unknown protocol \"chain\""),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}
