//! Reports: the terminal summary, a JSON Lines report in the spirit of cross-client test
//! harnesses, and JUnit XML for CI systems.
//!
//! The JSON report is written as the run goes, one line per case, so that an interrupted
//! or killed run leaves every finished case on disk:
//!
//! 1. a `run` line: the schema, the detsim version, the command, the commit if known,
//!    the start time, the seeds and shard, and every suite (scenario × implementation,
//!    with the implementation's version);
//! 2. a `case` line per case, in case order;
//! 3. a `summary` line: counts per suite and overall, a `pass`/`fail` roll-up per
//!    implementation, the end time, and whether the run was complete. A report without
//!    one was killed before it could finish.
//!
//! Memory stays flat in the number of cases, except for JUnit XML, whose document
//! carries counts before its cases: with `--junit` each case keeps a small record until
//! the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

use crate::case::{CaseResult, SubResult, Verdict};
use crate::error::InputError;
use crate::model::Scenario;
use crate::wall::{Stopwatch, WallTime};

/// The format of the JSON report; a reader should refuse another.
pub const SCHEMA: &str = "detsim-report/2";

/// The command that replays one case from its scenario file and seed, with the CLI
/// called `program` (`detsim`, or your protocol's own).
pub fn repro_command(program: &str, scenario: &Scenario, result: &CaseResult) -> String {
    let path = scenario.path.as_ref().map_or_else(
        || format!("<{}>", scenario.name),
        |p| p.display().to_string(),
    );
    format!(
        "{program} run {path} --seed {} --impl '^{}$'",
        result.seed, result.implementation
    )
}

/// Counts over a set of cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Cases run.
    pub cases: u64,
    /// Cases that passed.
    pub passed: u64,
    /// Safety failures.
    pub safety: u64,
    /// Liveness failures.
    pub liveness: u64,
    /// Panics.
    pub panicked: u64,
    /// Limits reached.
    pub limit: u64,
    /// Skipped (unsupported).
    pub skipped: u64,
    /// Test vectors whose run differs from the recording.
    pub mismatch: u64,
}

impl Tally {
    /// Counts `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Tally {
        let mut tally = Tally::default();
        for result in results {
            tally.add(result.verdict);
        }
        tally
    }

    /// Counts one more case.
    pub fn add(&mut self, verdict: Verdict) {
        self.cases += 1;
        *match verdict {
            Verdict::Pass => &mut self.passed,
            Verdict::Safety => &mut self.safety,
            Verdict::Liveness => &mut self.liveness,
            Verdict::Panic => &mut self.panicked,
            Verdict::Limit => &mut self.limit,
            Verdict::Skipped => &mut self.skipped,
            Verdict::Mismatch => &mut self.mismatch,
        } += 1;
    }

    /// Cases that failed.
    pub fn failed(&self) -> u64 {
        self.safety + self.liveness + self.panicked + self.limit + self.mismatch
    }

    /// The process exit code these results call for: 4 if anything panicked, else 1 for
    /// a safety failure (or a test vector that no longer matches), else 3 for liveness
    /// (or a limit), else 0.
    pub fn exit_code(&self) -> u8 {
        if self.panicked > 0 {
            4
        } else if self.safety + self.mismatch > 0 {
            1
        } else if self.liveness + self.limit > 0 {
            3
        } else {
            0
        }
    }
}

/// What a suite is: a scenario run over seeds, or a test vector replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuiteKind {
    /// A scenario over the run's seeds.
    Scenario,
    /// A test vector at its recorded seed.
    Vector,
}

/// One suite (scenario × implementation) as the `run` line declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteInfo {
    /// The scenario's (or vector's) name.
    pub scenario: String,
    /// The implementation.
    pub implementation: String,
    /// What the implementation is (a crate and its release), if it says.
    pub implementation_version: Option<String>,
    /// The protocol.
    pub protocol: String,
    /// A scenario or a vector.
    pub kind: SuiteKind,
    /// Its file (or the vector's directory).
    pub file: Option<String>,
    /// What it shows.
    pub description: String,
    /// Its labels.
    pub tags: Vec<String>,
}

