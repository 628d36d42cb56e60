//! Each kind of check, each shown to catch a planted violation.

mod common;

use common::{at_ms, ms, recorders, send};
use sim_core::{CheckKind, NodeId, SimConfig, SimTime, Stop};

#[test]
fn an_always_check_passes_while_it_holds() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.always("few messages", |world| {
        if world.in_flight().count() <= 5 {
            Ok(())
        } else {
            Err("too many in flight".to_string())
        }
    });
    send(&mut sim, 0, 1, 1);
    sim.run_for(ms(10)).unwrap();
    let coverage = &sim.outcome().coverage[0];
    assert_eq!(coverage.kind, CheckKind::Always);
    assert!(coverage.hits > 0, "the check never ran");
}

#[test]
fn an_always_check_catches_a_planted_violation_with_step_time_and_seed() {
    let mut sim = recorders(2, SimConfig::new(77));
    sim.always("never receive 13", |world| {
        for observation in world.observations() {
            if observation.value == 13 {
                return Err(format!("{} received 13", observation.node));
            }
        }
        Ok(())
    });
    sim.run_to(at_ms(5)).unwrap();
    send(&mut sim, 0, 1, 12);
    send(&mut sim, 0, 1, 13);
    let stop = sim.run_for(ms(10)).unwrap_err();
    let violation = stop.violation().expect("a violation, not a limit");
    assert_eq!(violation.check, "never receive 13");
    assert_eq!(violation.kind, CheckKind::Always);
    assert_eq!(violation.message, "n1 received 13");
    assert_eq!(violation.time, at_ms(6));
    assert_eq!(violation.seed, 77);
    assert_eq!(violation.step, sim.outcome().stats.steps);
    assert!(sim.outcome().safety_failed());
    // A stopped run stays stopped.
    assert_eq!(sim.run_for(ms(1)).unwrap_err(), stop);
    assert!(violation.to_string().contains("seed 77"));
}

#[test]
fn an_eventually_check_is_satisfied_once_it_holds_by_the_deadline() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.eventually("node 1 hears something", at_ms(10), |world| {
        world
            .node(NodeId(1))
            .is_some_and(|n| !n.received.is_empty())
    });
    send(&mut sim, 0, 1, 1);
    sim.run_for(ms(50)).unwrap();
    let coverage = &sim.outcome().coverage[0];
    assert_eq!(coverage.first.map(|(_, t)| t), Some(at_ms(1)));
}

#[test]
fn an_eventually_check_fails_when_its_deadline_passes() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.eventually("node 1 hears 99", at_ms(10), |world| {
        world
            .node(NodeId(1))
            .is_some_and(|n| n.payloads().contains(&99))
    });
    send(&mut sim, 0, 1, 1);
    let stop = sim.run_for(ms(50)).unwrap_err();
    let violation = stop.violation().unwrap();
    assert_eq!(violation.kind, CheckKind::Eventually);
    assert_eq!(violation.time, at_ms(10));
    assert_eq!(sim.now(), at_ms(10), "the run stops at the deadline");
    assert!(sim.outcome().liveness_failed());
}

#[test]
fn a_deadline_is_noticed_even_when_nothing_happens() {
    let mut sim = recorders(1, SimConfig::new(1));
    sim.eventually("impossible", SimTime::from_secs(1), |_| false);
    let stop = sim.run_for(ms(999)).map(|()| sim.run_for(ms(2)));
    assert!(matches!(stop, Ok(Err(Stop::Violation(_)))));
}

#[test]
fn a_sometimes_check_counts_what_was_reached_and_what_never_was() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.sometimes("two in flight", |world| world.in_flight().count() == 2);
    sim.sometimes("ten in flight", |world| world.in_flight().count() == 10);
    send(&mut sim, 0, 1, 1);
    send(&mut sim, 0, 1, 2);
    sim.run_for(ms(5)).unwrap();
    let outcome = sim.outcome();
    assert!(outcome.passed(), "sometimes checks never fail a run");
    assert!(outcome.coverage[0].hits >= 1);
    assert_eq!(
        outcome.never_reached().collect::<Vec<_>>(),
        ["ten in flight"]
    );
}

#[test]
fn checks_see_every_node_state_and_the_messages_in_flight() {
    let mut sim = recorders(3, SimConfig::new(1));
    send(&mut sim, 0, 2, 5);
    let world = sim.world();
    let flying: Vec<_> = world
        .in_flight()
        .map(|m| (m.source, m.target, *m.message, m.arrives_at))
        .collect();
    assert_eq!(flying, [(NodeId(0), NodeId(2), 5, Some(at_ms(1)))]);
    assert_eq!(world.nodes().count(), 3);
}
