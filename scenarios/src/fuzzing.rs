//! What the `cargo fuzz` targets run (feature `fuzzing`), and how their findings turn
//! into ordinary repro files.
//!
//! Each [`Target`] reads the fuzzer's bytes its own way:
//!
//! | target | the bytes are | a finding is |
//! |---|---|---|
//! | `scenario_seed` | a scenario of [`SCENARIOS`], a seed and network knobs | a safety violation or a panic |
//! | `fault_schedule` | a seed and a fault timeline for the canary's cluster | the same |
//! | `choices` | the choice-mode tape of a run of the canary (every draw of the engine and the workload) | the same |
//! | `parse_scenario` | scenario file text | a panic of the parser |
//! | `parse_repro` | repro file text | a panic of the parser |
//!
//! The first three build a case with [`case_of`]; `detsim repro --from-fuzz ARTIFACT`
//! does the same with a crash artifact, writes the case as a repro file and replays
//! it, so that a fuzz finding can be replayed, traced and shrunk like any failure.
//! Liveness failures are not findings: a fuzzer can describe clusters that cannot make
//! progress (the scenario suite and the property tests check liveness).
//!
//! The engine's canary ([`CANARY`], a Raft replica that replies to a vote before its
//! vote is durable) is what the fuzz smoke run must find.

use std::fmt;
use std::str::FromStr;

use arbitrary::{Arbitrary, Unstructured};
use sim_core::{Chance, Choices, FaultSchedule, NodeId, Partition, SimTime};
use toml::Spanned;

use crate::case::{CaseResult, RunOptions, Verdict, run_case_with};
use crate::file::LatencyFile;
use crate::model::{Implementation, Scenario};
use crate::parse::parse_scenario;
use crate::repro::Repro;
use crate::shrink::{reparse, timeline};
use crate::units::format_chance;

/// The canary's buggy twin: the scenario the fuzz smoke run must break.
pub const CANARY: &str = include_str!("../canary/buggy.toml");

/// The scenarios `scenario_seed` picks from: the canary first, then the suite's
/// smoke and swarm scenarios of each protocol.
pub const SCENARIOS: [(&str, &str); 5] = [
    ("canary-buggy", CANARY),
    ("smoke", include_str!("../suite/smoke.toml")),
    ("raft-smoke", include_str!("../suite/raft-smoke.toml")),
    ("swarm-chain", include_str!("../suite/swarm-chain.toml")),
    ("swarm-raft", include_str!("../suite/swarm-raft.toml")),
];

/// A fuzz target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A scenario, a seed and network knobs.
    ScenarioSeed,
    /// A fault timeline for the canary's cluster.
    FaultSchedule,
    /// The choice-mode tape of a canary run.
    Choices,
    /// Scenario file text, for the parser.
    ParseScenario,
    /// Repro file text, for the parser.
    ParseRepro,
}

impl Target {
    /// Every target, in the order of the table above.
    pub const ALL: [Target; 5] = [
        Target::ScenarioSeed,
        Target::FaultSchedule,
        Target::Choices,
        Target::ParseScenario,
        Target::ParseRepro,
    ];

    /// The target's name, as `cargo fuzz` knows it.
    pub fn name(self) -> &'static str {
        match self {
            Target::ScenarioSeed => "scenario_seed",
            Target::FaultSchedule => "fault_schedule",
            Target::Choices => "choices",
            Target::ParseScenario => "parse_scenario",
            Target::ParseRepro => "parse_repro",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(name: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|target| target.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                format!(
                    "unknown fuzz target \"{name}\" (targets: {})",
                    names.join(", ")
                )
            })
    }
}

/// A case a fuzz input describes: what to run and how.
#[derive(Clone, Debug)]
pub struct FuzzCase {
    /// The scenario, knobs and faults applied.
    pub scenario: Scenario,
    /// The implementation.
    pub implementation: Implementation,
    /// The seed.
    pub seed: u64,
    /// The choice-mode tape (`choices` target only).
    pub choices: Option<Vec<u8>>,
}

impl FuzzCase {
    /// Runs the case.
    pub fn run(&self) -> CaseResult {
        let options = RunOptions {
            record_trace: false,
            choices: self.choices.clone().map(Choices::new),
        };
        run_case_with(&self.scenario, self.implementation, self.seed, options).0
    }

    /// The repro of this case, given how its run ended.
    pub fn repro(&self, result: &CaseResult) -> Repro {
        Repro {
            choices: self.choices.clone(),
            ..Repro::of(&self.scenario, result)
        }
    }
}

/// Does this verdict count as a fuzz finding?
pub fn is_finding(verdict: Verdict) -> bool {
    matches!(
        verdict,
        Verdict::Safety | Verdict::Panic | Verdict::Mismatch
    )
}

