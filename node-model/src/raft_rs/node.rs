//! One raft-rs replica as a detsim node: the raft crate's `RawNode`, driven unchanged,
//! with the key-value store it replicates and the client interface.
//!
//! Every event reaches the `RawNode` through one call (`tick` on the tick timer,
//! `step` for a message, `propose` for a client request), followed by the seeded
//! election-timeout override ([`super::timeout`]) and the handling of whatever
//! `Ready` the call produced ([`super::ready`]).
//!
//! Membership is fixed: the replicas are the simulation's nodes `0..replicas`, and
//! node `NodeId(i)` is raft id `i + 1` (raft-rs reserves id 0 for "nobody").

use std::collections::BTreeMap;
use std::fmt;

use raft::storage::MemStorage;
use raft::{GetEntriesContext, RawNode, StateRole, Storage};
use sim_core::encoding::{decode, encode};
use sim_core::{Context, Node, NodeId};

use super::config::RaftRsConfig;
use super::message::RaftRsMessage;
use super::storage;
use super::timeout::SeededTimeouts;
use crate::raft::machine::KvMachine;
use crate::raft::{
    Command, Key, LogEntry, NotLeader, Op, RaftEvent, RaftView, RequestId, Role, StorageError,
    Value,
};

/// The one timer a replica sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RaftRsTimer {
    /// Time for the next `RawNode::tick`.
    Tick,
}

/// One replica of the replicated key-value log, run by the raft crate.
///
/// Drive it through [`sim_core::Sim`]. It reports the same [`RaftEvent`]s and shows
/// the same [`RaftView`] as our own [`crate::raft::RaftNode`], so that
/// [`crate::raft::checks::install`] and [`crate::raft::record_history`] judge it
/// unchanged. Clients call [`RaftRsNode::submit`] on the leader.
pub struct RaftRsNode {
    pub(super) id: NodeId,
    replicas: u32,
    config: RaftRsConfig,
    pub(super) raw: RawNode<MemStorage>,
    timeouts: SeededTimeouts,
    /// The term in which this replica last observed itself becoming leader.
    led_term: Option<u64>,
    /// The key-value store and the requests accepted as leader. Volatile: rebuilt after
    /// a crash by re-applying the log from index 1.
    pub(super) machine: KvMachine,
    /// Why the replica stopped for good: its disk could not be read back.
    halted: Option<StorageError>,
}

/// The raft id of node `id`.
fn raft_id(id: NodeId) -> u64 {
    u64::from(id.0) + 1
}

/// The node with raft id `raft_id` (not zero).
pub(super) fn node_id(raft_id: u64) -> NodeId {
    let index = raft_id.checked_sub(1).expect("raft id 0 is nobody");
    NodeId(u32::try_from(index).expect("raft ids come from node ids"))
}

/// raft-rs logs through slog; detsim's own tracing carries what matters.
fn discard_logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

impl RaftRsNode {
    /// Replica `id` of a cluster of `replicas`, with an empty log. Panics if `config`
    /// does not validate (check user input with [`RaftRsConfig::validate`] first) or
    /// `id` is not one of the replicas.
    pub fn new(id: NodeId, replicas: u32, config: RaftRsConfig) -> RaftRsNode {
        if let Err(error) = config.validate() {
            panic!("invalid raft-rs config: {error}");
        }
        assert!(id.0 < replicas, "{id} is not one of {replicas} replicas");
        let voters = (0..replicas).map(|index| raft_id(NodeId(index)));
        let (raw, timeouts) = build_raw(id, &config, storage::fresh(voters));
        RaftRsNode {
            id,
            replicas,
            config,
            raw,
            timeouts,
            led_term: None,
            machine: KvMachine::default(),
            halted: None,
        }
    }

