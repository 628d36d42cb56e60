//! Behaviour that takes hours of real time, tested in a fraction of a second: the
//! simulator runs on a virtual clock and jumps from one event to the next, so an idle
//! ten-second block time or a five-minute outage costs nothing.
//!
//! - epochs: validators that stop are kicked out at epoch boundaries, down to the
//!   chain's minimum, while finality goes on;
//! - timeouts: a crashed producer's turns are skipped after one block time; a validator
//!   whose data was reset waits ten block times before voting; Raft elects a new leader
//!   one election timeout after its leader crashes;
//! - a validator offline for a whole epoch, crashed or cut off by a partition;
//! - clocks minutes ahead or behind.
//!
//! Assertions are about what happened in virtual time (heights, epochs, validator sets,
//! timestamps, terms), never about how long the test took.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use node_model::chain::{self, ChainConfig, ChainMessage, ChainNode, ChainSetup, ValidatorId};
use node_model::raft::{self, RaftConfig, RaftEvent, RaftNode, RaftView, Role, Workload};
use sim_core::{
    Fault, Latency, LinkConfig, NodeId, Partition, Sim, SimConfig, SimDuration, SimTime, Verdict,
    World,
};

/// Ten-second blocks, like a public chain's.
const BLOCK_TIME: SimDuration = SimDuration::from_secs(10);
/// 180 blocks of ten seconds: half-hour epochs.
const EPOCH_LENGTH: u64 = 180;
/// A wide-area network: every message takes 20 to 80 ms.
const LATENCY_MAX: SimDuration = SimDuration::from_millis(80);

fn at_minutes(minutes: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_minutes(minutes)
}

fn sim_config(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed);
    config.network.default_link = LinkConfig::with_latency(Latency::Uniform {
        min: SimDuration::from_millis(20),
        max: LATENCY_MAX,
    });
    config
}

/// `validators` validators producing a block every ten seconds, in half-hour epochs,
/// with every chain invariant installed.
fn chain_cluster(validators: u32, seed: u64) -> (Sim<ChainNode>, Rc<ChainSetup>) {
    let mut config = ChainConfig {
        validators,
        ..ChainConfig::default()
    };
    config.genesis.block_time = BLOCK_TIME;
    config.genesis.epoch_length = EPOCH_LENGTH;
    let (mut sim, setup) = chain::cluster(config, sim_config(seed)).expect("valid config");
    chain::checks::install(&mut sim, &setup);
    (sim, setup)
}

fn node(sim: &Sim<ChainNode>, index: u32) -> &ChainNode {
    sim.node(NodeId(index)).expect("the node is up")
}

fn head_time(node: &ChainNode) -> SimTime {
    let head = node.status().latest_height;
    node.block_at(head)
        .expect("the head is canonical")
        .timestamp
}

/// One epoch as a node's final chain shows it.
#[derive(Debug)]
struct Epoch {
    number: u64,
    first_height: u64,
    /// The timestamp of its first block.
    started_at: SimTime,
    validators: Vec<ValidatorId>,
    /// Blocks each validator produced in it.
    produced: BTreeMap<ValidatorId, u64>,
}

impl Epoch {
    fn has(&self, validator: u32) -> bool {
        self.validators.contains(&ValidatorId(validator))
    }

    fn produced_by(&self, validator: u32) -> u64 {
        self.produced
            .get(&ValidatorId(validator))
            .copied()
            .unwrap_or(0)
    }
}

/// The epochs of `node`'s final chain, read through its query interface.
fn epochs(node: &ChainNode) -> Vec<Epoch> {
    let mut epochs: Vec<Epoch> = Vec::new();
    for height in 0..=node.status().final_height {
        let Some(block) = node.block_at(height) else {
            continue; // a skipped height: its producer missed its turn
        };
        let state = node
            .state_of(block.hash)
            .expect("final blocks keep their state");
        if epochs.last().is_none_or(|e| e.number != state.epoch()) {
            epochs.push(Epoch {
                number: state.epoch(),
                first_height: height,
                started_at: block.timestamp,
                validators: state.validators().collect(),
                produced: BTreeMap::new(),
            });
        }
        let epoch = epochs.last_mut().expect("just pushed");
        *epoch.produced.entry(block.producer).or_default() += u64::from(height > 0);
    }
    epochs
}

