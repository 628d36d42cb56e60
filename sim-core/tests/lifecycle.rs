//! Crash, restart, reset, pause and clock skew, seen from the nodes.

mod common;

use common::{Recorder, at_ms, ms, node, recorders, send};
use sim_core::{Fault, NodeId, NodeStatus, Sim, SimConfig, SimDuration, SimTime};

#[test]
fn nodes_start_once_when_added() {
    let sim = recorders(3, SimConfig::new(1));
    for id in 0..3 {
        assert!(node(&sim, id).started);
        assert!(!node(&sim, id).recovered);
    }
    assert_eq!(sim.stats().starts, 3);
}

#[test]
fn a_crash_loses_volatile_state_and_unsynced_writes_but_keeps_synced_ones() {
    let mut sim = recorders(2, SimConfig::new(1));
    send(&mut sim, 0, 1, 7);
    sim.run_for(ms(5)).unwrap();
    sim.call(NodeId(1), |_, ctx| {
        ctx.disk().write("state", b"synced".to_vec());
        ctx.disk().sync();
        ctx.disk().write("state", b"unsynced".to_vec());
        ctx.disk().write("scratch", b"gone".to_vec());
    });
    assert_eq!(node(&sim, 1).payloads(), [7]);

    sim.schedule(at_ms(10), Fault::Crash(NodeId(1)));
    sim.run_to(at_ms(10)).unwrap();
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Down);
    assert!(sim.node(NodeId(1)).is_none(), "volatile state is gone");

    sim.schedule(at_ms(20), Fault::Restart(NodeId(1)));
    sim.run_to(at_ms(20)).unwrap();
    let restarted = node(&sim, 1);
    assert!(restarted.recovered);
    assert!(
        restarted.received.is_empty(),
        "a fresh node remembers nothing"
    );
    assert_eq!(restarted.restored.as_deref(), Some(&b"synced"[..]));
    assert_eq!(sim.disk(NodeId(1)).peek("scratch"), None);
}

#[test]
fn messages_to_a_crashed_node_are_dropped_and_its_timers_die() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.call(NodeId(1), |_, ctx| {
        ctx.set_timer(ms(50), 1);
    });
    send(&mut sim, 0, 1, 9);
    sim.schedule(sim.now(), Fault::Crash(NodeId(1)));
    sim.schedule(at_ms(20), Fault::Restart(NodeId(1)));
    sim.run_for(ms(100)).unwrap();
    let restarted = node(&sim, 1);
    assert!(restarted.received.is_empty());
    assert!(
        restarted.fired.is_empty(),
        "a timer of the old incarnation fired"
    );
    assert_eq!(sim.stats().dropped_at_down_node, 1);
}

#[test]
fn reset_data_wipes_the_disk_and_restart_recovers_empty() {
    let mut sim = recorders(1, SimConfig::new(1));
    sim.call(NodeId(0), |_, ctx| {
        ctx.disk().write("state", vec![1]);
        ctx.disk().sync();
    });
    sim.schedule(at_ms(1), Fault::ResetData(NodeId(0)));
    sim.schedule(at_ms(2), Fault::Restart(NodeId(0)));
    sim.run_for(ms(3)).unwrap();
    assert!(node(&sim, 0).recovered);
    assert_eq!(node(&sim, 0).restored, None);
    assert!(sim.disk(NodeId(0)).keys().is_empty());
}

#[test]
fn faults_are_idempotent() {
    let mut sim = recorders(1, SimConfig::new(1));
    for fault in [
        Fault::Restart(NodeId(0)),
        Fault::Resume(NodeId(0)),
        Fault::Heal,
        Fault::UnclogAll,
    ] {
        sim.schedule(at_ms(1), fault);
    }
    sim.run_for(ms(2)).unwrap();
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Up);
    assert!(
        !node(&sim, 0).recovered,
        "restarting a running node did something"
    );
}

#[test]
fn a_paused_node_handles_nothing_until_resumed_then_everything_in_order() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.call(NodeId(1), |_, ctx| {
        ctx.set_timer(ms(3), 42);
    });
    sim.schedule(at_ms(0), Fault::Pause(NodeId(1)));
    sim.run_to(at_ms(0)).unwrap();
    for payload in 0..3 {
        send(&mut sim, 0, 1, payload);
    }
    sim.run_to(at_ms(50)).unwrap();
    let paused = node(&sim, 1);
    assert!(paused.received.is_empty() && paused.fired.is_empty());
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Paused);
    assert_eq!(
        sim.world().in_flight().count(),
        3,
        "waiting messages are in flight"
    );

    sim.schedule(at_ms(60), Fault::Resume(NodeId(1)));
    sim.run_to(at_ms(60)).unwrap();
    let resumed = node(&sim, 1);
    assert_eq!(resumed.payloads(), [0, 1, 2]);
    assert!(resumed.received.iter().all(|&(t, _, _)| t == at_ms(60)));
    assert_eq!(resumed.fired, [(at_ms(60), 42)]);
}

