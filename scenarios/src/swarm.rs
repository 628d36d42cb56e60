//! The swarm: every (scenario, implementation, seed) case of a run, on all cores.
//!
//! Cases are independent; each builds its own simulation on the worker thread that runs
//! it, from its seed alone. Results reach the caller one at a time, in case order, on
//! the calling thread, so a report is the same whatever `--jobs` or `--shard` said (only
//! wall times differ) and can be written as the run goes.
//!
//! Nothing is collected up front: cases are numbered, not listed, so a sweep of 10⁶ or
//! 2⁶⁴ seeds costs no more memory than a sweep of ten. Workers run at most a window of
//! cases ahead of the oldest unfinished one, which bounds the results held for ordering.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use sim_core::Cancel;

use crate::case::{CaseResult, RunOptions, catch_panic, run_case_with};
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
    /// The seeds, for every scenario and implementation (inclusive, so that every `u64`
    /// is a seed one can run).
    pub seeds: RangeInclusive<u64>,
    /// Which slice of the cases this process runs.
    pub shard: Shard,
    /// Only implementations whose name this accepts.
    pub implementations: Option<regex::Regex>,
}

impl SwarmPlan {
    /// The (scenario, implementation) pairs the plan runs, in order.
    pub fn suites(&self) -> Vec<(usize, usize)> {
        let mut suites = Vec::new();
        for (s, scenario) in self.scenarios.iter().enumerate() {
            for (i, name) in scenario.implementations.iter().enumerate() {
                if self
                    .implementations
                    .as_ref()
                    .is_none_or(|re| re.is_match(name))
                {
                    suites.push((s, i));
                }
            }
        }
        suites
    }

    /// How many seeds the plan runs per suite.
    fn seed_count(&self) -> u128 {
        if self.seeds.is_empty() {
            0
        } else {
            u128::from(self.seeds.end() - self.seeds.start()) + 1
        }
    }

    /// How many cases this shard runs.
    pub fn len(&self) -> u128 {
        let total = self.suites().len() as u128 * self.seed_count();
        let (index, count) = (u128::from(self.shard.index), u128::from(self.shard.count));
        if total > index {
            (total - index - 1) / count + 1
        } else {
            0
        }
    }

    /// Does this shard run no case at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every case of the plan in this shard, in a fixed order (scenario, implementation,
    /// seed), computed as they are taken.
    pub fn cases(&self) -> impl Iterator<Item = CaseId> + '_ {
        let numbering = Numbering::of(self);
        (0..self.len()).map(move |n| numbering.case(n))
    }
}

/// Case numbers of a plan's shard, turned into cases without listing them.
struct Numbering {
    suites: Vec<(usize, usize)>,
    first_seed: u64,
    seeds: u128,
    shard: Shard,
}

impl Numbering {
    fn of(plan: &SwarmPlan) -> Numbering {
        Numbering {
            suites: plan.suites(),
            first_seed: *plan.seeds.start(),
            seeds: plan.seed_count(),
            shard: plan.shard,
        }
    }

    /// The `n`th case of the shard.
    fn case(&self, n: u128) -> CaseId {
        let global = n * u128::from(self.shard.count) + u128::from(self.shard.index);
        let (scenario, implementation) = self.suites[(global / self.seeds) as usize];
        CaseId {
            scenario,
            implementation,
            seed: self.first_seed + (global % self.seeds) as u64,
        }
    }
}

/// How to run a swarm.
#[derive(Clone, Copy, Debug)]
pub struct SwarmOptions<'a> {
    /// Worker threads.
    pub jobs: usize,
    /// Stop starting cases after the first failure.
    pub fail_fast: bool,
    /// The most wall time one case may take; a case that takes longer is stopped and
    /// reported as [`Verdict::Limit`](crate::Verdict::Limit).
    pub timeout: Option<Duration>,
    /// When this is set (by a signal handler, say), no new case starts; running cases
    /// finish and are reported.
    pub interrupt: Option<&'a AtomicBool>,
}

impl SwarmOptions<'_> {
    /// `jobs` workers, nothing else.
    pub fn jobs(jobs: usize) -> SwarmOptions<'static> {
        SwarmOptions {
            jobs,
            fail_fast: false,
            timeout: None,
            interrupt: None,
        }
    }
}

/// Why a swarm stopped before its last case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// `fail_fast` and a case failed.
    FailFast,
    /// The interrupt flag was set.
    Interrupted,
}

