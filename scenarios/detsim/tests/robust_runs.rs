//! Runs that never lose a result, driven as a user drives them: a real `detsim` process,
//! real signals, real pipes, real files. An interrupt leaves a partial report and the
//! repro files found so far; bad flags and paths are refused before the first case; a
//! sweep over every `u64` seed runs in flat memory; shard reports merge to the report
//! of one run.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

fn detsim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_detsim"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_remove("DETSIM_INJECT_PANIC");
    command
}

fn run(args: &[&str]) -> Output {
    detsim().args(args).output().expect("detsim runs")
}

fn spawn(args: &[&str]) -> Child {
    detsim()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("detsim starts")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("detsim-robust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A Raft scenario whose cases take a few milliseconds.
fn tiny(dir: &Path) -> PathBuf {
    let file = dir.join("tiny.toml");
    std::fs::write(
        &file,
        "protocol = \"raft\"\nimplementations = [\"detsim-raft\"]\npreset = \"minimal\"\n\
         duration = \"100ms\"\n[heal]\nwithin = \"1s\"\n",
    )
    .unwrap();
    file
}

/// A chain scenario of a million virtual seconds, whose one case takes minutes (its
/// limits raised to allow it).
fn long(dir: &Path) -> PathBuf {
    let file = dir.join("long.toml");
    std::fs::write(
        &file,
        "protocol = \"chain\"\npreset = \"minimal\"\nduration = \"1000000s\"\n\
         [limits]\nmax_duration = \"2000000s\"\nmax_steps = 1000000000\n",
    )
    .unwrap();
    file
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until `ready` holds (polling), or panics after a minute.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..600 {
        if ready() {
            return;
        }
        sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// The complete lines of a JSON-lines file (a run still writing it may have left the
/// last one half written).
fn lines(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap().path();
        std::fs::copy(&entry, to.join(entry.file_name().unwrap())).unwrap();
    }
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("detsim exits")
}

#[test]
fn an_interrupt_mid_sweep_leaves_a_partial_report_and_the_repro_files_found_so_far() {
    for signal_name in ["INT", "TERM"] {
        let dir = scratch(&format!("interrupt-{signal_name}"));
        let (report, junit, repros) = (
            dir.join("report.jsonl"),
            dir.join("junit.xml"),
            dir.join("repros"),
        );
        let child = spawn(&[
            "run",
            "canary/buggy.toml",
            "--seeds",
            "0..10000000",
            "--jobs",
            "2",
            "--report",
            path(&report),
            "--junit",
            path(&junit),
            "--save-failures",
            path(&repros),
        ]);
        wait_for("a saved repro file", || {
            std::fs::read_dir(&repros).is_ok_and(|mut d| d.next().is_some())
        });
        signal(&child, signal_name);
        let output = finish(child);
        assert_eq!(code(&output), 130, "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert!(stdout.contains("interrupted:"), "{stdout}");
        assert!(text(&output.stderr).contains("interrupt again to abort"));

        let lines = lines(&report);
        let summary = lines.last().unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["complete"], false);
        assert_eq!(summary["stopped"], "interrupted");
        let cases = lines.iter().filter(|l| l["type"] == "case").count() as u64;
        assert!(cases > 0 && cases < 10_000_000);
        assert_eq!(summary["cases"], cases);
        let seeds: Vec<u64> = lines
            .iter()
            .filter(|l| l["type"] == "case")
            .map(|l| l["seed"].as_u64().unwrap())
            .collect();
        assert_eq!(
            seeds,
            (0..cases).collect::<Vec<_>>(),
            "cases in order, no gap"
        );

        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains(&format!("tests=\"{cases}\"")), "{xml}");
        let failed = summary["safety"].as_u64().unwrap();
        let saved: Vec<PathBuf> = std::fs::read_dir(&repros)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(saved.len() as u64, failed, "one repro file per failure");
        let replay = run(&["repro", path(&saved[0])]);
        assert!(
            text(&replay.stdout).contains("reproduced exactly"),
            "{}",
            text(&replay.stdout)
        );
    }
}

#[test]
fn a_second_interrupt_a_second_later_aborts_without_waiting_for_the_running_case() {
    let dir = scratch("abort");
    let long = long(&dir);
    let report = dir.join("report.jsonl");
    let mut child = spawn(&[
        "run",
        path(&long),
        "--seeds",
        "0..4",
        "--jobs",
        "1",
        "--report",
        path(&report),
    ]);
    wait_for("the run line", || !lines(&report).is_empty());
    signal(&child, "INT");
    signal(&child, "INT");
    sleep(Duration::from_millis(1_500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first waits for the running case, and one right after it is the same one"
    );
    signal(&child, "INT");
    let output = finish(child);
    assert_eq!(code(&output), 130);
    let lines = lines(&report);
    assert!(
        lines.iter().all(|l| l["type"] == "run"),
        "aborted before any case finished, but the report has {} lines; stderr: {}",
        lines.len(),
        text(&output.stderr)
    );
}

#[test]
fn a_timeout_stops_a_case_and_reports_a_limit_with_its_seed() {
    let dir = scratch("timeout");
    let long = long(&dir);
    let repros = dir.join("repros");
    let output = run(&[
        "run",
        path(&long),
        "--seed",
        "7",
        "--timeout",
        "1s",
        "--save-failures",
        path(&repros),
    ]);
    assert_eq!(code(&output), 3, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("seed=7 [limit]") && stdout.contains("wall-time limit of 1s"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_dir(&repros).unwrap().count(),
        0,
        "a case stopped by the wall clock would not replay: no repro file"
    );
}

#[test]
fn a_sweep_of_every_seed_runs_in_flat_memory() {
    let dir = scratch("flat");
    let scenario = tiny(&dir);
    let report = dir.join("report.jsonl");
    let mut child = spawn(&[
        "run",
        path(&scenario),
        "--seeds",
        "0..=18446744073709551615",
        "--jobs",
        "2",
        "--report",
        path(&report),
    ]);
    let rss = |child: &Child| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    wait_for("some cases", || lines(&report).len() > 500);
    let early = rss(&child);
    let cases_early = lines(&report).len();
    wait_for("many more cases", || {
        lines(&report).len() > cases_early + 5_000
    });
    let late = rss(&child);
    signal(&child, "INT");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(
        late < early + 16 * 1024,
        "memory grew from {early} KiB to {late} KiB over 5,000 cases"
    );
    let run_line = &lines(&report)[0];
    assert_eq!(run_line["seeds"], "0..=18446744073709551615");
}

#[test]
fn the_last_seed_is_a_seed_like_any_other() {
    let dir = scratch("last-seed");
    let scenario = tiny(&dir);
    let output = run(&["run", path(&scenario), "--seed", "18446744073709551615"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("1 cases: 1 passed"));
}

#[test]
fn bad_flags_and_empty_selections_are_refused_before_anything_runs() {
    let dir = scratch("flags");
    let scenario = tiny(&dir);
    let s = path(&scenario);
    for (args, says) in [
        (vec!["--jobs", "0"], "is not a number of worker threads"),
        (vec!["--jobs", "1000000"], "write 1 to 1024"),
        (vec!["--seeds", "5..5"], "is empty"),
        (vec!["--seeds", "0..18446744073709551616"], "is not a seed"),
        (
            vec!["--seeds", "0..3", "--shard", "4/4"],
            "nothing to run: shard 4/4",
        ),
        (
            vec!["--seed", "1", "--scenario", "^nope$"],
            "nothing to run",
        ),
        (vec!["--seed", "1", "--timeout", "0s"], "timeout of 0"),
    ] {
        let mut all = vec!["run", s];
        all.extend(&args);
        let output = run(&all);
        assert_eq!(code(&output), 2, "{args:?}: {}", text(&output.stdout));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(says),
            "{args:?}: expected {says:?} in {stderr}"
        );
        assert!(
            !text(&output.stdout).contains("cases:"),
            "{args:?} ran cases before refusing"
        );
    }
    let unseeded = run(&["run", s, "--shard", "1/2"]);
    assert_eq!(code(&unseeded), 2);
    assert!(text(&unseeded.stderr).contains("--shard needs --seeds"));
    let vectors_only = run(&["run", VECTOR, "--shard", "2/2", "--seeds", "0..1"]);
    assert_eq!(code(&vectors_only), 0, "{}", text(&vectors_only.stderr));
    let allowed = run(&[
        "run",
        s,
        "--seeds",
        "0..3",
        "--shard",
        "4/4",
        "--allow-empty",
    ]);
    assert_eq!(code(&allowed), 0, "{}", text(&allowed.stderr));
}

#[test]
fn an_output_path_that_cannot_be_written_is_refused_before_the_first_case() {
    let dir = scratch("paths");
    let scenario = tiny(&dir);
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let inside = blocker.join("report.jsonl");
    for flag in ["--report", "--junit", "--save-failures"] {
        let output = run(&[
            "run",
            path(&scenario),
            "--seeds",
            "0..100000",
            flag,
            path(&inside),
        ]);
        assert_eq!(code(&output), 2, "{flag}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("cannot write"), "{flag}: {stderr}");
        assert!(!text(&output.stdout).contains("cases:"), "{flag}");
    }
    let trace = run(&["repro", "nowhere.toml", "--trace", path(&inside)]);
    assert_eq!(code(&trace), 2);
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    for args in [
        vec!["list", "suite"],
        vec!["run", "../vectors"],
        vec!["run", "suite/smoke.toml", "--seeds", "0..2"],
    ] {
        let mut child = detsim()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?}");
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(output.status.code(), Some(101), "{args:?}: {stderr}");
    }
}

#[test]
fn shard_reports_merge_to_the_report_of_one_run() {
    let dir = scratch("merge");
    let whole = dir.join("whole.jsonl");
    let mut args = vec![
        "run",
        "canary/buggy.toml",
        "suite/raft-smoke.toml",
        VECTOR,
        "--report",
        path(&whole),
    ];
    args.extend(SHARDED_SEEDS);
    let single = run(&args);
    let shards = shard_reports(&dir);
    let merged = dir.join("merged.jsonl");
    let merged_junit = dir.join("merged.xml");
    let mut args = vec!["merge", "-o", path(&merged), "--junit", path(&merged_junit)];
    args.extend(shards.iter().map(|p| path(p)));
    let output = run(&args);
    assert_eq!(code(&output), code(&single), "{}", text(&output.stderr));
    let essence = |file: &Path| -> Vec<serde_json::Value> {
        lines(file)
            .into_iter()
            .map(|mut line| {
                let object = line.as_object_mut().unwrap();
                for volatile in [
                    "wall_time_s",
                    "seeds_per_second",
                    "started_at",
                    "ended_at",
                    "command",
                ] {
                    object.remove(volatile);
                }
                line
            })
            .collect()
    };
    assert_eq!(essence(&merged), essence(&whole));
    assert!(
        std::fs::read_to_string(&merged_junit)
            .unwrap()
            .contains("seed=39")
    );
}

const SHARDED_SEEDS: [&str; 4] = ["--seeds", "0..40", "--jobs", "2"];

/// A test vector, which the first shard replays and every shard lists.
const VECTOR: &str = "../vectors/default/raft/faults/canary/buggy-seed2";

/// Runs the canary and Raft's smoke test in three shards; returns their reports.
fn shard_reports(dir: &Path) -> Vec<PathBuf> {
    let mut shards = Vec::new();
    for k in 1..=3 {
        let file = dir.join(format!("shard-{k}.jsonl"));
        let shard = format!("{k}/3");
        let mut args = vec![
            "run",
            "canary/buggy.toml",
            "suite/raft-smoke.toml",
            VECTOR,
            "--shard",
            &shard,
            "--report",
            path(&file),
        ];
        args.extend(SHARDED_SEEDS);
        let output = run(&args);
        assert_ne!(code(&output), 2, "{}", text(&output.stderr));
        shards.push(file);
    }
    shards
}

#[test]
fn merge_refuses_a_shard_twice_and_the_reports_of_another_run() {
    let dir = scratch("merge-refusals");
    let shards = shard_reports(&dir);
    let again = run(&[
        "merge",
        "-o",
        path(&dir.join("x.jsonl")),
        path(&shards[0]),
        path(&shards[0]),
    ]);
    assert_eq!(code(&again), 2);
    assert!(text(&again.stderr).contains("are both shard 1/3"));
    let other = dir.join("other.jsonl");
    run(&[
        "run",
        "canary/buggy.toml",
        "--seeds",
        "0..5",
        "--shard",
        "2/3",
        "--report",
        path(&other),
    ]);
    let mixed = run(&[
        "merge",
        "-o",
        path(&dir.join("y.jsonl")),
        path(&shards[0]),
        path(&other),
    ]);
    assert_eq!(code(&mixed), 2);
    assert!(
        text(&mixed.stderr).contains("different runs"),
        "{}",
        text(&mixed.stderr)
    );
}

#[test]
fn a_directory_runs_what_is_detsims_in_it_and_passes_over_the_rest() {
    let dir = scratch("dirs");
    tiny(&dir);
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    std::fs::create_dir_all(dir.join("target")).unwrap();
    std::fs::write(dir.join("target/broken.toml"), "not = = toml").unwrap();
    let output = run(&["run", path(&dir), "--seed", "1"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("1 cases: 1 passed"));

    let vector = dir.join("vectors/smoke");
    copy_dir(
        &PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../vectors/minimal/chain/smoke/default/smoke-seed1"
        )),
        &vector,
    );
    let counter = dir.join("counter.toml");
    std::fs::write(&counter, "protocol = \"counter\"\nduration = \"1s\"\n").unwrap();
    let both = run(&["run", path(&dir), "--seed", "1"]);
    assert_eq!(code(&both), 0, "{}", text(&both.stderr));
    let stdout = text(&both.stdout);
    assert!(
        stdout.contains("vector ") && stdout.contains("tiny "),
        "the vectors and the scenarios: {stdout}"
    );
    assert!(
        text(&both.stderr)
            .contains("counter.toml: passed over: this program has no protocol \"counter\""),
        "{}",
        text(&both.stderr)
    );
    let named = run(&["run", path(&counter), "--seed", "1"]);
    assert_eq!(
        code(&named),
        2,
        "a file named on the command line is not passed over"
    );
}

#[test]
fn a_scenario_whose_file_name_is_not_plain_still_saves_a_repro_that_replays() {
    let dir = scratch("odd-name");
    let odd = dir.join("my buggy (v2).toml");
    let canary = concat!(env!("CARGO_MANIFEST_DIR"), "/../canary/buggy.toml");
    let source = std::fs::read_to_string(canary).unwrap();
    std::fs::write(&odd, source.replace("name = \"buggy\"\n", "")).unwrap();
    let repros = dir.join("repros");
    let output = run(&[
        "run",
        path(&odd),
        "--seed",
        "2",
        "--save-failures",
        path(&repros),
    ]);
    assert_eq!(code(&output), 1, "{}", text(&output.stderr));
    let saved = repros.join("my_buggy__v2_-detsim-raft-seed2.toml");
    let replay = run(&["repro", path(&saved)]);
    assert!(
        text(&replay.stdout).contains("reproduced exactly"),
        "{}{}",
        text(&replay.stdout),
        text(&replay.stderr)
    );
}

#[test]
fn repro_files_are_checked_for_their_kind_and_version() {
    let scenario = run(&["repro", "suite/smoke.toml"]);
    assert_eq!(code(&scenario), 2);
    assert!(
        text(&scenario.stderr).contains("this is a scenario file, not a repro file"),
        "{}",
        text(&scenario.stderr)
    );
    let dir = scratch("versions");
    run(&[
        "run",
        "canary/buggy.toml",
        "--seed",
        "2",
        "--save-failures",
        path(&dir),
    ]);
    let file = dir.join("buggy-detsim-raft-seed2.toml");
    let source = std::fs::read_to_string(&file).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    std::fs::write(&file, source.replace(&format!("\"{version}\""), "\"zzz\"")).unwrap();
    let output = run(&["repro", path(&file)]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("\"zzz\" is not a detsim version") && stderr.contains(":5:18:"),
        "{stderr}"
    );
    let as_scenario = run(&["run", path(&dir), "--seed", "1"]);
    assert_eq!(
        code(&as_scenario),
        2,
        "a directory of repro files holds no scenario"
    );
    let given = run(&["run", path(&file), "--seed", "1"]);
    assert!(
        text(&given.stderr).contains("this is a repro file"),
        "{}",
        text(&given.stderr)
    );
}
