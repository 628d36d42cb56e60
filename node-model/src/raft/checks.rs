//! Raft's safety properties (Figure 3 of the Raft paper) as invariants, checked after
//! every step for any implementation that reports [`RaftEvent`]s and shows its log
//! through [`RaftView`].
//!
//! Each checker keeps its own canonical history and compares what nodes report or hold
//! against it, so that a property is judged over the whole run, crashes included, and
//! not only over the replicas that happen to be up:
//!
//! | checker | history | catches |
//! |---|---|---|
//! | [`ElectionSafety`] | the leader of each term | two leaders in one term |
//! | [`LogMatching`] | every `(index, term)` ever held, with its entry and the term before it | two logs that share an entry but not the prefix before it |
//! | [`LeaderCompleteness`] | every entry applied anywhere | a leader elected without a committed entry |
//! | [`StateMachineSafety`] | the entry applied at each index | two replicas applying different entries at one index |
//!
//! Each costs O(nodes) per step plus the entries that changed, except that
//! [`LeaderCompleteness`] reads the whole committed prefix of each new leader, once
//! per election.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use sim_core::{Node, NodeId, Sim, World};

use super::view::{LogEntry, RaftEvent, RaftView, Role};

/// The name [`install`] gives the [`ElectionSafety`] check.
pub const ELECTION_SAFETY: &str = "raft: election safety";
/// The name [`install`] gives the [`LogMatching`] check.
pub const LOG_MATCHING: &str = "raft: log matching";
/// The name [`install`] gives the [`LeaderCompleteness`] check.
pub const LEADER_COMPLETENESS: &str = "raft: leader completeness";
/// The name [`install`] gives the [`StateMachineSafety`] check.
pub const STATE_MACHINE_SAFETY: &str = "raft: state machine safety";

/// Registers all four Raft safety checks on `sim`, under the names above.
pub fn install<N: Node<Observation = RaftEvent> + RaftView>(sim: &mut Sim<N>) {
    sim.add_invariant(ELECTION_SAFETY, ElectionSafety::default());
    sim.add_invariant(LOG_MATCHING, LogMatching::default());
    sim.add_invariant(LEADER_COMPLETENESS, LeaderCompleteness::default());
    sim.add_invariant(STATE_MACHINE_SAFETY, StateMachineSafety::default());
}

/// At most one leader per term, judged from [`RaftEvent::BecameLeader`].
#[derive(Debug, Default)]
pub struct ElectionSafety {
    leaders: BTreeMap<u64, NodeId>,
}

impl<N: Node<Observation = RaftEvent> + RaftView> sim_core::Invariant<N> for ElectionSafety {
    fn check(&mut self, world: &World<'_, N>) -> Result<(), String> {
        for observation in world.observations() {
            let RaftEvent::BecameLeader { term } = observation.value else {
                continue;
            };
            let leader = *self.leaders.entry(term).or_insert(observation.node);
            if leader != observation.node {
                return Err(format!(
                    "two leaders in term {term}: {leader} and {}",
                    observation.node
                ));
            }
        }
        Ok(())
    }
}

/// If two logs hold an entry with the same index and term, they are identical up to
/// that index.
///
/// Checked in its inductive form: every `(index, term)` that any replica ever held
/// maps to one entry and one term before it. (If every log agrees on the entry and on
/// the term before it, two logs sharing `(index, term)` share `(index - 1, that
/// term)`, and so on down to index 1.) Only the entries that changed since the last
/// step are looked at: those after the longest prefix still equal to the replica's
/// previous log. The check therefore misses a replica that rewrites an entry into an
/// identical one while changing entries below it; Raft logs only lose suffixes.
#[derive(Debug, Default)]
pub struct LogMatching {
    /// `(index, term)` → (the entry, the term before it, who first held it).
    canonical: BTreeMap<(u64, u64), (LogEntry, u64, NodeId)>,
    /// Each replica's log as last checked.
    seen: Vec<Vec<LogEntry>>,
}

impl LogMatching {
    fn check_node(&mut self, id: NodeId, node: &impl RaftView) -> Result<(), String> {
        if self.seen.len() <= id.index() {
            self.seen.resize_with(id.index() + 1, Vec::new);
        }
        let seen = &mut self.seen[id.index()];
        let last = node.last_index();
        let mut same = seen.len().min(usize::try_from(last).unwrap_or(usize::MAX));
        while same > 0 && node.entry(same as u64).as_ref() != Some(&seen[same - 1]) {
            same -= 1;
        }
        seen.truncate(same);
        for index in (same as u64 + 1)..=last {
            let entry = node
                .entry(index)
                .ok_or_else(|| format!("{id} has last index {last} but no entry {index}"))?;
            let previous_term = seen.last().map_or(0, |previous| previous.term);
            match self.canonical.entry((index, entry.term)) {
                Entry::Vacant(vacant) => {
                    vacant.insert((entry, previous_term, id));
                }
                Entry::Occupied(known) => {
                    let (known_entry, known_previous, holder) = *known.get();
                    if (known_entry, known_previous) != (entry, previous_term) {
                        return Err(format!(
                            "{id} holds entry {index} of term {} as {entry:?} after an entry of \
                             term {previous_term}, but {holder} held it as {known_entry:?} after \
                             an entry of term {known_previous}",
                            entry.term
                        ));
                    }
                }
            }
            seen.push(entry);
        }
        Ok(())
    }
}

