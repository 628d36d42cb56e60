//! `detsim run`: scenarios (and test vectors) over seeds, on all cores.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use regex::Regex;

use super::Session;
use crate::case::{CaseResult, Verdict};
use crate::discover::scenario_files;
use crate::error::InputError;
use crate::model::Scenario;
use crate::report::{Report, Tally, summary_text};
use crate::repro::{Repro, worth_saving};
use crate::swarm::{Shard, SwarmPlan, run_swarm};
use crate::testing::file_name;
use crate::vectors::{Vector, find_vectors};

/// Arguments of `detsim run`.
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Scenario files, directories of them, or directories of test vectors.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run seeds A..B (B excluded), e.g. 0..100.
    #[arg(long, value_parser = parse_seeds)]
    seeds: Option<Range<u64>>,
    /// Worker threads (default: every core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Run only slice K of N (1-based), e.g. 2/4, for CI matrices and cluster jobs.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Only scenarios whose name matches this regex.
    #[arg(long)]
    scenario: Option<Regex>,
    /// Only implementations whose name matches this regex.
    #[arg(long = "impl")]
    implementation: Option<Regex>,
    /// Write a JSON report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Stop starting new cases after the first failure.
    #[arg(long)]
    fail_fast: bool,
    /// Write one repro file per failure into this directory.
    #[arg(long)]
    save_failures: Option<PathBuf>,
}

fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    let (start, end) = text
        .split_once("..")
        .ok_or_else(|| format!("\"{text}\" is not a seed range; write A..B, e.g. 0..100"))?;
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| format!("\"{part}\" is not a seed in \"{text}\""))
    };
    let range = number(start)?..number(end)?;
    if range.is_empty() {
        return Err(format!(
            "the seed range {text} is empty; B must be greater than A"
        ));
    }
    Ok(range)
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let parsed = text
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if n > 0 && (1..=n).contains(&k) => Ok(Shard {
            index: k - 1,
            count: n,
        }),
        _ => Err(format!(
            "\"{text}\" is not a shard; write K/N with 1 <= K <= N, e.g. 1/4"
        )),
    }
}

pub(super) fn run(cli: &Session<'_>, args: RunArgs) -> Result<u8, InputError> {
    let (plain, vector_dirs) = split_vectors(&args.paths)?;
    let mut code = 0;
    if !vector_dirs.is_empty() {
        code = run_vectors(cli, &vector_dirs)?;
    }
    if plain.is_empty() {
        return Ok(code);
    }
    let seeds = match (args.seed, args.seeds.clone()) {
        (Some(seed), _) => seed..seed + 1,
        (None, Some(range)) => range,
        (None, None) => {
            let seed = crate::wall::fresh_seed();
            println!("seed: {seed} (no --seed or --seeds given; rerun with --seed {seed})");
            seed..seed + 1
        }
    };
    let scenarios = load_all(cli, &plain, args.scenario.as_ref())?;
    let plan = SwarmPlan {
        scenarios,
        seeds: seeds.clone(),
        shard: args.shard.unwrap_or(Shard::ALL),
        implementations: args.implementation.clone(),
    };
    if let Some(filter) = &args.implementation {
        let matched = plan
            .scenarios
            .iter()
            .flat_map(|s| &s.implementations)
            .any(|i| filter.is_match(i));
        if !matched {
            return Err(InputError::new(format!(
                "no implementation of the selected scenarios matches --impl '{filter}'"
            ))
            .with_help(format!(
                "implementations are: {}",
                cli.registry.implementation_names().join(", ")
            )));
        }
    }
    let cases = plan.cases();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = progress_bar(cases.len() as u64);
    let progress = |result: &CaseResult| {
        bar.inc(1);
        if result.verdict.is_failure() {
            bar.println(format!(
                "FAILED {} {} seed {}: {}",
                result.scenario,
                result.implementation,
                result.seed,
                result.summary()
            ));
        }
    };
    let swarm = run_swarm(&plan, &cases, jobs, args.fail_fast, &progress);
    bar.finish_and_clear();
    let shard = args.shard.map_or_else(
        || "1/1".to_string(),
        |s| format!("{}/{}", s.index + 1, s.count),
    );
    let report = Report::new(
        &cli.program,
        &plan.scenarios,
        &swarm.results,
        &format!("{}..{}", seeds.start, seeds.end),
        &shard,
        swarm.wall_time.as_secs_f64(),
    );
    write_outputs(&args, &report)?;
    if let Some(dir) = &args.save_failures {
        save_failures(cli, dir, &plan.scenarios, &swarm.results)?;
    }
    println!("{}", summary_text(&report));
    if swarm.stopped_early {
        println!("stopped early (--fail-fast)");
    }
    Ok(code.max(report.summary.tally.exit_code()))
}

fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} cases ({per_sec}, eta {eta})",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar
}

/// Separates test-vector directories from scenario paths.
fn split_vectors(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), InputError> {
    let (mut plain, mut vectors) = (Vec::new(), Vec::new());
    for path in paths {
        let found = if path.is_dir() {
            find_vectors(path)?
        } else {
            Vec::new()
        };
        if found.is_empty() {
            plain.push(path.clone());
        } else {
            vectors.extend(found);
        }
    }
    Ok((plain, vectors))
}

fn load_all(
    cli: &Session<'_>,
    paths: &[PathBuf],
    filter: Option<&Regex>,
) -> Result<Vec<Scenario>, InputError> {
    let mut scenarios = Vec::new();
    for file in scenario_files(paths)? {
        let scenario = cli.registry.load(&file)?;
        if filter.is_none_or(|re| re.is_match(&scenario.name)) {
            if let Some(other) = scenarios
                .iter()
                .find(|s: &&Scenario| s.name == scenario.name)
            {
                return Err(InputError::new(format!(
                    "two scenarios are named \"{}\": {} and {}",
                    scenario.name,
                    other
                        .path
                        .as_ref()
                        .map_or("?".into(), |p| p.display().to_string()),
                    file.display()
                ))
                .with_help("give one of them a different `name`"));
            }
            scenarios.push(scenario);
        }
    }
    if scenarios.is_empty() {
        return Err(InputError::new("no scenario matches --scenario"));
    }
    Ok(scenarios)
}

fn write_outputs(args: &RunArgs, report: &Report) -> Result<(), InputError> {
    let write = |path: &Path, text: String| {
        std::fs::write(path, text)
            .map_err(|e| InputError::new(format!("cannot write {}: {e}", path.display())))
    };
    if let Some(path) = &args.report {
        write(path, report.to_json())?;
    }
    if let Some(path) = &args.junit {
        write(path, report.to_junit())?;
    }
    Ok(())
}

fn save_failures(
    cli: &Session<'_>,
    dir: &Path,
    scenarios: &[Scenario],
    results: &[CaseResult],
) -> Result<(), InputError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| InputError::new(format!("cannot create {}: {e}", dir.display())))?;
    for result in results.iter().filter(|r| worth_saving(r.verdict)) {
        let Some(scenario) = scenarios.iter().find(|s| s.name == result.scenario) else {
            continue;
        };
        let file = dir.join(file_name(&format!(
            "{}-{}-seed{}.toml",
            result.scenario, result.implementation, result.seed
        )));
        Repro::of(scenario, result).write(&file, Some(&result.summary()))?;
        println!(
            "saved repro: {}  (replay: {} repro {})",
            file.display(),
            cli.program,
            file.display()
        );
    }
    Ok(())
}

/// Replays every test vector; seeds come from the vectors.
fn run_vectors(cli: &Session<'_>, dirs: &[PathBuf]) -> Result<u8, InputError> {
    let vectors: Vec<Vector> = dirs
        .iter()
        .map(|d| Vector::load(cli.registry, d))
        .collect::<Result<_, _>>()?;
    let results = Mutex::new(Vec::new());
    #[expect(
        clippy::disallowed_methods,
        reason = "vectors replay side by side; each case runs on one thread from its seed"
    )]
    std::thread::scope(|scope| {
        for vector in &vectors {
            let results = &results;
            scope.spawn(move || {
                let replayed = vector.replay();
                results
                    .lock()
                    .expect("no panic while holding results")
                    .push((vector.name(), replayed));
            });
        }
    });
    let mut results = results.into_inner().expect("threads are done");
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let all: Vec<CaseResult> = results
        .iter()
        .flat_map(|(_, r)| r.iter().cloned())
        .collect();
    for (name, cases) in &results {
        for case in cases {
            let note = match case.verdict {
                Verdict::Skipped => {
                    format!("skipped: {}", case.message.as_deref().unwrap_or(""))
                }
                verdict if verdict.is_failure() => format!("FAILED {verdict}: {}", case.summary()),
                verdict => case
                    .message
                    .clone()
                    .map_or_else(|| verdict.to_string(), |m| format!("{verdict} ({m})")),
            };
            println!("vector {name} {}: {note}", case.implementation);
        }
    }
    let tally = Tally::of(&all);
    println!(
        "{} vector cases: {} passed, {} failed, {} skipped",
        tally.cases,
        tally.passed,
        tally.failed(),
        tally.skipped
    );
    Ok(tally.exit_code())
}
