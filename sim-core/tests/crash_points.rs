//! Crash points: a node that dies in the middle of a handler, right after one of its
//! effects, with nothing after that effect happening.

mod common;

use common::{Recorder, at_ms, ms, recorders};
use sim_core::{Fault, Moment, NodeId, NodeStatus, Sim, SimConfig, SimDuration, SimTime, Strike};

/// A sim of three recorders with a crash point armed on node 0 at 1 ms.
fn armed(after: u32) -> Sim<Recorder> {
    let mut sim = recorders(3, SimConfig::new(1));
    sim.schedule(
        at_ms(1),
        Fault::CrashPoint {
            node: NodeId(0),
            after,
            on: None,
            down_for: None,
            strike: Strike::Crash,
            until: None,
        },
    );
    sim.run_to(at_ms(1)).unwrap();
    sim
}

/// Node 0 writes `key`, sends 1 to node 1, syncs, then sends 2 to node 2: a handler
/// with three effects.
fn write_send_sync_send(sim: &mut Sim<Recorder>) {
    let result = sim.call(NodeId(0), |_, ctx| {
        ctx.disk().write("key", *b"v");
        ctx.send(NodeId(1), 1);
        ctx.disk().sync();
        ctx.send(NodeId(2), 2);
    });
    assert!(result.is_some(), "node 0 was up when called");
}

fn received(sim: &Sim<Recorder>, node: u32) -> Vec<u64> {
    sim.node(NodeId(node))
        .map(Recorder::payloads)
        .unwrap_or_default()
}

#[test]
fn the_node_dies_right_after_its_next_effect_and_nothing_after_it_happens() {
    let mut sim = armed(0);
    write_send_sync_send(&mut sim);
    assert_eq!(
        sim.status(NodeId(0)),
        NodeStatus::Down,
        "down when the handler returns"
    );
    sim.run_for(ms(10)).unwrap();
    assert_eq!(received(&sim, 1), [1], "the first send went out");
    assert_eq!(received(&sim, 2), Vec::<u64>::new(), "the second did not");
    assert_eq!(
        sim.disk(NodeId(0)).peek("key"),
        None,
        "the sync never happened"
    );
    assert_eq!(sim.stats().crash_points, 1);
}

#[test]
fn a_later_point_lets_the_sync_through_and_stops_the_reply() {
    let mut sim = armed(1);
    write_send_sync_send(&mut sim);
    sim.run_for(ms(10)).unwrap();
    assert_eq!(received(&sim, 1), [1]);
    assert_eq!(received(&sim, 2), Vec::<u64>::new());
    assert_eq!(
        sim.disk(NodeId(0)).peek("key"),
        Some(&b"v"[..]),
        "synced before dying"
    );
}

#[test]
fn the_count_runs_across_handlers_and_a_broadcast_can_be_cut_short() {
    let mut sim = armed(2);
    common::send(&mut sim, 0, 1, 7); // effect 1
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Up);
    sim.call(NodeId(0), |_, ctx| ctx.broadcast(9)).expect("up"); // effects 2 and 3
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down);
    sim.run_for(ms(10)).unwrap();
    assert_eq!(received(&sim, 1), [7, 9]);
    assert_eq!(received(&sim, 2), [9], "the third effect is the last");
}

#[test]
fn a_restart_disarms_a_point_that_has_not_struck() {
    let mut sim = armed(0);
    sim.schedule(at_ms(2), Fault::Restart(NodeId(0)));
    sim.run_to(at_ms(2)).unwrap();
    write_send_sync_send(&mut sim);
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Up);
    sim.run_for(ms(10)).unwrap();
    assert_eq!(received(&sim, 2), [2]);
    assert_eq!(sim.stats().crash_points, 0);
}

#[test]
fn a_struck_node_comes_back_with_a_restart_and_what_it_synced() {
    let mut sim = armed(1);
    write_send_sync_send(&mut sim);
    sim.schedule(SimTime::from_millis(5), Fault::Restart(NodeId(0)));
    sim.run_for(ms(10)).unwrap();
    let node = sim.node(NodeId(0)).expect("restarted");
    assert!(node.recovered);
    assert_eq!(sim.disk(NodeId(0)).peek("key"), Some(&b"v"[..]));
}

#[test]
fn the_same_seed_strikes_the_same_way() {
    let run = || {
        let mut sim = armed(1);
        write_send_sync_send(&mut sim);
        sim.run_for(ms(10)).unwrap();
        sim.trace_hash()
    };
    assert_eq!(run(), run());
}

/// Numbers as messages, of two kinds: odd and even.
mod kinds {
    use sim_core::{Context, Node, NodeId};

    #[derive(Default)]
    pub(crate) struct Parity {
        pub(crate) heard: Vec<u64>,
    }