/// The number of the epoch running at true time `time`.
fn epoch_at(epochs: &[Epoch], time: SimTime) -> usize {
    epochs
        .iter()
        .rposition(|e| e.started_at <= time)
        .expect("genesis starts epoch 0")
}

type Log<T> = Rc<RefCell<Vec<T>>>;

/// Records every rejection any node reports: (true time, node, reason).
fn record_rejections(sim: &mut Sim<ChainNode>) -> Log<(SimTime, NodeId, &'static str)> {
    let log = Log::default();
    let sink = Rc::clone(&log);
    sim.always("record rejections", move |world| {
        for observation in world.observations() {
            if let chain::ChainEvent::Rejected { reason } = observation.value {
                let entry = (observation.time, observation.node, reason);
                sink.borrow_mut().push(entry);
            }
        }
        Ok(())
    });
    log
}

/// Records every vote `validator` sends: (true time, target height). A vote goes to
/// every peer; the copy to the lowest-numbered peer stands for all of them.
fn record_votes(sim: &mut Sim<ChainNode>, validator: u32) -> Log<(SimTime, u64)> {
    let log = Log::default();
    let sink = Rc::clone(&log);
    let witness = NodeId(u32::from(validator == 0));
    sim.intercept("record votes", move |_, envelope| {
        if let ChainMessage::Endorsement(vote) = &envelope.message
            && vote.validator == ValidatorId(validator)
            && envelope.target == witness
        {
            sink.borrow_mut()
                .push((envelope.sent_at, vote.target_height));
        }
        Verdict::Pass
    });
    log
}

#[test]
fn hours_of_epochs_kick_out_validators_that_stop_down_to_the_minimum_and_finality_goes_on() {
    let (mut sim, setup) = chain_cluster(7, 1);
    // validator-6 crashes for good; validator-5 is cut off; validator-4 crashes last.
    sim.schedule(at_minutes(60), Fault::Crash(NodeId(6)));
    sim.schedule(
        at_minutes(120),
        Fault::Partition(Partition::Isolate(NodeId(5))),
    );
    sim.schedule(at_minutes(180), Fault::Crash(NodeId(4)));
    // Heights pass one per block time, whether their producer is up or its turn is
    // skipped, and finality follows a few heights behind: every ten minutes (60 block
    // times) the final height moves on by 50 or more.
    let mut final_height = 0;
    for minutes in (10..=240).step_by(10) {
        sim.run_to(at_minutes(minutes)).unwrap();
        let status = node(&sim, 0).status();
        assert!(
            status.final_height >= final_height + 50,
            "{minutes} min: {status:?}"
        );
        final_height = status.final_height;
    }
    let epochs = epochs(node(&sim, 0));
    // An epoch ends once its 180th height is final, two blocks later: every 182
    // heights of ten seconds, so four hours hold epochs 0 to 7.
    assert_eq!(node(&sim, 0).status().epoch, 7);
    let numbers: Vec<u64> = epochs.iter().map(|e| e.number).collect();
    assert_eq!(numbers, (0..=7).collect::<Vec<u64>>());
    for pair in epochs.windows(2) {
        assert!(pair[1].first_height > pair[0].first_height + EPOCH_LENGTH);
    }
    // Each of the first two failures happens near the end of an epoch in which the
    // validator still produced its share; it produces nothing in the next one and is
    // left out of the one after.
    for (validator, minutes) in [(6, 60), (5, 120)] {
        let failed_in = epoch_at(&epochs, at_minutes(minutes));
        assert!(epochs[failed_in].produced_by(validator) > 0);
        let absent = &epochs[failed_in + 1];
        assert!(absent.has(validator) && absent.produced_by(validator) == 0);
        for later in &epochs[failed_in + 2..] {
            assert!(!later.has(validator), "{validator} in {later:?}");
        }
    }
    // validator-4 misses a whole epoch too, but kick-outs stop at the minimum of five
    // validators (two thirds of seven, rounded up): it stays.
    assert_eq!(setup.config.min_validators(), 5);
    let failed_in = epoch_at(&epochs, at_minutes(180));
    assert_eq!(epochs[failed_in + 1].produced_by(4), 0);
    assert!(epochs.iter().all(|e| e.has(4)));
    assert_eq!(epochs.last().unwrap().validators.len(), 5);
}

