//! Our Raft inside the engine: elections, replication, recovery from disk, partitions,
//! random faults with a linearizable client history, determinism, and the canary.

use node_model::raft::checks::ELECTION_SAFETY;
use node_model::raft::{
    self, CANARY_SEEDS, HistoryHandle, NotLeader, Op, RaftConfig, RaftEvent, RaftNode, RaftView,
    Role, Workload, canary_run,
};
use sim_core::{
    FaultGenerator, FaultWeights, Latency, LinkConfig, NetworkConfig, NodeId, Partition, Sim,
    SimConfig, SimDuration, SimRng, SimTime, World, check_determinism,
};

mod common;

use common::{await_leader, checked, ms, put, request, returned, settled_leader, submit};

/// A cluster of `replicas` with every Raft check installed and its history recorded.
fn checked_cluster(seed: u64, replicas: u32) -> (Sim<RaftNode>, HistoryHandle) {
    checked(raft::cluster(seed, replicas, &RaftConfig::default()))
}

#[test]
fn a_leader_is_elected_and_it_is_unique() {
    common::a_leader_is_elected_and_it_is_unique(checked_cluster(1, 5));
}

#[test]
fn a_single_replica_leads_and_commits_alone() {
    common::a_single_replica_leads_and_commits_alone(checked_cluster(3, 1));
}

#[test]
fn a_follower_refuses_a_request_and_names_the_leader() {
    let (mut sim, history) = checked_cluster(2, 3);
    let leader = await_leader(&mut sim, ms(2_000));
    let follower = raft::replicas(&sim)
        .into_iter()
        .find(|&id| id != leader && sim.node(id).unwrap().leader_hint() == Some(leader))
        .expect("a follower knows the leader");
    let refused = submit(&mut sim, follower, 1, put(1, 1)).unwrap_err();
    assert_eq!(refused, NotLeader { hint: Some(leader) });
    sim.run_for(ms(500)).unwrap();
    assert_eq!(
        history.history().operations().count(),
        0,
        "nothing observed"
    );
    assert!(sim.node(leader).unwrap().kv().is_empty());
}

#[test]
fn a_committed_write_survives_the_leaders_crash_and_the_new_leader_has_it() {
    let (mut sim, history) = checked_cluster(4, 3);
    let old_leader = await_leader(&mut sim, ms(2_000));
    submit(&mut sim, old_leader, 1, put(1, 42)).unwrap();
    sim.run_until(|_| returned(&history, 1).is_some(), sim.now() + ms(500))
        .expect("the write commits");
    sim.schedule(sim.now(), sim_core::Fault::Crash(old_leader));
    sim.run_for(ms(1)).unwrap();
    let deadline = sim.now() + ms(2_000);
    sim.run_until(
        |world| settled_leader(world).is_some_and(|l| l != old_leader),
        deadline,
    )
    .expect("the survivors elect a new leader");
    let new_leader = settled_leader(&sim.world()).unwrap();
    let node = sim.node(new_leader).unwrap();
    let holds_the_write = (1..=node.last_index())
        .filter_map(|index| node.entry(index)?.command)
        .any(|command| command.request == request(1));
    assert!(holds_the_write, "the new leader's log has the write");
    submit(&mut sim, new_leader, 2, Op::Get { key: 1 }).unwrap();
    sim.run_until(|_| returned(&history, 2).is_some(), sim.now() + ms(500))
        .expect("the read commits");
    assert_eq!(returned(&history, 2), Some(Some(42)));
    history.check().expect("linearizable");
}

