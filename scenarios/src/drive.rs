//! The one phase driver every case runs through, whatever its protocol.
//!
//! 1. **Build**: the implementation makes the simulation from the scenario's engine
//!    config and installs the invariants ([`prepare`]).
//! 2. **Schedule**: the fault timeline plus the random faults of the seed, then the
//!    implementation's workload (in that order, so that a fault and a request at the same
//!    instant happen fault first).
//! 3. **Fault phase**: run to the scenario's `duration`; every invariant after every step.
//! 4. **Heal phase**: the core of the cluster (`[heal] nodes`) is repaired: its links
//!    healed and unclogged, its nodes restarted and resumed, their clocks running at the
//!    right rate and their disks behaving. The rest are crashed, isolated, paused or left
//!    as they are (`[heal] others`). Then the implementation says what liveness means,
//!    and it must hold by `duration + heal.within`.
//! 5. **Judge**: the implementation's final assertions and facts on the end state.
//!
//! A violation at any point stops the run; the outcome says which check failed.

use sim_core::{
    DiskFaults, Fault, Limits, NodeId, Partition, QuorumConnected, Sim, SimConfig, SimDuration,
};

use crate::case::{Driven, RunOptions, SubResult};
use crate::model::{HealOthers, Scenario};
use crate::protocol::{Case, HealPhase, Implementation, Protocol};

/// Builds, runs and judges one case.
pub(crate) fn drive<P: Protocol, I: Implementation<P>>(
    implementation: &I,
    case: &Case<'_, P>,
    options: &RunOptions,
) -> Driven {
    let (mut sim, mut state) = prepare(implementation, case, options);
    run_phases(implementation, case, &mut sim, &mut state);
    let world = sim.world();
    let mut extra: Vec<(SubResult, bool)> = implementation
        .finals(case, &world, &state)
        .into_iter()
        .map(|check| {
            let liveness = check.liveness;
            (SubResult::final_check(check.check, check.outcome), liveness)
        })
        .collect();
    let facts = implementation.facts(case, &world, &state);
    let outcome = sim.outcome();
    let windowed = outcome
        .coverage
        .iter()
        .any(|c| c.kind == sim_core::CheckKind::Whenever);
    if case.scenario.while_connected.is_some() && !windowed {
        // Asked for, but the implementation defines no progress to judge: say so in
        // the report rather than by an absence.
        let skipped = SubResult {
            check: "while connected".to_string(),
            kind: "whenever".to_string(),
            passed: true,
            detail: format!(
                "not run: {} defines no progress for it (Implementation::while_connected)",
                implementation.name()
            ),
        };
        extra.push((skipped, true));
    }
    Driven {
        outcome,
        extra,
        trace: options.record_trace.then(|| sim.take_trace()),
        facts,
    }
}

/// Steps 1 and 2: the simulation of a case with its faults and workload in place.
pub(crate) fn prepare<P: Protocol, I: Implementation<P>>(
    implementation: &I,
    case: &Case<'_, P>,
    options: &RunOptions,
) -> (Sim<I::Node>, I::State) {
    let config = sim_config(case.scenario, case.seed, options);
    let (mut sim, mut state) = implementation.build(case, config);
    assert_eq!(
        sim.node_count(),
        case.scenario.node_count(),
        "{} built {} nodes for a plan that names {}",
        implementation.name(),
        sim.node_count(),
        case.scenario.node_count()
    );
    sim.schedule_all(&case.scenario.fault_schedule(case.seed));
    implementation.workload(case, &mut sim, &mut state);
    if let Some(connected) = &case.scenario.while_connected
        && let Some(liveness) =
            implementation.while_connected(case, connected, &mut sim, &mut state)
    {
        let condition = QuorumConnected::new(connected.quorum as usize);
        sim.whenever(
            &liveness.name,
            condition,
            connected.window,
            liveness.property,
        );
    }
    (sim, state)
}

/// Steps 3 and 4: the fault phase, then the heal phase with its liveness deadline.
/// Stops early on a violation (the outcome says which).
pub(crate) fn run_phases<P: Protocol, I: Implementation<P>>(
    implementation: &I,
    case: &Case<'_, P>,
    sim: &mut Sim<I::Node>,
    state: &mut I::State,
) {
    let scenario = case.scenario;
    let heal = heal_phase(scenario, case.seed);
    if sim.run_to(heal.at).is_err() {
        return;
    }
    for fault in heal_faults(&heal, scenario.heal.others) {
        sim.schedule(heal.at, fault);
    }
    if sim.run_to(heal.at).is_err() {
        return;
    }
    if let Some(liveness) = implementation.liveness(case, &heal, sim, state) {
        sim.eventually(&liveness.name, heal.deadline, liveness.property);
    }
    let _ = sim.run_to(heal.deadline);
}

/// The engine config of a scenario for a seed.
pub(crate) fn sim_config(scenario: &Scenario, seed: u64, options: &RunOptions) -> SimConfig {
    let end = sim_core::SimTime::ZERO + scenario.total_duration();
    SimConfig {
        seed,
        network: scenario.network.clone(),
        tie_break: scenario.tie_break,
        limits: Limits {
            max_time: end + SimDuration::from_secs(1),
            max_steps: scenario.max_steps,
        },
        record_trace: options.record_trace,
        choices: options.choices.clone(),
        cancel: options.cancel.clone(),
        start_spread: scenario.start_spread,
    }
}

/// The heal phase of a case with `seed`.
pub(crate) fn heal_phase(scenario: &Scenario, seed: u64) -> HealPhase {
    let (core, others) = scenario.heal.split(scenario.node_count(), seed);
    let at = scenario.heal_time();
    HealPhase {
        at,
        deadline: at + scenario.heal.within,
        progress: scenario.heal.progress,
        core,
        others,
    }
}

/// The faults that open the heal phase: every link healed and every clog cleared; every
/// node of the core restarted and resumed, its clock running at the right rate and its
/// disk behaving. The others then get what `[heal] others` says: crashed; repaired and
/// then cut off from every other node; repaired and then paused; or nothing (their nodes
/// stay crashed or paused, their clocks and disks as they were).
pub(crate) fn heal_faults(heal: &HealPhase, others: HealOthers) -> Vec<Fault> {
    let mut faults = vec![Fault::Heal, Fault::UnclogAll];
    for &node in &heal.core {
        faults.extend(repairs(node));
    }
    for &node in &heal.others {
        match others {
            HealOthers::Crash => faults.push(Fault::Crash(node)),
            HealOthers::Isolate => {
                faults.extend(repairs(node));
                faults.push(Fault::Partition(Partition::Isolate(node)));
            }
            HealOthers::Pause => {
                faults.extend(repairs(node));
                faults.push(Fault::Pause(node));
            }
            HealOthers::AsLeft => {}
        }
    }
    faults
}

/// What repairs one node: restart, resume, a true clock rate, a good disk.
fn repairs(node: NodeId) -> [Fault; 4] {
    [
        Fault::Restart(node),
        Fault::Resume(node),
        Fault::ClockDrift { node, ppm: 0 },
        Fault::DiskFaults {
            node,
            faults: DiskFaults::NONE,
        },
    ]
}