/// What a swarm did, besides the results it handed over.
#[derive(Debug)]
pub struct SwarmSummary {
    /// Cases run (and handed over).
    pub ran: u64,
    /// How long the whole swarm took.
    pub wall_time: Duration,
    /// Why it stopped early, if it did.
    pub stopped: Option<Stopped>,
}

/// How far ahead of the oldest unfinished case workers may run, per worker.
const WINDOW_PER_JOB: u128 = 64;
/// What the workers and the collecting thread share.
struct Pool<'a> {
    plan: &'a SwarmPlan,
    options: &'a SwarmOptions<'a>,
    numbering: Numbering,
    total: u128,
    window: u128,
    /// The next case number to take, and the oldest not yet handed over.
    progress: Mutex<(u128, u128)>,
    /// Signalled when the oldest case is handed over (or a stop is asked for).
    moved: Condvar,
    /// Set by `fail_fast`.
    stop: AtomicBool,
    /// Per worker: its case's cancel token and start, while it runs one.
    running: Vec<Mutex<Option<(Cancel, Stopwatch)>>>,
}

/// A finished case on its way to the collecting thread: its number and result.
type Done = (u128, CaseResult);

impl Pool<'_> {
    fn interrupted(&self) -> bool {
        self.options
            .interrupt
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// The next case number to run, waiting while the window is full; `None` once the
    /// cases run out or a stop is asked for.
    fn take(&self) -> Option<u128> {
        let mut progress = self.progress.lock().expect("no panic holding it");
        loop {
            if self.stop.load(Ordering::Relaxed) || self.interrupted() || progress.0 >= self.total {
                return None;
            }
            if progress.0 < progress.1 + self.window {
                progress.0 += 1;
                return Some(progress.0 - 1);
            }
            progress = self.moved.wait(progress).expect("no panic holding it");
        }
    }

    /// A worker: runs cases until they run out, sending each result.
    fn work(&self, me: usize, sender: &mpsc::Sender<Done>) {
        while let Some(n) = self.take() {
            let case = self.numbering.case(n);
            let scenario = &self.plan.scenarios[case.scenario];
            let cancel = Cancel::new();
            *self.running[me].lock().expect("no panic holding it") =
                Some((cancel.clone(), Stopwatch::start()));
            let run = RunOptions {
                cancel: Some(cancel.clone()),
                ..RunOptions::default()
            };
            let implementation = &scenario.implementations[case.implementation];
            // The simulation catches its own panics; this catches a protocol hook's
            // outside it, so that the case is reported and the swarm goes on.
            let mut result =
                catch_panic(|| run_case_with(scenario, implementation, case.seed, run).0)
                    .unwrap_or_else(|message| {
                        CaseResult::panicked(scenario, implementation, case.seed, &message)
                    });
            *self.running[me].lock().expect("no panic holding it") = None;
            if result.cancelled {
                let limit = self.options.timeout.unwrap_or_default();
                result.message = Some(format!(
                    "wall-time limit of {limit:?} per case reached (--timeout) after {} steps, \
                     at {} of virtual time",
                    result.steps, result.virtual_time
                ));
            }
            if self.options.fail_fast && result.verdict.is_failure() {
                self.stop.store(true, Ordering::Relaxed);
            }
            if sender.send((n, result)).is_err() {
                return;
            }
        }
    }

    /// The collecting thread: hands results over in case order until every worker is
    /// done, and enforces the wall-time limit; returns how many it handed over.
    fn collect(
        &self,
        receiver: &mpsc::Receiver<Done>,
        on_result: &mut dyn FnMut(CaseResult),
    ) -> u64 {
        let mut pending: BTreeMap<u128, CaseResult> = BTreeMap::new();
        let (mut next, mut ran) = (0_u128, 0_u64);
        loop {
            match receiver.recv_timeout(Duration::from_millis(100)) {
                Ok((n, result)) => {
                    pending.insert(n, result);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            let before = next;
            while let Some(result) = pending.remove(&next) {
                on_result(result);
                ran += 1;
                next += 1;
            }
            if next != before {
                self.progress.lock().expect("no panic holding it").1 = next;
                self.moved.notify_all();
            }
            self.enforce_timeout();
            if self.interrupted() || self.stop.load(Ordering::Relaxed) {
                self.moved.notify_all();
            }
        }
        // A stop leaves gaps: hand over what finished, in order.
        for result in pending.into_values() {
            on_result(result);
            ran += 1;
        }
        ran
    }

    /// Cancels every running case that has taken longer than the timeout.
    fn enforce_timeout(&self) {
        let Some(limit) = self.options.timeout else {
            return;
        };
        for slot in &self.running {
            if let Some((cancel, since)) = &*slot.lock().expect("no panic holding it")
                && since.elapsed() > limit
            {
                cancel.cancel();
            }
        }
    }
}

/// Runs the cases of `plan` on `options.jobs` threads and hands each result to
/// `on_result` on the calling thread, in case order. Cases a stop left unstarted are
/// not handed over.
///
/// ```no_run
/// # use scenarios::swarm::{Shard, SwarmOptions, SwarmPlan, run_swarm};
/// # fn scenario() -> scenarios::Scenario { unimplemented!() }
/// let plan = SwarmPlan {
///     scenarios: vec![scenario()],
///     seeds: 0..=99,
///     shard: Shard::ALL,
///     implementations: None,
/// };
/// let mut failed = 0;
/// run_swarm(&plan, &SwarmOptions::jobs(2), &mut |result| {
///     failed += u32::from(result.verdict.is_failure());
/// });
/// ```
pub fn run_swarm(
    plan: &SwarmPlan,
    options: &SwarmOptions<'_>,
    on_result: &mut dyn FnMut(CaseResult),
) -> SwarmSummary {
    let started = Stopwatch::start();
    let jobs = options.jobs.max(1);
    let pool = Pool {
        plan,
        options,
        numbering: Numbering::of(plan),
        total: plan.len(),
        window: WINDOW_PER_JOB * jobs as u128,
        progress: Mutex::new((0, 0)),
        moved: Condvar::new(),
        stop: AtomicBool::new(false),
        running: (0..jobs).map(|_| Mutex::new(None)).collect(),
    };
    let (sender, receiver) = mpsc::channel::<Done>();
    #[expect(
        clippy::disallowed_methods,
        reason = "the swarm's worker pool: each case still runs on one thread, from its seed alone"
    )]
    let ran = std::thread::scope(|scope| {
        for me in 0..jobs {
            let (sender, pool) = (sender.clone(), &pool);
            scope.spawn(move || pool.work(me, &sender));
        }
        drop(sender);
        pool.collect(&receiver, on_result)
    });
    let stopped = if pool.stop.load(Ordering::Relaxed) && u128::from(ran) < pool.total {
        Some(Stopped::FailFast)
    } else if pool.interrupted() && u128::from(ran) < pool.total {
        Some(Stopped::Interrupted)
    } else {
        None
    };
    SwarmSummary {
        ran,
        wall_time: started.elapsed(),
        stopped,
    }
}