#[test]
fn a_minority_partition_cannot_commit_and_after_healing_the_cluster_converges() {
    let (mut sim, history) = checked_cluster(5, 5);
    let old_leader = await_leader(&mut sim, ms(2_000));
    let others: Vec<NodeId> = raft::replicas(&sim)
        .into_iter()
        .filter(|&id| id != old_leader)
        .collect();
    let minority = vec![old_leader, others[0]];
    let majority = others[1..].to_vec();
    let partition = Partition::Groups(vec![minority, majority.clone()]);
    sim.schedule(sim.now(), sim_core::Fault::Partition(partition));
    sim.run_for(ms(1)).unwrap();
    let commit_before = sim.node(old_leader).unwrap().commit_index();
    submit(&mut sim, old_leader, 1, put(1, 100)).expect("the old leader still thinks it leads");
    sim.run_for(SimDuration::from_secs(2)).unwrap();
    let stale = sim.node(old_leader).unwrap();
    assert_eq!(
        stale.commit_index(),
        commit_before,
        "the minority cannot commit"
    );
    assert_eq!(returned(&history, 1), None);

    let new_leader = settled_leader(&sim.world()).expect("the majority elected a leader");
    assert!(majority.contains(&new_leader));
    submit(&mut sim, new_leader, 2, put(1, 200)).unwrap();
    sim.run_for(ms(100)).unwrap();
    assert_eq!(returned(&history, 2), Some(None), "the majority commits");

    sim.schedule(sim.now(), sim_core::Fault::Heal);
    let converged = |world: &World<'_, RaftNode>| {
        let nodes: Vec<&RaftNode> = world.nodes().map(|(_, n)| n).collect();
        settled_leader(world) == Some(new_leader)
            && nodes.iter().all(|n| {
                n.commit_index() == n.last_index()
                    && n.last_index() == nodes[0].last_index()
                    && n.kv() == nodes[0].kv()
            })
    };
    sim.run_until(converged, sim.now() + ms(2_000))
        .expect("the cluster converges after healing");
    let healed = sim.node(old_leader).unwrap();
    assert_eq!(healed.role(), Role::Follower);
    assert_eq!(
        healed.kv().get(&1),
        Some(&200),
        "the minority's write is gone"
    );
    history.check().expect("linearizable");
}

#[test]
fn a_restarted_replica_recovers_its_log_from_disk_and_catches_up() {
    let (mut sim, history) = checked_cluster(6, 3);
    let leader = await_leader(&mut sim, ms(2_000));
    for sequence in 1..=5 {
        submit(&mut sim, leader, sequence, put(1, sequence)).unwrap();
    }
    sim.run_until(|_| returned(&history, 5).is_some(), sim.now() + ms(500))
        .unwrap();
    sim.run_for(ms(200)).unwrap();
    let follower = raft::replicas(&sim)
        .into_iter()
        .find(|&id| id != leader)
        .unwrap();
    let before = sim.node(follower).unwrap();
    let (term, vote, last_index) = (before.term(), before.voted_for(), before.last_index());
    let log_before: Vec<_> = (1..=last_index).map(|i| before.entry(i)).collect();
    assert!(before.applied_index() >= 6, "the no-op and five writes");

    sim.schedule(sim.now(), sim_core::Fault::Crash(follower));
    for sequence in 6..=10 {
        submit(&mut sim, leader, sequence, put(2, sequence)).unwrap();
    }
    sim.run_until(|_| returned(&history, 10).is_some(), sim.now() + ms(500))
        .expect("two of three replicas still commit");
    let restart_at = sim.now() + ms(100);
    sim.schedule(restart_at, sim_core::Fault::Restart(follower));
    sim.run_to(restart_at).unwrap();

    let recovered = sim.node(follower).expect("restarted");
    assert_eq!((recovered.term(), recovered.voted_for()), (term, vote));
    let log_after: Vec<_> = (1..=recovered.last_index())
        .map(|i| recovered.entry(i))
        .collect();
    assert_eq!(log_after, log_before, "the log came back from disk");
    assert_eq!(recovered.commit_index(), 0, "commitment is re-learned");
    assert!(
        recovered.kv().is_empty(),
        "the store is rebuilt by re-applying"
    );

    let caught_up = |world: &World<'_, RaftNode>| {
        let (leader, follower) = (world.node(leader).unwrap(), world.node(follower).unwrap());
        follower.last_index() == leader.last_index() && follower.kv() == leader.kv()
    };
    sim.run_until(caught_up, sim.now() + ms(1_000))
        .expect("the follower catches up");
    let node = sim.node(follower).unwrap();
    assert_eq!(node.kv().get(&1), Some(&5));
    assert_eq!(node.kv().get(&2), Some(&10));
}

