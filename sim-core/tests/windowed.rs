//! Whenever checks (liveness while a condition holds) and the connectivity they lean on,
//! each shown to catch a planted stall and to forgive what the condition excuses.

mod common;

use common::{Recorder, at_ms, ms, recorders};
use sim_core::{
    CheckKind, ClogTarget, Fault, LinkConfig, NodeId, Partition, QuorumConnected, SimConfig,
    SimDuration, SimTime, Window, World,
};

fn window(after_ms: u64, within_ms: u64) -> Window {
    Window::new(ms(after_ms), ms(within_ms))
}

fn node_up(node: u32) -> impl FnMut(&World<'_, Recorder>) -> bool {
    move |world| world.is_up(NodeId(node))
}

#[test]
fn a_property_that_never_holds_fails_once_the_condition_has_held_for_after_plus_within() {
    let mut sim = recorders(3, SimConfig::new(5));
    sim.whenever(
        "never",
        QuorumConnected::majority(3),
        window(300, 200),
        |_: &World<'_, Recorder>| false,
    );
    let stop = sim.run_for(SimDuration::from_secs(2)).unwrap_err();
    let violation = stop.violation().unwrap();
    assert_eq!(violation.kind, CheckKind::Whenever);
    assert_eq!(violation.check, "never");
    // Nodes start at 0: the quorum is connected from the first step.
    assert_eq!(violation.window, Some((at_ms(300), at_ms(500))));
    assert_eq!(violation.time, at_ms(500));
    assert_eq!(
        sim.now(),
        at_ms(500),
        "the run stops when the window closes"
    );
    assert!(sim.outcome().liveness_failed());
    assert!(
        violation.message.contains("from t=300ms to t=500ms"),
        "{violation}"
    );
}

#[test]
fn a_stall_in_the_middle_of_a_run_fails_within_the_window_of_its_start() {
    let mut sim = recorders(3, SimConfig::new(5));
    sim.whenever(
        "node 0 up",
        QuorumConnected::new(2),
        window(100, 250),
        node_up(0),
    );
    sim.schedule(SimTime::from_secs(4), Fault::Crash(NodeId(0)));
    let stop = sim.run_for(SimDuration::from_secs(10)).unwrap_err();
    let violation = stop.violation().unwrap();
    // Owed again the moment it turned false, due 250 ms later: not met once and for all.
    assert_eq!(violation.window, Some((at_ms(4_000), at_ms(4_250))));
}

#[test]
fn a_property_that_comes_back_in_time_passes() {
    let mut sim = recorders(3, SimConfig::new(5));
    sim.whenever(
        "node 0 up",
        QuorumConnected::new(2),
        window(100, 250),
        node_up(0),
    );
    for second in 1..5 {
        sim.schedule(SimTime::from_secs(second), Fault::Crash(NodeId(0)));
        sim.schedule(
            SimTime::from_secs(second) + ms(249),
            Fault::Restart(NodeId(0)),
        );
    }
    sim.run_for(SimDuration::from_secs(6)).unwrap();
    let coverage = sim
        .outcome()
        .coverage
        .into_iter()
        .find(|c| c.kind == CheckKind::Whenever)
        .unwrap();
    assert_eq!(coverage.first.map(|(_, t)| t), Some(at_ms(100)));
    assert!(coverage.hits > 0);
}

#[test]
fn a_broken_condition_forgives_and_a_new_one_waits_its_after_again() {
    let mut sim = recorders(3, SimConfig::new(5));
    // Node 0 down is excused while nodes 1 and 2 cannot reach each other.
    sim.whenever(
        "node 0 up",
        QuorumConnected::new(2),
        window(1_000, 100),
        node_up(0),
    );
    sim.schedule(SimTime::from_secs(1), Fault::Crash(NodeId(0)));
    sim.schedule(
        at_ms(1_050),
        Fault::Partition(Partition::Isolate(NodeId(1))),
    );
    sim.schedule(SimTime::from_secs(3), Fault::Heal);
    let stop = sim.run_for(SimDuration::from_secs(10)).unwrap_err();
    let violation = stop.violation().unwrap();
    // The quorum {1, 2} is back at 3 s; the property is owed from 4 s, due at 4.1 s.
    assert_eq!(violation.window, Some((at_ms(4_000), at_ms(4_100))));
}

#[test]
fn every_kind_of_cut_counts_in_who_is_linked() {
    let mut sim = recorders(4, SimConfig::new(1));
    let (a, b, c, d) = (NodeId(0), NodeId(1), NodeId(2), NodeId(3));
    let faults = [
        Fault::Partition(Partition::Link {
            source: a,
            target: b,
        }),
        Fault::Clog {
            target: ClogTarget::Link {
                source: c,
                target: d,
            },
            duration: None,
        },
    ];
    for fault in faults {
        sim.schedule(at_ms(10), fault);
    }
    sim.run_to(at_ms(20)).unwrap();
    let world = sim.world();
    assert!(
        !world.can_send(a, b) && world.can_send(b, a),
        "a one-way cut"
    );
    assert!(!world.linked(a, b));
    assert!(
        !world.can_send(c, d) && world.can_send(d, c),
        "a clogged link"
    );
    assert!(world.linked(a, c) && world.linked(b, d));
    assert_eq!(world.largest_connected_group().len(), 2);
    assert_eq!(world.linked_with(a).collect::<Vec<_>>(), [c, d]);
}

#[test]
fn crashes_pauses_clogged_nodes_and_lossy_links_leave_the_group() {
    let mut sim = recorders(5, SimConfig::new(1));
    let total_loss = LinkConfig {
        loss: sim_core::Chance::ALWAYS,
        ..LinkConfig::default()
    };
    sim.schedule(at_ms(10), Fault::Crash(NodeId(0)));
    sim.schedule(at_ms(10), Fault::Pause(NodeId(1)));
    sim.schedule(
        at_ms(10),
        Fault::SetLink {
            source: NodeId(3),
            target: NodeId(4),
            config: Box::new(total_loss),
        },
    );
    sim.run_to(at_ms(20)).unwrap();
    let before = sim.world().fault_epoch();
    assert_eq!(sim.world().largest_connected_group().len(), 2);
    assert!(!sim.world().is_up(NodeId(1)));
    sim.schedule(
        at_ms(30),
        Fault::Clog {
            target: ClogTarget::Node(NodeId(2)),
            duration: None,
        },
    );
    sim.run_to(at_ms(40)).unwrap();
    assert_eq!(sim.world().fault_epoch(), before + 1);
    assert_eq!(sim.world().largest_connected_group().len(), 1);
    assert_eq!(sim.world().linked_with(NodeId(3)).count(), 0);
}

#[test]
fn a_whenever_check_does_not_change_the_run() {
    let run = |checked: bool| {
        let mut sim = recorders(3, SimConfig::new(9));
        if checked {
            sim.whenever(
                "up",
                QuorumConnected::majority(3),
                window(10, 10),
                node_up(0),
            );
        }
        sim.schedule(at_ms(100), Fault::Partition(Partition::Isolate(NodeId(2))));
        for step in 0..50 {
            common::send(&mut sim, step % 3, (step + 1) % 3, u64::from(step));
        }
        sim.run_for(SimDuration::from_secs(1)).unwrap();
        sim.trace_hash()
    };
    assert_eq!(run(true), run(false));
}
