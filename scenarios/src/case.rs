//! One case: a scenario run against one implementation with one seed, and its result.
//!
//! A case runs in phases (see the driver in `drive.rs`, the same for every protocol): the
//! fault phase (timeline and random faults, workload, every safety invariant after every
//! step), then the heal-and-converge phase (the core of the cluster repaired, liveness
//! demanded within a bound), then the final assertions. A panic in a node or in the
//! engine is caught and reported with its seed; the swarm goes on.

use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::{CheckKind, Coverage, Outcome, SimTime, Stop, Trace, Violation};

use crate::model::Scenario;
use crate::protocol::Facts;
use crate::wall::Stopwatch;

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything held.
    Pass,
    /// A safety invariant or a state assertion failed.
    Safety,
    /// Liveness was not reached in time, or a progress assertion failed.
    Liveness,
    /// A node or the engine panicked.
    Panic,
    /// The run hit a step or time limit.
    Limit,
    /// The implementation cannot run this scenario (reported, not silent).
    Skipped,
    /// A test vector's run differs from what the vector recorded.
    Mismatch,
}

impl Verdict {
    /// The verdict's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Safety => "safety",
            Verdict::Liveness => "liveness",
            Verdict::Panic => "panic",
            Verdict::Limit => "limit",
            Verdict::Skipped => "skipped",
            Verdict::Mismatch => "mismatch",
        }
    }

    /// Did the case fail?
    pub fn is_failure(self) -> bool {
        !matches!(self, Verdict::Pass | Verdict::Skipped)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of one check within a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubResult {
    /// The check's name.
    pub check: String,
    /// `always`, `eventually`, `sometimes` or `final`.
    pub kind: String,
    /// Did it hold?
    pub passed: bool,
    /// What it counted or why it failed.
    pub detail: String,
}

impl SubResult {
    /// The result of a final check on the end state: what held, or why it did not.
    pub fn final_check(check: String, verdict: Result<String, String>) -> SubResult {
        SubResult {
            check,
            kind: "final".to_string(),
            passed: verdict.is_ok(),
            detail: verdict.unwrap_or_else(|e| e),
        }
    }

    pub(crate) fn from_coverage(coverage: &Coverage, failed: Option<&Violation>) -> SubResult {
        let failed_here = failed.is_some_and(|v| v.check == coverage.check);
        let (passed, detail) = match coverage.kind {
            CheckKind::Always if failed_here => {
                (false, failed.map(|v| v.message.clone()).unwrap_or_default())
            }
            CheckKind::Always => (true, format!("held after {} steps", coverage.hits)),
            CheckKind::Eventually => match coverage.first {
                Some((_, at)) => (true, format!("held at {at}")),
                None if failed_here => {
                    (false, failed.map(|v| v.message.clone()).unwrap_or_default())
                }
                None => (true, "not reached before the run ended early".to_string()),
            },
            CheckKind::Sometimes => (
                coverage.hits > 0,
                format!("held after {} steps", coverage.hits),
            ),
            CheckKind::Whenever if failed_here => {
                (false, failed.map(|v| v.message.clone()).unwrap_or_default())
            }
            CheckKind::Whenever => match coverage.first {
                Some((_, at)) => (
                    true,
                    format!("in force from {at}, for {} steps", coverage.hits),
                ),
                None => (
                    true,
                    "never in force: its condition never held long enough".to_string(),
                ),
            },
        };
        SubResult {
            check: coverage.check.clone(),
            kind: coverage.kind.to_string(),
            passed,
            detail,
        }
    }
}

/// What one case produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// The scenario's name.
    pub scenario: String,
    /// The implementation, by name.
    pub implementation: String,
    /// The seed.
    pub seed: u64,
    /// How it ended.
    pub verdict: Verdict,
    /// The failed check, if a check failed.
    pub violation: Option<Violation>,
    /// Why it failed otherwise (a panic, a final assertion, a skip).
    pub message: Option<String>,
    /// The virtual time reached.
    pub virtual_time: SimTime,
    /// The wall time the case took (the only field that varies between runs).
    pub wall_time: Duration,
    /// Steps taken.
    pub steps: u64,
    /// The trace hash at the end.
    pub trace_hash: u64,
    /// One result per check.
    pub sub_results: Vec<SubResult>,
    /// Facts about the state at the end.
    pub facts: Facts,
    /// Was it stopped from outside (a wall-time limit), rather than by its seed? Such
    /// a case does not replay the same way, so no repro file is written for it.
    pub cancelled: bool,
}