/// A five-replica cluster under crashes, pauses, partitions and clogs for 10 s, with
/// clients all along, then healed: returns the sim (not yet converged) and its history.
fn faulty_run(seed: u64) -> (Sim<RaftNode>, HistoryHandle) {
    let latency = Latency::Uniform {
        min: ms(1),
        max: ms(10),
    };
    let sim_config = SimConfig {
        network: NetworkConfig {
            default_link: LinkConfig::with_latency(latency),
            ..NetworkConfig::default()
        },
        ..SimConfig::new(seed)
    };
    let mut sim = raft::cluster_with(sim_config, 5, &RaftConfig::default());
    raft::checks::install(&mut sim);
    let history = raft::record_history(&mut sim);
    let faults = FaultGenerator {
        mean_interval: ms(300),
        outage_min: ms(50),
        outage_max: ms(1_500),
        max_down: 2,
        weights: FaultWeights {
            crash: 3,
            pause: 1,
            partition: 1,
            isolate: 1,
            one_way: 1,
            clog: 1,
            ..FaultWeights::NONE
        },
        ..FaultGenerator::new(SimTime::from_secs(1), SimTime::from_secs(11))
    };
    let schedule = faults.generate(&raft::replicas(&sim), &mut SimRng::new(seed, "faults"));
    sim.schedule_all(&schedule);
    Workload::new(SimTime::from_millis(500), SimTime::from_secs(11)).schedule(&mut sim);
    (sim, history)
}

#[test]
fn client_histories_under_random_faults_are_linearizable_and_every_invariant_holds() {
    let (mut completed, mut pending) = (0, 0);
    for seed in 0..20 {
        let (mut sim, history) = faulty_run(seed);
        sim.run_to(SimTime::from_secs(11))
            .unwrap_or_else(|stop| panic!("seed {seed}: {stop}"));
        let converged = |world: &World<'_, RaftNode>| {
            let leader = settled_leader(world).and_then(|l| world.node(l));
            leader.is_some_and(|leader| {
                world.nodes().count() == 5
                    && world.nodes().all(|(_, n)| {
                        n.term() == leader.term()
                            && n.commit_index() == leader.last_index()
                            && n.kv() == leader.kv()
                    })
            })
        };
        sim.run_until(converged, SimTime::from_secs(16))
            .unwrap_or_else(|error| panic!("seed {seed} did not converge: {error}"));
        let report = history
            .check()
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        completed += report.completed;
        pending += report.pending;
    }
    println!("{completed} requests completed, {pending} left pending");
    assert!(completed > 5_000, "only {completed} requests completed");
    assert!(pending > 0, "faults left some requests unanswered");
}

#[test]
fn replaying_a_seed_gives_the_same_trace_hash() {
    let run = |sim: &mut Sim<RaftNode>| sim.run_to(SimTime::from_secs(12));
    let hash = check_determinism(|| faulty_run(3).0, run)
        .unwrap_or_else(|divergence| panic!("{divergence}"));
    let (mut again, _) = faulty_run(3);
    run(&mut again).unwrap();
    assert_eq!(again.trace_hash(), hash);
    let (mut other, _) = faulty_run(4);
    run(&mut other).unwrap();
    assert_ne!(other.trace_hash(), hash, "another seed, another run");
}