#[test]
fn clock_skew_shifts_a_nodes_view_of_time_and_drift_changes_its_timers() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.schedule(
        at_ms(0),
        Fault::ClockSkew {
            node: NodeId(1),
            offset_ns: 5_000_000_000,
        },
    );
    sim.schedule(
        at_ms(0),
        Fault::ClockDrift {
            node: NodeId(0),
            ppm: 100_000,
        },
    );
    sim.run_to(at_ms(0)).unwrap();
    send(&mut sim, 0, 1, 1);
    sim.call(NodeId(0), |_, ctx| {
        ctx.set_timer(SimDuration::from_secs(11), 0);
    });
    sim.run_to(SimTime::from_secs(20)).unwrap();
    // Node 1 is 5 s ahead: the message sent at 0 with 1 ms latency arrives at its 5.001 s.
    assert_eq!(node(&sim, 1).received[0].0, SimTime::from_millis(5_001));
    // Node 0 runs 10% fast: 11 of its seconds pass in 10 true seconds.
    let (local, _) = node(&sim, 0).fired[0];
    assert_eq!(local, SimTime::from_secs(11));
    assert_eq!(sim.world().local_time(NodeId(0)), SimTime::from_secs(22));
    assert_eq!(sim.world().local_time(NodeId(1)), SimTime::from_secs(25));
}

#[test]
fn cancelled_timers_never_fire_and_others_do_in_order() {
    let mut sim = recorders(1, SimConfig::new(1));
    sim.call(NodeId(0), |_, ctx| {
        let doomed = ctx.set_timer(ms(5), 1);
        ctx.set_timer(ms(7), 2);
        ctx.set_timer(ms(3), 3);
        assert!(ctx.cancel_timer(doomed));
        assert!(!ctx.cancel_timer(doomed), "cancelled twice");
    });
    sim.run_for(ms(10)).unwrap();
    assert_eq!(node(&sim, 0).fired, [(at_ms(3), 3), (at_ms(7), 2)]);
}

/// Nodes added with a start spread: when each of them started.
fn start_times(seed: u64, spread_ms: u64) -> Vec<SimTime> {
    let config = SimConfig {
        start_spread: SimDuration::from_millis(spread_ms),
        ..SimConfig::new(seed)
    };
    let mut sim: Sim<Recorder> = Sim::new(config);
    for _ in 0..5 {
        sim.add_node(|_| Recorder::default());
    }
    let mut started = vec![None; 5];
    while let Some(step) = sim.step().unwrap() {
        if step.kind == sim_core::StepKind::Start {
            started[step.node.unwrap().index()] = Some(step.time);
        }
    }
    started.into_iter().map(Option::unwrap).collect()
}

#[test]
fn a_start_spread_starts_nodes_at_seeded_times_within_it() {
    let times = start_times(3, 200);
    assert!(
        times.iter().all(|&t| t <= SimTime::from_millis(200)),
        "{times:?}"
    );
    let mut distinct = times.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 1, "not in lockstep: {times:?}");
    assert_eq!(times, start_times(3, 200), "the same seed, the same starts");
    assert_ne!(times, start_times(4, 200));
    assert_eq!(
        start_times(3, 0),
        vec![SimTime::ZERO; 5],
        "no spread: all at once"
    );
}

#[test]
fn a_node_is_down_until_its_spread_start_and_cannot_be_restarted_before() {
    let config = SimConfig {
        start_spread: SimDuration::from_secs(10),
        ..SimConfig::new(1)
    };
    let mut sim: Sim<Recorder> = Sim::new(config);
    let late = sim.add_node(|_| Recorder::default());
    sim.schedule(SimTime::ZERO, Fault::Restart(late));
    sim.run_for(SimDuration::ZERO).unwrap();
    assert_eq!(sim.status(late), NodeStatus::Down);
    assert!(sim.node(late).is_none(), "no state before its start");
    sim.run_for(SimDuration::from_secs(10)).unwrap();
    let node = sim.node(late).expect("started within the spread");
    assert!(
        node.started && !node.recovered,
        "started, not recovered: {node:?}"
    );
}