impl CaseResult {
    /// A case that has not run yet: no verdict but a pass, nothing counted.
    fn new(scenario: &Scenario, implementation: &str, seed: u64) -> CaseResult {
        CaseResult {
            scenario: scenario.name.clone(),
            implementation: implementation.to_string(),
            seed,
            verdict: Verdict::Pass,
            violation: None,
            message: None,
            virtual_time: SimTime::ZERO,
            wall_time: Duration::ZERO,
            steps: 0,
            trace_hash: 0,
            sub_results: Vec::new(),
            facts: Facts::new(),
            cancelled: false,
        }
    }

    /// A case whose code panicked outside the simulation (in a protocol's hook, say).
    pub(crate) fn panicked(
        scenario: &Scenario,
        implementation: &str,
        seed: u64,
        message: &str,
    ) -> CaseResult {
        CaseResult {
            verdict: Verdict::Panic,
            message: Some(format!("panicked: {message}")),
            ..CaseResult::new(scenario, implementation, seed)
        }
    }

    /// A one-line account of a failure (or of the pass).
    pub fn summary(&self) -> String {
        match (&self.violation, &self.message) {
            (Some(v), _) => format!(
                "{} check `{}` failed at {} (step {}): {}",
                v.kind, v.check, v.time, v.step, v.message
            ),
            (None, Some(message)) => message.clone(),
            (None, None) => self.verdict.to_string(),
        }
    }
}

/// Options for running a case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Keep the full trace (for `detsim repro --trace`).
    pub record_trace: bool,
    /// Choice mode: a tape that decides the engine's and the workload's draws before
    /// the seed does (see [`sim_core::Choices`]); fuzzers drive runs this way. Random
    /// faults still come from the seed.
    pub choices: Option<std::sync::Arc<sim_core::Choices>>,
    /// A token that stops the case from outside (a wall-time limit); a case it stops
    /// ends as [`Verdict::Limit`].
    pub cancel: Option<sim_core::Cancel>,
}

/// What a protocol driver returns: the engine's outcome plus the case-level checks.
#[derive(Debug)]
pub(crate) struct Driven {
    pub(crate) outcome: Outcome,
    /// Results of final assertions and other case-level checks: (result, is_liveness).
    pub(crate) extra: Vec<(SubResult, bool)>,
    pub(crate) trace: Option<Trace>,
    /// Facts about the state at the end, for test vectors and reports.
    pub(crate) facts: Facts,
}

/// Runs `scenario` against `implementation` (one of its protocol's, by name) with `seed`.
/// Panics if the protocol has no such implementation.
pub fn run_case(scenario: &Scenario, implementation: &str, seed: u64) -> CaseResult {
    run_case_with(scenario, implementation, seed, RunOptions::default()).0
}

/// Runs a case with options; also returns the trace if it was recorded.
pub fn run_case_with(
    scenario: &Scenario,
    implementation: &str,
    seed: u64,
    options: RunOptions,
) -> (CaseResult, Option<Trace>) {
    scenario.assert_implementation(implementation);
    let started = Stopwatch::start();
    let mut result = CaseResult::new(scenario, implementation, seed);
    if let Some(reason) = scenario.unsupported(implementation) {
        result.verdict = Verdict::Skipped;
        result.message = Some(reason);
        return (result, None);
    }
    let driven = catch_panic(|| {
        injected_panic(seed);
        scenario
            .protocol
            .run(scenario, implementation, seed, &options)
    });
    result.wall_time = started.elapsed();
    match driven {
        Ok(driven) => {
            let trace = driven.trace.clone();
            judge(&mut result, driven);
            (result, trace)
        }
        Err(message) => {
            result.verdict = Verdict::Panic;
            result.message = Some(format!("panicked: {message}"));
            (result, None)
        }
    }
}