#[test]
fn a_crashed_producers_turns_are_skipped_after_one_block_time_until_it_is_kicked_out() {
    let (mut sim, setup) = chain_cluster(4, 5);
    let crash = at_minutes(10);
    sim.schedule(crash, Fault::Crash(NodeId(3)));
    sim.run_for(SimDuration::from_hours(2)).unwrap();
    let node = node(&sim, 0);
    let epochs = epochs(node);
    let kicked_out = epochs.iter().find(|e| !e.has(3)).expect("validator-3 left");
    let mut skipped = 0;
    let mut parent = node.block_at(0).unwrap();
    for height in 1..=node.status().final_height {
        let Some(block) = node.block_at(height) else {
            // Nobody produced this height: it was the crashed validator's turn.
            let state = node.state_of(parent.hash).unwrap();
            let chain_id = setup.config.genesis.chain_id;
            let scheduled = state
                .schedule_for(&setup, height)
                .producer_for(chain_id, height);
            assert_eq!(scheduled, ValidatorId(3), "height {height}");
            assert!(
                parent.timestamp >= crash,
                "height {height} skipped before the crash"
            );
            assert!(
                height < kicked_out.first_height,
                "a kicked-out validator has no turn"
            );
            skipped += 1;
            continue;
        };
        // The next producer waits one block time per missing height after the parent
        // reached it, and not a moment longer.
        let turns = block.height - parent.height;
        let waited = block.timestamp - parent.timestamp;
        assert!(
            waited >= BLOCK_TIME.saturating_mul(turns),
            "height {height} waited {waited}"
        );
        assert!(
            waited <= BLOCK_TIME.saturating_mul(turns) + LATENCY_MAX,
            "height {height} waited {waited}"
        );
        parent = block;
    }
    assert!(skipped >= 10, "validator-3 missed {skipped} turns");
}

#[test]
fn a_validator_whose_data_was_reset_keeps_producing_but_waits_ten_block_times_to_vote() {
    let (mut sim, _) = chain_cluster(4, 6);
    let votes = record_votes(&mut sim, 3);
    let reset = at_minutes(30);
    let first_restart = reset + SimDuration::from_secs(60);
    // It crashes again during its embargo: the embargo is on disk and starts over.
    let second_restart = reset + SimDuration::from_secs(120);
    sim.schedule(reset, Fault::ResetData(NodeId(3)));
    sim.schedule(first_restart, Fault::Restart(NodeId(3)));
    sim.schedule(reset + SimDuration::from_secs(110), Fault::Crash(NodeId(3)));
    sim.schedule(second_restart, Fault::Restart(NodeId(3)));
    let embargo_end = second_restart + BLOCK_TIME.saturating_mul(10);
    assert!(embargo_end > first_restart + BLOCK_TIME.saturating_mul(10));
    sim.run_to(reset).unwrap();
    let final_at_reset = node(&sim, 0).status().final_height;
    sim.run_to(embargo_end).unwrap();
    // The three others hold three quarters of the stake and finalized without it: 28
    // heights passed, all but a few of them final.
    let final_at_embargo_end = node(&sim, 0).status().final_height;
    assert!(final_at_embargo_end >= final_at_reset + 20);
    sim.run_for(SimDuration::from_hours(1)).unwrap();

    let votes = votes.borrow();
    let (voted_at, target) = *votes
        .iter()
        .find(|(at, _)| *at > reset)
        .expect("votes again");
    assert!(voted_at >= embargo_end, "voted at {voted_at}");
    // The first new head after the embargo lifts it, and it then votes only above every
    // height it heard of: not for that head but for the next block, a block time later.
    assert!(
        voted_at <= embargo_end + BLOCK_TIME.saturating_mul(2),
        "voted at {voted_at}"
    );
    let node0 = node(&sim, 0);
    assert!(node0.block_at(target).unwrap().timestamp >= embargo_end);
    // Producing needs no vote record: it produced blocks during its embargo, and it
    // remains a validator.
    let produced_meanwhile = (final_at_reset..target)
        .filter_map(|h| node0.block_at(h))
        .filter(|b| b.producer == ValidatorId(3))
        .filter(|b| b.timestamp > second_restart && b.timestamp < embargo_end)
        .count();
    assert!(produced_meanwhile > 0);
    assert!(node0.status().validators.contains(&ValidatorId(3)));
}

