//! `fault-search [SEEDS] [TWIN_SEEDS]`: how fast detsim's random fault generator finds
//! planted bugs, and whether it ever fails their bug-free twins.
//!
//! Each planted model is a scenario with a switchable bug and a twin without it. Every
//! model runs under three generators, its own `[random_faults]` table replaced:
//!
//! - `old`: the generator's defaults as they were before fault models (every fault kind
//!   the protocol claims but those added since, 5 s between faults, outages of 1–10 s,
//!   one node down at a time);
//! - `new`: today's defaults, from the protocol's fault model: timed by its time scale,
//!   at a varied pace (bursts and calm), enough nodes down at once to take a quorum
//!   away, crash points that strike right after a node's next effects or a moment the
//!   protocol names (a message of a kind sent or handled, a protocol event), cut links,
//!   partial one-way cuts, drift and mass heals;
//! - `swarm`: today's defaults with `swarm = true` (each seed draws its own mix);
//!
//! and, for the models whose file has a hand-tuned mix, `as written`. For each it prints
//! the share of `SEEDS` seeds that fail, the median number of seeds to the first failure
//! (from that share: `ln 2 / -ln(1 - p)`), the first failing seed, the CPU time to the
//! first failure at the median, and how many of `TWIN_SEEDS` seeds fail the twin (false
//! positives: there must be none). One thread; a benchmark, not a test.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use scenarios::{Registry, Scenario, Verdict, run_case};
use sim_core::{Chance, FaultGenerator, FaultWeights, SimDuration, Tempo};

/// A planted bug: where its twins live and which implementation runs them.
struct Model {
    name: &'static str,
    class: &'static str,
    buggy: &'static str,
    fixed: &'static str,
    implementation: &'static str,
    /// Whether the buggy file's own `[random_faults]` is a mix worth reporting.
    hand_tuned: bool,
    counter: bool,
}

const MODELS: [Model; 5] = [
    Model {
        name: "counter: ack before sync",
        class: "durability",
        buggy: "scenarios/third-party/counter/scenarios/buggy.toml",
        fixed: "scenarios/third-party/counter/scenarios/fixed.toml",
        implementation: "counter",
        hand_tuned: true,
        counter: true,
    },
    Model {
        name: "counter: silent after restart",
        class: "liveness after a crash",
        buggy: "scenarios/third-party/counter/scenarios/stalls.toml",
        fixed: "scenarios/third-party/counter/scenarios/fixed.toml",
        implementation: "counter",
        hand_tuned: true,
        counter: true,
    },
    Model {
        name: "counter: trusts another node's clock",
        class: "clocks",
        buggy: "scenarios/third-party/counter/scenarios/clocks.toml",
        fixed: "scenarios/third-party/counter/scenarios/fixed.toml",
        implementation: "counter",
        hand_tuned: true,
        counter: true,
    },
    Model {
        name: "raft: no pre-vote, no check-quorum",
        class: "partition shape (one-way)",
        buggy: "benches/models/raft-livelock-buggy.toml",
        fixed: "benches/models/raft-livelock-fixed.toml",
        implementation: "detsim-raft",
        hand_tuned: false,
        counter: false,
    },
    Model {
        name: "raft canary: vote synced after reply",
        class: "durability (multi-fault)",
        buggy: "scenarios/canary/buggy.toml",
        fixed: "scenarios/canary/fixed.toml",
        implementation: "detsim-raft",
        hand_tuned: true,
        counter: false,
    },
];

/// What one generator did to one model.
struct Row {
    mode: &'static str,
    failed: usize,
    seeds: usize,
    first: Option<u64>,
    seconds_per_seed: f64,
    false_positives: usize,
    twin_seeds: usize,
}