/// Runs the whole plan on `jobs` threads and collects every result in case order: for
/// tests and small sweeps (a long sweep should stream with [`run_swarm`]).
pub fn run_all(plan: &SwarmPlan, jobs: usize) -> Vec<CaseResult> {
    let mut results = Vec::new();
    run_swarm(plan, &SwarmOptions::jobs(jobs), &mut |r| results.push(r));
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_numbering_covers_every_case_once() {
        let numbering = |index, count, seeds: u128| Numbering {
            suites: vec![(0, 0), (0, 1), (1, 0)],
            first_seed: 10,
            seeds,
            shard: Shard { index, count },
        };
        let mut seen = Vec::new();
        for index in 0..4 {
            let n = numbering(index, 4, 5);
            let len = (15 - u128::from(index) - 1) / 4 + 1;
            seen.extend((0..len).map(|i| n.case(i)));
        }
        assert_eq!(seen.len(), 15);
        for (s, i) in [(0, 0), (0, 1), (1, 0)] {
            for seed in 10..15 {
                let case = CaseId {
                    scenario: s,
                    implementation: i,
                    seed,
                };
                assert_eq!(seen.iter().filter(|c| **c == case).count(), 1, "{case:?}");
            }
        }
        let every_seed = Numbering {
            first_seed: 0,
            ..numbering(0, 1, u128::from(u64::MAX) + 1)
        };
        let last = every_seed.case(3 * (u128::from(u64::MAX) + 1) - 1);
        assert_eq!((last.scenario, last.seed), (1, u64::MAX));
    }
}