    /// Offers a client request. Only a leader accepts it: it proposes the encoded
    /// [`Command`] to raft-rs, observes [`RaftEvent::Invoked`], and observes
    /// [`RaftEvent::Returned`] once it applies the entry. Any other replica refuses with
    /// the leader it knows of, and the request certainly does not happen. (So does a
    /// leader whose raft-rs drops the proposal, which the settings here never cause.)
    pub fn submit(
        &mut self,
        ctx: &mut Context<'_, Self>,
        request: RequestId,
        op: Op,
    ) -> Result<(), NotLeader> {
        let refusal = NotLeader {
            hint: self.leader_hint().filter(|&leader| leader != self.id),
        };
        if self.halted.is_some() || self.raw.raft.state != StateRole::Leader {
            return Err(refusal);
        }
        let data = encode(&Command { request, op });
        let proposed = self.drive(ctx, |raw| raw.propose(Vec::new(), data));
        if proposed.is_err() {
            self.handle_ready(ctx);
            return Err(refusal);
        }
        let index = self.raw.raft.raft_log.last_index();
        assert_eq!(
            self.entry(index).and_then(|entry| entry.command),
            Some(Command { request, op }),
            "a leader appends a proposal at the end of its log"
        );
        ctx.observe(RaftEvent::Invoked { request, op });
        self.machine.accept(index, request);
        self.handle_ready(ctx);
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
        let leader = self.raw.raft.leader_id;
        (leader != raft::INVALID_ID).then(|| node_id(leader))
    }

    /// The index of the last entry applied to the key-value store.
    pub fn applied_index(&self) -> u64 {
        self.machine.applied_index()
    }

    /// The vote cast in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        let vote = self.raw.raft.vote;
        (vote != raft::INVALID_ID).then(|| node_id(vote))
    }

    /// The settings the replica runs with.
    pub fn config(&self) -> &RaftRsConfig {
        &self.config
    }

    /// Why the replica halted, if its disk could not be read back on recovery.
    pub fn halted(&self) -> Option<&StorageError> {
        self.halted.as_ref()
    }

    /// The raft crate's `RawNode`, read-only: for tests and checks that look at
    /// raft-rs's own state (its election timeout, its progress tracker).
    pub fn raw_node(&self) -> &RawNode<MemStorage> {
        &self.raw
    }

    /// How many election timeouts this incarnation drew from its seeded stream in place
    /// of raft-rs's OS-random ones (0 when `seeded_election_timeouts` is off).
    pub fn election_timeouts_seeded(&self) -> u64 {
        self.timeouts.draws()
    }

    /// Makes one call into the `RawNode`, then puts right what raft-rs cannot do
    /// deterministically on its own and observes a new leadership.
    pub(super) fn drive<R>(
        &mut self,
        ctx: &mut Context<'_, Self>,
        call: impl FnOnce(&mut RawNode<MemStorage>) -> R,
    ) -> R {
        let result = call(&mut self.raw);
        self.after_call(ctx);
        result
    }

    /// What follows every call into the `RawNode`, including its construction.
    fn after_call(&mut self, ctx: &mut Context<'_, Self>) {
        self.timeouts.reseed(&mut self.raw.raft, ctx.rng());
        let raft = &self.raw.raft;
        if raft.state == StateRole::Leader && self.led_term != Some(raft.term) {
            self.led_term = Some(raft.term);
            ctx.observe(RaftEvent::BecameLeader { term: raft.term });
        }
    }

    /// Starts a replica on a blank disk: records the membership, then ticks.
    fn start(&mut self, ctx: &mut Context<'_, Self>) {
        assert_eq!(
            ctx.node_count(),
            self.replicas,
            "every node of the simulation is a replica"
        );
        let initial = self.raw.store().initial_state();
        let conf_state = initial.expect("MemStorage always answers").conf_state;
        storage::save_conf_state(ctx.disk(), &conf_state);
        ctx.disk().sync();
        self.after_call(ctx);
        self.handle_ready(ctx);
        self.schedule_tick(ctx);
    }

    /// Rebuilds raft-rs from what the disk holds after a crash; halts if it cannot.
    fn recover(&mut self, ctx: &mut Context<'_, Self>) {
        match storage::load(ctx.disk()) {
            Ok(Some(storage)) => {
                (self.raw, self.timeouts) = build_raw(self.id, &self.config, storage);
                self.after_call(ctx);
                // The first Ready re-applies every entry up to the durable commit index.
                self.handle_ready(ctx);
                self.schedule_tick(ctx);
            }
            Ok(None) => self.start(ctx),
            Err(error) => {
                tracing::warn!(node = self.id.0, %error, "raft-rs replica halts");
                self.halted = Some(error);
            }
        }
    }

    fn schedule_tick(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.config.tick_interval, RaftRsTimer::Tick);
    }
}

