//! One Raft replica as a sans-IO state machine: the state it keeps, how events reach
//! it, the client interface, and applying committed entries to the key-value store.
//!
//! Elections live in [`super::election`], log replication in [`super::replication`].
//! Every path that changes the term, the vote or the log stages the change on the disk
//! and syncs it before sending anything that depends on it: a vote, an append reply,
//! a vote request for itself. (The one planted exception is [`super::canary`].)
//!
//! Membership is fixed: the replicas are the simulation's nodes `0..node_count`.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Context, Node, NodeId, SimTime, TimerId};
use thiserror::Error;

use super::config::RaftConfig;
use super::log::RaftLog;
use super::machine::KvMachine;
use super::message::RaftMessage;
use super::storage::{self, StorageError};
use super::view::{Command, Key, LogEntry, Op, RaftEvent, RaftView, RequestId, Role, Value};

/// The timers a replica sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RaftTimer {
    /// No leader was heard from for a randomized timeout: stand for election.
    Election,
    /// A leader's heartbeat is due; a candidate asks again for missing votes.
    Heartbeat,
}

/// A client request sent to a replica that is not the leader. Nothing was observed
/// and nothing will happen: the request certainly did not take effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("not the leader (last known leader: {hint:?})")]
pub struct NotLeader {
    /// The leader this replica last heard from in its current term, if any.
    pub hint: Option<NodeId>,
}

/// One replica of the replicated key-value log.
///
/// Drive it through [`sim_core::Sim`]: it elects leaders with randomized timeouts,
/// replicates and commits the log, applies committed entries in order to a
/// `BTreeMap<Key, Value>`, and reports [`RaftEvent`]s for the checkers. Clients call
/// [`RaftNode::submit`] on the leader.
#[derive(Debug)]
pub struct RaftNode {
    pub(super) config: RaftConfig,
    pub(super) id: NodeId,
    // Durable: synced to disk before anyone is told.
    pub(super) term: u64,
    pub(super) voted_for: Option<NodeId>,
    pub(super) log: RaftLog,
    // Volatile: lost with a crash, rebuilt from the log and from the leader.
    pub(super) role: Role,
    pub(super) leader_hint: Option<NodeId>,
    pub(super) commit_index: u64,
    /// The key-value store, and the client requests accepted as leader.
    pub(super) machine: KvMachine,
    pub(super) election_timer: Option<TimerId>,
    pub(super) heartbeat_timer: Option<TimerId>,
    /// As candidate: who granted this replica their vote in its term.
    pub(super) votes: BTreeSet<NodeId>,
    /// With `pre_vote`, as a follower asking whether it could win: who said yes. `None`
    /// when not asking.
    pub(super) pre_votes: Option<BTreeSet<NodeId>>,
    /// When this replica last heard from the leader of its term (with `pre_vote`, it
    /// says no to a pre-vote until an election timeout has passed since).
    pub(super) leader_seen: Option<SimTime>,
    /// As leader with `check_quorum`: who answered since the last look.
    pub(super) heard: BTreeSet<NodeId>,
    /// As leader, per replica: the next index to send it.
    pub(super) next_index: Vec<u64>,
    /// As leader, per replica: the highest index known to match this log.
    pub(super) match_index: Vec<u64>,
    /// Why the replica stopped for good: its disk could not be read back.
    pub(super) halted: Option<StorageError>,
}

impl RaftNode {
    /// A fresh replica `id` with an empty log. Panics if `config` does not validate
    /// (check user input with [`RaftConfig::validate`] first).
    pub fn new(id: NodeId, config: RaftConfig) -> RaftNode {
        if let Err(error) = config.validate() {
            panic!("invalid Raft config: {error}");
        }
        RaftNode {
            config,
            id,
            term: 0,
            voted_for: None,
            log: RaftLog::default(),
            role: Role::Follower,
            leader_hint: None,
            commit_index: 0,
            machine: KvMachine::default(),
            election_timer: None,
            heartbeat_timer: None,
            votes: BTreeSet::new(),
            heard: BTreeSet::new(),
            pre_votes: None,
            leader_seen: None,
            next_index: Vec::new(),
            match_index: Vec::new(),
            halted: None,
        }
    }

    /// Offers a client request. Only a leader accepts it: it observes
    /// [`RaftEvent::Invoked`], appends the command and replicates it, and observes
    /// [`RaftEvent::Returned`] once it applies it. Any other replica refuses with the
    /// leader it knows of, and the request certainly does not happen.
    pub fn submit(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: RequestId,
        op: Op,
    ) -> Result<(), NotLeader> {
        if self.role != Role::Leader || self.halted.is_some() {
            return Err(NotLeader {
                hint: self.leader_hint.filter(|&leader| leader != self.id),
            });
        }
        ctx.observe(RaftEvent::Invoked { request, op });
        let command = Command { request, op };
        let index = self.append_local(
            ctx,
            LogEntry {
                term: self.term,
                command: Some(command),
            },
        );
        self.machine.accept(index, request);
        self.replicate_to_all(ctx);
        self.advance_commit(ctx);
        Ok(())
    }