impl SuiteInfo {
    /// The suite of `scenario` against `implementation`.
    pub fn of(scenario: &Scenario, implementation: &str, kind: SuiteKind) -> SuiteInfo {
        SuiteInfo {
            scenario: scenario.name.clone(),
            implementation: implementation.to_string(),
            implementation_version: scenario.implementation_version(implementation),
            protocol: scenario.protocol().to_string(),
            kind,
            file: scenario.path.as_ref().map(|p| p.display().to_string()),
            description: scenario.description.clone(),
            tags: scenario.tags.clone(),
        }
    }
}

/// The first line of a report: what ran, and where and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunHeader {
    /// [`SCHEMA`].
    pub schema: String,
    /// The detsim version that ran it.
    pub detsim_version: String,
    /// The CLI that ran it (`detsim`, or a protocol's own).
    pub program: String,
    /// The command line.
    pub command: Vec<String>,
    /// The commit of the code under test, if known (`DETSIM_COMMIT`, `GITHUB_SHA`,
    /// `CI_COMMIT_SHA`, or `git rev-parse HEAD` in the working directory).
    pub commit: Option<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// The seeds run, as `A..B` (B excluded).
    pub seeds: String,
    /// The shard run, as `K/N`.
    pub shard: String,
    /// Every suite, in case order.
    pub suites: Vec<SuiteInfo>,
}

impl RunHeader {
    /// A header for a run starting now.
    pub fn new(program: &str, seeds: String, shard: String, suites: Vec<SuiteInfo>) -> RunHeader {
        RunHeader {
            schema: SCHEMA.to_string(),
            detsim_version: env!("CARGO_PKG_VERSION").to_string(),
            program: program.to_string(),
            command: std::env::args().collect(),
            commit: crate::wall::commit(),
            started_at: WallTime::now().rfc3339(),
            seeds,
            shard,
            suites,
        }
    }
}

/// One case in the JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// `scenario/implementation/seed=N`.
    pub name: String,
    /// Its suite: the index into the `run` line's suites.
    pub suite: usize,
    /// The seed.
    pub seed: u64,
    /// How it ended.
    pub verdict: Verdict,
    /// Virtual time reached, in seconds.
    pub virtual_time_s: f64,
    /// Wall time, in seconds (the one field that differs between identical runs).
    pub wall_time_s: f64,
    /// Steps taken.
    pub steps: u64,
    /// The trace hash, hex.
    pub trace_hash: String,
    /// The failed check, if one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<ViolationReport>,
    /// Why it failed otherwise (a panic, an assertion, a skip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The command that replays it.
    pub repro: String,
    /// One result per check.
    pub sub_results: Vec<SubResult>,
    /// Facts about the state at the end.
    pub facts: crate::protocol::Facts,
}

impl CaseReport {
    /// The report of `result`, a case of `suite` whose replay command is `repro`.
    pub fn of(suite: usize, result: &CaseResult, repro: String) -> CaseReport {
        CaseReport {
            name: format!(
                "{}/{}/seed={}",
                result.scenario, result.implementation, result.seed
            ),
            suite,
            seed: result.seed,
            verdict: result.verdict,
            virtual_time_s: result.virtual_time.as_secs_f64(),
            wall_time_s: result.wall_time.as_secs_f64(),
            steps: result.steps,
            trace_hash: format!("0x{:016x}", result.trace_hash),
            violation: result.violation.as_ref().map(|v| ViolationReport {
                check: v.check.clone(),
                kind: v.kind.to_string(),
                message: v.message.clone(),
                step: v.step,
                time_s: v.time.as_secs_f64(),
            }),
            message: result.message.clone(),
            repro,
            sub_results: result.sub_results.clone(),
            facts: result.facts.clone(),
        }
    }

