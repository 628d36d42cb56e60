//! Step, run for, run until, and the limits that bound every run.

mod common;

use common::{at_ms, ms, node, recorders, send};
use sim_core::{
    Cancel, Limits, NodeId, RunUntilError, SimConfig, SimDuration, SimTime, StepKind, Stop,
};

#[test]
fn step_takes_one_event_at_a_time() {
    let mut sim = recorders(2, SimConfig::new(1));
    send(&mut sim, 0, 1, 1);
    let steps_before = sim.outcome().stats.steps;
    let info = sim.step().unwrap().expect("a delivery is pending");
    assert_eq!(info.kind, StepKind::Deliver);
    assert_eq!(info.node, Some(NodeId(1)));
    assert_eq!(info.time, at_ms(1));
    assert_eq!(info.step, steps_before + 1);
    assert_eq!(sim.step().unwrap(), None, "nothing left");
}

#[test]
fn run_for_advances_the_clock_even_when_idle() {
    let mut sim = recorders(1, SimConfig::new(1));
    sim.run_for(SimDuration::from_hours(3)).unwrap();
    assert_eq!(sim.now(), SimTime::from_secs(3 * 3_600));
}

#[test]
fn run_until_stops_as_soon_as_the_condition_holds() {
    let mut sim = recorders(2, SimConfig::new(1));
    for payload in 0..5 {
        sim.schedule_call(at_ms(10 * payload), NodeId(0), move |_, ctx| {
            ctx.send(NodeId(1), payload);
        });
    }
    let when = sim
        .run_until(
            |world| world.node(NodeId(1)).is_some_and(|n| n.received.len() == 3),
            SimTime::from_secs(1),
        )
        .unwrap();
    assert_eq!(when, at_ms(21));
    assert_eq!(node(&sim, 1).received.len(), 3);
}

#[test]
fn run_until_reports_a_passed_deadline() {
    let mut sim = recorders(2, SimConfig::new(1));
    let error = sim
        .run_until(
            |world| {
                world
                    .node(NodeId(1))
                    .is_some_and(|n| !n.received.is_empty())
            },
            at_ms(5),
        )
        .unwrap_err();
    assert_eq!(error, RunUntilError::DeadlinePassed { deadline: at_ms(5) });
    assert_eq!(sim.now(), at_ms(5));
}

#[test]
fn the_step_limit_stops_a_run() {
    let config = SimConfig {
        limits: Limits {
            max_steps: 10,
            ..Limits::default()
        },
        ..SimConfig::new(1)
    };
    let mut sim = recorders(2, config);
    sim.call(NodeId(0), |_, ctx| {
        for payload in 0..20 {
            ctx.send(NodeId(1), payload);
        }
    });
    assert_eq!(sim.run_for(ms(5)).unwrap_err(), Stop::StepLimit(10));
    assert_eq!(sim.outcome().stats.steps, 10);
    assert!(!sim.outcome().passed());
}

#[test]
fn a_cancel_token_stops_a_run_within_a_poll_interval_and_a_fresh_one_does_not() {
    let chatter = |cancel: Option<Cancel>| {
        let mut sim = recorders(
            2,
            SimConfig {
                cancel,
                ..SimConfig::new(1)
            },
        );
        for payload in 0..3 * Cancel::POLL_STEPS {
            sim.schedule_call(at_ms(payload), NodeId(0), move |_, ctx| {
                ctx.send(NodeId(1), payload);
            });
        }
        sim
    };
    let token = Cancel::new();
    let mut untouched = chatter(Some(token.clone()));
    untouched.run_for(SimDuration::from_secs(20)).unwrap();
    let steps = untouched.outcome().stats.steps;
    assert!(steps > 3 * Cancel::POLL_STEPS, "{steps}");
    assert_eq!(untouched.outcome().trace_hash, {
        let mut plain = chatter(None);
        plain.run_for(SimDuration::from_secs(20)).unwrap();
        plain.outcome().trace_hash
    });

    let token = Cancel::new();
    let mut cancelled = chatter(Some(token.clone()));
    token.cancel();
    let stop = cancelled.run_for(SimDuration::from_secs(20)).unwrap_err();
    assert_eq!(stop, Stop::Cancelled(Cancel::POLL_STEPS));
    assert!(!cancelled.outcome().passed());
}

#[test]
fn the_time_limit_stops_a_run() {
    let config = SimConfig {
        limits: Limits {
            max_time: SimTime::from_secs(60),
            ..Limits::default()
        },
        ..SimConfig::new(1)
    };
    let mut sim = recorders(1, config);
    let stop = sim.run_for(SimDuration::from_secs(90)).unwrap_err();
    assert_eq!(stop, Stop::TimeLimit(SimTime::from_secs(60)));
    assert_eq!(sim.now(), SimTime::from_secs(60));
}

#[test]
fn scheduled_calls_to_a_down_node_are_dropped() {
    let mut sim = recorders(1, SimConfig::new(1));
    sim.schedule(at_ms(1), sim_core::Fault::Crash(NodeId(0)));
    sim.schedule_call(at_ms(2), NodeId(0), |_, _| panic!("called a crashed node"));
    sim.run_for(ms(3)).unwrap();
    assert_eq!(sim.stats().calls_dropped, 1);
    assert_eq!(sim.call(NodeId(0), |_, _| ()), None);
}
