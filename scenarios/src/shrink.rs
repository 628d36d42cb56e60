//! Shrinking: a failing repro made as small as it will go while the same check still
//! fails the same way.
//!
//! The random fault generator's faults for the repro's seed are first written out as an
//! explicit timeline, so that they can be edited one by one. Then, while it helps and
//! within a budget of runs: whole chunks of the timeline are removed (delta debugging),
//! faults are moved earlier (shorter outages), the workload is removed or made smaller
//! and the cluster shrunk where the protocol offers smaller tables
//! ([`crate::Protocol::shrink`]), and the fault phase is shortened. Every candidate is an
//! ordinary scenario, validated and run from the same seed.

use sim_core::{Chance, ClogTarget, Fault, Moment, Partition, SimDuration, SimTime, Strike};
use toml::Spanned;

use crate::case::{CaseResult, run_case_with};
use crate::error::InputError;
use crate::file::{DiskFaultsFile, FaultFile, FromToFile, NameList, Names, ScenarioFile, SkewFile};
use crate::model::Scenario;
use crate::repro::Repro;
use crate::units::{format_chance, format_duration};

/// How big a scenario is, for before/after reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size {
    /// Timeline entries.
    pub faults: usize,
    /// Client requests the workload makes.
    pub requests: u64,
    /// Nodes.
    pub nodes: u32,
    /// The fault phase.
    pub duration: SimDuration,
}

impl Size {
    /// The size of `scenario` (with random faults counted as generated for `seed`).
    pub fn of(scenario: &Scenario, seed: u64) -> Size {
        Size {
            faults: scenario.fault_schedule(seed).len(),
            requests: scenario.requests(),
            nodes: scenario.node_count(),
            duration: scenario.duration,
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |count: u64, word: &str| {
            if count == 1 {
                format!("1 {word}")
            } else {
                format!("{count} {word}s")
            }
        };
        write!(
            f,
            "{}, {}, {}, {}",
            plural(self.faults as u64, "fault"),
            plural(self.requests, "request"),
            plural(u64::from(self.nodes), "node"),
            crate::words::readable_duration(self.duration)
        )
    }
}

/// The result of shrinking.
#[derive(Debug)]
pub struct Shrunk {
    /// The smaller repro.
    pub repro: Repro,
    /// The failure it still shows.
    pub result: CaseResult,
    /// The size before.
    pub before: Size,
    /// The size after.
    pub after: Size,
    /// Candidate runs tried.
    pub runs: u32,
}

/// The failure a shrunk scenario must keep: same verdict, same failing check.
fn signature(result: &CaseResult) -> (String, String) {
    let check = result.violation.as_ref().map_or_else(
        || {
            result
                .message
                .as_deref()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("")
                .to_string()
        },
        |v| v.check.clone(),
    );
    (result.verdict.name().to_string(), check)
}

struct Shrinker {
    repro: Repro,
    /// The scenario being shrunk, whose protocol validates every candidate.
    original: Scenario,
    target: (String, String),
    best: ScenarioFile,
    best_result: CaseResult,
    runs: u32,
    budget: u32,
}

impl Shrinker {
    /// Runs `candidate`; keeps it if it still fails the same way.
    fn try_keep(&mut self, candidate: ScenarioFile) -> bool {
        if self.runs >= self.budget {
            return false;
        }
        let Ok(scenario) = reparse(&self.original, &candidate) else {
            return false; // e.g. a fault names a node that was removed
        };
        self.runs += 1;
        let options = self.repro.run_options(false);
        let result = run_case_with(
            &scenario,
            &self.repro.implementation,
            self.repro.seed,
            options,
        )
        .0;
        if signature(&result) != self.target {
            return false;
        }
        self.best = candidate;
        self.best_result = result;
        true
    }

    fn faults(&mut self) {
        let mut chunk = self.best.faults.len().div_ceil(2).max(1);
        while chunk >= 1 && !self.best.faults.is_empty() {
            let mut start = 0;
            let mut removed_any = false;
            while start < self.best.faults.len() {
                let mut candidate = self.best.clone();
                let end = (start + chunk).min(candidate.faults.len());
                candidate.faults.drain(start..end);
                if self.try_keep(candidate) {
                    removed_any = true;
                } else {
                    start += chunk;
                }
            }
            if !removed_any {
                if chunk == 1 {
                    break;
                }
                chunk = chunk.div_ceil(2);
            }
        }
    }