/// A `RawNode` for replica `id` over `storage`, and the timeouts that keep it seeded.
fn build_raw(
    id: NodeId,
    config: &RaftRsConfig,
    storage: MemStorage,
) -> (RawNode<MemStorage>, SeededTimeouts) {
    let raft_config = config.raft_config(raft_id(id));
    let raw = RawNode::new(&raft_config, storage, &discard_logger())
        .expect("a validated config over a consistent storage");
    let timeouts = SeededTimeouts::new(&raft_config, config.seeded_election_timeouts);
    (raw, timeouts)
}

/// Our view of a raft-rs entry: no-ops (empty data) have no command.
pub(super) fn log_entry(entry: &raft::eraftpb::Entry) -> LogEntry {
    let command = (!entry.data.is_empty()).then(|| {
        decode::<Command>(&entry.data)
            .unwrap_or_else(|error| panic!("entry {} holds no command: {error}", entry.index))
    });
    LogEntry {
        term: entry.term,
        command,
    }
}

impl Node for RaftRsNode {
    type Message = RaftRsMessage;
    type Timer = RaftRsTimer;
    type Observation = RaftEvent;

    fn message_digest(message: &RaftRsMessage) -> u64 {
        sim_core::digest(message)
    }

    fn message_kind(message: &RaftRsMessage) -> &'static str {
        message.kind()
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.start(ctx);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.recover(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: RaftRsMessage) {
        if self.halted.is_some() {
            return;
        }
        if let Err(error) = self.drive(ctx, |raw| raw.step(message.0)) {
            tracing::debug!(node = self.id.0, source = source.0, %error, "raft-rs refused a message");
        }
        self.handle_ready(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: RaftRsTimer) {
        if self.halted.is_some() {
            return;
        }
        match timer {
            RaftRsTimer::Tick => {
                self.drive(ctx, RawNode::tick);
                self.handle_ready(ctx);
                self.schedule_tick(ctx);
            }
        }
    }
}

impl RaftView for RaftRsNode {
    fn term(&self) -> u64 {
        self.raw.raft.term
    }

    fn role(&self) -> Role {
        match self.raw.raft.state {
            StateRole::Follower => Role::Follower,
            StateRole::PreCandidate | StateRole::Candidate => Role::Candidate,
            StateRole::Leader => Role::Leader,
        }
    }

    fn commit_index(&self) -> u64 {
        self.raw.raft.raft_log.committed
    }

    fn last_index(&self) -> u64 {
        self.raw.raft.raft_log.last_index()
    }

    fn entry(&self, index: u64) -> Option<LogEntry> {
        let log = &self.raw.raft.raft_log;
        if index < log.first_index() || index > log.last_index() {
            return None;
        }
        let context = GetEntriesContext::empty(false);
        let entries = log.slice(index, index + 1, None, context).ok()?;
        entries.first().map(log_entry)
    }

    fn leader_hint(&self) -> Option<NodeId> {
        RaftRsNode::leader_hint(self)
    }
}

impl fmt::Debug for RaftRsNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaftRsNode")
            .field("id", &self.id)
            .field("term", &self.term())
            .field("role", &self.raw.raft.state)
            .field("leader", &self.leader_hint())
            .field("commit_index", &self.commit_index())
            .field("last_index", &self.last_index())
            .field("applied_index", &self.applied_index())
            .field("keys", &self.kv().len())
            .field("halted", &self.halted)
            .finish_non_exhaustive()
    }
}
