//! Reports: the terminal summary, a JSON report in the spirit of cross-client test
//! harnesses (per implementation and scenario, every case with its sub-results), and
//! JUnit XML for CI systems.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::case::{CaseResult, SubResult, Verdict};
use crate::model::Scenario;

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
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
            tally.cases += 1;
            *match result.verdict {
                Verdict::Pass => &mut tally.passed,
                Verdict::Safety => &mut tally.safety,
                Verdict::Liveness => &mut tally.liveness,
                Verdict::Panic => &mut tally.panicked,
                Verdict::Limit => &mut tally.limit,
                Verdict::Skipped => &mut tally.skipped,
                Verdict::Mismatch => &mut tally.mismatch,
            } += 1;
        }
        tally
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

/// One case in the JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    /// `scenario/implementation/seed=N`.
    pub name: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violation: Option<ViolationReport>,
    /// Why it failed otherwise (a panic, an assertion, a skip).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The command that replays it.
    pub repro: String,
    /// One result per check.
    pub sub_results: Vec<SubResult>,
    /// Facts about the state at the end.
    pub facts: crate::protocol::Facts,
}

/// A failed check in the JSON report.
#[derive(Clone, Debug, Serialize)]
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

/// One (implementation, scenario) pair in the JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    /// The implementation.
    pub implementation: String,
    /// The scenario.
    pub scenario: String,
    /// Its file.
    pub file: Option<String>,
    /// What it shows.
    pub description: String,
    /// Its labels.
    pub tags: Vec<String>,
    /// Counts.
    pub summary: Tally,
    /// Every case.
    pub cases: Vec<CaseReport>,
}

/// The whole JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The detsim version that ran it.
    pub detsim_version: String,
    /// The seeds run, as `A..B`.
    pub seeds: String,
    /// The shard run, as `K/N`.
    pub shard: String,
    /// Counts over everything, with speed.
    pub summary: Summary,
    /// Per implementation and scenario.
    pub suites: Vec<SuiteReport>,
}

/// Counts over the whole run, with its speed.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Counts.
    #[serde(flatten)]
    pub tally: Tally,
    /// Wall time of the swarm, in seconds.
    pub wall_time_s: f64,
    /// Cases per second (the CLI calls them seeds per second).
    pub seeds_per_second: f64,
}

impl Report {
    /// Builds the report of `results` (in case order) over `scenarios`; `program` is the
    /// CLI its repro commands name.
    pub fn new(
        program: &str,
        scenarios: &[Scenario],
        results: &[CaseResult],
        seeds: &str,
        shard: &str,
        wall_time_s: f64,
    ) -> Report {
        let mut suites: BTreeMap<(usize, String), Vec<&CaseResult>> = BTreeMap::new();
        for result in results {
            let index = scenarios
                .iter()
                .position(|s| s.name == result.scenario)
                .unwrap_or(0);
            suites
                .entry((index, result.implementation.clone()))
                .or_default()
                .push(result);
        }
        let suites = suites
            .into_iter()
            .map(|((index, implementation), cases)| {
                let scenario = &scenarios[index];
                SuiteReport {
                    implementation,
                    scenario: scenario.name.clone(),
                    file: scenario.path.as_ref().map(|p| p.display().to_string()),
                    description: scenario.description.clone(),
                    tags: scenario.tags.clone(),
                    summary: Tally::of(cases.iter().copied()),
                    cases: cases
                        .iter()
                        .map(|c| case_report(program, scenario, c))
                        .collect(),
                }
            })
            .collect();
        let tally = Tally::of(results);
        Report {
            detsim_version: env!("CARGO_PKG_VERSION").to_string(),
            seeds: seeds.to_string(),
            shard: shard.to_string(),
            summary: Summary {
                tally,
                wall_time_s,
                seeds_per_second: tally.cases as f64 / wall_time_s.max(1e-9),
            },
            suites,
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serialises")
    }

    /// The report as JUnit XML: a test suite per implementation and scenario, a test
    /// case per seed.
    pub fn to_junit(&self) -> String {
        let mut junit = JunitReport::new("detsim");
        for suite in &self.suites {
            let mut test_suite =
                TestSuite::new(format!("{}/{}", suite.scenario, suite.implementation));
            for case in &suite.cases {
                let status = match case.verdict {
                    Verdict::Pass => TestCaseStatus::success(),
                    Verdict::Skipped => TestCaseStatus::skipped(),
                    _ => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        let text = case.violation.as_ref().map_or_else(
                            || case.message.clone().unwrap_or_default(),
                            |v| format!("{} check `{}`: {}", v.kind, v.check, v.message),
                        );
                        status.set_message(format!("{}: {text}", case.verdict));
                        status.set_description(format!("reproduce with: {}", case.repro));
                        status
                    }
                };
                let mut test_case = TestCase::new(format!("seed={}", case.seed), status);
                test_case.set_time(std::time::Duration::from_secs_f64(case.wall_time_s));
                test_suite.add_test_case(test_case);
            }
            junit.add_test_suite(test_suite);
        }
        junit.to_string().expect("JUnit XML serialises")
    }
}

fn case_report(program: &str, scenario: &Scenario, result: &CaseResult) -> CaseReport {
    CaseReport {
        name: format!(
            "{}/{}/seed={}",
            scenario.name, result.implementation, result.seed
        ),
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
        repro: repro_command(program, scenario, result),
        sub_results: result.sub_results.clone(),
        facts: result.facts.clone(),
    }
}

/// The terminal summary: pass/fail per scenario and implementation, then each failure
/// with its violation, virtual time and one-line repro command.
pub fn summary_text(report: &Report) -> String {
    let mut text = String::new();
    for suite in &report.suites {
        let t = &suite.summary;
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
    let failures: Vec<&CaseReport> = report
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| c.verdict.is_failure())
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(text, "\nfailures:");
    }
    for case in failures.iter().take(20) {
        let why = case.violation.as_ref().map_or_else(
            || case.message.clone().unwrap_or_default(),
            |v| {
                format!(
                    "{} check `{}` failed at t={:.3}s: {}",
                    v.kind, v.check, v.time_s, v.message
                )
            },
        );
        let _ = writeln!(
            text,
            "  {} [{}] {}\n    repro: {}",
            case.name, case.verdict, why, case.repro
        );
    }
    if failures.len() > 20 {
        let _ = writeln!(
            text,
            "  ... and {} more (see the report)",
            failures.len() - 20
        );
    }
    let s = &report.summary;
    let _ = write!(
        text,
        "\n{} cases: {} passed, {} failed ({} safety, {} liveness, {} panicked, {} limit), {} skipped in {:.2}s ({:.0} seeds/s)",
        s.tally.cases,
        s.tally.passed,
        s.tally.failed(),
        s.tally.safety,
        s.tally.liveness,
        s.tally.panicked,
        s.tally.limit,
        s.tally.skipped,
        s.wall_time_s,
        s.seeds_per_second
    );
    text
}