/// A test hook for the panic path: `DETSIM_INJECT_PANIC=<seed>` makes that seed's cases
/// panic, so that tests can show a panic is caught, reported with its seed, and turned
/// into exit code 4 while the swarm goes on. Never set outside tests.
fn injected_panic(seed: u64) {
    if std::env::var("DETSIM_INJECT_PANIC").is_ok_and(|value| value == seed.to_string()) {
        panic!("injected panic (DETSIM_INJECT_PANIC={seed})");
    }
}

/// Turns a driven run into the case's verdict and sub-results.
fn judge(result: &mut CaseResult, driven: Driven) {
    let outcome = driven.outcome;
    result.facts = driven.facts;
    result.virtual_time = outcome.time;
    result.steps = outcome.stats.steps;
    result.trace_hash = outcome.trace_hash;
    let violation = outcome.violation().cloned();
    result.sub_results = outcome
        .coverage
        .iter()
        .map(|c| SubResult::from_coverage(c, violation.as_ref()))
        .collect();
    match &outcome.stop {
        Some(Stop::Violation(v)) => {
            result.verdict = if v.kind == CheckKind::Always {
                Verdict::Safety
            } else {
                Verdict::Liveness
            };
            result.violation = Some(v.clone());
        }
        Some(limit) => {
            result.verdict = Verdict::Limit;
            result.message = Some(limit.to_string());
            result.cancelled = matches!(limit, Stop::Cancelled(_));
        }
        None => {}
    }
    for (sub, liveness) in driven.extra {
        if !sub.passed && result.verdict == Verdict::Pass {
            result.verdict = if liveness {
                Verdict::Liveness
            } else {
                Verdict::Safety
            };
            result.message = Some(format!(
                "{} `{}` failed: {}",
                sub.kind, sub.check, sub.detail
            ));
        }
        result.sub_results.push(sub);
    }
    let never: Vec<&SubResult> = result
        .sub_results
        .iter()
        .filter(|s| s.kind == "sometimes" && !s.passed)
        .collect();
    if let (Verdict::Pass, Some(first)) = (result.verdict, never.first()) {
        result.verdict = Verdict::Liveness;
        result.message = Some(format!(
            "sometimes `{}` never held: the situation was never reached",
            first.check
        ));
    }
}

thread_local! {
    /// Where the last panic on this thread happened, captured by our hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records the panic's message and location for
/// [`catch_panic`] instead of printing it, so that a swarm's output stays readable.
fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let catching = LAST_PANIC.with(|slot| slot.borrow().is_some());
            if catching {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_string());
                LAST_PANIC.with(|slot| *slot.borrow_mut() = Some(format!("{message}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err(message with location)`.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    LAST_PANIC.with(|slot| *slot.borrow_mut() = Some(String::new()));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let message = LAST_PANIC.with(|slot| slot.borrow_mut().take());
    result.map_err(|_| {
        message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "(no message)".to_string())
    })
}

/// Runs the case twice and compares every step (see `sim_core::check_determinism`):
/// the trace hash if both runs took the same steps, or where they diverged.
pub fn check_determinism(
    scenario: &Scenario,
    implementation: &str,
    seed: u64,
) -> Result<u64, Box<sim_core::Divergence>> {
    check_determinism_with(scenario, implementation, seed, &RunOptions::default())
}

/// [`check_determinism`] with run options (a choice-mode tape).
pub fn check_determinism_with(
    scenario: &Scenario,
    implementation: &str,
    seed: u64,
    options: &RunOptions,
) -> Result<u64, Box<sim_core::Divergence>> {
    scenario.assert_implementation(implementation);
    scenario
        .protocol
        .check_determinism(scenario, implementation, seed, options)
}