#[test]
fn the_vote_embargo_is_measured_on_the_monotonic_clock_so_a_clock_set_back_does_not_stretch_it() {
    // Validator 3 loses its data and restarts with its wall clock ten minutes ahead,
    // which is set right twenty seconds later. Its embargo still ends ten block times
    // after the restart: on the wall clock it would have lasted ten minutes more.
    let (mut sim, _) = chain_cluster(4, 6);
    let votes = record_votes(&mut sim, 3);
    let reset = at_minutes(30);
    let restart = reset + SimDuration::from_secs(60);
    let ten_minutes = 600_000_000_000;
    let skew = |offset_ns| Fault::ClockSkew {
        node: NodeId(3),
        offset_ns,
    };
    sim.schedule(reset, Fault::ResetData(NodeId(3)));
    sim.schedule(reset, skew(ten_minutes));
    sim.schedule(restart, Fault::Restart(NodeId(3)));
    sim.schedule(restart + SimDuration::from_secs(20), skew(-ten_minutes));
    let embargo_end = restart + BLOCK_TIME.saturating_mul(10);
    sim.run_to(embargo_end + SimDuration::from_secs(60))
        .unwrap();
    let votes = votes.borrow();
    let (voted_at, _) = *votes
        .iter()
        .find(|(at, _)| *at > reset)
        .expect("it votes again within a minute of its embargo's end, not ten");
    assert!(voted_at >= embargo_end, "voted at {voted_at}");
    assert!(
        voted_at <= embargo_end + BLOCK_TIME.saturating_mul(2),
        "voted at {voted_at}"
    );
}

/// Raft tuned for a wide-area network: a heartbeat every second, elections after five
/// to ten seconds of silence.
fn wan_raft() -> RaftConfig {
    RaftConfig {
        heartbeat_interval: SimDuration::from_secs(1),
        election_timeout_min: SimDuration::from_secs(5),
        election_timeout_max: SimDuration::from_secs(10),
        ..RaftConfig::default()
    }
}

/// Records every election won: (true time, leader, term).
fn record_leaders(sim: &mut Sim<RaftNode>) -> Log<(SimTime, NodeId, u64)> {
    let log = Log::default();
    let sink = Rc::clone(&log);
    sim.always("record leaders", move |world| {
        for observation in world.observations() {
            if let RaftEvent::BecameLeader { term } = observation.value {
                sink.borrow_mut()
                    .push((observation.time, observation.node, term));
            }
        }
        Ok(())
    });
    log
}

fn leader(sim: &Sim<RaftNode>) -> NodeId {
    raft::replicas(sim)
        .into_iter()
        .find(|&id| sim.node(id).is_some_and(|r| r.role() == Role::Leader))
        .expect("a leader")
}