    impl Node for Parity {
        type Message = u64;
        type Timer = ();
        type Observation = ();

        /// Keeps what it heard, writes it down without syncing, emits `"heard odd"` or
        /// `"heard even"`, and echoes a message back to node 0 (which echoes nothing).
        fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, message: u64) {
            self.heard.push(message);
            ctx.disk().write(&format!("heard-{message}"), *b"1");
            ctx.event(if message.is_multiple_of(2) {
                "heard even"
            } else {
                "heard odd"
            });
            if ctx.id() != NodeId(0) {
                ctx.send(NodeId(0), message + 100);
            }
        }

        fn message_kind(message: &u64) -> &'static str {
            if message.is_multiple_of(2) {
                "even"
            } else {
                "odd"
            }
        }
    }
}

/// Two parity nodes with `point` armed at 1 ms; then node 0 sends node 1 the numbers
/// 1 to `last`, and they run for 10 ms.
fn parity_run(point: Fault, last: u64) -> Sim<kinds::Parity> {
    let mut sim = Sim::new(SimConfig::new(1));
    for _ in 0..2 {
        sim.add_node(|_| kinds::Parity::default());
    }
    sim.schedule(at_ms(1), point);
    sim.run_to(at_ms(1)).unwrap();
    sim.call(NodeId(0), |_, ctx| {
        for n in 1..=last {
            ctx.send(NodeId(1), n);
        }
    })
    .expect("up");
    sim.run_for(ms(10)).unwrap();
    sim
}

#[test]
fn a_point_with_a_kind_waits_for_a_message_of_that_kind() {
    let point = Fault::CrashPoint {
        node: NodeId(0),
        after: 1,
        on: Some(Moment::Sends("even".to_string())),
        down_for: None,
        strike: Strike::Crash,
        until: None,
    };
    let sim = parity_run(point, 6);
    // 1, 2 (the first even), 3, 4 (the second, the last): the odd ones do not count.
    assert_eq!(sim.node(NodeId(1)).unwrap().heard, [1, 2, 3, 4]);
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down);
}

/// Node 1 armed with a crash point on `on`, then sent 1 to 4 by node 0.
fn parity_with(on: Moment) -> Sim<kinds::Parity> {
    parity_struck(on, Strike::Crash, None)
}

/// [`parity_with`], with a point that strikes as `strike` says, for `down_for`.
fn parity_struck(on: Moment, strike: Strike, down_for: Option<SimDuration>) -> Sim<kinds::Parity> {
    let point = Fault::CrashPoint {
        node: NodeId(1),
        after: 0,
        on: Some(on),
        down_for,
        strike,
        until: None,
    };
    parity_run(point, 4)
}

#[test]
fn a_pause_point_lets_the_handler_finish_and_holds_the_rest_until_it_resumes() {
    let mut sim = parity_struck(
        Moment::Handles("even".to_string()),
        Strike::Pause,
        Some(ms(20)),
    );
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Paused);
    assert_eq!(sim.node(NodeId(0)).unwrap().heard, [101, 102]);
    sim.run_for(ms(30)).unwrap();
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Up, "resumed after 20 ms");
    assert_eq!(sim.node(NodeId(0)).unwrap().heard, [101, 102, 103, 104]);
    assert_eq!(sim.stats().crash_points, 1);
}

#[test]
fn an_isolate_point_cuts_the_node_off_with_what_it_just_sent_in_flight() {
    let mut sim = parity_struck(
        Moment::Emits("heard even".to_string()),
        Strike::Isolate,
        Some(ms(20)),
    );
    assert_eq!(
        sim.status(NodeId(1)),
        NodeStatus::Up,
        "cut off, not crashed"
    );
    // The handler of 2 went on past the event and echoed 102, but the cut caught it in
    // flight, with 101 sent just before, as it caught 3 and 4 on their way in.
    assert_eq!(sim.node(NodeId(1)).unwrap().heard, [1, 2]);
    assert_eq!(sim.node(NodeId(0)).unwrap().heard, Vec::<u64>::new());
    sim.run_for(ms(30)).unwrap();
    sim.call(NodeId(0), |_, ctx| ctx.send(NodeId(1), 6))
        .expect("up");
    sim.run_for(ms(10)).unwrap();
    assert_eq!(
        sim.node(NodeId(0)).unwrap().heard,
        [106],
        "healed after 20 ms"
    );
}

