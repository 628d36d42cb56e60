//! Each Raft invariant catches a planted violation, and lets legal histories pass.
//!
//! The replicas here are scripted: a test sets their term, role and log and makes
//! them observe events, through `Sim::call`, and the checks judge the world after
//! each call as they would after any step.

use node_model::raft::checks::{
    self, ELECTION_SAFETY, LEADER_COMPLETENESS, LOG_MATCHING, STATE_MACHINE_SAFETY,
};
use node_model::raft::{Command, LogEntry, Op, RaftEvent, RaftView, RequestId, Role};
use sim_core::{CheckKind, Context, Node, NodeId, Sim, Violation};

/// A replica whose state and observations the test dictates.
#[derive(Debug)]
struct Scripted {
    term: u64,
    role: Role,
    log: Vec<LogEntry>,
}

impl Node for Scripted {
    type Message = ();
    type Timer = ();
    type Observation = RaftEvent;

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, (): ()) {}
}

impl RaftView for Scripted {
    fn term(&self) -> u64 {
        self.term
    }

    fn role(&self) -> Role {
        self.role
    }

    fn commit_index(&self) -> u64 {
        0
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    fn entry(&self, index: u64) -> Option<LogEntry> {
        self.log
            .get(usize::try_from(index).ok()?.checked_sub(1)?)
            .copied()
    }

    fn leader_hint(&self) -> Option<NodeId> {
        None
    }
}

/// `replicas` scripted replicas, empty, in term 0, with every Raft check installed.
fn cluster(replicas: u32) -> Sim<Scripted> {
    let mut sim = Sim::with_seed(1);
    for _ in 0..replicas {
        sim.add_node(|_| Scripted {
            term: 0,
            role: Role::Follower,
            log: Vec::new(),
        });
    }
    checks::install(&mut sim);
    sim
}

/// Runs `script` on `node` as one step; returns the violation it caused, if any.
fn act(
    sim: &mut Sim<Scripted>,
    node: u32,
    script: impl FnOnce(&mut Scripted, &mut Context<'_, Scripted>),
) -> Option<Violation> {
    sim.call(NodeId(node), script).expect("the replica is up");
    sim.stopped().and_then(|stop| stop.violation()).cloned()
}

/// An entry of `term` carrying a write of `value`.
fn entry(term: u64, value: u64) -> LogEntry {
    let request = RequestId {
        client: 0,
        sequence: value,
    };
    let op = Op::Put { key: 1, value };
    LogEntry {
        term,
        command: Some(Command { request, op }),
    }
}

/// Makes `node` leader of `term` with `log`, observing it.
fn lead(sim: &mut Sim<Scripted>, node: u32, term: u64, log: Vec<LogEntry>) -> Option<Violation> {
    act(sim, node, move |replica, ctx| {
        replica.term = term;
        replica.role = Role::Leader;
        replica.log = log;
        ctx.observe(RaftEvent::BecameLeader { term });
    })
}

/// Makes `node`, now in `term`, apply `entry` at `index`.
fn apply(
    sim: &mut Sim<Scripted>,
    node: u32,
    term: u64,
    index: u64,
    entry: LogEntry,
) -> Option<Violation> {
    act(sim, node, move |replica, ctx| {
        replica.term = term;
        ctx.observe(RaftEvent::Applied { index, entry });
    })
}

fn set_log(sim: &mut Sim<Scripted>, node: u32, log: Vec<LogEntry>) -> Option<Violation> {
    act(sim, node, move |replica, _| replica.log = log)
}

#[test]
fn election_safety_catches_two_leaders_in_one_term() {
    let mut sim = cluster(3);
    assert_eq!(lead(&mut sim, 0, 3, Vec::new()), None);
    assert_eq!(
        lead(&mut sim, 0, 3, Vec::new()),
        None,
        "the same leader again"
    );
    assert_eq!(lead(&mut sim, 1, 4, Vec::new()), None, "a later term");
    let violation = lead(&mut sim, 2, 3, Vec::new()).expect("caught");
    assert_eq!(violation.check, ELECTION_SAFETY);
    assert_eq!(violation.kind, CheckKind::Always);
    assert_eq!(violation.message, "two leaders in term 3: n0 and n2");
}

#[test]
fn log_matching_catches_logs_that_share_an_entry_but_not_the_prefix_before_it() {
    let mut sim = cluster(2);
    assert_eq!(set_log(&mut sim, 0, vec![entry(1, 10), entry(2, 20)]), None);
    let violation = set_log(&mut sim, 1, vec![entry(2, 11), entry(2, 20)]).expect("caught");
    assert_eq!(violation.check, LOG_MATCHING);
    assert!(
        violation.message.contains("entry 2 of term 2")
            && violation.message.contains("after an entry of term 2")
            && violation.message.contains("n0 held it"),
        "{}",
        violation.message
    );
}

#[test]
fn log_matching_catches_one_index_and_term_holding_two_commands() {
    let mut sim = cluster(2);
    assert_eq!(set_log(&mut sim, 0, vec![entry(1, 10)]), None);
    let violation = set_log(&mut sim, 1, vec![entry(1, 11)]).expect("caught");
    assert_eq!(violation.check, LOG_MATCHING);
}

#[test]
fn log_matching_catches_a_replica_contradicting_its_own_earlier_log() {
    let mut sim = cluster(1);
    assert_eq!(set_log(&mut sim, 0, vec![entry(1, 10), entry(1, 11)]), None);
    let violation = set_log(&mut sim, 0, vec![entry(1, 10), entry(1, 12)]).expect("caught");
    assert_eq!(violation.check, LOG_MATCHING);
}

#[test]
fn log_matching_allows_a_conflicting_suffix_to_be_replaced_by_a_later_term() {
    let mut sim = cluster(2);
    assert_eq!(set_log(&mut sim, 0, vec![entry(1, 10), entry(2, 20)]), None);
    assert_eq!(set_log(&mut sim, 1, vec![entry(1, 10), entry(3, 30)]), None);
    assert_eq!(
        set_log(&mut sim, 0, vec![entry(1, 10), entry(3, 30), entry(3, 31)]),
        None
    );
    assert!(sim.stopped().is_none());
}

#[test]
fn leader_completeness_catches_a_new_leader_without_a_committed_entry() {
    let mut sim = cluster(3);
    assert_eq!(lead(&mut sim, 0, 1, vec![entry(1, 10)]), None);
    assert_eq!(apply(&mut sim, 0, 1, 1, entry(1, 10)), None);
    assert_eq!(lead(&mut sim, 1, 2, vec![entry(1, 10), entry(2, 20)]), None);
    let violation = lead(&mut sim, 2, 3, vec![entry(2, 21)]).expect("caught");
    assert_eq!(violation.check, LEADER_COMPLETENESS);
    assert!(
        violation
            .message
            .starts_with("n2, leader of term 3, holds Some("),
        "{}",
        violation.message
    );
}

#[test]
fn leader_completeness_catches_a_sitting_leader_missing_a_later_commit() {
    let mut sim = cluster(3);
    assert_eq!(lead(&mut sim, 2, 5, Vec::new()), None);
    let violation = apply(&mut sim, 0, 4, 1, entry(4, 40)).expect("caught");
    assert_eq!(violation.check, LEADER_COMPLETENESS);
    assert!(
        violation.message.contains("n2, leader of term 5"),
        "{}",
        violation.message
    );
}

#[test]
fn leader_completeness_allows_an_old_term_leader_elected_by_a_late_vote() {
    // A vote cast in term 4 can reach its candidate after a term-5 leader committed
    // an entry the candidate lacks: Raft promises nothing to a leader of term 4.
    let mut sim = cluster(3);
    assert_eq!(apply(&mut sim, 0, 5, 1, entry(3, 30)), None);
    assert_eq!(lead(&mut sim, 1, 4, Vec::new()), None);
    assert!(sim.stopped().is_none());
}

#[test]
fn state_machine_safety_catches_two_replicas_applying_different_entries_at_one_index() {
    let mut sim = cluster(2);
    assert_eq!(apply(&mut sim, 0, 1, 1, entry(1, 10)), None);
    assert_eq!(
        apply(&mut sim, 1, 1, 1, entry(1, 10)),
        None,
        "the same entry"
    );
    assert_eq!(apply(&mut sim, 1, 1, 2, entry(1, 11)), None);
    let violation = apply(&mut sim, 0, 1, 2, entry(1, 12)).expect("caught");
    assert_eq!(violation.check, STATE_MACHINE_SAFETY);
    assert!(
        violation.message.contains("at index 2, but n1 applied"),
        "{}",
        violation.message
    );
}

#[test]
fn install_registers_all_four_checks() {
    let mut sim = cluster(1);
    sim.run_for(sim_core::SimDuration::from_millis(1)).unwrap();
    let names: Vec<String> = sim
        .outcome()
        .coverage
        .into_iter()
        .map(|c| c.check)
        .collect();
    assert_eq!(
        names,
        [
            ELECTION_SAFETY,
            LOG_MATCHING,
            LEADER_COMPLETENESS,
            STATE_MACHINE_SAFETY
        ]
    );
}
