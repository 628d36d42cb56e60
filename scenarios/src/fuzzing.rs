//! What `cargo fuzz` targets run (feature `fuzzing`), for any protocol, and how their
//! findings turn into ordinary repro files.
//!
//! A [`FuzzSetup`] says what the targets work on: a registry, the scenarios
//! `scenario_seed` picks from, and the *focus* scenario that `fault_schedule` and
//! `choices` drive (detsim's own setup focuses on the canary, a Raft replica that
//! replies to a vote before the vote is durable). Each [`Target`] reads the fuzzer's
//! bytes its own way:
//!
//! | target | the bytes are | a finding is |
//! |---|---|---|
//! | `scenario_seed` | a scenario of the setup, a seed and network knobs | a safety violation or a panic |
//! | `fault_schedule` | a seed and a fault timeline for the focus scenario's cluster | the same |
//! | `choices` | the choice-mode tape of a run of the focus scenario (every draw of the engine and the workload) | the same |
//! | `parse_scenario` | scenario file text | a panic of the parser |
//! | `parse_repro` | repro file text | a panic of the parser |
//!
//! The first three build a case with [`case_of`]; `detsim repro --from-fuzz ARTIFACT`
//! does the same with a crash artifact, writes the case as a repro file and replays
//! it, so that a fuzz finding can be replayed, traced and shrunk like any failure.
//! Liveness failures are not findings: a fuzzer can describe clusters that cannot make
//! progress (the scenario suite and the property tests check liveness).
//!
//! A fuzz target of your own protocol is three lines (see docs/fuzzing.md):
//!
//! ```ignore
//! #![no_main]
//! static SETUP: std::sync::LazyLock<FuzzSetup> = std::sync::LazyLock::new(my_protocol::fuzz_setup);
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| scenarios::fuzzing::fuzz(&SETUP, Target::Choices, data));
//! ```

use std::fmt;
use std::str::FromStr;

use arbitrary::{Arbitrary, Unstructured};
use sim_core::{Chance, Choices, FaultSchedule, NodeId, Partition, SimDuration, SimTime};
use toml::Spanned;

use crate::case::{CaseResult, RunOptions, Verdict, run_case_with};
use crate::error::InputError;
use crate::file::LatencyFile;
use crate::model::Scenario;
use crate::protocol::FaultKind;
use crate::registry::Registry;
use crate::repro::Repro;
use crate::shrink::{reparse, timeline};
use crate::units::{format_chance, format_duration};

/// What the fuzz targets work on.
#[derive(Clone, Debug)]
pub struct FuzzSetup {
    registry: Registry,
    scenarios: Vec<Scenario>,
    focus: usize,
    fault_phase: Option<SimDuration>,
}

impl FuzzSetup {
    /// The targets of `registry` over `scenarios` (at least one; the first is the focus).
    /// Panics if `scenarios` is empty.
    pub fn new(registry: Registry, scenarios: Vec<Scenario>) -> FuzzSetup {
        assert!(!scenarios.is_empty(), "a fuzz setup needs a scenario");
        FuzzSetup {
            registry,
            scenarios,
            focus: 0,
            fault_phase: None,
        }
    }

    /// Reads `(name, text)` scenarios with `registry` (the name replaces the scenario's
    /// own). The first is the focus.
    pub fn from_texts(registry: Registry, texts: &[(&str, &str)]) -> Result<FuzzSetup, InputError> {
        let mut scenarios = Vec::new();
        for (name, text) in texts {
            let mut scenario = registry.parse(text, None)?;
            scenario.name = (*name).to_string();
            scenarios.push(scenario);
        }
        Ok(FuzzSetup::new(registry, scenarios))
    }

    /// How long `fault_schedule`'s runs are before their heal phase (default: the focus
    /// scenario's duration). Short is good: the fuzzer's faults are denser and each run is
    /// quicker.
    #[must_use]
    pub fn fault_phase(mut self, duration: SimDuration) -> FuzzSetup {
        self.fault_phase = Some(duration);
        self
    }

    /// The registry the parser targets read with.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The scenarios `scenario_seed` picks from.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The scenario `fault_schedule` and `choices` drive.
    pub fn focus(&self) -> &Scenario {
        &self.scenarios[self.focus]
    }
}

