//! Handling raft-rs's `Ready`: persist, sync, send, apply, advance.
//!
//! After every call into the `RawNode` the replica takes each `Ready` in the order
//! raft-rs documents:
//!
//! 1. send the `messages` (only a leader has any: it may replicate while it persists,
//!    Raft thesis §10.2.1; raft-rs counts the leader's own entries only once they are
//!    persisted);
//! 2. apply the `committed_entries` (raft-rs hands out only entries already durable);
//! 3. stage the new `entries` and `hard_state` on the disk and in the `MemStorage`,
//!    and **sync**;
//! 4. only then send the `persisted_messages` (votes, append replies);
//! 5. `advance`, and do the same for the `LightReady` it returns: record the new
//!    commit index, send its messages, apply its committed entries, `advance_apply`.
//!
//! A snapshot never arrives: nothing is compacted, so every log starts at index 1 and
//! a leader can always send entries instead.

use raft::eraftpb::{Entry, EntryType, Message};
use raft::{RawNode, Ready, Storage};
use sim_core::Context;

use super::message::RaftRsMessage;
use super::node::{RaftRsNode, log_entry, node_id};
use super::storage;

/// How many `Ready`s one event may produce before the replica gives up: raft-rs
/// produces one, and at most one more once the first is advanced.
const READY_ROUNDS_MAX: usize = 8;

impl RaftRsNode {
    /// Handles every `Ready` raft-rs has after the last call into it.
    pub(super) fn handle_ready(&mut self, ctx: &mut Context<'_, Self>) {
        for _ in 0..READY_ROUNDS_MAX {
            if !self.raw.has_ready() {
                return;
            }
            let ready = self.raw.ready();
            self.process_ready(ctx, ready);
        }
        panic!(
            "{}: raft-rs still has a Ready after {READY_ROUNDS_MAX} rounds",
            self.id
        );
    }

    fn process_ready(&mut self, ctx: &mut Context<'_, Self>, mut ready: Ready) {
        assert!(
            ready.snapshot().is_empty(),
            "{}: a snapshot arrived, but no log is ever compacted",
            self.id
        );
        if ready
            .ss()
            .is_some_and(|soft| soft.raft_state == raft::StateRole::Leader)
        {
            ctx.event(crate::raft::EVENT_BECAME_LEADER);
        }
        send(ctx, ready.take_messages());
        self.apply(ctx, ready.take_committed_entries());
        self.persist(ctx, &ready);
        send(ctx, ready.take_persisted_messages());
        let mut light = self.drive(ctx, |raw| raw.advance(ready));
        if let Some(commit) = light.commit_index() {
            self.record_commit(ctx, commit);
        }
        send(ctx, light.take_messages());
        self.apply(ctx, light.take_committed_entries());
        self.drive(ctx, RawNode::advance_apply);
    }

    /// Makes the `Ready`'s entries and hard state durable, before anyone hears of them.
    fn persist(&mut self, ctx: &mut Context<'_, Self>, ready: &Ready) {
        let store = self.raw.mut_store();
        if !ready.entries().is_empty() {
            let old_last = store.last_index().expect("MemStorage always answers");
            storage::save_entries(ctx.disk(), ready.entries(), old_last);
            store
                .wl()
                .append(ready.entries())
                .expect("raft-rs appends after its own log");
        }
        if let Some(hard_state) = ready.hs() {
            let before = store.wl().hard_state().clone();
            storage::save_hard_state(ctx.disk(), hard_state);
            store.wl().set_hardstate(hard_state.clone());
            let voted = hard_state.vote != 0 && hard_state.vote != self.raw.raft.id;
            if voted && (hard_state.vote, hard_state.term) != (before.vote, before.term) {
                // Written, not yet synced, and the vote not yet sent: as detsim-raft.
                ctx.event(crate::raft::EVENT_VOTED);
            }
        }
        if ctx.disk().has_unsynced_writes() {
            ctx.disk().sync();
        }
    }

    /// Records a commit index that moved in `advance`. It is staged but not synced: a
    /// replica that loses it relearns it from the leader, and the next sync makes it
    /// durable anyway. It never passes the durable log: raft-rs commits only entries
    /// persisted by a quorum, this replica included.
    fn record_commit(&mut self, ctx: &mut Context<'_, Self>, commit: u64) {
        let store = self.raw.mut_store();
        let last = store.last_index().expect("MemStorage always answers");
        assert!(
            commit <= last,
            "commit {commit} is past the durable log end {last}"
        );
        let mut core = store.wl();
        core.mut_hard_state().commit = commit;
        storage::save_hard_state(ctx.disk(), core.hard_state());
    }

    /// Applies committed entries in index order: observes each, and answers the
    /// requests this replica accepted as leader.
    fn apply(&mut self, ctx: &mut Context<'_, Self>, entries: Vec<Entry>) {
        for entry in entries {
            assert_eq!(
                entry.entry_type,
                EntryType::EntryNormal,
                "membership is fixed"
            );
            self.machine.apply(ctx, entry.index, log_entry(&entry));
        }
    }
}

/// Sends each raft-rs message to the node it is addressed to.
fn send(ctx: &mut Context<'_, RaftRsNode>, messages: Vec<Message>) {
    for message in messages {
        let target = node_id(message.to);
        ctx.send(target, RaftRsMessage(message));
    }
}
