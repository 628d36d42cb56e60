//! `detsim run`: scenarios (and test vectors) over seeds, on all cores.
//!
//! Everything a run could trip over is checked before its first case: the flags, the
//! files, the output paths (created and opened now). Results are written as cases finish
//! (the JSON report line by line, each repro file as its failure comes in), so an
//! interrupt or a CI timeout loses nothing already found: Ctrl-C or SIGTERM stops
//! starting cases, lets the running ones finish, writes the summary and exits with 130;
//! a second signal aborts at once.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use regex::Regex;

use super::Session;
use super::out::say;
use crate::case::{CaseResult, Verdict};
use crate::discover::{Found, discover, no_scenarios, protocol_of};
use crate::error::InputError;
use crate::model::Scenario;
use crate::report::{CaseReport, ReportWriter, RunHeader, SuiteInfo, SuiteKind, repro_command};
use crate::repro::{Repro, worth_saving};
use crate::swarm::{Shard, Stopped, SwarmOptions, SwarmPlan, run_swarm};
use crate::testing::file_name;
use crate::vectors::Vector;
use crate::wall::Stopwatch;

/// The exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells do).
pub(super) const INTERRUPTED: u8 = 130;

/// The most worker threads `--jobs` accepts.
const MAX_JOBS: usize = 1_024;

/// Arguments of `detsim run`.
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Scenario files, directories of them, or directories of test vectors.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run seeds A..B (B excluded) or A..=B (B included), e.g. 0..100.
    #[arg(long, value_parser = parse_seeds)]
    seeds: Option<RangeInclusive<u64>>,
    /// Worker threads, 1 to 1024 (default: every core).
    #[arg(long, short, value_parser = parse_jobs)]
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
    /// Write the JSON report here (JSON Lines, written as cases finish).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Stop starting new cases after the first failure.
    #[arg(long)]
    fail_fast: bool,
    /// Write one repro file per failure into this directory, as failures are found.
    #[arg(long)]
    save_failures: Option<PathBuf>,
    /// Stop a case that takes longer than this in wall time (e.g. 60s, 5m) and report
    /// it as `limit`.
    #[arg(long, value_parser = parse_timeout)]
    timeout: Option<Duration>,
    /// Succeed when the selection (filters, shard) leaves no case to run.
    #[arg(long)]
    allow_empty: bool,
}

fn parse_seeds(text: &str) -> Result<RangeInclusive<u64>, String> {
    let (start, end, inclusive) = if let Some((a, b)) = text.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = text.split_once("..") {
        (a, b, false)
    } else {
        return Err(format!(
            "\"{text}\" is not a seed range; write A..B (B excluded) or A..=B, e.g. 0..100"
        ));
    };
    let number = |part: &str| {
        part.trim().parse::<u64>().map_err(|_| {
            format!(
                "\"{part}\" is not a seed in \"{text}\"; seeds are whole numbers from 0 to {}",
                u64::MAX
            )
        })
    };
    let (start, end) = (number(start)?, number(end)?);
    let last = if inclusive {
        end
    } else {
        end.checked_sub(1)
            .filter(|last| *last >= start)
            .ok_or_else(|| format!("the seed range {text} is empty; B must be greater than A"))?
    };
    if last < start {
        return Err(format!(
            "the seed range {text} is empty; B must not be less than A"
        ));
    }
    Ok(start..=last)
}

fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(jobs) if (1..=MAX_JOBS).contains(&jobs) => Ok(jobs),
        _ => Err(format!(
            "\"{text}\" is not a number of worker threads; write 1 to {MAX_JOBS} (this machine has {})",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )),
    }
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = crate::units::parse_duration(text)?;
    if duration.as_nanos() == 0 {
        return Err("a timeout of 0 would stop every case; write e.g. 60s".to_string());
    }
    Ok(Duration::from_nanos(duration.as_nanos()))
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

/// `A..B` for reports (`A..=B` when B would not fit).
fn seeds_text(seeds: &RangeInclusive<u64>) -> String {
    match seeds.end().checked_add(1) {
        Some(end) => format!("{}..{end}", seeds.start()),
        None => format!("{}..={}", seeds.start(), seeds.end()),
    }
}

