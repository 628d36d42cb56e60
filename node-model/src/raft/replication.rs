//! Log replication: a leader's appends, a follower's answer, and commitment.
//!
//! A leader sends each follower the entries from that follower's `next_index` (at most
//! `entries_per_append_max` of them), with the index and term of the entry before
//! them. A follower whose log holds that entry stores the entries, dropping only a
//! suffix that conflicts with them, syncs, and replies with how far its log now
//! matches; otherwise it replies with an index to retry from. The leader commits the
//! highest index stored on a majority, but only if that entry is of its own term
//! (Raft's rule against committing an old term's entry by counting replicas).

use sim_core::{Context, NodeId};

use super::election::quorum;
use super::message::RaftMessage;
use super::node::RaftNode;
use super::storage;
use super::view::{LogEntry, Role};

/// The position of an append in the sender's log: `(prev_log_index, prev_log_term,
/// leader_commit)`.
pub(super) type AppendPosition = (u64, u64, u64);

impl RaftNode {
    /// Appends `entry` to this replica's own log and makes it durable; returns its
    /// index.
    pub(super) fn append_local(&mut self, ctx: &mut Context<'_, Self>, entry: LogEntry) -> u64 {
        let old_last = self.log.last_index();
        let index = self.log.push(entry);
        storage::save_log(ctx.disk(), &self.log, index, old_last);
        Self::flush(ctx);
        index
    }

    /// Sends every peer the entries it is missing (none, for a heartbeat).
    pub(super) fn replicate_to_all(&mut self, ctx: &mut Context<'_, Self>) {
        for peer in ctx.peers() {
            self.send_append(ctx, peer);
        }
    }

    fn send_append(&self, ctx: &mut Context<'_, Self>, peer: NodeId) {
        assert_eq!(self.role, Role::Leader);
        let next = self.next_index[peer.index()];
        assert!(next >= 1, "index 0 is never sent");
        assert!(
            next <= self.log.last_index() + 1,
            "next_index {next} of {peer} is past the end of the log"
        );
        let prev_log_index = next - 1;
        let prev_log_term = self
            .log
            .term_at(prev_log_index)
            .expect("the entry before next_index is in the log");
        let entries = self
            .log
            .slice(next, self.config.entries_per_append_max)
            .to_vec();
        let append = RaftMessage::AppendEntries {
            term: self.term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
        };
        ctx.send(peer, append);
    }

    /// A leader's append (a higher term was adopted already).
    pub(super) fn on_append_entries(
        &mut self,
        ctx: &mut Context<'_, Self>,
        leader: NodeId,
        term: u64,
        (prev_log_index, prev_log_term, leader_commit): AppendPosition,
        entries: &[LogEntry],
    ) {
        let reply = |replica: &Self, success, index| RaftMessage::AppendReply {
            term: replica.term,
            success,
            index,
        };
        if term < self.term {
            ctx.send(leader, reply(self, false, self.log.last_index()));
            return;
        }
        assert_ne!(
            self.role,
            Role::Leader,
            "{} leads term {term} and got an append from {leader} for the same term",
            self.id
        );
        self.become_follower(ctx);
        self.leader_hint = Some(leader);
        self.leader_seen = Some(ctx.now());
        self.pre_votes = None;
        self.reset_election_timer(ctx);
        if self.log.term_at(prev_log_index) != Some(prev_log_term) {
            assert!(prev_log_index > 0, "every log holds index 0 with term 0");
            Self::flush(ctx);
            let retry_from = self.log.last_index().min(prev_log_index - 1);
            ctx.send(leader, reply(self, false, retry_from));
            return;
        }
        let matched = self.store_entries(ctx, prev_log_index, entries);
        Self::flush(ctx);
        self.commit_index = self.commit_index.max(leader_commit.min(matched));
        self.apply_committed(ctx);
        ctx.send(leader, reply(self, true, matched));
    }

    /// Stores `entries` after `prev_log_index`, dropping the suffix from the first
    /// conflicting entry on; returns the index up to which the log matches the leader's.
    fn store_entries(
        &mut self,
        ctx: &mut Context<'_, Self>,
        prev_log_index: u64,
        entries: &[LogEntry],
    ) -> u64 {
        let old_last = self.log.last_index();
        let mut first_changed = None;
        for (index, entry) in (prev_log_index + 1..).zip(entries) {
            match self.log.term_at(index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    assert!(
                        index > self.commit_index,
                        "{} would overwrite committed entry {index}",
                        self.id
                    );
                    self.log.truncate_from(index);
                    self.machine.forget_from(index);
                }
                None => {}
            }
            self.log.push(*entry);
            first_changed.get_or_insert(index);
        }
        if let Some(first) = first_changed {
            storage::save_log(ctx.disk(), &self.log, first, old_last);
        }
        prev_log_index + entries.len() as u64
    }

    /// A follower answered an append.
    pub(super) fn on_append_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        follower: NodeId,
        term: u64,
        success: bool,
        index: u64,
    ) {
        if self.role != Role::Leader || term != self.term {
            return; // Stale: from an earlier term or a term this replica does not lead.
        }
        self.heard.insert(follower);
        let peer = follower.index();
        if success {
            self.match_index[peer] = self.match_index[peer].max(index);
            self.next_index[peer] = self.next_index[peer].max(index + 1);
            self.advance_commit(ctx);
            if self.next_index[peer] <= self.log.last_index() {
                self.send_append(ctx, follower);
            }
        } else {
            let retry = (index + 1).min(self.next_index[peer]);
            self.next_index[peer] = retry.max(self.match_index[peer] + 1);
            self.send_append(ctx, follower);
        }
    }

    /// Commits the highest index stored on a majority, if it is of the current term.
    pub(super) fn advance_commit(&mut self, ctx: &mut Context<'_, Self>) {
        assert_eq!(self.role, Role::Leader);
        let mut stored = self.match_index.clone();
        stored[self.id.index()] = self.log.last_index();
        stored.sort_unstable_by(|a, b| b.cmp(a));
        let majority = stored[quorum(ctx.node_count()) - 1];
        if majority > self.commit_index && self.log.term_at(majority) == Some(self.term) {
            self.commit_index = majority;
            self.apply_committed(ctx);
        }
    }
}
