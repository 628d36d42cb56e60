//! Scenarios from `cargo test`: one call runs a scenario over a range of seeds and, on
//! a failure, panics with the verdict, the command that replays it and the repro file it
//! saved.
//!
//! ```no_run
//! # fn registry() -> scenarios::Registry { scenarios::Registry::new() }
//! #[test]
//! fn crashes_lose_no_acknowledged_increment() {
//!     let scenario = registry().load("tests/crash-restart.toml".as_ref()).unwrap();
//!     scenarios::testing::check(&scenario, 0..200);
//! }
//! ```
//!
//! The seeds can be widened without recompiling, in the spirit of `PROPTEST_CASES`:
//! `DETSIM_SEEDS=2000 cargo test` runs 2,000 seeds from the start of each range, and
//! `DETSIM_SEEDS=5000..6000` exactly those seeds, so that a nightly CI job can run ten
//! times more than every push. `DETSIM_JOBS` runs the seeds on that many threads
//! (default 1: `cargo test` already runs tests side by side).

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::case::CaseResult;
use crate::model::Scenario;
use crate::repro::Repro;
use crate::swarm::{Shard, SwarmOptions, SwarmPlan, run_swarm};

/// Runs `scenario` against each of its implementations over `seeds` (or what
/// `DETSIM_SEEDS` says), and panics on the first failing case with what failed, how to
/// replay it and the repro file it saved. Returns how many cases ran.
pub fn check(scenario: &Scenario, seeds: Range<u64>) -> u64 {
    Check::new(scenario).seeds(seeds).run()
}

/// [`check`] with options.
#[derive(Clone, Debug)]
pub struct Check<'a> {
    scenario: &'a Scenario,
    seeds: Range<u64>,
    implementations: Option<Vec<String>>,
    command: String,
}

impl<'a> Check<'a> {
    /// A check of `scenario` over seeds 0..100.
    pub fn new(scenario: &'a Scenario) -> Check<'a> {
        Check {
            scenario,
            seeds: 0..100,
            implementations: None,
            command: "detsim".to_string(),
        }
    }

    /// The seeds (unless `DETSIM_SEEDS` says otherwise).
    pub fn seeds(mut self, seeds: Range<u64>) -> Check<'a> {
        self.seeds = seeds;
        self
    }

    /// Only this implementation (may be called more than once).
    pub fn implementation(mut self, name: &str) -> Check<'a> {
        self.implementations
            .get_or_insert_with(Vec::new)
            .push(name.to_string());
        self
    }

    /// The command that runs your detsim CLI, for the replay line of a failure
    /// (default `detsim`; e.g. `cargo run -p my-protocol --`).
    pub fn command(mut self, command: &str) -> Check<'a> {
        self.command = command.to_string();
        self
    }

    /// Runs the cases; panics on the first failure. Returns how many cases ran.
    pub fn run(self) -> u64 {
        let seeds = seeds_from_env(self.seeds.clone());
        let mut scenario = self.scenario.clone();
        if let Some(names) = &self.implementations {
            for name in names {
                scenario.assert_implementation(name);
            }
            scenario.implementations.clone_from(names);
        }
        assert!(
            !seeds.is_empty(),
            "the seed range {}..{} is empty: a check that runs no case proves nothing",
            seeds.start,
            seeds.end
        );
        let plan = SwarmPlan {
            scenarios: vec![scenario],
            seeds: seeds.start..=seeds.end - 1,
            shard: Shard::ALL,
            implementations: None,
        };
        let jobs = std::env::var("DETSIM_JOBS")
            .ok()
            .and_then(|jobs| jobs.parse().ok())
            .unwrap_or(1);
        let options = SwarmOptions {
            fail_fast: true,
            ..SwarmOptions::jobs(jobs)
        };
        let mut failure: Option<CaseResult> = None;
        let swarm = run_swarm(&plan, &options, &mut |result| {
            let earlier = failure.as_ref().is_some_and(|f| {
                (f.seed, &f.implementation) <= (result.seed, &result.implementation)
            });
            if result.verdict.is_failure() && !earlier {
                failure = Some(result);
            }
        });
        if let Some(failure) = failure {
            panic!(
                "{}",
                self.failure_message(&plan.scenarios[0], &failure, &seeds)
            );
        }
        swarm.ran
    }

    fn failure_message(
        &self,
        scenario: &Scenario,
        result: &CaseResult,
        seeds: &Range<u64>,
    ) -> String {
        let mut text = format!(
            "scenario `{}` failed against {} at seed {} (of seeds {}..{}): [{}] {}",
            scenario.name,
            result.implementation,
            result.seed,
            seeds.start,
            seeds.end,
            result.verdict,
            result.summary()
        );
        let name = format!(
            "{}-{}-seed{}.toml",
            scenario.name, result.implementation, result.seed
        );
        let path = repro_dir().join(file_name(&name));
        let written = std::fs::create_dir_all(repro_dir())
            .map_err(|e| e.to_string())
            .and_then(|()| {
                Repro::of(scenario, result)
                    .write(&path, Some(&result.summary()))
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => {
                let _ = write!(
                    text,
                    "\n  repro file: {path}\n  replay:     {command} repro {path}\n  shrink:     {command} shrink {path} -o smaller.toml",
                    path = path.display(),
                    command = self.command
                );
            }
            Err(error) => {
                let _ = write!(text, "\n  (could not write a repro file: {error})");
            }
        }
        text
    }
}

