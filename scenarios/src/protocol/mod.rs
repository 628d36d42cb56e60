//! Running a scenario's phases for each protocol.
//!
//! Shared here: the engine config a scenario implies, the fault schedule for a seed
//! (the timeline plus the random generator, whose fault mix is itself drawn per seed in
//! swarm mode), and the faults that heal everything at the start of the heal phase.

use sim_core::{
    DiskFaults, Fault, FaultGenerator, FaultSchedule, Limits, NodeId, SimConfig, SimRng, SimTime,
};

use crate::case::{Driven, RunOptions};
use crate::model::{Implementation, RandomFaults, Scenario};

mod chain;
mod raft;

/// Builds, runs and judges one case.
pub(crate) fn drive(
    scenario: &Scenario,
    implementation: Implementation,
    seed: u64,
    options: &RunOptions,
) -> Driven {
    match implementation {
        Implementation::DetsimChain => chain::drive(scenario, seed, options),
        Implementation::DetsimRaft => raft::drive(scenario, seed, options),
        Implementation::RaftRs => raft::drive_raft_rs(scenario, seed, options),
    }
}

/// The engine config of a scenario for a seed.
pub(crate) fn sim_config(scenario: &Scenario, seed: u64, options: &RunOptions) -> SimConfig {
    let end = SimTime::ZERO + scenario.total_duration();
    SimConfig {
        seed,
        network: scenario.network.clone(),
        tie_break: scenario.tie_break,
        limits: Limits {
            max_time: end + sim_core::SimDuration::from_secs(1),
            ..Limits::default()
        },
        record_trace: options.record_trace,
        choices: options.choices.clone(),
    }
}

/// The generator for this seed: in swarm mode each enabled kind is kept with
/// probability 1/2 (at least one is), with a weight of 1 to 4.
pub(crate) fn generator_for_seed(random: &RandomFaults, seed: u64) -> FaultGenerator {
    let mut generator = random.generator;
    if !random.swarm {
        return generator;
    }
    let mut rng = SimRng::new(seed, "swarm");
    let weights = &mut generator.weights;
    let slots = [
        &mut weights.crash,
        &mut weights.reset_data,
        &mut weights.pause,
        &mut weights.partition,
        &mut weights.one_way,
        &mut weights.isolate,
        &mut weights.clog,
        &mut weights.clock_skew,
        &mut weights.disk,
    ];
    let enabled: Vec<usize> = slots
        .iter()
        .enumerate()
        .filter(|(_, w)| ***w > 0)
        .map(|(i, _)| i)
        .collect();
    let mut chosen: Vec<(usize, u32)> = Vec::new();
    for &i in &enabled {
        if rng.chance(1, 2) {
            chosen.push((i, rng.between(1, 4) as u32));
        }
    }
    if chosen.is_empty()
        && let Some(&i) = rng.pick(&enabled)
    {
        chosen.push((i, 1));
    }
    for (i, slot) in slots.into_iter().enumerate() {
        *slot = chosen.iter().find(|&&(c, _)| c == i).map_or(0, |&(_, w)| w);
    }
    generator
}

/// The whole fault schedule of a case: the timeline plus the random faults of `seed`.
pub fn fault_schedule(scenario: &Scenario, seed: u64) -> FaultSchedule {
    let mut schedule = scenario.faults.clone();
    if let Some(random) = &scenario.random_faults {
        let nodes: Vec<NodeId> = (0..scenario.cluster.node_count()).map(NodeId).collect();
        let generated =
            generator_for_seed(random, seed).generate(&nodes, &mut SimRng::new(seed, "faults"));
        schedule = schedule.merged(&generated);
    }
    schedule
}

/// The faults that open the heal phase: every link healed, every clog cleared, every
/// node restarted and resumed, clocks running at the right rate, disks behaving.
pub(crate) fn heal_faults(node_count: u32) -> Vec<Fault> {
    let nodes = (0..node_count).map(NodeId);
    let mut faults = vec![Fault::Heal, Fault::UnclogAll];
    for node in nodes {
        faults.push(Fault::Restart(node));
        faults.push(Fault::Resume(node));
        faults.push(Fault::ClockDrift { node, ppm: 0 });
        faults.push(Fault::DiskFaults {
            node,
            faults: DiskFaults::NONE,
        });
    }
    faults
}

/// The time the heal phase starts.
pub(crate) fn heal_time(scenario: &Scenario) -> SimTime {
    SimTime::ZERO + scenario.duration
}

/// Runs the case twice and compares every step (see `sim_core::check_determinism`).
pub fn check_determinism(
    scenario: &Scenario,
    implementation: Implementation,
    seed: u64,
) -> Result<u64, Box<sim_core::Divergence>> {
    check_determinism_with(scenario, implementation, seed, &RunOptions::default())
}

/// [`check_determinism`] with run options (a choice-mode tape).
pub fn check_determinism_with(
    scenario: &Scenario,
    implementation: Implementation,
    seed: u64,
    options: &RunOptions,
) -> Result<u64, Box<sim_core::Divergence>> {
    match implementation {
        Implementation::DetsimChain => sim_core::check_determinism(
            || chain::build(scenario, seed, options).0,
            |sim| {
                chain::run_phases(sim, scenario);
                Ok(())
            },
        ),
        Implementation::DetsimRaft => sim_core::check_determinism(
            || {
                let mut sim = raft::raft_cluster(scenario, seed, options);
                raft::prepare(&mut sim, scenario, seed);
                sim
            },
            |sim| {
                raft::run_phases(sim, scenario);
                Ok(())
            },
        ),
        Implementation::RaftRs => raft::check_raft_rs_determinism(scenario, seed, options),
    }
}