    /// Moves each fault halfway towards the one before it (shorter outages).
    fn earlier(&mut self) {
        for index in 1..self.best.faults.len() {
            let times: Vec<Option<SimDuration>> =
                self.best.faults.iter().map(|f| at(f.get_ref())).collect();
            let (Some(Some(previous)), Some(Some(current))) =
                (times.get(index - 1), times.get(index))
            else {
                continue;
            };
            if current <= previous {
                continue;
            }
            let halfway =
                *previous + SimDuration::from_nanos((*current - *previous).as_nanos() / 2);
            let mut candidate = self.best.clone();
            let mut entry = candidate.faults[index].get_ref().clone();
            entry.at = Some(Spanned::new(0..0, format_duration(halfway)));
            candidate.faults[index] = Spanned::new(0..0, entry);
            self.try_keep(candidate);
        }
    }

    /// Removes the workload, then tries the protocol's smaller tables until none of
    /// them still fails.
    fn tables(&mut self) {
        if self.best.workload.is_some() {
            let mut none = self.best.clone();
            none.workload = None;
            self.try_keep(none);
        }
        while self.runs < self.budget {
            let candidates = self.original.protocol.shrink(&self.best);
            if !candidates
                .into_iter()
                .any(|candidate| self.try_keep(candidate))
            {
                return;
            }
        }
    }