#[test]
fn raft_elects_a_new_leader_one_election_timeout_after_each_leader_crash() {
    let config = wan_raft();
    let mut sim = raft::cluster_with(sim_config(2), 5, &config);
    raft::checks::install(&mut sim);
    let history = raft::record_history(&mut sim);
    let leaders = record_leaders(&mut sim);
    let workload = Workload {
        interval_min: SimDuration::from_secs(10),
        interval_max: SimDuration::from_secs(60),
        ..Workload::new(at_minutes(1), at_minutes(180))
    };
    let offered = workload.schedule(&mut sim);
    // Every twenty minutes the leader crashes; it comes back five minutes later.
    let mut crashes = Vec::new();
    for minutes in (10..180).step_by(20) {
        sim.run_to(at_minutes(minutes)).unwrap();
        let crashed = leader(&sim);
        sim.schedule(sim.now(), Fault::Crash(crashed));
        sim.schedule(
            sim.now() + SimDuration::from_minutes(5),
            Fault::Restart(crashed),
        );
        crashes.push((sim.now(), crashed));
    }
    sim.run_to(at_minutes(180)).unwrap();

    let leaders = leaders.borrow();
    // One election at the start and one per crash: a restarted leader rejoins as a
    // follower without disturbing anyone.
    assert_eq!(leaders.len(), crashes.len() + 1, "{leaders:?}");
    for (&(crashed_at, crashed), pair) in crashes.iter().zip(leaders.windows(2)) {
        let ((_, old, old_term), (elected_at, new, new_term)) = (pair[0], pair[1]);
        assert_eq!(old, crashed);
        assert!(new != crashed && new_term > old_term);
        // The followers last heard the leader at most a heartbeat before the crash
        // and wait at least the shortest timeout; a split vote costs one more.
        let waited = elected_at - crashed_at;
        assert!(waited + config.heartbeat_interval >= config.election_timeout_min);
        assert!(
            waited <= config.election_timeout_max.saturating_mul(2),
            "{waited}"
        );
    }
    // Requests offered while no replica leads are dropped: a few seconds in three
    // hours. Nine in ten or more complete, and the history is linearizable.
    let report = history.check().expect("linearizable");
    assert!(
        report.completed as u64 * 10 >= offered * 9,
        "{offered} {report:?}"
    );
}

/// Runs until node 0's head enters `epoch` (within three hours).
fn run_until_epoch(sim: &mut Sim<ChainNode>, epoch: u64) {
    let entered = move |world: &World<'_, ChainNode>| {
        let node = world.node(NodeId(0)).expect("node 0 is up");
        node.status().epoch == epoch
    };
    sim.run_until(entered, at_minutes(180))
        .expect("the epoch starts");
}

#[test]
fn a_validator_crashed_for_a_whole_epoch_is_kicked_out_and_follows_the_chain_after_restart() {
    let (mut sim, _) = chain_cluster(4, 4);
    run_until_epoch(&mut sim, 1);
    sim.schedule(sim.now(), Fault::Crash(NodeId(3)));
    run_until_epoch(&mut sim, 2);
    sim.schedule(sim.now(), Fault::Restart(NodeId(3)));
    let votes = record_votes(&mut sim, 3);
    sim.run_for(SimDuration::from_hours(1)).unwrap();

    let epochs = epochs(node(&sim, 0));
    assert!(epochs[1].has(3) && epochs[1].produced_by(3) == 0);
    assert!(
        epochs[2..]
            .iter()
            .all(|e| !e.has(3) && e.produced_by(3) == 0)
    );
    // Its turns were skipped, not waited for: a height passes every block time, and the
    // epoch ends a few heights after its 180th, as one without a crash does.
    let took = |e: usize| epochs[e + 1].started_at - epochs[e].started_at;
    for epoch in [0, 1] {
        assert!(took(epoch) <= BLOCK_TIME.saturating_mul(EPOCH_LENGTH + 10));
    }
    // Back up, it caught up and follows the chain. Replaying the blocks of epoch 1 it
    // may vote for them (too late to matter), but never for a block of an epoch in
    // which it has no stake.
    let (follower, validator) = (node(&sim, 3).status(), node(&sim, 0).status());
    assert_eq!(follower.final_hash, validator.final_hash);
    assert_eq!(follower.validators, [0, 1, 2].map(ValidatorId));
    assert!(
        votes
            .borrow()
            .iter()
            .all(|&(_, height)| height < epochs[2].first_height)
    );
}