    /// Why it failed (or was skipped), in one line.
    pub fn why(&self) -> String {
        self.violation.as_ref().map_or_else(
            || self.message.clone().unwrap_or_default(),
            |v| {
                format!(
                    "{} check `{}` failed at t={:.3}s: {}",
                    v.kind, v.check, v.time_s, v.message
                )
            },
        )
    }
}

/// A failed check in the JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViolationReport {
    /// The check.
    pub check: String,
    /// `always` or `eventually`.
    pub kind: String,
    /// What it said.
    pub message: String,
    /// The step of the failure.
    pub step: u64,
    /// The virtual time of the failure, in seconds.
    pub time_s: f64,
}

/// Counts for one suite, in the summary line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTally {
    /// The scenario.
    pub scenario: String,
    /// The implementation.
    pub implementation: String,
    /// Counts.
    #[serde(flatten)]
    pub tally: Tally,
}

/// One implementation's roll-up: the scenarios it passed and failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// What the implementation is, if it says.
    pub version: Option<String>,
    /// Scenarios where every case it ran passed.
    pub pass: Vec<String>,
    /// Scenarios where a case failed.
    pub fail: Vec<String>,
    /// Scenarios it could not run at all.
    pub skipped: Vec<String>,
}

/// The last line of a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Did every case of the plan run? (Not after `--fail-fast` or an interrupt.)
    pub complete: bool,
    /// Why the run stopped early: `fail_fast` or `interrupted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// When the run ended (RFC 3339, UTC).
    pub ended_at: String,
    /// Wall time of the run, in seconds.
    pub wall_time_s: f64,
    /// Cases per second (the CLI calls them seeds per second).
    pub seeds_per_second: f64,
    /// Counts over everything.
    #[serde(flatten)]
    pub tally: Tally,
    /// Counts per suite, in the order of the `run` line.
    pub suites: Vec<SuiteTally>,
    /// Per implementation: which scenarios passed and failed.
    pub implementations: BTreeMap<String, Rollup>,
}

/// One line of the JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// The first.
    Run(RunHeader),
    /// One per case.
    Case(Box<CaseReport>),
    /// The last.
    Summary(RunSummary),
}

/// What JUnit keeps of a case until the end: little for a pass.
#[derive(Clone, Debug)]
struct JunitCase {
    suite: u32,
    verdict: Verdict,
    seed: u64,
    time: Duration,
    /// Why it failed or was skipped, and its repro command (none for a pass).
    detail: Option<Box<(String, String)>>,
}

/// How many failures the terminal summary shows.
const SHOWN_FAILURES: usize = 20;

/// Writes a run's reports as its cases finish, and keeps what the summary needs.
#[derive(Debug)]
pub struct ReportWriter {
    header: RunHeader,
    json: Option<(PathBuf, BufWriter<File>)>,
    junit: Option<(PathBuf, Vec<JunitCase>)>,
    tallies: Vec<Tally>,
    failures: Vec<CaseReport>,
    failed: u64,
    started: Stopwatch,
    wall_time_s: Option<f64>,
}

fn cannot_write(path: &Path, error: &std::io::Error) -> InputError {
    InputError::new(format!("cannot write {}: {error}", path.display()))
        .with_help("pass a path in a directory that exists and that you may write to")
}

/// Creates `path` for writing (its directory too), so that a bad path is refused
/// before anything runs.
pub(crate) fn create_file(path: &Path) -> Result<File, InputError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| cannot_write(path, &e))?;
    }
    File::create(path).map_err(|e| cannot_write(path, &e))
}