    /// Ends the fault phase just after the last fault (or the failure).
    fn duration(&mut self) {
        let last_fault = self
            .best
            .faults
            .iter()
            .filter_map(|f| at(f.get_ref()))
            .max()
            .unwrap_or(SimDuration::ZERO);
        let failed_at = self.best_result.virtual_time - SimTime::ZERO;
        let end = last_fault.max(failed_at.min(last_fault + SimDuration::from_secs(5)))
            + SimDuration::from_secs(1);
        // A margin anyway: whole milliseconds read better and run no different.
        let end = SimDuration::from_millis(end.as_nanos().div_ceil(1_000_000));
        let mut candidate = self.best.clone();
        candidate.duration = Some(Spanned::new(0..0, format_duration(end)));
        if let Some(random) = candidate.random_faults.as_mut() {
            random.end = None;
        }
        self.try_keep(candidate);
    }
}

impl Shrinker {
    /// Rounds fault times to whole milliseconds where the failure allows, all at once
    /// and then one by one: `"11.374s"` reads better than `"11s373ms869us40ns"`.
    fn round_times(&mut self) {
        let rounded = |file: &ScenarioFile, only: Option<usize>| {
            let mut candidate = file.clone();
            let mut changed = false;
            for (index, fault) in candidate.faults.iter_mut().enumerate() {
                if only.is_some_and(|i| i != index) {
                    continue;
                }
                let Some(time) = at(fault.get_ref()) else {
                    continue;
                };
                let millis = SimDuration::from_millis((time.as_nanos() + 500_000) / 1_000_000);
                if millis != time {
                    let mut entry = fault.get_ref().clone();
                    entry.at = Some(Spanned::new(0..0, format_duration(millis)));
                    *fault = Spanned::new(0..0, entry);
                    changed = true;
                }
            }
            changed.then_some(candidate)
        };
        if let Some(all) = rounded(&self.best, None)
            && self.try_keep(all)
        {
            return;
        }
        for index in 0..self.best.faults.len() {
            if let Some(one) = rounded(&self.best, Some(index)) {
                self.try_keep(one);
            }
        }
    }
}

fn at(fault: &FaultFile) -> Option<SimDuration> {
    fault
        .at
        .as_ref()
        .and_then(|t| crate::units::parse_duration(t.get_ref()).ok())
}

/// Shrinks `repro` with at most `budget` candidate runs.
pub fn shrink(repro: &Repro, budget: u32) -> Result<Shrunk, InputError> {
    let before = Size::of(&repro.scenario, repro.seed);
    let options = repro.run_options(false);
    let first = run_case_with(&repro.scenario, &repro.implementation, repro.seed, options).0;
    if !first.verdict.is_failure() {
        return Err(InputError::new(format!(
            "this repro does not fail (verdict: {}); there is nothing to shrink",
            first.verdict
        ))
        .with_help("check that it was written by the same detsim version"));
    }
    let mut shrinker = Shrinker {
        repro: repro.clone(),
        original: repro.scenario.clone(),
        target: signature(&first),
        best: materialized(&repro.scenario, repro.seed),
        best_result: first.clone(),
        runs: 0,
        budget,
    };
    if !shrinker.try_keep(shrinker.best.clone()) {
        // The explicit timeline does not reproduce exactly; shrink the original form.
        shrinker.best = repro.scenario.file.clone();
        shrinker.best_result = first;
    }
    for _ in 0..3 {
        let size = (shrinker.best.faults.len(), shrinker.runs);
        shrinker.faults();
        shrinker.earlier();
        shrinker.tables();
        shrinker.duration();
        shrinker.round_times();
        if shrinker.best.faults.len() == size.0 || shrinker.runs >= shrinker.budget {
            break;
        }
    }
    let mut scenario = reparse(&repro.scenario, &shrinker.best)?;
    scenario.name = repro.scenario.name.clone();
    scenario.path = repro.scenario.path.clone();
    let after = Size::of(&scenario, repro.seed);
    let result = shrinker.best_result;
    let repro = Repro {
        choices: repro.choices.clone(),
        ..Repro::of(&scenario, &result)
    };
    Ok(Shrunk {
        repro,
        result,
        before,
        after,
        runs: shrinker.runs,
    })
}

/// `scenario`'s file form with its random faults for `seed` written out as a timeline.
pub fn materialized(scenario: &Scenario, seed: u64) -> ScenarioFile {
    let mut file = scenario.file.clone();
    if scenario.random_faults.is_none() {
        return file;
    }
    file.random_faults = None;
    file.faults = timeline(&scenario.fault_schedule(seed), scenario);
    file
}

/// The scenario a file form describes, validated as if read from a file, with the
/// protocol of `like` (an edited copy of `like.file`, say).
pub fn reparse(like: &Scenario, file: &ScenarioFile) -> Result<Scenario, InputError> {
    let text = toml::to_string(file).map_err(|e| InputError::new(e.to_string()))?;
    let file: ScenarioFile =
        toml::from_str(&text).map_err(|error| InputError::from_toml(&text, &error))?;
    crate::parse::validate(
        &like.protocol,
        file,
        &text,
        crate::registry::Nesting::Top,
        None,
    )
}

/// `schedule` as a scenario file's timeline, naming nodes as `scenario` does (faults
/// files cannot express are left out).
pub fn timeline(
    schedule: &sim_core::FaultSchedule,
    scenario: &Scenario,
) -> Vec<Spanned<FaultFile>> {
    schedule
        .iter()
        .filter_map(|timed| {
            let mut entry = describe(&timed.fault, scenario)?;
            entry.at = Some(Spanned::new(
                0..0,
                format_duration(timed.at - SimTime::ZERO),
            ));
            Some(Spanned::new(0..0, entry))
        })
        .collect()
}

/// Node names as a scenario file spells them, for [`describe`].
struct Namer<'a>(&'a Scenario);

impl Namer<'_> {
    fn name(&self, node: sim_core::NodeId) -> String {
        self.0.node_name(node).to_string()
    }

    fn one(&self, node: sim_core::NodeId) -> Names {
        Spanned::new(0..0, NameList::One(self.name(node)))
    }

    fn many(&self, nodes: &[sim_core::NodeId]) -> Names {
        let names = nodes.iter().map(|&n| self.name(n)).collect();
        Spanned::new(0..0, NameList::Many(names))
    }
}

fn text(s: String) -> Spanned<String> {
    Spanned::new(0..0, s)
}

