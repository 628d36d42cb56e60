//! The network model seen from the nodes: faults, partitions, clogs, notifications.

mod common;

use common::{at_ms, ms, node, recorders, send};
use sim_core::{
    Chance, ClogTarget, Fault, FaultSchedule, Latency, LinkConfig, LinkOverride, NetworkConfig,
    NodeId, Partition, SimConfig, SimDuration,
};

fn with_link(link: LinkConfig) -> SimConfig {
    SimConfig {
        network: NetworkConfig {
            default_link: link,
            ..NetworkConfig::default()
        },
        ..SimConfig::new(3)
    }
}

#[test]
fn messages_arrive_after_the_link_latency() {
    let mut sim = recorders(
        2,
        with_link(LinkConfig::with_latency(Latency::Constant(ms(7)))),
    );
    send(&mut sim, 0, 1, 1);
    sim.run_for(ms(20)).unwrap();
    assert_eq!(node(&sim, 1).received, [(at_ms(7), NodeId(0), 1)]);
}

#[test]
fn lossy_links_lose_some_and_duplicating_links_deliver_twice() {
    let lossy = LinkConfig {
        loss: Chance::percent(50),
        ..LinkConfig::default()
    };
    let mut sim = recorders(2, with_link(lossy));
    for payload in 0..200 {
        send(&mut sim, 0, 1, payload);
    }
    sim.run_for(ms(5)).unwrap();
    let got = node(&sim, 1).received.len();
    assert!((70..130).contains(&got), "{got} of 200 arrived");
    assert_eq!(sim.stats().network.dropped_loss as usize, 200 - got);

    let doubling = LinkConfig {
        duplicate: Chance::ALWAYS,
        ..LinkConfig::default()
    };
    let mut sim = recorders(2, with_link(doubling));
    send(&mut sim, 0, 1, 5);
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [5, 5]);
}

#[test]
fn variable_latency_reorders_but_fifo_links_do_not() {
    let jittery = LinkConfig::with_latency(Latency::Uniform {
        min: ms(1),
        max: ms(50),
    });
    let run = |link: LinkConfig| {
        let mut sim = recorders(2, with_link(link));
        for payload in 0..50 {
            send(&mut sim, 0, 1, payload);
        }
        sim.run_for(ms(200)).unwrap();
        node(&sim, 1).payloads()
    };
    let sorted: Vec<u64> = (0..50).collect();
    assert_ne!(run(jittery.clone()), sorted);
    let fifo = LinkConfig {
        fifo: true,
        ..jittery
    };
    assert_eq!(run(fifo), sorted);
}

#[test]
fn a_full_link_queue_drops_and_counts() {
    let narrow = LinkConfig {
        queue_capacity: 4,
        ..LinkConfig::default()
    };
    let mut sim = recorders(2, with_link(narrow));
    for payload in 0..10 {
        send(&mut sim, 0, 1, payload);
    }
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [0, 1, 2, 3]);
    assert_eq!(sim.stats().network.dropped_overflow, 6);
}

#[test]
fn per_link_settings_override_the_default() {
    let config = SimConfig {
        network: NetworkConfig {
            links: vec![LinkOverride {
                source: NodeId(0),
                target: NodeId(2),
                config: LinkConfig::with_latency(Latency::Constant(ms(40))),
            }],
            ..NetworkConfig::default()
        },
        ..SimConfig::new(1)
    };
    let mut sim = recorders(3, config);
    send(&mut sim, 0, 1, 1);
    send(&mut sim, 0, 2, 2);
    send(&mut sim, 1, 2, 3);
    sim.run_for(ms(50)).unwrap();
    assert_eq!(node(&sim, 1).received[0].0, at_ms(1));
    let at_two: Vec<_> = node(&sim, 2)
        .received
        .iter()
        .map(|&(t, s, _)| (t, s))
        .collect();
    assert_eq!(at_two, [(at_ms(1), NodeId(1)), (at_ms(40), NodeId(0))]);
}