impl ReportWriter {
    /// Opens the outputs (refusing a path that cannot be written, before anything runs)
    /// and writes the `run` line. An empty JUnit document is written at once, so that
    /// even a killed run leaves a valid file.
    pub fn create(
        header: RunHeader,
        json: Option<&Path>,
        junit: Option<&Path>,
    ) -> Result<ReportWriter, InputError> {
        let json = match json {
            Some(path) => Some((path.to_path_buf(), BufWriter::new(create_file(path)?))),
            None => None,
        };
        let junit = match junit {
            Some(path) => {
                let mut file = create_file(path)?;
                let empty = JunitReport::new(header.program.as_str());
                file.write_all(empty.to_string().expect("JUnit XML serialises").as_bytes())
                    .map_err(|e| cannot_write(path, &e))?;
                Some((path.to_path_buf(), Vec::new()))
            }
            None => None,
        };
        let mut writer = ReportWriter {
            tallies: vec![Tally::default(); header.suites.len()],
            header,
            json,
            junit,
            failures: Vec::new(),
            failed: 0,
            started: Stopwatch::start(),
            wall_time_s: None,
        };
        let line = Line::Run(writer.header.clone());
        writer.write_line(&line)?;
        Ok(writer)
    }

    /// The `run` line.
    pub fn header(&self) -> &RunHeader {
        &self.header
    }

    fn write_line(&mut self, line: &Line) -> Result<(), InputError> {
        if let Some((path, out)) = &mut self.json {
            let text = serde_json::to_string(line).expect("a report line serialises");
            writeln!(out, "{text}")
                .and_then(|()| out.flush())
                .map_err(|e| cannot_write(path, &e))?;
        }
        Ok(())
    }

    /// Records one finished case.
    pub fn record(&mut self, case: CaseReport) -> Result<(), InputError> {
        self.tallies[case.suite].add(case.verdict);
        if let Some((_, cases)) = &mut self.junit {
            cases.push(JunitCase {
                suite: u32::try_from(case.suite).expect("fewer than 2^32 suites"),
                verdict: case.verdict,
                seed: case.seed,
                time: Duration::from_secs_f64(case.wall_time_s),
                detail: (case.verdict != Verdict::Pass)
                    .then(|| Box::new((case.why(), case.repro.clone()))),
            });
        }
        if case.verdict.is_failure() {
            self.failed += 1;
            if self.failures.len() < SHOWN_FAILURES {
                self.failures.push(case.clone());
            }
        }
        self.write_line(&Line::Case(Box::new(case)))
    }

    /// Reports this wall time instead of the writer's own (a merge reports its shards').
    pub fn set_wall_time(&mut self, seconds: f64) {
        self.wall_time_s = Some(seconds);
    }

    /// Writes the summary line and JUnit XML, and returns the terminal summary with the
    /// counts. `stopped` says why the run stopped early, if it did.
    pub fn finish(mut self, stopped: Option<&str>) -> Result<Finished, InputError> {
        let wall = self
            .wall_time_s
            .unwrap_or_else(|| self.started.elapsed().as_secs_f64());
        let mut tally = Tally::default();
        let mut implementations: BTreeMap<String, Rollup> = BTreeMap::new();
        let mut suites = Vec::new();
        for (info, t) in self.header.suites.iter().zip(&self.tallies) {
            for (field, count) in [
                (&mut tally.cases, t.cases),
                (&mut tally.passed, t.passed),
                (&mut tally.safety, t.safety),
                (&mut tally.liveness, t.liveness),
                (&mut tally.panicked, t.panicked),
                (&mut tally.limit, t.limit),
                (&mut tally.skipped, t.skipped),
                (&mut tally.mismatch, t.mismatch),
            ] {
                *field += count;
            }
            let rollup = implementations
                .entry(info.implementation.clone())
                .or_default();
            rollup.version.clone_from(&info.implementation_version);
            if t.failed() > 0 {
                rollup.fail.push(info.scenario.clone());
            } else if t.cases > 0 && t.skipped == t.cases {
                rollup.skipped.push(info.scenario.clone());
            } else if t.cases > 0 {
                rollup.pass.push(info.scenario.clone());
            }
            suites.push(SuiteTally {
                scenario: info.scenario.clone(),
                implementation: info.implementation.clone(),
                tally: *t,
            });
        }
        let summary = RunSummary {
            complete: stopped.is_none(),
            stopped: stopped.map(str::to_string),
            ended_at: WallTime::now().rfc3339(),
            wall_time_s: wall,
            seeds_per_second: tally.cases as f64 / wall.max(1e-9),
            tally,
            suites,
            implementations,
        };
        self.write_line(&Line::Summary(summary.clone()))?;
        if let Some((path, cases)) = self.junit.take() {
            // Written beside and renamed, so that an abort mid-write leaves the old file.
            let xml = junit_xml(&self.header, &cases, wall);
            let mut partial = path.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            std::fs::write(&partial, xml)
                .and_then(|()| std::fs::rename(&partial, &path))
                .map_err(|e| cannot_write(&path, &e))?;
        }
        let text = summary_text(&summary, &self.failures, self.failed);
        Ok(Finished { summary, text })
    }
}