#[test]
fn a_validator_cut_off_for_a_whole_epoch_cannot_end_it_alone_and_rejoins_outside_the_set() {
    let (mut sim, _) = chain_cluster(4, 7);
    run_until_epoch(&mut sim, 1);
    sim.schedule(sim.now(), Fault::Partition(Partition::Isolate(NodeId(3))));
    run_until_epoch(&mut sim, 2);
    sim.run_for(SimDuration::from_minutes(1)).unwrap();

    // Alone it kept producing on its own fork, past the end of epoch 1, but with a
    // quarter of the stake it finalized nothing, so on its fork epoch 1 never ends.
    let (isolated, majority) = (node(&sim, 3).status(), node(&sim, 0).status());
    let epoch_one = &epochs(node(&sim, 0))[1];
    assert!(isolated.latest_height > epoch_one.first_height + EPOCH_LENGTH);
    assert!(isolated.final_height < epoch_one.first_height);
    assert_eq!((isolated.epoch, majority.epoch), (1, 2));
    assert!(!majority.validators.contains(&ValidatorId(3)));

    sim.schedule(sim.now(), Fault::Heal);
    sim.run_for(SimDuration::from_minutes(10)).unwrap();
    let (rejoined, majority) = (node(&sim, 3).status(), node(&sim, 0).status());
    assert_eq!(rejoined.final_hash, majority.final_hash);
    assert_eq!(rejoined.epoch, majority.epoch);
    assert_eq!(rejoined.validators, [0, 1, 2].map(ValidatorId));
}

#[test]
fn a_validator_minutes_ahead_has_its_blocks_refused_and_is_kicked_out_seconds_ahead_is_fine() {
    let (mut sim, setup) = chain_cluster(4, 2);
    let rejections = record_rejections(&mut sim);
    let skewed = at_minutes(60);
    let minutes_ahead = SimDuration::from_minutes(3).as_nanos() as i64;
    let within_drift = SimDuration::from_secs(4);
    assert!(within_drift < setup.config.genesis.max_clock_drift);
    let seconds_ahead = within_drift.as_nanos() as i64;
    sim.schedule(
        skewed,
        Fault::ClockSkew {
            node: NodeId(2),
            offset_ns: minutes_ahead,
        },
    );
    sim.schedule(
        skewed,
        Fault::ClockSkew {
            node: NodeId(1),
            offset_ns: seconds_ahead,
        },
    );
    sim.run_for(SimDuration::from_hours(3)).unwrap();

    // validator-2 stamps its blocks with its clock: three minutes in the future of
    // everyone else's, beyond the five seconds they allow. Only they refuse blocks.
    let refusers: Vec<NodeId> = rejections
        .borrow()
        .iter()
        .filter(|&&(_, _, reason)| reason == "block from the future")
        .inspect(|&&(at, _, _)| assert!(at >= skewed))
        .map(|&(_, node, _)| node)
        .collect();
    assert!(refusers.contains(&NodeId(0)) && !refusers.contains(&NodeId(2)));
    let node0 = node(&sim, 0);
    let epochs = epochs(node0);
    let skewed_in = epoch_at(&epochs, skewed);
    assert!(epochs[skewed_in].produced_by(2) > 0);
    assert_eq!(epochs[skewed_in + 1].produced_by(2), 0);
    assert!(epochs[skewed_in + 2..].iter().all(|e| !e.has(2)));
    // Four seconds ahead is within the allowance: validator-1 keeps producing and stays.
    assert!(
        epochs[skewed_in + 1..]
            .iter()
            .all(|e| e.has(1) && e.produced_by(1) > 0)
    );
    // Timestamps never go back along the chain, whoever's clock stamped them.
    let stamps: Vec<SimTime> = (0..=node0.status().final_height)
        .filter_map(|h| node0.block_at(h).map(|b| b.timestamp))
        .collect();
    assert!(stamps.windows(2).all(|pair| pair[0] < pair[1]));
    // Its own node accepts everyone else's blocks, which are in its past.
    assert_eq!(node(&sim, 2).status().final_hash, node0.status().final_hash);
}