impl Row {
    fn median_seeds(&self) -> Option<f64> {
        if self.failed == 0 {
            return None;
        }
        let p = self.failed as f64 / self.seeds as f64;
        if p >= 1.0 {
            return Some(1.0);
        }
        Some((std::f64::consts::LN_2 / -(1.0 - p).ln()).max(1.0))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: usize| -> Result<usize, String> {
        args.get(index).map_or(Ok(default), |text| {
            text.parse()
                .map_err(|_| format!("usage: fault-search [SEEDS] [TWIN_SEEDS]; got {text:?}"))
        })
    };
    let (seeds, twin_seeds) = match (number(0, 1_000), number(1, 1_000)) {
        (Ok(seeds), Ok(twins)) => (seeds, twins),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    println!(
        "| model | class | generator | failing seeds | median seeds to first failure | first failing seed | CPU-s to first failure | twin false positives |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for model in &MODELS {
        let registry = if model.counter {
            counter::registry()
        } else {
            detsim::registry()
        };
        match rows(model, &registry, &root, seeds, twin_seeds) {
            Ok(rows) => {
                for row in rows {
                    print_row(model, &row);
                }
            }
            Err(error) => {
                eprintln!("{}: {error}", model.name);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn print_row(model: &Model, row: &Row) {
    let median = row
        .median_seeds()
        .map_or_else(|| format!("> {}", row.seeds), |m| format!("{m:.1}"));
    let cpu = row.median_seeds().map_or_else(
        || format!("> {:.1}", row.seconds_per_seed * row.seeds as f64),
        |m| format!("{:.3}", m * row.seconds_per_seed),
    );
    let first = row
        .first
        .map_or_else(|| "none".to_string(), |s| s.to_string());
    println!(
        "| {} | {} | {} | {} / {} | {median} | {first} | {cpu} | {} / {} |",
        model.name,
        model.class,
        row.mode,
        row.failed,
        row.seeds,
        row.false_positives,
        row.twin_seeds
    );
}

/// Every generator's row for `model`.
fn rows(
    model: &Model,
    registry: &Registry,
    root: &Path,
    seeds: usize,
    twin_seeds: usize,
) -> Result<Vec<Row>, String> {
    let load = |file: &str| registry.load(&root.join(file)).map_err(|e| e.to_string());
    let (buggy, fixed) = (load(model.buggy)?, load(model.fixed)?);
    let mut pairs = Vec::new();
    if model.hand_tuned {
        pairs.push(("as written", buggy.clone(), fixed.clone()));
    }
    for mode in ["old", "new", "swarm"] {
        pairs.push((
            mode,
            generator(registry, &buggy, mode)?,
            generator(registry, &fixed, mode)?,
        ));
    }
    Ok(pairs
        .into_iter()
        .map(|(mode, buggy, fixed)| {
            let started = Instant::now();
            let outcomes: Vec<bool> = (0..seeds as u64)
                .map(|seed| fails(&buggy, model.implementation, seed))
                .collect();
            let seconds_per_seed = started.elapsed().as_secs_f64() / seeds.max(1) as f64;
            let false_positives = (0..twin_seeds as u64)
                .filter(|&seed| fails(&fixed, model.implementation, seed))
                .count();
            Row {
                mode,
                failed: outcomes.iter().filter(|&&f| f).count(),
                seeds,
                first: outcomes.iter().position(|&f| f).map(|s| s as u64),
                seconds_per_seed,
                false_positives,
                twin_seeds,
            }
        })
        .collect())
}

fn fails(scenario: &Scenario, implementation: &str, seed: u64) -> bool {
    !matches!(
        run_case(scenario, implementation, seed).verdict,
        Verdict::Pass | Verdict::Skipped
    )
}

/// `scenario` with its random faults replaced by the generator of `mode`, drawing
/// from 1 s to the end of the fault phase.
fn generator(registry: &Registry, scenario: &Scenario, mode: &str) -> Result<Scenario, String> {
    let mut text = without_random_faults(&scenario_text(scenario)?);
    text.push_str("\n[random_faults]\nstart = \"1s\"\n");
    if mode != "swarm" {
        text.push_str("swarm = false\n");
    }
    let mut parsed = registry.parse(&text, None).map_err(|e| e.to_string())?;
    if mode == "old"
        && let Some(random) = &mut parsed.random_faults
    {
        random.generator = old_defaults(&random.generator);
    }
    Ok(parsed)
}

/// The generator as its defaults were before fault models: the kinds of `new` less
/// those drawn since (crash, pause and isolate points, cut links, drift, heals), 5 s between faults,
/// outages of 1–10 s (drawn log-uniformly, as today's are; they used to be uniform), clock jumps as large as the longest outage, one node down,
/// crashes that lose every unsynced write, and one steady pace.
fn old_defaults(new: &FaultGenerator) -> FaultGenerator {
    let old = FaultGenerator::new(new.start, new.end);
    FaultGenerator {
        mean_interval: SimDuration::from_secs(5),
        outage_min: SimDuration::from_secs(1),
        outage_max: SimDuration::from_secs(10),
        clock_skew_max: SimDuration::from_secs(10),
        clock_drift_max_ppm: 0,
        max_down: 1,
        unsynced_kept: Chance::NEVER,
        tempo: Tempo::Steady,
        weights: FaultWeights {
            crash_point: 0,
            link: 0,
            clock_drift: 0,
            heal: 0,
            pause_point: 0,
            isolate_point: 0,
            ..new.weights
        },
        ..old
    }
}

fn scenario_text(scenario: &Scenario) -> Result<String, String> {
    let path = scenario.path.as_ref().ok_or("a scenario without a file")?;
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The scenario file's text without its `[random_faults]` table.
fn without_random_faults(text: &str) -> String {
    let mut kept = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let header = line.trim_start().starts_with('[');
        if header {
            skipping = line.trim() == "[random_faults]";
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}