/// A finished report: its summary line and the terminal text.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The summary line.
    pub summary: RunSummary,
    /// What the terminal shows.
    pub text: String,
}

/// JUnit XML: a test suite per scenario and implementation, a test case per seed, with
/// the suite as its class name. Safety, liveness and mismatches are failures; panics and
/// limits are errors; skips carry their reason.
fn junit_xml(header: &RunHeader, cases: &[JunitCase], wall: f64) -> String {
    let started = chrono::DateTime::parse_from_rfc3339(&header.started_at).ok();
    let mut junit = JunitReport::new(header.program.as_str());
    if let Some(started) = started {
        junit.set_timestamp(started);
    }
    junit.set_time(Duration::from_secs_f64(wall));
    let mut suites: Vec<TestSuite> = header
        .suites
        .iter()
        .map(|info| {
            let mut suite = TestSuite::new(format!("{}/{}", info.scenario, info.implementation));
            if let Some(started) = started {
                suite.set_timestamp(started);
            }
            suite
        })
        .collect();
    let mut times = vec![Duration::ZERO; suites.len()];
    for case in cases {
        let suite = case.suite as usize;
        let info = &header.suites[suite];
        let (why, repro) = case
            .detail
            .as_deref()
            .map_or(("", ""), |(why, repro)| (why.as_str(), repro.as_str()));
        let status = match case.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(why);
                status
            }
            verdict => {
                let kind = if matches!(verdict, Verdict::Panic | Verdict::Limit) {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut status = TestCaseStatus::non_success(kind);
                status.set_message(format!("{verdict}: {why}"));
                status.set_type(verdict.name());
                status.set_description(format!("reproduce with: {repro}"));
                status
            }
        };
        let mut test_case = TestCase::new(format!("seed={}", case.seed), status);
        test_case.set_classname(format!("{}.{}", info.scenario, info.implementation));
        test_case.set_time(case.time);
        times[suite] += case.time;
        suites[suite].add_test_case(test_case);
    }
    for (suite, time) in suites.iter_mut().zip(times) {
        suite.set_time(time);
    }
    junit.add_test_suites(suites.into_iter().filter(|s| s.tests > 0));
    junit.to_string().expect("JUnit XML serialises")
}