pub(super) fn run(cli: &Session<'_>, args: RunArgs) -> Result<u8, InputError> {
    // First, so that a signal that comes as soon as the report exists is caught.
    let interrupt = Arc::new(AtomicBool::new(false));
    let _signals = Signals::install(&interrupt);
    let (plan, vectors) = load(cli, &args)?;
    check_selection(cli, &args, &plan, &vectors)?;
    let mut writer = ReportWriter::create(
        header(cli, &plan, &vectors),
        args.report.as_deref(),
        args.junit.as_deref(),
    )?;
    if let Some(dir) = &args.save_failures {
        check_directory(dir)?;
    }
    let vector_suites = vector_suites(&vectors);
    if plan.shard.index == 0 {
        replay_vectors(cli, &vectors, &mut writer)?;
    }
    let stopped = if plan.is_empty() {
        None
    } else {
        run_cases(cli, &args, &plan, vector_suites, &mut writer, &interrupt)?
    };
    let finished = writer.finish(stopped.map(|s| match s {
        Stopped::FailFast => "fail_fast",
        Stopped::Interrupted => "interrupted",
    }))?;
    say!("{}", finished.text);
    match stopped {
        Some(Stopped::FailFast) => say!("stopped early (--fail-fast)"),
        Some(Stopped::Interrupted) => {
            say!(
                "interrupted: {} of {} cases ran; the reports hold those, marked partial",
                finished.summary.tally.cases
                    - if plan.shard.index == 0 {
                        vector_suites as u64
                    } else {
                        0
                    },
                plan.len()
            );
            return Ok(INTERRUPTED);
        }
        None => {}
    }
    Ok(finished.summary.tally.exit_code())
}

/// Finds and loads what the paths hold: the plan of scenario cases, and the vectors
/// (listed by every shard, replayed by the first only).
fn load(cli: &Session<'_>, args: &RunArgs) -> Result<(SwarmPlan, Vec<Vector>), InputError> {
    let found = discover(&args.paths)?;
    if found.scenarios.is_empty() && found.vectors.is_empty() {
        return Err(no_scenarios(&args.paths));
    }
    let shard = args.shard.unwrap_or(Shard::ALL);
    if args.shard.is_some() && args.seed.is_none() && args.seeds.is_none() {
        return Err(
            InputError::new("--shard needs --seeds (or --seed)").with_help(
                "every shard must cut up the same seeds: give them all e.g. --seeds 0..1000",
            ),
        );
    }
    let vectors: Vec<Vector> = found
        .vectors
        .iter()
        .map(|d| Vector::load(cli.registry, d))
        .collect::<Result<_, _>>()?;
    let scenarios = load_all(cli, &found, args.scenario.as_ref())?;
    let seeds = match (args.seed, args.seeds.clone()) {
        (Some(seed), _) => seed..=seed,
        (None, Some(range)) => range,
        (None, None) if scenarios.is_empty() => 0..=0,
        (None, None) => {
            let seed = crate::wall::fresh_seed();
            say!("seed: {seed} (no --seed or --seeds given; rerun with --seed {seed})");
            seed..=seed
        }
    };
    let plan = SwarmPlan {
        scenarios,
        seeds,
        shard,
        implementations: args.implementation.clone(),
    };
    Ok((plan, vectors))
}

/// The report's `run` line: one suite per vector and implementation (replayed first),
/// then the plan's, in case order. Every shard lists them all, so that shards merge.
fn header(cli: &Session<'_>, plan: &SwarmPlan, vectors: &[Vector]) -> RunHeader {
    let mut suites = Vec::new();
    for vector in vectors {
        for implementation in &vector.scenario.implementations {
            let mut info = SuiteInfo::of(&vector.scenario, implementation, SuiteKind::Vector);
            info.scenario = vector.name();
            info.file = Some(vector.dir.display().to_string());
            suites.push(info);
        }
    }
    suites.extend(plan.suites().into_iter().map(|(s, i)| {
        let scenario = &plan.scenarios[s];
        SuiteInfo::of(scenario, &scenario.implementations[i], SuiteKind::Scenario)
    }));
    RunHeader::new(
        &cli.program,
        seeds_text(&plan.seeds),
        format!("{}/{}", plan.shard.index + 1, plan.shard.count),
        suites,
    )
}

/// Replays every vector (one case per implementation, at its recorded seed) into the
/// report, whose first suites they are.
fn replay_vectors(
    cli: &Session<'_>,
    vectors: &[Vector],
    writer: &mut ReportWriter,
) -> Result<(), InputError> {
    let mut suite = 0;
    for vector in vectors {
        for result in vector.replay() {
            let repro = format!("{} run {}", cli.program, vector.dir.display());
            let line = match result.verdict {
                Verdict::Skipped => {
                    format!("skipped: {}", result.message.as_deref().unwrap_or(""))
                }
                verdict if verdict.is_failure() => {
                    format!("FAILED {verdict}: {}", result.summary())
                }
                verdict => result
                    .message
                    .clone()
                    .map_or_else(|| verdict.to_string(), |m| format!("{verdict} ({m})")),
            };
            say!("vector {} {}: {line}", vector.name(), result.implementation);
            writer.record(CaseReport::of(suite, &result, repro))?;
            suite += 1;
        }
    }
    Ok(())
}