#[test]
fn the_buggy_canary_breaks_election_safety_early_in_the_seed_sweep() {
    let caught: Vec<u64> = (0..CANARY_SEEDS)
        .filter(|&seed| {
            let outcome = canary_run(seed, true);
            outcome
                .violation()
                .is_some_and(|v| v.check == ELECTION_SAFETY)
        })
        .collect();
    println!("the buggy canary broke election safety at seeds {caught:?}");
    let first = *caught.first().expect("the harness caught the planted bug");
    assert!(first < 50, "first caught only at seed {first}");
    assert!(caught.len() >= 10, "caught at only {} seeds", caught.len());
}

#[test]
fn the_fixed_canary_passes_every_seed_of_the_sweep() {
    for seed in 0..CANARY_SEEDS {
        let outcome = canary_run(seed, false);
        assert!(outcome.passed(), "{outcome}");
        assert!(
            outcome.stats.faults > 100,
            "seed {seed} was not crash-heavy"
        );
    }
}

#[test]
fn replicas_report_what_they_apply_and_the_leader_what_it_answers() {
    let (mut sim, _) = checked_cluster(8, 3);
    let leader = await_leader(&mut sim, ms(2_000));
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let record = std::rc::Rc::clone(&seen);
    sim.always("record", move |world| {
        let events = world.observations().iter();
        record
            .borrow_mut()
            .extend(events.map(|o| (o.node, o.value.clone())));
        Ok(())
    });
    submit(&mut sim, leader, 1, put(3, 9)).unwrap();
    sim.run_for(ms(500)).unwrap();
    let seen = seen.borrow();
    let applied = |node| {
        seen.iter()
            .filter(|(n, e)| *n == node && matches!(e, RaftEvent::Applied { .. }))
            .count()
    };
    for node in raft::replicas(&sim) {
        assert!(applied(node) >= 1, "{node} applied the write");
    }
    let answers: Vec<&(NodeId, RaftEvent)> = seen
        .iter()
        .filter(|(_, e)| matches!(e, RaftEvent::Returned { .. }))
        .collect();
    let expected = RaftEvent::Returned {
        request: request(1),
        value: None,
    };
    assert_eq!(answers, [&(leader, expected)], "only the leader answers");
}

#[test]
fn an_invalid_config_is_explained() {
    let config = RaftConfig {
        heartbeat_interval: ms(200),
        ..RaftConfig::default()
    };
    let error = config.validate().unwrap_err();
    assert!(error.contains("heartbeat_interval"), "{error}");
    assert!(RaftConfig::default().validate().is_ok());
}

#[test]
fn an_offer_is_withdrawn_once_its_client_has_an_answer() {
    use std::cell::Cell;
    use std::rc::Rc;

    use node_model::raft::Offer;
    let (mut sim, history) = checked_cluster(1, 3);
    await_leader(&mut sim, ms(2_000));
    let replicas = raft::replicas(&sim);
    let at = sim.now() + ms(10);
    let answered = Rc::new(Cell::new(false));
    Offer::new(request(1), put(1, 1))
        .until_answered(Rc::clone(&answered))
        .schedule(&mut sim, at, &replicas);
    Offer::new(request(2), put(1, 2))
        .until_answered(Rc::new(Cell::new(false)))
        .schedule(&mut sim, at, &replicas);
    answered.set(true); // an earlier attempt was answered meanwhile
    sim.run_for(ms(500)).unwrap();
    let invoked = |sequence| {
        let history = history.history();
        history.operations().any(|o| o.request == request(sequence))
    };
    assert!(!invoked(1), "the answered client asked again");
    assert!(invoked(2), "the other client's offer was taken");
}

/// A config with `check_quorum` and `pre_vote` set as given.
fn guarded(check_quorum: bool, pre_vote: bool) -> RaftConfig {
    RaftConfig {
        check_quorum,
        pre_vote,
        ..RaftConfig::default()
    }
}