/// The case `data` describes for `target`; `None` for the parser targets and for
/// bytes too short to describe one.
pub fn case_of(target: Target, data: &[u8]) -> Option<FuzzCase> {
    match target {
        Target::ScenarioSeed => scenario_seed(data),
        Target::FaultSchedule => fault_schedule(data),
        Target::Choices => Some(FuzzCase {
            scenario: scenario("canary-buggy", CANARY),
            implementation: Implementation::DetsimRaft,
            seed: 0,
            choices: Some(data.to_vec()),
        }),
        Target::ParseScenario | Target::ParseRepro => None,
    }
}

/// What a fuzz target runs: the parser targets parse (a panic is the finding); the
/// others run their case and panic on a finding, with the command that turns the
/// crash artifact into a repro file.
pub fn fuzz(target: Target, data: &[u8]) {
    match target {
        Target::ParseScenario => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = parse_scenario(text, None);
            }
        }
        Target::ParseRepro => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = Repro::parse(text, None);
            }
        }
        _ => {
            let Some(case) = case_of(target, data) else {
                return;
            };
            let result = case.run();
            assert!(
                !is_finding(result.verdict),
                "{}\nturn the crash artifact into a repro file with:\n  \
                 detsim repro --from-fuzz <artifact> --target {target}",
                result.summary()
            );
        }
    }
}

/// A bundled scenario, named `name`. Panics if it does not parse (a test checks
/// they all do).
fn scenario(name: &str, text: &str) -> Scenario {
    let mut scenario = parse_scenario(text, None).expect("bundled scenarios parse");
    scenario.name = name.to_string();
    scenario
}

/// The `scenario_seed` input.
#[derive(Arbitrary, Debug)]
struct SeedInput {
    scenario: u8,
    seed: u64,
    random_tie_break: bool,
    /// Uniform latency bounds in milliseconds, if set.
    latency_ms: Option<(u8, u8)>,
    /// Loss in percent, up to 20.
    loss_percent: u8,
}

fn scenario_seed(data: &[u8]) -> Option<FuzzCase> {
    let input = SeedInput::arbitrary_take_rest(Unstructured::new(data)).ok()?;
    let (name, text) = SCENARIOS[usize::from(input.scenario) % SCENARIOS.len()];
    let base = scenario(name, text);
    let mut file = base.file.clone();
    if input.random_tie_break {
        file.network.tie_break = Some(Spanned::new(0..0, "random".to_string()));
    }
    if let Some((low, spread)) = input.latency_ms {
        let (min, max) = (u32::from(low) + 1, u32::from(low) + 1 + u32::from(spread));
        file.network.latency = Some(Spanned::new(
            0..0,
            LatencyFile::Uniform {
                uniform: [format!("{min}ms"), format!("{max}ms")],
            },
        ));
    }
    let loss = u32::from(input.loss_percent % 21);
    if loss > 0 {
        file.network.loss = Some(Spanned::new(0..0, format_chance(Chance::percent(loss))));
    }
    let mut scenario = reparse(&file).ok()?;
    scenario.name.clone_from(&base.name);
    Some(FuzzCase {
        implementation: scenario.implementations[0],
        scenario,
        seed: input.seed,
        choices: None,
    })
}

/// One fault of the `fault_schedule` input: five bytes, so that every five bytes of
/// the fuzzer's input after the seed are one fault (a length prefix or a "one more?"
/// flag would make most random inputs short).
struct FuzzFault {
    /// Milliseconds from the start (modulo the scenario's duration).
    at_ms: u16,
    /// The outage, in units of 4 ms (4 ms to about 1 s).
    lasting: u8,
    /// The kind, modulo 10: 0–5 crash (crashes find the most), 6 pause, 7 isolate,
    /// 8 partition, 9 clog.
    kind: u8,
    /// The node (modulo the node count) or, for a partition, the bit set of the
    /// nodes on one side.
    node: u8,
}

impl FuzzFault {
    fn from_bytes(bytes: &[u8]) -> FuzzFault {
        FuzzFault {
            at_ms: u16::from_le_bytes([bytes[0], bytes[1]]),
            lasting: bytes[2],
            kind: bytes[3],
            node: bytes[4],
        }
    }
}

/// How long the `fault_schedule` target's scenario runs before its heal phase:
/// short, so that a fuzzer's few faults are dense and each run is quick.
const FAULT_PHASE: &str = "4s";