/// Runs the plan's cases, writing each result (and its repro file) as it comes in;
/// returns why the swarm stopped early, if it did. A result that cannot be written
/// stops the run and is the error.
fn run_cases(
    cli: &Session<'_>,
    args: &RunArgs,
    plan: &SwarmPlan,
    first_suite: usize,
    writer: &mut ReportWriter,
    interrupt: &AtomicBool,
) -> Result<Option<Stopped>, InputError> {
    let bar = progress_bar(u64::try_from(plan.len()).unwrap_or(u64::MAX));
    let suites = plan.suites();
    let mut failed_writing: Option<InputError> = None;
    let mut on_result = |result: CaseResult| {
        bar.inc(1);
        if result.verdict.is_failure() {
            note(
                &bar,
                &format!(
                    "FAILED {} {} seed {}: {}",
                    result.scenario,
                    result.implementation,
                    result.seed,
                    result.summary()
                ),
            );
        }
        if let Err(error) = keep(
            cli,
            args,
            plan,
            (first_suite, &suites),
            writer,
            &bar,
            &result,
        ) && failed_writing.is_none()
        {
            note(
                &bar,
                &format!("{error}\nstopping: results can no longer be saved"),
            );
            failed_writing = Some(error);
            interrupt.store(true, Ordering::Relaxed);
        }
    };
    let options = SwarmOptions {
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        fail_fast: args.fail_fast,
        timeout: args.timeout,
        interrupt: Some(interrupt),
    };
    let swarm = run_swarm(plan, &options, &mut on_result);
    bar.finish_and_clear();
    match failed_writing {
        Some(error) => Err(error),
        None => Ok(swarm.stopped),
    }
}

/// Writes one result to the report, and its repro file if it is a failure worth one.
/// (`suites` are the plan's, the first of them numbered `first` in the report.)
fn keep(
    cli: &Session<'_>,
    args: &RunArgs,
    plan: &SwarmPlan,
    (first, suites): (usize, &[(usize, usize)]),
    writer: &mut ReportWriter,
    bar: &ProgressBar,
    result: &CaseResult,
) -> Result<(), InputError> {
    let (suite, scenario) = locate(plan, suites, result);
    writer.record(CaseReport::of(
        first + suite,
        result,
        repro_command(&cli.program, scenario, result),
    ))?;
    // A case stopped by --timeout would not replay the same way: no repro file.
    if let Some(dir) = &args.save_failures
        && worth_saving(result.verdict)
        && !result.cancelled
    {
        let file = save_failure(dir, scenario, result)?;
        note(
            bar,
            &format!(
                "saved repro: {}  (replay: {} repro {})",
                file.display(),
                cli.program,
                file.display()
            ),
        );
    }
    Ok(())
}

/// How many suites (and cases) the vectors make: one per vector and implementation.
fn vector_suites(vectors: &[Vector]) -> usize {
    vectors
        .iter()
        .map(|v| v.scenario.implementations.len())
        .sum()
}

/// The suite index and scenario of a result.
fn locate<'p>(
    plan: &'p SwarmPlan,
    suites: &[(usize, usize)],
    result: &CaseResult,
) -> (usize, &'p Scenario) {
    let index = suites
        .iter()
        .position(|&(s, i)| {
            let scenario = &plan.scenarios[s];
            scenario.name == result.scenario && scenario.implementations[i] == result.implementation
        })
        .expect("every result belongs to a suite of the plan");
    (index, &plan.scenarios[suites[index].0])
}

