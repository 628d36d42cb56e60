//! Leader election: randomized timeouts, asking for votes, granting them, and taking
//! office.
//!
//! A replica that hears from no leader for a timeout drawn from its own seeded stream
//! becomes a candidate of the next term, votes for itself, syncs that, and asks every
//! peer. A peer grants at most one vote per term, and only to a candidate whose log is
//! at least as up to date as its own; the vote is synced before the reply leaves (the
//! canary's buggy twin does not: see [`super::canary`]). A candidate asks again, every
//! heartbeat interval, the peers that have not granted their vote, so that a vote
//! request lost to a crash or a cut is retried within the term. With a majority the
//! candidate becomes leader and appends a no-op entry of its term, which lets it commit
//! what earlier leaders left behind.
//!
//! With `check_quorum` a leader steps down when no quorum has answered it for the longest
//! election timeout, so that a one-way cut that lets its heartbeats out but no answer in
//! does not leave the cluster without a leader that can commit.

use std::collections::BTreeSet;

use sim_core::{Context, NodeId, SimDuration};

use super::canary::VoteSync;
use super::message::RaftMessage;
use super::node::{RaftNode, RaftTimer};
use super::storage;
use super::view::{LogEntry, RaftEvent, Role};

/// The protocol event a replica emits when it grants a vote: the vote is written, not
/// yet synced, and not yet sent ([`sim_core::NodeContext::event`]).
pub const EVENT_VOTED: &str = "voted";

/// The protocol event a replica emits when it wins an election, before it sends its
/// first appends.
pub const EVENT_BECAME_LEADER: &str = "became leader";

/// Every protocol event a replica emits, for fault generators to time crashes by.
pub const EVENTS: [&str; 2] = [EVENT_VOTED, EVENT_BECAME_LEADER];

/// The size of a majority of `node_count` replicas.
pub(super) fn quorum(node_count: u32) -> usize {
    node_count as usize / 2 + 1
}

impl RaftNode {
    /// Restarts the election timeout with a fresh random duration.
    pub(super) fn reset_election_timer(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(timer) = self.election_timer.take() {
            ctx.cancel_timer(timer);
        }
        let min = self.config.election_timeout_min.as_nanos();
        let max = self.config.election_timeout_max.as_nanos();
        let after = SimDuration::from_nanos(ctx.rng().between(min, max));
        self.election_timer = Some(ctx.set_timer(after, RaftTimer::Election));
    }