/// Cuts every answer to `node`: its messages go out, nothing comes back.
fn deafen(sim: &mut Sim<RaftNode>, node: NodeId) {
    let others: Vec<NodeId> = raft::replicas(sim)
        .into_iter()
        .filter(|&n| n != node)
        .collect();
    let now = sim.now();
    sim.schedule(
        now,
        sim_core::Fault::Partition(Partition::OneWay {
            from: others,
            to: vec![node],
        }),
    );
}

#[test]
fn with_check_quorum_a_leader_that_hears_no_answer_steps_down_and_another_leads() {
    for (check_quorum, replaced) in [(false, false), (true, true)] {
        let (mut sim, _) = checked(raft::cluster(11, 3, &guarded(check_quorum, true)));
        let leader = await_leader(&mut sim, ms(2_000));
        deafen(&mut sim, leader);
        sim.run_for(ms(3_000)).unwrap();
        let leaders: Vec<NodeId> = sim
            .world()
            .nodes()
            .filter(|(_, n)| n.role() == Role::Leader)
            .map(|(id, _)| id)
            .collect();
        if replaced {
            assert_eq!(leaders.len(), 1, "one leader: {leaders:?}");
            assert_ne!(leaders[0], leader, "the deaf leader stepped down");
        } else {
            // Its heartbeats keep the followers from standing: it leads alone, in vain.
            assert_eq!(leaders, [leader]);
        }
    }
}

#[test]
fn with_pre_vote_a_replica_that_hears_no_answer_cannot_depose_the_leader() {
    for (pre_vote, stable) in [(false, false), (true, true)] {
        let (mut sim, _) = checked(raft::cluster(12, 3, &guarded(true, pre_vote)));
        let leader = await_leader(&mut sim, ms(2_000));
        let term = sim.node(leader).unwrap().term();
        let follower = raft::replicas(&sim)
            .into_iter()
            .find(|&n| n != leader)
            .unwrap();
        deafen(&mut sim, follower);
        sim.run_for(ms(3_000)).unwrap();
        let now_led = settled_leader(&sim.world());
        let term_after = sim.node(leader).unwrap().term();
        if stable {
            assert_eq!((now_led, term_after), (Some(leader), term), "undisturbed");
        } else {
            assert!(
                term_after > term + 3,
                "the deaf replica keeps raising the term"
            );
        }
    }
}

#[test]
fn a_crash_point_on_the_voted_event_kills_the_voter_before_its_vote_is_durable_or_sent() {
    let (mut sim, _) = checked_cluster(1, 3);
    let leader = await_leader(&mut sim, SimDuration::from_secs(5));
    let voter = raft::replicas(&sim)
        .into_iter()
        .find(|&n| n != leader)
        .unwrap();
    let term = sim.node(voter).unwrap().term();
    let now = sim.now();
    sim.schedule(
        now,
        sim_core::Fault::CrashPoint {
            node: voter,
            after: 0,
            on: Some(sim_core::Moment::Emits(raft::EVENT_VOTED.to_string())),
            down_for: None,
            strike: sim_core::Strike::Crash,
            until: None,
        },
    );
    sim.run_for(ms(1)).unwrap();
    // A candidate far ahead asks for the voter's vote: it grants it, emits `voted`, and
    // dies there, before the sync and the reply that come after the event.
    sim.call(leader, |_, ctx| {
        ctx.send(
            voter,
            raft::RaftMessage::RequestVote {
                term: term + 10,
                last_log_index: 1_000,
                last_log_term: term + 9,
            },
        );
    })
    .unwrap();
    sim.run_for(ms(100)).unwrap();
    assert_eq!(sim.status(voter), sim_core::NodeStatus::Down);
    assert_eq!(sim.stats().crash_points, 1);
    let now = sim.now();
    sim.schedule(now, sim_core::Fault::Restart(voter));
    sim.run_for(ms(1)).unwrap();
    let restarted = sim.node(voter).unwrap();
    assert_eq!(
        restarted.term(),
        term,
        "neither the vote nor its term reached the disk"
    );
}