/// Fills in `entry` for a crash, pause or isolate point on the node `named`.
fn describe_point(point: &Fault, named: Names, entry: &mut FaultFile) {
    let Fault::CrashPoint {
        after,
        on,
        down_for,
        strike,
        ..
    } = point
    else {
        return;
    };
    let slot = match strike {
        Strike::Crash => &mut entry.crash_point,
        Strike::Pause => &mut entry.pause_point,
        Strike::Isolate => &mut entry.isolate_point,
    };
    *slot = Some(named);
    entry.after = (*after > 0).then(|| Spanned::new(0..0, *after));
    match on.clone() {
        Some(Moment::Sends(kind)) => entry.kind = Some(text(kind)),
        Some(Moment::Handles(kind)) => entry.handles = Some(text(kind)),
        Some(Moment::Emits(event)) => entry.emits = Some(text(event)),
        None => {}
    }
    entry.lasting = down_for.map(|d| text(crate::units::format_duration(d)));
}

/// The timeline entry for `fault` (`None` for faults files cannot express).
fn describe(fault: &Fault, scenario: &Scenario) -> Option<FaultFile> {
    let names = Namer(scenario);
    let one = |n| names.one(n);
    let mut entry = FaultFile::default();
    match fault {
        Fault::Crash(n) => entry.crash = Some(one(*n)),
        Fault::CrashPoint { node, .. } => describe_point(fault, one(*node), &mut entry),
        Fault::Restart(n) => entry.restart = Some(one(*n)),
        Fault::ResetData(n) => entry.reset_data = Some(one(*n)),
        Fault::Pause(n) => entry.pause = Some(one(*n)),
        Fault::Resume(n) => entry.resume = Some(one(*n)),
        Fault::Heal => entry.heal = Some(true),
        Fault::HealNode(n) => entry.heal_node = Some(one(*n)),
        Fault::UnclogAll => entry.unclog_all = Some(true),
        Fault::Partition(partition) => describe_partition(partition, &names, &mut entry),
        Fault::Clog {
            target: ClogTarget::Node(n),
            duration,
        } => {
            entry.clog = Some(one(*n));
            entry.lasting = duration.map(|d| text(format_duration(d)));
        }
        Fault::Clog {
            target: ClogTarget::Link { source, target },
            duration,
        } => {
            entry.clog_link = Some(FromToFile {
                from: one(*source),
                to: one(*target),
            });
            entry.lasting = duration.map(|d| text(format_duration(d)));
        }
        Fault::Unclog(ClogTarget::Node(n)) => entry.unclog = Some(one(*n)),
        Fault::ClockSkew { node, offset_ns } => {
            let magnitude = format_duration(SimDuration::from_nanos(offset_ns.unsigned_abs()));
            let offset = if *offset_ns < 0 {
                format!("-{magnitude}")
            } else {
                magnitude
            };
            entry.clock_skew = Some(SkewFile {
                node: text(names.name(*node)),
                offset: text(offset),
            });
        }
        Fault::DiskFaults { node, faults } => {
            // Only what is on: `unsynced_kept` alone damages nothing, and needs no
            // claim of surviving a lying disk.
            let chance = |chance: Chance| (!chance.is_never()).then(|| text(format_chance(chance)));
            entry.disk_faults = Some(DiskFaultsFile {
                node: text(names.name(*node)),
                lost_write: chance(faults.lost_write),
                corrupt_write: chance(faults.corrupt_write),
                read_error: chance(faults.read_error),
                unsynced_kept: chance(faults.unsynced_kept),
            });
        }
        Fault::ClockDrift { node, ppm } => {
            entry.clock_drift = Some(crate::file::DriftFile {
                node: text(names.name(*node)),
                ppm: Spanned::new(0..0, *ppm),
            });
        }
        Fault::Unclog(ClogTarget::Link { .. }) | Fault::SetLink { .. } => return None,
    }
    Some(entry)
}

/// The timeline fields for a partition.
fn describe_partition(partition: &Partition, names: &Namer<'_>, entry: &mut FaultFile) {
    match partition {
        Partition::Groups(groups) => {
            entry.partition = Some(
                groups
                    .iter()
                    .map(|g| g.iter().map(|&n| text(names.name(n))).collect())
                    .collect(),
            );
        }
        Partition::OneWay { from, to } => {
            entry.one_way = Some(FromToFile {
                from: names.many(from),
                to: names.many(to),
            });
        }
        Partition::Isolate(n) => entry.isolate = Some(names.one(*n)),
        Partition::Link { source, target } => {
            entry.one_way = Some(FromToFile {
                from: names.one(*source),
                to: names.one(*target),
            });
        }
    }
}