/// A fuzz target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A scenario, a seed and network knobs.
    ScenarioSeed,
    /// A fault timeline for the focus scenario's cluster.
    FaultSchedule,
    /// The choice-mode tape of a run of the focus scenario.
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
    /// The implementation, by name.
    pub implementation: String,
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
            ..RunOptions::default()
        };
        run_case_with(&self.scenario, &self.implementation, self.seed, options).0
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
pub fn case_of(setup: &FuzzSetup, target: Target, data: &[u8]) -> Option<FuzzCase> {
    match target {
        Target::ScenarioSeed => scenario_seed(setup, data),
        Target::FaultSchedule => fault_schedule(setup, data),
        Target::Choices => Some(FuzzCase {
            scenario: setup.focus().clone(),
            implementation: setup.focus().implementations[0].clone(),
            seed: 0,
            choices: Some(data.to_vec()),
        }),
        Target::ParseScenario | Target::ParseRepro => None,
    }
}

/// What a fuzz target runs: the parser targets parse (a panic is the finding); the
/// others run their case and panic on a finding, with the command that turns the
/// crash artifact into a repro file.
pub fn fuzz(setup: &FuzzSetup, target: Target, data: &[u8]) {
    match target {
        Target::ParseScenario => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = setup.registry.parse(text, None);
            }
        }
        Target::ParseRepro => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = Repro::parse(&setup.registry, text, None);
            }
        }
        _ => {
            let Some(case) = case_of(setup, target, data) else {
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

fn scenario_seed(setup: &FuzzSetup, data: &[u8]) -> Option<FuzzCase> {
    let input = SeedInput::arbitrary_take_rest(Unstructured::new(data)).ok()?;
    let base = &setup.scenarios[usize::from(input.scenario) % setup.scenarios.len()];
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
    let mut scenario = reparse(base, &file).ok()?;
    scenario.name.clone_from(&base.name);
    Some(FuzzCase {
        implementation: scenario.implementations[0].clone(),
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

fn fault_schedule(setup: &FuzzSetup, data: &[u8]) -> Option<FuzzCase> {
    let mut bytes = Unstructured::new(data);
    let seed = u64::arbitrary(&mut bytes).ok()?;
    let faults: Vec<FuzzFault> = whitened(bytes.take_rest())
        .chunks_exact(5)
        .take(256)
        .map(FuzzFault::from_bytes)
        .collect();
    let focus = setup.focus();
    let mut file = focus.file.clone();
    file.random_faults = None;
    if let Some(phase) = setup.fault_phase {
        file.duration = Some(Spanned::new(0..0, format_duration(phase)));
    }
    let base = reparse(focus, &file).ok()?;
    let kinds = base.fault_model.kinds;
    let nodes = base.node_count();
    let duration_ms = (base.duration.as_nanos() / 1_000_000).max(1);
    let mut schedule = FaultSchedule::new();
    for fault in &faults {
        let at = u64::from(fault.at_ms) % duration_ms;
        let repair = (at + 4 * (u64::from(fault.lasting) + 1)).min(duration_ms);
        let node = NodeId(u32::from(fault.node) % nodes);
        let kind = match fault.kind % 10 {
            0..=5 => FaultKind::Crash,
            6 => FaultKind::Pause,
            7 => FaultKind::Isolate,
            8 => FaultKind::Partition,
            _ => FaultKind::Clog,
        };
        if !kinds.contains(kind) {
            continue;
        }
        let (start, end) = match kind {
            FaultKind::Crash => (sim_core::Fault::Crash(node), sim_core::Fault::Restart(node)),
            FaultKind::Pause => (sim_core::Fault::Pause(node), sim_core::Fault::Resume(node)),
            FaultKind::Isolate => (
                sim_core::Fault::Partition(Partition::Isolate(node)),
                sim_core::Fault::HealNode(node),
            ),
            FaultKind::Partition => {
                // The byte is the set of nodes on one side (the first eight nodes can be
                // on it; any others are on the other side).
                let bits = u32::from(fault.node);
                let (side, rest): (Vec<NodeId>, Vec<NodeId>) = (0..nodes)
                    .map(NodeId)
                    .partition(|n| n.0 < 8 && bits & (1 << n.0) != 0);
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
    let mut scenario = reparse(&base, &file).ok()?;
    scenario.name = format!("{}-fuzzed-faults", focus.name);
    Some(FuzzCase {
        implementation: focus.implementations[0].clone(),
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