#[test]
fn a_partition_cuts_messages_across_groups_and_heals() {
    let mut sim = recorders(4, SimConfig::new(1));
    sim.schedule(
        sim.now(),
        Fault::Partition(Partition::Groups(vec![
            vec![NodeId(0), NodeId(1)],
            vec![NodeId(2), NodeId(3)],
        ])),
    );
    sim.run_for(SimDuration::ZERO).unwrap();
    send(&mut sim, 0, 1, 1); // same side
    send(&mut sim, 0, 2, 2); // across
    send(&mut sim, 3, 1, 3); // across
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [1]);
    assert!(node(&sim, 2).received.is_empty());
    assert_eq!(sim.stats().network.dropped_partition, 2);

    sim.schedule(sim.now(), Fault::Heal);
    sim.run_for(SimDuration::ZERO).unwrap();
    send(&mut sim, 0, 2, 4);
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 2).payloads(), [4]);
}

#[test]
fn nodes_learn_when_their_links_go_down_and_come_back() {
    let mut sim = recorders(3, SimConfig::new(1));
    sim.schedule(at_ms(1), Fault::Partition(Partition::Isolate(NodeId(2))));
    sim.schedule(at_ms(2), Fault::HealNode(NodeId(2)));
    sim.run_for(ms(3)).unwrap();
    assert_eq!(
        node(&sim, 0).links,
        [(NodeId(2), false), (NodeId(2), true)],
        "node 0 hears about its link to 2"
    );
    assert_eq!(
        node(&sim, 2).links,
        [
            (NodeId(0), false),
            (NodeId(1), false),
            (NodeId(0), true),
            (NodeId(1), true)
        ]
    );
}

#[test]
fn a_one_way_partition_lets_replies_through_but_not_requests() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.schedule(
        sim.now(),
        Fault::Partition(Partition::OneWay {
            from: vec![NodeId(0)],
            to: vec![NodeId(1)],
        }),
    );
    sim.run_for(SimDuration::ZERO).unwrap();
    send(&mut sim, 0, 1, 1);
    send(&mut sim, 1, 0, 2);
    sim.run_for(ms(5)).unwrap();
    assert!(node(&sim, 1).received.is_empty());
    assert_eq!(node(&sim, 0).payloads(), [2]);
}

#[test]
fn a_message_in_flight_is_lost_when_its_link_is_cut() {
    let mut sim = recorders(
        2,
        with_link(LinkConfig::with_latency(Latency::Constant(ms(10)))),
    );
    send(&mut sim, 0, 1, 1);
    sim.schedule(
        at_ms(5),
        Fault::Partition(Partition::Link {
            source: NodeId(0),
            target: NodeId(1),
        }),
    );
    sim.run_for(ms(20)).unwrap();
    assert!(node(&sim, 1).received.is_empty());
    assert_eq!(sim.stats().network.dropped_partition, 1);
}

#[test]
fn a_message_held_by_a_clog_is_lost_when_its_link_is_cut_meanwhile() {
    let mut sim = recorders(
        2,
        with_link(LinkConfig::with_latency(Latency::Constant(ms(1)))),
    );
    sim.schedule(
        at_ms(0),
        Fault::Clog {
            target: ClogTarget::Node(NodeId(1)),
            duration: None,
        },
    );
    sim.schedule_call(at_ms(1), NodeId(0), |_, ctx| ctx.send(NodeId(1), 1));
    sim.schedule(at_ms(5), Fault::Partition(Partition::Isolate(NodeId(1))));
    sim.schedule(at_ms(6), Fault::Heal);
    sim.schedule(at_ms(7), Fault::Unclog(ClogTarget::Node(NodeId(1))));
    sim.schedule_call(at_ms(8), NodeId(0), |_, ctx| ctx.send(NodeId(1), 2));
    sim.run_for(ms(20)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [2]);
    assert_eq!(sim.stats().network.dropped_partition, 1);
}

#[test]
fn a_message_in_flight_stays_lost_when_its_link_heals_before_it_arrives() {
    for (cut, message_after_heal) in [
        (
            Partition::Link {
                source: NodeId(0),
                target: NodeId(1),
            },
            2,
        ),
        (Partition::Isolate(NodeId(1)), 3),
        (Partition::Groups(vec![vec![NodeId(0)], vec![NodeId(1)]]), 4),
    ] {
        let jittery = LinkConfig::with_latency(Latency::Uniform {
            min: ms(1),
            max: ms(10),
        });
        let mut sim = recorders(2, with_link(jittery));
        send(&mut sim, 0, 1, 1);
        sim.schedule(at_ms(0), Fault::Partition(cut));
        sim.schedule(at_ms(0), Fault::Heal);
        sim.schedule_call(at_ms(0), NodeId(0), move |_, ctx| {
            ctx.send(NodeId(1), message_after_heal);
        });
        sim.run_for(ms(50)).unwrap();
        assert_eq!(
            node(&sim, 1).payloads(),
            [message_after_heal],
            "the message in flight at the cut is lost; the one sent after the heal is not"
        );
        assert_eq!(sim.stats().network.dropped_partition, 1);
    }
}

