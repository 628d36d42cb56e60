//! Three hours of a five-replica Raft cluster whose leader crashes every twenty minutes,
//! in a fraction of a second.
//!
//! ```sh
//! cargo run --release -p node-model --example raft_elections
//! ```
//!
//! Raft tuned for a wide-area network (a heartbeat every second, elections after five to
//! ten seconds of silence). Each crash is followed, one election timeout later, by a new
//! leader in a higher term; the crashed replica rejoins as a follower five minutes
//! later; clients keep writing and reading, and their history stays linearizable.
//! Then the same run with clocks off: Raft measures only durations, so clocks minutes
//! ahead or behind change nothing at all, while a clock that runs fast fires its
//! timers early, and the elections play out differently (and as safely).

use std::cell::RefCell;
use std::rc::Rc;

use node_model::raft::{
    self, HistoryHandle, RaftConfig, RaftEvent, RaftNode, RaftView, Role, Workload,
};
use sim_core::{Fault, Latency, LinkConfig, NodeId, Sim, SimConfig, SimDuration, SimTime};

/// (true time, leader, term) of every election won.
type Elections = Rc<RefCell<Vec<(SimTime, NodeId, u64)>>>;

fn at_minutes(minutes: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_minutes(minutes)
}

/// `h:mm:ss.mmm` of virtual time.
fn clock(time: SimTime) -> String {
    let millis = time.as_nanos() / 1_000_000;
    let seconds = millis / 1_000;
    format!(
        "{}:{:02}:{:02}.{:03}",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60,
        millis % 1_000
    )
}

/// A stopwatch on the wall clock, only to report how long the run took: the
/// simulation itself never reads it.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
fn stopwatch() -> impl FnOnce() -> std::time::Duration {
    let start = std::time::Instant::now();
    move || start.elapsed()
}

fn wan_raft() -> RaftConfig {
    RaftConfig {
        heartbeat_interval: SimDuration::from_secs(1),
        election_timeout_min: SimDuration::from_secs(5),
        election_timeout_max: SimDuration::from_secs(10),
        ..RaftConfig::default()
    }
}

/// Five replicas on a wide-area network with clients writing and reading every 10 to 60
/// seconds, recording every election won and the client history.
fn cluster(seed: u64) -> (Sim<RaftNode>, Elections, HistoryHandle) {
    let mut sim_config = SimConfig::new(seed);
    sim_config.network.default_link = LinkConfig::with_latency(Latency::Uniform {
        min: SimDuration::from_millis(20),
        max: SimDuration::from_millis(80),
    });
    let mut sim = raft::cluster_with(sim_config, 5, &wan_raft());
    raft::checks::install(&mut sim);
    let elections = Elections::default();
    let sink = Rc::clone(&elections);
    sim.always("record elections", move |world| {
        for observation in world.observations() {
            if let RaftEvent::BecameLeader { term } = observation.value {
                sink.borrow_mut()
                    .push((observation.time, observation.node, term));
            }
        }
        Ok(())
    });
    let history = raft::record_history(&mut sim);
    let workload = Workload {
        interval_min: SimDuration::from_secs(10),
        interval_max: SimDuration::from_secs(60),
        ..Workload::new(at_minutes(1), at_minutes(180))
    };
    workload.schedule(&mut sim);
    (sim, elections, history)
}

/// Crashes whoever leads every twenty minutes for three hours (each back five minutes
/// later), after applying `clock_faults` at five minutes. Returns the crashes.
fn crash_leaders(sim: &mut Sim<RaftNode>, clock_faults: &[Fault]) -> Vec<(SimTime, NodeId)> {
    for fault in clock_faults {
        sim.schedule(at_minutes(5), fault.clone());
    }
    let mut crashes = Vec::new();
    for minutes in (10..180).step_by(20) {
        sim.run_to(at_minutes(minutes))
            .expect("no invariant broken");
        let leader = raft::replicas(sim)
            .into_iter()
            .find(|&id| sim.node(id).is_some_and(|r| r.role() == Role::Leader))
            .expect("a leader");
        sim.schedule(sim.now(), Fault::Crash(leader));
        sim.schedule(
            sim.now() + SimDuration::from_minutes(5),
            Fault::Restart(leader),
        );
        crashes.push((sim.now(), leader));
    }
    sim.run_to(at_minutes(180)).expect("no invariant broken");
    crashes
}

fn main() {
    let elapsed = stopwatch();
    let config = wan_raft();
    println!(
        "5 replicas, heartbeat every {}, election timeout {} to {}, 20-80 ms links",
        config.heartbeat_interval, config.election_timeout_min, config.election_timeout_max
    );
    let (mut sim, elections, history) = cluster(2);
    let crashes = crash_leaders(&mut sim, &[]);
    print_elections(&crashes, &elections.borrow());
    let report = history.check().expect("a linearizable history");
    println!(
        "\n{} elections for {} crashes; {} client requests completed, linearizable; \
         {} steps",
        elections.borrow().len(),
        crashes.len(),
        report.completed,
        sim.outcome().stats.steps
    );
    compare_clocks();
    println!("\n4 x 3h of virtual time: {:.0?} of wall time", elapsed());
}

/// Each crash and the election that followed it.
fn print_elections(crashes: &[(SimTime, NodeId)], elections: &[(SimTime, NodeId, u64)]) {
    println!("\n   crash at   leader  |  new leader at  replica  term  silence");
    let (first_at, first, first_term) = elections[0];
    let first = first.to_string();
    println!(
        "                      |  {}  {first:>7}  {first_term:>4}",
        clock(first_at)
    );
    for (&(crashed_at, crashed), &(elected_at, leader, term)) in crashes.iter().zip(&elections[1..])
    {
        println!(
            "{}  {:>7}  |  {}  {:>7}  {term:>4}  {:.1}s",
            clock(crashed_at),
            crashed.to_string(),
            clock(elected_at),
            leader.to_string(),
            (elected_at - crashed_at).as_secs_f64()
        );
    }
}

/// The same run with perfect clocks, with two clocks ten minutes off, and with one clock
/// running fast: who won each election.
fn compare_clocks() {
    println!("\nThe same three hours with clocks off from 0:05:00 on (winners as replica/term):");
    let minutes = 10 * 60 * 1_000_000_000;
    let skews = vec![
        Fault::ClockSkew {
            node: NodeId(0),
            offset_ns: minutes,
        },
        Fault::ClockSkew {
            node: NodeId(1),
            offset_ns: -minutes,
        },
    ];
    let drift = vec![Fault::ClockDrift {
        node: NodeId(4),
        ppm: 500_000,
    }];
    let variants = [
        ("perfect clocks", vec![]),
        ("n0 10 min ahead, n1 10 min behind", skews),
        ("n4's clock runs 50% fast", drift),
    ];
    for (name, faults) in variants {
        let (mut sim, elections, history) = cluster(2);
        crash_leaders(&mut sim, &faults);
        history.check().expect("a linearizable history");
        let winners: Vec<String> = elections
            .borrow()
            .iter()
            .map(|&(_, leader, term)| format!("{}/{term}", leader.0))
            .collect();
        let by_n4 = elections
            .borrow()
            .iter()
            .filter(|e| e.1 == NodeId(4))
            .count();
        println!("  {name:<34} {}  (n4 won {by_n4})", winners.join(" "));
    }
}