#[test]
fn a_point_on_handling_lets_the_handler_finish_then_crashes() {
    let sim = parity_with(Moment::Handles("even".to_string()));
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Down);
    // It handled 1 (odd: not counted) and 2, whose whole handler ran: the echo of 2
    // went out. Then it crashed, losing its unsynced writes, and 3 and 4 found it down.
    assert_eq!(sim.node(NodeId(0)).unwrap().heard, [101, 102]);
    assert_eq!(sim.disk(NodeId(1)).peek("heard-2"), None);
    assert_eq!(sim.stats().crash_points, 1);
}

#[test]
fn a_point_on_an_event_strikes_right_after_it_and_nothing_later_happens() {
    let sim = parity_with(Moment::Emits("heard even".to_string()));
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Down);
    // 1 was echoed; 2 emitted "heard even", and its echo, after the event, never left.
    assert_eq!(sim.node(NodeId(0)).unwrap().heard, [101]);
    // Events of other names do not count, and a run without a point is untouched.
    let other = parity_with(Moment::Emits("no such event".to_string()));
    assert_eq!(other.status(NodeId(1)), NodeStatus::Up);
    assert_eq!(other.node(NodeId(0)).unwrap().heard, [101, 102, 103, 104]);
}

#[test]
fn a_strike_moves_the_fault_epoch_so_cached_conditions_look_again() {
    let mut sim = armed(0);
    let before = sim.world().fault_epoch();
    let mut condition = sim_core::QuorumConnected::new(3);
    assert!(sim_core::Property::holds(&mut condition, &sim.world()));
    common::send(&mut sim, 0, 1, 1);
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down);
    assert!(sim.world().fault_epoch() > before);
    assert!(!sim_core::Property::holds(&mut condition, &sim.world()));
}

#[test]
fn a_point_with_a_down_time_restarts_the_node_that_long_after_it_strikes() {
    let mut sim = recorders(3, SimConfig::new(1));
    sim.schedule(
        at_ms(1),
        Fault::CrashPoint {
            node: NodeId(0),
            after: 0,
            on: None,
            down_for: Some(ms(30)),
            strike: Strike::Crash,
            until: None,
        },
    );
    // The point waits 50 ms for its moment; the down time counts from the strike.
    sim.run_to(at_ms(50)).unwrap();
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Up, "armed, not struck");
    write_send_sync_send(&mut sim);
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down);
    sim.run_to(at_ms(79)).unwrap();
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down, "down for 30 ms");
    sim.run_to(at_ms(81)).unwrap();
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Up, "back after 30 ms");
    // Restarted, it is disarmed: its effects happen again.
    write_send_sync_send(&mut sim);
    sim.run_for(ms(10)).unwrap();
    assert_eq!(received(&sim, 2), [2]);
    assert_eq!(sim.stats().crash_points, 1);
}

#[test]
fn a_full_trace_lists_the_events_of_each_step_and_the_hash_ignores_them() {
    let run = |record_trace: bool| {
        let mut sim = Sim::new(SimConfig {
            record_trace,
            ..SimConfig::new(1)
        });
        for _ in 0..2 {
            sim.add_node(|_| kinds::Parity::default());
        }
        sim.call(NodeId(0), |_, ctx| ctx.send(NodeId(1), 2))
            .expect("up");
        sim.run_for(ms(10)).unwrap();
        sim
    };
    let mut recorded = run(true);
    assert_eq!(recorded.trace_hash(), run(false).trace_hash());
    let trace = recorded.take_trace();
    let with_events: Vec<_> = trace
        .records
        .iter()
        .filter(|r| !r.events.is_empty())
        .collect();
    // Node 1 heard 2 and emitted "heard even"; node 0 heard the echo, 102.
    assert_eq!(with_events.len(), 2, "{:?}", trace.records);
    assert_eq!(with_events[0].events, ["heard even"]);
    assert_eq!(with_events[0].node, Some(NodeId(1)));
    assert!(
        with_events[0].to_string().ends_with("[heard even]"),
        "{}",
        with_events[0]
    );
}

#[test]
fn a_point_that_strikes_late_is_repaired_by_its_deadline() {
    let mut sim = recorders(3, SimConfig::new(1));
    sim.schedule(
        at_ms(1),
        Fault::CrashPoint {
            node: NodeId(0),
            after: 0,
            on: None,
            down_for: Some(ms(30)),
            strike: Strike::Crash,
            until: Some(at_ms(60)),
        },
    );
    sim.run_to(at_ms(50)).unwrap();
    write_send_sync_send(&mut sim);
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down, "struck at 50 ms");
    // 30 ms after the strike would be 80 ms; the deadline brings it back at 60 ms.
    sim.run_to(at_ms(59)).unwrap();
    assert_eq!(sim.status(NodeId(0)), NodeStatus::Down);
    sim.run_to(at_ms(61)).unwrap();
    assert_eq!(
        sim.status(NodeId(0)),
        NodeStatus::Up,
        "back by its deadline"
    );
}