impl<N: Node<Observation = RaftEvent> + RaftView> sim_core::Invariant<N> for LogMatching {
    fn check(&mut self, world: &World<'_, N>) -> Result<(), String> {
        for (id, node) in world.nodes() {
            let seen = self.seen.get(id.index());
            let last = node.last_index();
            let unchanged = seen.is_some_and(|seen| {
                seen.len() as u64 == last && node.entry(last).as_ref() == seen.last()
            });
            if !unchanged {
                self.check_node(id, node)?;
            }
        }
        Ok(())
    }
}

/// Every entry committed in a term is in the log of the leader of every later term.
///
/// An entry counts as committed once anyone reports it [`RaftEvent::Applied`]. The
/// term in which it was committed is not observed, but it is at most the current term
/// of the first replica to apply it (nothing is applied before it is committed, and
/// terms only grow): call that bound the entry's commit term. A leader of a later
/// term may take office before or after the commit (a vote cast before the commit can
/// arrive after it), so two moments are checked:
///
/// - each newly committed entry against every replica leading, at that moment, a
///   term above the entry's commit term;
/// - each [`RaftEvent::BecameLeader`] of term `t` against every entry committed so far
///   with a commit term below `t`.
///
/// A leader keeps every entry of its log while it leads, so checking it at these two
/// moments covers its whole time in office.
#[derive(Debug, Default)]
pub struct LeaderCompleteness {
    /// Index → (the entry, its commit term).
    committed: BTreeMap<u64, (LogEntry, u64)>,
}

impl LeaderCompleteness {
    /// A newly committed entry must be in every replica that leads a term above
    /// `commit_term`.
    fn check_sitting_leaders<N: Node + RaftView>(
        world: &World<'_, N>,
        index: u64,
        (entry, commit_term): (LogEntry, u64),
    ) -> Result<(), String> {
        for (id, node) in world.nodes() {
            if node.role() == Role::Leader && node.term() > commit_term {
                check_leader_holds(id, node, index, entry)?;
            }
        }
        Ok(())
    }

    /// A new leader must hold every entry committed in an earlier term.
    fn check_new_leader(&self, id: NodeId, leader: &impl RaftView) -> Result<(), String> {
        let term = leader.term();
        for (&index, &(entry, commit_term)) in &self.committed {
            if commit_term < term {
                check_leader_holds(id, leader, index, entry)?;
            }
        }
        Ok(())
    }
}

fn check_leader_holds(
    id: NodeId,
    leader: &impl RaftView,
    index: u64,
    entry: LogEntry,
) -> Result<(), String> {
    let held = leader.entry(index);
    if held == Some(entry) {
        return Ok(());
    }
    Err(format!(
        "{id}, leader of term {}, holds {held:?} at index {index}, where {entry:?} was \
         committed in an earlier term",
        leader.term()
    ))
}

impl<N: Node<Observation = RaftEvent> + RaftView> sim_core::Invariant<N> for LeaderCompleteness {
    fn check(&mut self, world: &World<'_, N>) -> Result<(), String> {
        for observation in world.observations() {
            let Some(node) = world.node(observation.node) else {
                continue;
            };
            match observation.value {
                RaftEvent::Applied { index, entry } => {
                    if let Entry::Vacant(vacant) = self.committed.entry(index) {
                        let committed = *vacant.insert((entry, node.term()));
                        Self::check_sitting_leaders(world, index, committed)?;
                    }
                }
                RaftEvent::BecameLeader { .. } => self.check_new_leader(observation.node, node)?,
                RaftEvent::Invoked { .. } | RaftEvent::Returned { .. } => {}
            }
        }
        Ok(())
    }
}

/// No two replicas apply different entries at the same index.
#[derive(Debug, Default)]
pub struct StateMachineSafety {
    /// Index → (who applied first, what).
    applied: BTreeMap<u64, (NodeId, LogEntry)>,
}

impl<N: Node<Observation = RaftEvent> + RaftView> sim_core::Invariant<N> for StateMachineSafety {
    fn check(&mut self, world: &World<'_, N>) -> Result<(), String> {
        for observation in world.observations() {
            let RaftEvent::Applied { index, entry } = observation.value else {
                continue;
            };
            let (first, known) = *self
                .applied
                .entry(index)
                .or_insert((observation.node, entry));
            if known != entry {
                return Err(format!(
                    "{} applied {entry:?} at index {index}, but {first} applied {known:?}",
                    observation.node
                ));
            }
        }
        Ok(())
    }
}