/// Refuses a selection that runs nothing (unless `--allow-empty`) or an `--impl` filter
/// that matches no implementation.
fn check_selection(
    cli: &Session<'_>,
    args: &RunArgs,
    plan: &SwarmPlan,
    vectors: &[Vector],
) -> Result<(), InputError> {
    if let Some(filter) = &args.implementation
        && !plan.scenarios.is_empty()
        && plan.suites().is_empty()
    {
        return Err(InputError::new(format!(
            "no implementation of the selected scenarios matches --impl '{filter}'"
        ))
        .with_help(format!(
            "implementations are: {}",
            cli.registry.implementation_names().join(", ")
        )));
    }
    if plan.is_empty() && vectors.is_empty() && !args.allow_empty {
        let why = if plan.scenarios.is_empty() && args.scenario.is_some() {
            "no scenario matches --scenario".to_string()
        } else if plan.scenarios.is_empty() {
            "the paths hold no scenario of this program's protocols".to_string()
        } else {
            format!(
                "shard {}/{} of these {} cases is empty",
                plan.shard.index + 1,
                plan.shard.count,
                plan.suites().len() as u128
                    * (u128::from(plan.seeds.end() - plan.seeds.start()) + 1)
            )
        };
        return Err(InputError::new(format!("nothing to run: {why}"))
            .with_help("widen the selection, or pass --allow-empty if an empty run is fine"));
    }
    Ok(())
}

/// Creates `dir` and makes sure files can be written in it, before anything runs.
fn check_directory(dir: &Path) -> Result<(), InputError> {
    let cannot = |e: std::io::Error| {
        InputError::new(format!(
            "cannot write repro files into {}: {e}",
            dir.display()
        ))
        .with_help("pass a directory you may write to (it is created if missing)")
    };
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let probe = dir.join(".detsim-write-check");
    std::fs::write(&probe, b"").map_err(cannot)?;
    std::fs::remove_file(&probe).map_err(cannot)
}

/// A line on stdout while the progress bar (on stderr, if a terminal) steps aside.
fn note(bar: &ProgressBar, text: &str) {
    bar.suspend(|| say!("{text}"));
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

/// Loads the scenarios found, keeping those `filter` accepts. A file a walk found for a
/// protocol this program does not have is passed over with a note (a repository may
/// hold scenarios of several CLIs); a file named on the command line never is.
fn load_all(
    cli: &Session<'_>,
    found: &Found,
    filter: Option<&Regex>,
) -> Result<Vec<Scenario>, InputError> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    let known = cli.registry.protocol_names();
    for file in &found.scenarios {
        if !found.given.contains(file)
            && let Some(protocol) = protocol_of(file)
            && !known.contains(&protocol.as_str())
        {
            eprintln!(
                "{}: passed over: this program has no protocol \"{protocol}\" (it has {})",
                file.display(),
                known.join(", ")
            );
            continue;
        }
        let scenario = cli.registry.load(file)?;
        if filter.is_none_or(|re| re.is_match(&scenario.name)) {
            if let Some(other) = scenarios.iter().find(|s| s.name == scenario.name) {
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
    Ok(scenarios)
}

/// Writes the repro file of a failure into `dir` and returns its path.
fn save_failure(
    dir: &Path,
    scenario: &Scenario,
    result: &CaseResult,
) -> Result<PathBuf, InputError> {
    let file = dir.join(file_name(&format!(
        "{}-{}-seed{}.toml",
        result.scenario, result.implementation, result.seed
    )));
    Repro::of(scenario, result).write(&file, Some(&result.summary()))?;
    Ok(file)
}

/// SIGINT and SIGTERM while a run is on: the first sets the interrupt flag; another,
/// a second or more later, exits at once. (Signals within a second count as one: `timeout`
/// and some CI runners signal both the process and its group.) Dropping it stops the
/// listener; the signals stay caught (and ignored) for the rest of the process.
struct Signals {
    handle: Option<signal_hook::iterator::Handle>,
    listener: Option<std::thread::JoinHandle<()>>,
}

impl Signals {
    fn install(flag: &Arc<AtomicBool>) -> Signals {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return Signals {
                handle: None,
                listener: None,
            };
        };
        let handle = signals.handle();
        let flag = Arc::clone(flag);
        #[expect(
            clippy::disallowed_methods,
            reason = "the CLI's signal listener, outside every simulation"
        )]
        let listener = std::thread::spawn(move || {
            let mut first: Option<Stopwatch> = None;
            for _ in signals.forever() {
                match first {
                    None => {
                        flag.store(true, Ordering::Relaxed);
                        first = Some(Stopwatch::start());
                        eprintln!(
                            "interrupted: no new cases start; finishing the running ones \
                             (interrupt again to abort)"
                        );
                    }
                    Some(since) if since.elapsed() >= Duration::from_secs(1) => {
                        eprintln!("aborted: the reports end at the last case that finished");
                        std::process::exit(i32::from(INTERRUPTED));
                    }
                    Some(_) => {}
                }
            }
        });
        Signals {
            handle: Some(handle),
            listener: Some(listener),
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.close();
        }
        if let Some(listener) = self.listener.take() {
            let _ = listener.join();
        }
    }
}