fn fault_schedule(data: &[u8]) -> Option<FuzzCase> {
    let mut bytes = Unstructured::new(data);
    let seed = u64::arbitrary(&mut bytes).ok()?;
    let faults: Vec<FuzzFault> = whitened(bytes.take_rest())
        .chunks_exact(5)
        .take(256)
        .map(FuzzFault::from_bytes)
        .collect();
    let mut canary = scenario("canary-buggy", CANARY).file;
    canary.random_faults = None;
    canary.duration = Some(Spanned::new(0..0, FAULT_PHASE.to_string()));
    let base = reparse(&canary).ok()?;
    let nodes = base.cluster.node_count();
    let duration_ms = (base.duration.as_nanos() / 1_000_000).max(1);
    let mut schedule = FaultSchedule::new();
    for fault in &faults {
        let at = u64::from(fault.at_ms) % duration_ms;
        let repair = (at + 4 * (u64::from(fault.lasting) + 1)).min(duration_ms);
        let node = NodeId(u32::from(fault.node) % nodes);
        let (start, end) = match fault.kind % 10 {
            0..=5 => (sim_core::Fault::Crash(node), sim_core::Fault::Restart(node)),
            6 => (sim_core::Fault::Pause(node), sim_core::Fault::Resume(node)),
            7 => (
                sim_core::Fault::Partition(Partition::Isolate(node)),
                sim_core::Fault::HealNode(node),
            ),
            8 => {
                let bits = fault.node;
                let (side, rest): (Vec<NodeId>, Vec<NodeId>) =
                    (0..nodes).map(NodeId).partition(|n| bits & (1 << n.0) != 0);
                if side.is_empty() || rest.is_empty() {
                    continue;
                }
                (
                    sim_core::Fault::Partition(Partition::Groups(vec![side, rest])),
                    sim_core::Fault::Heal,
                )
            }
            _ => (
                sim_core::Fault::Clog {
                    target: sim_core::ClogTarget::Node(node),
                    duration: None,
                },
                sim_core::Fault::Unclog(sim_core::ClogTarget::Node(node)),
            ),
        };
        schedule.push(SimTime::from_millis(at), start);
        schedule.push(SimTime::from_millis(repair), end);
    }
    let mut file = base.file.clone();
    file.faults = timeline(&schedule, &base);
    let mut scenario = reparse(&file).ok()?;
    scenario.name = "canary-buggy-fuzzed-faults".to_string();
    Some(FuzzCase {
        implementation: Implementation::DetsimRaft,
        scenario,
        seed,
        choices: None,
    })
}

/// `bytes`, each XORed with a fixed pseudo-random byte for its position. Still one
/// byte per decision (flipping a bit of the input flips the same bit of the decision),
/// but the long runs of one byte that mutations produce become varied faults instead
/// of one fault repeated.
fn whitened(bytes: &[u8]) -> Vec<u8> {
    let mut mask = sim_core::SimRng::new(0, "fuzz-whitening");
    let mut word = [0_u8; 8];
    bytes
        .iter()
        .enumerate()
        .map(|(index, byte)| {
            if index % 8 == 0 {
                word = mask.next_u64().to_le_bytes();
            }
            byte ^ word[index % 8]
        })
        .collect()
}

/// The bytes of a deterministic pseudo-random input number `index` of `len` bytes:
/// what the stable-toolchain smoke tests feed the targets instead of a fuzzer.
pub fn smoke_input(index: u64, len: usize) -> Vec<u8> {
    let mut rng = sim_core::SimRng::new(index, "fuzz-smoke");
    let mut bytes = vec![0; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_parses() {
        for (name, text) in SCENARIOS {
            assert!(parse_scenario(text, None).is_ok(), "{name}");
        }
    }

    #[test]
    fn target_names_round_trip() {
        for target in Target::ALL {
            assert_eq!(target.name().parse::<Target>(), Ok(target));
        }
        assert!("nope".parse::<Target>().unwrap_err().contains("choices"));
    }

    #[test]
    fn the_parsers_survive_arbitrary_bytes() {
        for index in 0..300 {
            let bytes = smoke_input(index, (index % 200) as usize);
            fuzz(Target::ParseScenario, &bytes);
            fuzz(Target::ParseRepro, &bytes);
            // Text that is nearly valid reaches deeper: a suite file with one byte
            // overwritten.
            let mut text = CANARY.as_bytes().to_vec();
            let at = (index as usize * 7919) % text.len();
            text[at] = bytes.first().copied().unwrap_or(b'=');
            fuzz(Target::ParseScenario, &text);
        }
    }

    #[test]
    fn a_fuzz_case_round_trips_through_its_repro_file() {
        let case = case_of(Target::Choices, &smoke_input(3, 64)).unwrap();
        let result = case.run();
        let text = case.repro(&result).to_toml(None);
        let repro = Repro::parse(&text, None).unwrap();
        assert_eq!(repro.choices, case.choices);
        let options = repro.run_options(false);
        let again = run_case_with(&repro.scenario, repro.implementation, repro.seed, options).0;
        assert!(repro.matches(&again), "{}", again.summary());
    }

    #[test]
    fn scenario_seed_and_fault_inputs_build_runnable_cases() {
        let mut built = 0;
        for index in 0..40 {
            for target in [Target::ScenarioSeed, Target::FaultSchedule] {
                if let Some(case) = case_of(target, &smoke_input(index, 96)) {
                    built += 1;
                    assert!(case.run().steps > 0);
                }
            }
        }
        assert!(built >= 60, "only {built} of 80 inputs built a case");
    }
}