/// `default`, or the seeds `DETSIM_SEEDS` names: a count (`2000`: that many from the
/// start of `default`) or a range (`5000..6000`). Panics on anything else, so that a
/// typo does not quietly run the default.
pub fn seeds_from_env(default: Range<u64>) -> Range<u64> {
    match std::env::var("DETSIM_SEEDS") {
        Ok(text) => seeds_from(&text, default).unwrap_or_else(|message| panic!("{message}")),
        Err(_) => default,
    }
}

/// The seeds `text` names, as `DETSIM_SEEDS` reads it: a count from the start of
/// `default`, or a range; what is wrong otherwise.
fn seeds_from(text: &str, default: Range<u64>) -> Result<Range<u64>, String> {
    let parsed = match text.split_once("..") {
        Some((start, end)) => start
            .trim()
            .parse()
            .ok()
            .zip(end.trim().parse().ok())
            .map(|(start, end)| start..end),
        None => text
            .trim()
            .parse::<u64>()
            .ok()
            .map(|count| default.start..default.start.saturating_add(count)),
    };
    match parsed {
        Some(range) if !range.is_empty() => Ok(range),
        _ => Err(format!(
            "DETSIM_SEEDS={text:?} is not a seed count (2000) or a non-empty range (5000..6000)"
        )),
    }
}

/// Where failing cases of `cargo test` leave their repro files: `$DETSIM_REPRO_DIR`, or
/// `detsim-repros` in the cargo target directory the test runs from, or in the system's
/// temporary directory if there is none.
pub fn repro_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DETSIM_REPRO_DIR") {
        return PathBuf::from(dir);
    }
    target_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("detsim-repros")
}

/// The cargo target directory holding the running executable (cargo marks it with a
/// `CACHEDIR.TAG`).
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// `name` with every character a file name should not hold replaced by `_`.
pub(crate) fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detsim_seeds_is_a_count_from_the_start_or_a_range() {
        assert_eq!(seeds_from("2000", 10..20), Ok(10..2010));
        assert_eq!(seeds_from(" 5000..6000 ", 0..100), Ok(5000..6000));
        for bad in ["", "lots", "5..5", "9..3", "1..x", "-3"] {
            let error = seeds_from(bad, 0..100).unwrap_err();
            assert!(error.contains("is not a seed count"), "{bad}: {error}");
        }
    }

    #[test]
    fn file_names_keep_words_and_lose_paths() {
        assert_eq!(file_name("a-b_c.toml"), "a-b_c.toml");
        assert_eq!(file_name("../../x y"), ".._.._x_y");
    }
}
