//! The swarm: every (scenario, implementation, seed) case of a run, on all cores.
//!
//! Cases are independent; each builds its own simulation on the worker thread that runs
//! it, from its seed alone. Results are stored by case index, so the report is the same
//! whatever `--jobs` or `--shard` said: only wall times differ.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::case::{CaseResult, run_case};
use crate::model::Scenario;
use crate::wall::Stopwatch;

/// One case to run: indexes into the swarm's scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseId {
    /// Which scenario.
    pub scenario: usize,
    /// Which of its implementations (an index into `Scenario::implementations`).
    pub implementation: usize,
    /// Which seed.
    pub seed: u64,
}

/// A slice of the case space: cases whose index is `index mod count` (both 1-based in
/// the CLI's `--shard K/N`, 0-based here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice, `0..count`.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl Shard {
    /// The whole space.
    pub const ALL: Shard = Shard { index: 0, count: 1 };
}

/// What to run.
#[derive(Clone, Debug)]
pub struct SwarmPlan {
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
    /// The seeds, for every scenario and implementation.
    pub seeds: Range<u64>,
    /// Which slice of the cases this process runs.
    pub shard: Shard,
    /// Only implementations whose name this accepts.
    pub implementations: Option<regex::Regex>,
}

impl SwarmPlan {
    /// Every case of the plan in this shard, in a fixed order: scenario, implementation,
    /// seed.
    pub fn cases(&self) -> Vec<CaseId> {
        let mut cases = Vec::new();
        let mut index = 0_u64;
        for (s, scenario) in self.scenarios.iter().enumerate() {
            for (implementation, name) in scenario.implementations.iter().enumerate() {
                if self
                    .implementations
                    .as_ref()
                    .is_some_and(|re| !re.is_match(name))
                {
                    continue;
                }
                for seed in self.seeds.clone() {
                    if index % self.shard.count == self.shard.index {
                        cases.push(CaseId {
                            scenario: s,
                            implementation,
                            seed,
                        });
                    }
                    index += 1;
                }
            }
        }
        cases
    }
}

/// What a swarm produced.
#[derive(Debug)]
pub struct SwarmResult {
    /// One result per case run, in case order (cases skipped by `--fail-fast` are absent).
    pub results: Vec<CaseResult>,
    /// How long the whole swarm took.
    pub wall_time: Duration,
    /// Whether `--fail-fast` stopped it early.
    pub stopped_early: bool,
}

/// Runs `cases` of `plan` on `jobs` threads, calling `progress` after each case.
pub fn run_swarm(
    plan: &SwarmPlan,
    cases: &[CaseId],
    jobs: usize,
    fail_fast: bool,
    progress: &(dyn Fn(&CaseResult) + Sync),
) -> SwarmResult {
    let started = Stopwatch::start();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<CaseResult>>> = cases.iter().map(|_| Mutex::new(None)).collect();
    let worker = || {
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(case) = cases.get(index) else {
                return;
            };
            let scenario = &plan.scenarios[case.scenario];
            let result = run_case(
                scenario,
                &scenario.implementations[case.implementation],
                case.seed,
            );
            if fail_fast && result.verdict.is_failure() {
                stop.store(true, Ordering::Relaxed);
            }
            progress(&result);
            *slots[index]
                .lock()
                .expect("no worker panics while holding a slot") = Some(result);
        }
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "the swarm's worker pool: each case still runs on one thread, from its seed alone"
    )]
    std::thread::scope(|scope| {
        for _ in 1..jobs.max(1) {
            scope.spawn(worker);
        }
        worker();
    });
    let results = slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().expect("workers are done"))
        .collect();
    SwarmResult {
        results,
        wall_time: started.elapsed(),
        stopped_early: stop.load(Ordering::Relaxed),
    }
}