/// The terminal summary: pass/fail per scenario and implementation, then each failure
/// (up to 20 of `failed`) with its violation, virtual time and one-line repro command.
fn summary_text(summary: &RunSummary, failures: &[CaseReport], failed: u64) -> String {
    let mut text = String::new();
    for suite in summary.suites.iter().filter(|s| s.tally.cases > 0) {
        let t = &suite.tally;
        let mut line = format!(
            "{:<32} {:<14} {:>5} passed",
            suite.scenario, suite.implementation, t.passed
        );
        if t.failed() > 0 {
            let _ = write!(line, ", {:>3} FAILED", t.failed());
        }
        if t.skipped > 0 {
            let _ = write!(line, ", {} skipped", t.skipped);
        }
        let _ = writeln!(text, "{line}");
    }
    if !failures.is_empty() {
        let _ = writeln!(text, "\nfailures:");
    }
    for case in failures {
        let _ = writeln!(
            text,
            "  {} [{}] {}\n    repro: {}",
            case.name,
            case.verdict,
            case.why(),
            case.repro
        );
    }
    if failed > failures.len() as u64 {
        let _ = writeln!(
            text,
            "  ... and {} more (see the report)",
            failed - failures.len() as u64
        );
    }
    let t = &summary.tally;
    let _ = write!(
        text,
        "\n{} cases: {} passed, {} failed ({} safety, {} liveness, {} panicked, {} limit{}), {} skipped in {:.2}s ({:.0} seeds/s)",
        t.cases,
        t.passed,
        t.failed(),
        t.safety,
        t.liveness,
        t.panicked,
        t.limit,
        if t.mismatch > 0 {
            format!(", {} mismatch", t.mismatch)
        } else {
            String::new()
        },
        t.skipped,
        summary.wall_time_s,
        summary.seeds_per_second
    );
    text
}

/// A report read back from its file.
#[derive(Clone, Debug)]
pub struct ReadReport {
    /// The file.
    pub path: PathBuf,
    /// The `run` line.
    pub header: RunHeader,
    /// The `case` lines.
    pub cases: Vec<CaseReport>,
    /// The `summary` line, if the run got to write one.
    pub summary: Option<RunSummary>,
}

impl ReadReport {
    /// Reads a JSON report, refusing another format with a message that says what it is.
    pub fn read(path: &Path) -> Result<ReadReport, InputError> {
        let file = File::open(path)
            .map_err(|e| InputError::new(format!("cannot read {}: {e}", path.display())))?;
        let mut header: Option<RunHeader> = None;
        let mut cases = Vec::new();
        let mut summary = None;
        let mut lines = BufReader::new(file).lines().enumerate().peekable();
        while let Some((number, line)) = lines.next() {
            let line =
                line.map_err(|e| InputError::new(format!("cannot read {}: {e}", path.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            let located = |message: String| InputError {
                position: Some((number + 1, 1)),
                ..InputError::new(message).in_file(path)
            };
            let parsed: Line = match serde_json::from_str(&line) {
                Ok(parsed) => parsed,
                // A run killed mid-write leaves its last line cut short: the rest stands.
                Err(_) if header.is_some() && lines.peek().is_none() => break,
                Err(e) if header.is_none() => {
                    return Err(located(format!(
                        "this is not a detsim JSON report ({SCHEMA}, one JSON object per line): {e}"
                    ))
                    .with_help("pass the files that `run --report` wrote"));
                }
                Err(e) => {
                    return Err(located(format!("a damaged report line: {e}"))
                        .with_help("pass the files that `run --report` wrote"));
                }
            };
            match (parsed, &header) {
                (Line::Run(run), None) => {
                    if run.schema != SCHEMA {
                        return Err(located(format!(
                            "the report is in format {}; this detsim reads {SCHEMA}",
                            run.schema
                        )));
                    }
                    header = Some(run);
                }
                (_, None) | (Line::Run(_), Some(_)) => {
                    return Err(located(
                        "a report starts with one `run` line, and has no other".to_string(),
                    ));
                }
                (Line::Case(case), Some(run)) => {
                    if case.suite >= run.suites.len()
                        || !case.wall_time_s.is_finite()
                        || case.wall_time_s < 0.0
                    {
                        return Err(located(
                            "a case line names no suite of the run line, or a wall time that is not one"
                                .to_string(),
                        )
                        .with_help("pass the files that `run --report` wrote, unedited"));
                    }
                    cases.push(*case);
                }
                (Line::Summary(s), Some(_)) => summary = Some(s),
            }
        }
        let header = header.ok_or_else(|| InputError::new("the report is empty").in_file(path))?;
        Ok(ReadReport {
            path: path.to_path_buf(),
            header,
            cases,
            summary,
        })
    }
}