#[test]
fn clogging_delays_without_losing_and_unclogging_delivers_in_order() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.schedule(
        sim.now(),
        Fault::Clog {
            target: ClogTarget::Node(NodeId(1)),
            duration: Some(ms(30)),
        },
    );
    sim.run_for(SimDuration::ZERO).unwrap();
    for payload in 0..3 {
        send(&mut sim, 0, 1, payload);
    }
    sim.run_for(ms(20)).unwrap();
    assert!(node(&sim, 1).received.is_empty());
    assert_eq!(
        sim.world()
            .in_flight()
            .filter(|m| m.arrives_at.is_none())
            .count(),
        3
    );
    sim.run_for(ms(20)).unwrap();
    let received = &node(&sim, 1).received;
    assert_eq!(node(&sim, 1).payloads(), [0, 1, 2]);
    assert!(received.iter().all(|&(t, _, _)| t == at_ms(30)));
}

#[test]
fn a_link_clog_is_one_way() {
    let mut sim = recorders(2, SimConfig::new(1));
    let link = ClogTarget::Link {
        source: NodeId(0),
        target: NodeId(1),
    };
    sim.schedule(
        sim.now(),
        Fault::Clog {
            target: link,
            duration: None,
        },
    );
    sim.run_for(SimDuration::ZERO).unwrap();
    send(&mut sim, 0, 1, 1);
    send(&mut sim, 1, 0, 2);
    sim.run_for(ms(10)).unwrap();
    assert!(node(&sim, 1).received.is_empty());
    assert_eq!(node(&sim, 0).payloads(), [2]);
    sim.schedule(sim.now(), Fault::Unclog(link));
    sim.run_for(ms(1)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [1]);
}

#[test]
fn a_swizzle_clogs_and_unclogs_everyone_and_loses_nothing() {
    let mut sim = recorders(3, SimConfig::new(1));
    let nodes = [NodeId(0), NodeId(1), NodeId(2)];
    // Clogs at 0, 10 and 20 ms; unclogs node 2 at 30, node 1 at 40 and node 0 at 50 ms.
    sim.schedule_all(&FaultSchedule::swizzle(at_ms(0), ms(10), &nodes));
    sim.run_to(at_ms(25)).unwrap();
    for (source, target) in [(0, 1), (1, 2), (2, 0)] {
        send(&mut sim, source, target, source.into());
    }
    sim.run_for(ms(100)).unwrap();
    assert_eq!(sim.stats().network.held_by_clog, 3);
    let arrival = |id| {
        node(&sim, id)
            .received
            .iter()
            .map(|&(t, _, _)| t)
            .collect::<Vec<_>>()
    };
    assert_eq!(arrival(2), [at_ms(40)], "1 -> 2 waits for node 1");
    assert_eq!(arrival(0), [at_ms(50)], "2 -> 0 waits for node 0");
    assert_eq!(arrival(1), [at_ms(50)], "0 -> 1 waits for node 0");
}

#[test]
fn changing_a_link_at_runtime_applies_to_later_messages() {
    let mut sim = recorders(2, SimConfig::new(1));
    let slow = LinkConfig::with_latency(Latency::Constant(ms(25)));
    sim.schedule(
        at_ms(5),
        Fault::SetLink {
            source: NodeId(0),
            target: NodeId(1),
            config: Box::new(slow),
        },
    );
    send(&mut sim, 0, 1, 1);
    sim.run_to(at_ms(5)).unwrap();
    send(&mut sim, 0, 1, 2);
    sim.run_for(ms(50)).unwrap();
    let times: Vec<_> = node(&sim, 1).received.iter().map(|&(t, _, _)| t).collect();
    assert_eq!(times, [at_ms(1), at_ms(30)]);
}