    /// The replica's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The key-value store as applied so far.
    pub fn kv(&self) -> &BTreeMap<Key, Value> {
        self.machine.kv()
    }

    /// The leader of the current term, if this replica knows it (itself when leading).
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }

    /// The index of the last entry applied to the key-value store.
    pub fn applied_index(&self) -> u64 {
        self.machine.applied_index()
    }

    /// The vote cast in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The settings the replica runs with.
    pub fn config(&self) -> &RaftConfig {
        &self.config
    }

    /// Why the replica halted, if its disk could not be read back on recovery.
    pub fn halted(&self) -> Option<&StorageError> {
        self.halted.as_ref()
    }

    /// Makes staged disk writes durable, before telling anyone about them.
    pub(super) fn flush(ctx: &mut Context<'_, Self>) {
        if ctx.disk().has_unsynced_writes() {
            ctx.disk().sync();
        }
    }

    /// Adopts a higher `term` seen in a message: a new term has no vote yet, and
    /// whoever leads it, it is not this replica.
    pub(super) fn adopt_term(&mut self, ctx: &mut Context<'_, Self>, term: u64) {
        assert!(term > self.term, "terms only grow");
        self.term = term;
        self.voted_for = None;
        self.leader_hint = None;
        self.leader_seen = None;
        self.pre_votes = None;
        storage::save_hard_state(ctx.disk(), self.term, self.voted_for);
        self.become_follower(ctx);
    }

    /// Applies every committed entry not yet applied, in index order.
    pub(super) fn apply_committed(&mut self, ctx: &mut Context<'_, Self>) {
        assert!(
            self.commit_index <= self.log.last_index(),
            "commit index {} is past the log end {}",
            self.commit_index,
            self.log.last_index()
        );
        while self.machine.applied_index() < self.commit_index {
            let index = self.machine.applied_index() + 1;
            let entry = *self
                .log
                .get(index)
                .expect("committed entries are in the log");
            self.machine.apply(ctx, index, entry);
        }
    }

    /// Reads back the term, the vote and the log after a crash; halts if it cannot.
    fn recover(&mut self, ctx: &mut Context<'_, Self>) {
        match storage::load(ctx.disk()) {
            Ok(durable) => {
                self.term = durable.term;
                self.voted_for = durable.voted_for;
                self.log = durable.log;
                self.reset_election_timer(ctx);
            }
            Err(error) => {
                tracing::warn!(node = self.id.0, %error, "raft replica halts");
                self.halted = Some(error);
            }
        }
    }
}

impl Node for RaftNode {
    type Message = RaftMessage;
    type Timer = RaftTimer;
    type Observation = RaftEvent;

    fn message_digest(message: &RaftMessage) -> u64 {
        sim_core::digest(message)
    }

    fn message_kind(message: &RaftMessage) -> &'static str {
        message.kind()
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.reset_election_timer(ctx);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.recover(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: RaftMessage) {
        if self.halted.is_some() {
            return;
        }
        if message.term() > self.term && !message.is_pre_vote() {
            self.adopt_term(ctx, message.term());
        }
        match message {
            RaftMessage::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_request_vote(ctx, source, term, last_log_index, last_log_term),
            RaftMessage::Vote { term, granted } => self.on_vote(ctx, source, term, granted),
            RaftMessage::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => {
                let append = (prev_log_index, prev_log_term, leader_commit);
                self.on_append_entries(ctx, source, term, append, &entries);
            }
            RaftMessage::AppendReply {
                term,
                success,
                index,
            } => self.on_append_reply(ctx, source, term, success, index),
            RaftMessage::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_pre_vote(ctx, source, term, last_log_index, last_log_term),
            RaftMessage::PreVoteReply { term, granted } => {
                self.on_pre_vote_reply(ctx, source, term, granted);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: RaftTimer) {
        if self.halted.is_some() {
            return;
        }
        match timer {
            RaftTimer::Election => {
                self.election_timer = None;
                if self.role == Role::Leader {
                    self.check_quorum(ctx);
                } else if self.config.pre_vote {
                    self.start_pre_vote(ctx);
                } else {
                    self.start_election(ctx);
                }
            }
            RaftTimer::Heartbeat => {
                self.heartbeat_timer = None;
                self.on_heartbeat(ctx);
            }
        }
    }
}

impl RaftView for RaftNode {
    fn term(&self) -> u64 {
        self.term
    }

    fn role(&self) -> Role {
        self.role
    }

    fn commit_index(&self) -> u64 {
        self.commit_index
    }

    fn last_index(&self) -> u64 {
        self.log.last_index()
    }

    fn entry(&self, index: u64) -> Option<LogEntry> {
        self.log.get(index).copied()
    }

    fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }
}