#[test]
fn a_validator_minutes_behind_refuses_everyone_elses_blocks_and_trails_the_chain() {
    let (mut sim, setup) = chain_cluster(4, 3);
    let rejections = record_rejections(&mut sim);
    let skew = SimDuration::from_minutes(3);
    let (skewed, fixed) = (at_minutes(60), at_minutes(150));
    let offset = skew.as_nanos() as i64;
    sim.schedule(
        skewed,
        Fault::ClockSkew {
            node: NodeId(2),
            offset_ns: -offset,
        },
    );
    sim.schedule(
        fixed,
        Fault::ClockSkew {
            node: NodeId(2),
            offset_ns: offset,
        },
    );
    let allowance = setup.config.genesis.max_clock_drift;
    sim.run_to(skewed + skew).unwrap();
    while sim.now() < fixed {
        // It accepts no block stamped later than its clock plus the allowance, yet it
        // keeps following: with no new head for three slots, it asks a peer for blocks.
        let now = sim.now();
        let (trailing, node0) = (node(&sim, 2), node(&sim, 0));
        assert!(head_time(trailing) + skew <= now + allowance, "at {now}");
        assert!(
            head_time(trailing) + skew + BLOCK_TIME.saturating_mul(4) >= now,
            "at {now}"
        );
        let behind = trailing.status();
        let same = node0.block_at(behind.final_height).map(|b| b.hash);
        assert_eq!(same, Some(behind.final_hash), "its final chain is a prefix");
        sim.run_for(SimDuration::from_secs(97)).unwrap();
    }
    let refusers: Vec<NodeId> = rejections
        .borrow()
        .iter()
        .filter(|&&(_, _, reason)| reason == "block from the future")
        .map(|&(_, node, _)| node)
        .collect();
    assert!(refusers.iter().all(|&n| n == NodeId(2)) && !refusers.is_empty());
    // It built only on stale heads, so none of its blocks made the chain: kicked out.
    let epochs = epochs(node(&sim, 0));
    let skewed_in = epoch_at(&epochs, skewed);
    assert_eq!(epochs[skewed_in + 1].produced_by(2), 0);
    assert!(!epochs[skewed_in + 2].has(2));
    // Its clock set right, it catches up at once, but kicked-out validators stay out.
    sim.run_for(SimDuration::from_minutes(1)).unwrap();
    let (caught_up, node0) = (node(&sim, 2).status(), node(&sim, 0).status());
    assert_eq!(caught_up.latest_hash, node0.latest_hash);
    assert!(!caught_up.validators.contains(&ValidatorId(2)));
}

#[test]
fn raft_measures_only_durations_so_clocks_minutes_off_change_no_election() {
    // Runs an hour with each replica's clock jumping by the given minutes at 0:05.
    let run = |skews: [i64; 3]| {
        let mut sim = raft::cluster_with(sim_config(3), 3, &wan_raft());
        raft::checks::install(&mut sim);
        let leaders = record_leaders(&mut sim);
        for (replica, minutes) in raft::replicas(&sim).into_iter().zip(skews) {
            let offset_ns = minutes * 60 * 1_000_000_000;
            let skew = Fault::ClockSkew {
                node: replica,
                offset_ns,
            };
            sim.schedule(at_minutes(5), skew);
        }
        // The leader and another replica crash for five minutes: the third campaigns in
        // vain, term after term, until they are back.
        sim.run_to(at_minutes(30)).unwrap();
        let crashed = leader(&sim);
        for replica in [crashed, NodeId((crashed.0 + 1) % 3)] {
            sim.schedule(sim.now(), Fault::Crash(replica));
            sim.schedule(at_minutes(35), Fault::Restart(replica));
        }
        sim.run_to(at_minutes(60)).unwrap();
        let terms: Vec<u64> = raft::replicas(&sim)
            .into_iter()
            .map(|id| sim.node(id).unwrap().term())
            .collect();
        let leaders = leaders.borrow().clone();
        (leaders, terms)
    };
    let perfect = run([0, 0, 0]);
    let (leaders, terms) = &perfect;
    assert!(leaders.len() >= 2 && terms[0] > 10, "{leaders:?} {terms:?}");
    assert_eq!(run([10, -10, 7]), perfect);
    assert_eq!(run([-7, 3, -10]), perfect);
}