    /// Arms the heartbeat timer (leaders) or the vote retry timer (candidates).
    pub(super) fn arm_heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(timer) = self.heartbeat_timer.take() {
            ctx.cancel_timer(timer);
        }
        let timer = ctx.set_timer(self.config.heartbeat_interval, RaftTimer::Heartbeat);
        self.heartbeat_timer = Some(timer);
    }

    /// Steps back to follower in the current term (after adopting a higher term, or
    /// on hearing from this term's leader).
    pub(super) fn become_follower(&mut self, ctx: &mut Context<'_, Self>) {
        if self.role == Role::Follower {
            return;
        }
        self.role = Role::Follower;
        self.votes.clear();
        if let Some(timer) = self.heartbeat_timer.take() {
            ctx.cancel_timer(timer);
        }
        if self.election_timer.is_none() {
            self.reset_election_timer(ctx);
        }
    }

    /// The election timeout fired: stand for election in the next term.
    pub(super) fn start_election(&mut self, ctx: &mut Context<'_, Self>) {
        assert_ne!(self.role, Role::Leader, "a leader has no election timer");
        self.term += 1;
        self.voted_for = Some(self.id);
        self.role = Role::Candidate;
        self.leader_hint = None;
        self.votes.clear();
        self.votes.insert(self.id);
        storage::save_hard_state(ctx.disk(), self.term, self.voted_for);
        Self::flush(ctx);
        self.reset_election_timer(ctx);
        if self.votes.len() >= quorum(ctx.node_count()) {
            self.become_leader(ctx);
            return;
        }
        self.request_votes(ctx);
        self.arm_heartbeat(ctx);
    }

    /// Asks every peer that has not granted its vote in this term.
    pub(super) fn request_votes(&mut self, ctx: &mut Context<'_, Self>) {
        assert_eq!(self.role, Role::Candidate);
        let request = RaftMessage::RequestVote {
            term: self.term,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for peer in ctx.peers() {
            if !self.votes.contains(&peer) {
                ctx.send(peer, request.clone());
            }
        }
    }

    /// A candidate asks for this replica's vote (a higher term was adopted already).
    pub(super) fn on_request_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        candidate: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) {
        let granted = term == self.term
            && self.voted_for.is_none_or(|vote| vote == candidate)
            && self.log.is_up_to_date(last_log_index, last_log_term);
        if granted {
            self.voted_for = Some(candidate);
            storage::save_hard_state(ctx.disk(), self.term, self.voted_for);
            ctx.event(EVENT_VOTED);
            self.reset_election_timer(ctx);
        }
        match self.config.vote_sync {
            VoteSync::BeforeReply => Self::flush(ctx),
            VoteSync::AfterReply => {} // The planted bug: a crash now forgets the vote.
        }
        let term = self.term;
        ctx.send(candidate, RaftMessage::Vote { term, granted });
    }

    /// The election timeout fired, with `pre_vote`: ask every peer whether it would vote
    /// in the next term, without raising the term.
    pub(super) fn start_pre_vote(&mut self, ctx: &mut Context<'_, Self>) {
        assert_ne!(self.role, Role::Leader, "a leader has no election timer");
        let mut granted = BTreeSet::new();
        granted.insert(self.id);
        self.pre_votes = Some(granted);
        self.reset_election_timer(ctx);
        if quorum(ctx.node_count()) <= 1 {
            self.pre_votes = None;
            self.start_election(ctx);
            return;
        }
        let request = RaftMessage::PreVote {
            term: self.term + 1,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for peer in ctx.peers() {
            ctx.send(peer, request.clone());
        }
    }

    /// Would this replica vote for `candidate` in `term`? Yes if the term is new to it,
    /// the candidate's log is up to date, and it has not heard from a leader for an
    /// election timeout. Nothing is stored.
    pub(super) fn on_pre_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        candidate: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) {
        let leader_quiet = self.role != Role::Leader
            && self.leader_seen.is_none_or(|seen| {
                ctx.now().saturating_duration_since(seen) >= self.config.election_timeout_min
            });
        let granted = term > self.term
            && leader_quiet
            && self.log.is_up_to_date(last_log_index, last_log_term);
        let term = if granted { term } else { self.term };
        ctx.send(candidate, RaftMessage::PreVoteReply { term, granted });
    }

    /// A peer answered this replica's pre-vote: with a quorum of yeses, stand for
    /// election; a no from a later term means the term moved on.
    pub(super) fn on_pre_vote_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        voter: NodeId,
        term: u64,
        granted: bool,
    ) {
        if !granted {
            if term > self.term {
                self.adopt_term(ctx, term);
            }
            return;
        }
        let Some(votes) = &mut self.pre_votes else {
            return;
        };
        if term != self.term + 1 || self.role == Role::Leader {
            return;
        }
        votes.insert(voter);
        if votes.len() >= quorum(ctx.node_count()) {
            self.pre_votes = None;
            self.start_election(ctx);
        }
    }

    /// A peer answered this replica's vote request.
    pub(super) fn on_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        voter: NodeId,
        term: u64,
        granted: bool,
    ) {
        if self.role != Role::Candidate || term != self.term || !granted {
            return;
        }
        self.votes.insert(voter);
        if self.votes.len() >= quorum(ctx.node_count()) {
            self.become_leader(ctx);
        }
    }

    /// Won the election: lead the term, starting with a no-op entry of the term.
    fn become_leader(&mut self, ctx: &mut Context<'_, Self>) {
        assert_eq!(self.role, Role::Candidate);
        self.role = Role::Leader;
        self.leader_hint = Some(self.id);
        self.votes.clear();
        if let Some(timer) = self.election_timer.take() {
            ctx.cancel_timer(timer);
        }
        ctx.observe(RaftEvent::BecameLeader { term: self.term });
        ctx.event(EVENT_BECAME_LEADER);
        let replicas = ctx.node_count() as usize;
        self.next_index = vec![self.log.last_index() + 1; replicas];
        self.match_index = vec![0; replicas];
        let no_op = LogEntry {
            term: self.term,
            command: None,
        };
        self.append_local(ctx, no_op);
        self.replicate_to_all(ctx);
        self.advance_commit(ctx);
        self.arm_heartbeat(ctx);
        if self.config.check_quorum {
            self.heard.clear();
            self.arm_quorum_check(ctx);
        }
    }

    /// As leader with `check_quorum`: look again, one longest election timeout from now,
    /// whether a quorum has answered.
    fn arm_quorum_check(&mut self, ctx: &mut Context<'_, Self>) {
        let timer = ctx.set_timer(self.config.election_timeout_max, RaftTimer::Election);
        self.election_timer = Some(timer);
    }

    /// As leader with `check_quorum`: step down unless a quorum answered since the last
    /// look. A leader whose messages go out but whose answers never come back would
    /// otherwise keep its followers from ever electing one that can commit.
    pub(super) fn check_quorum(&mut self, ctx: &mut Context<'_, Self>) {
        assert_eq!(self.role, Role::Leader);
        if self.heard.len() + 1 >= quorum(ctx.node_count()) {
            self.heard.clear();
            self.arm_quorum_check(ctx);
            return;
        }
        self.leader_hint = None;
        self.become_follower(ctx);
    }

    /// The heartbeat timer fired.
    pub(super) fn on_heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        match self.role {
            Role::Leader => self.replicate_to_all(ctx),
            Role::Candidate => self.request_votes(ctx),
            Role::Follower => return,
        }
        self.arm_heartbeat(ctx);
    }
}
