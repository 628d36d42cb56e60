//! What raft-rs replicas send each other: the raft crate's own protobuf `Message`,
//! wrapped so that the engine can hash it into the trace and print it compactly.

use std::fmt;
use std::hash::{Hash, Hasher};

use raft::eraftpb::{Entry, Message};

/// A raft-rs message between two replicas, carried unchanged.
///
/// The engine hashes every delivered message into the trace hash, so [`Hash`] must
/// give the same digest in every run and on every platform. It hashes every field
/// raft-rs reads (the message type, addresses, terms, indexes, entries, snapshot
/// metadata, rejection, context, priority) with the engine's stable hasher, rather
/// than trusting protobuf's encoding or the layout of its generated types. Protobuf's
/// bookkeeping fields (cached size, unknown fields) are left out: they say nothing
/// about what the message means.
#[derive(Clone)]
pub struct RaftRsMessage(pub Message);

impl RaftRsMessage {
    /// Its kind, in the names of node-model's own Raft
    /// ([`crate::raft::RaftMessage::KINDS`]); heartbeats are appends, and the few
    /// kinds a cluster of replicas never sends each other are `"other"`.
    pub fn kind(&self) -> &'static str {
        use raft::eraftpb::MessageType as T;
        match self.0.msg_type {
            T::MsgRequestVote => "RequestVote",
            T::MsgRequestVoteResponse => "Vote",
            T::MsgAppend | T::MsgHeartbeat | T::MsgSnapshot => "AppendEntries",
            T::MsgAppendResponse | T::MsgHeartbeatResponse => "AppendReply",
            T::MsgRequestPreVote => "PreVote",
            T::MsgRequestPreVoteResponse => "PreVoteReply",
            _ => "other",
        }
    }
}

impl Hash for RaftRsMessage {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let message = &self.0;
        (message.msg_type as i32).hash(state);
        message.to.hash(state);
        message.from.hash(state);
        message.term.hash(state);
        message.log_term.hash(state);
        message.index.hash(state);
        message.commit.hash(state);
        message.commit_term.hash(state);
        message.entries.len().hash(state);
        for entry in message.entries.iter() {
            hash_entry(entry, state);
        }
        let snapshot = message.get_snapshot();
        snapshot.get_metadata().index.hash(state);
        snapshot.get_metadata().term.hash(state);
        snapshot.data[..].hash(state);
        message.request_snapshot.hash(state);
        message.reject.hash(state);
        message.reject_hint.hash(state);
        message.context[..].hash(state);
        message.deprecated_priority.hash(state);
        message.priority.hash(state);
    }
}

fn hash_entry<H: Hasher>(entry: &Entry, state: &mut H) {
    (entry.entry_type as i32).hash(state);
    entry.term.hash(state);
    entry.index.hash(state);
    entry.data[..].hash(state);
    entry.context[..].hash(state);
}

impl fmt::Debug for RaftRsMessage {
    /// One line with what matters for reading a trace:
    /// `MsgAppend 1->2 term 3 log 2@5 entries [3@6] commit 5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = &self.0;
        write!(
            f,
            "{:?} {}->{} term {} log {}@{}",
            message.msg_type,
            message.from,
            message.to,
            message.term,
            message.log_term,
            message.index
        )?;
        if !message.entries.is_empty() {
            let entries: Vec<String> = message
                .entries
                .iter()
                .map(|entry| format!("{}@{}", entry.term, entry.index))
                .collect();
            write!(f, " entries [{}]", entries.join(", "))?;
        }
        write!(f, " commit {}", message.commit)?;
        if message.reject {
            write!(f, " rejected (hint {})", message.reject_hint)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use raft::eraftpb::MessageType;
    use sim_core::trace::digest;

    use super::*;

    fn append(data: &[u8]) -> RaftRsMessage {
        let entry = Entry {
            term: 2,
            index: 7,
            data: data.to_vec().into(),
            ..Entry::default()
        };
        RaftRsMessage(Message {
            msg_type: MessageType::MsgAppend,
            from: 1,
            to: 2,
            term: 2,
            entries: vec![entry].into(),
            ..Message::default()
        })
    }

    #[test]
    fn equal_messages_have_equal_digests_and_a_changed_entry_changes_the_digest() {
        assert_eq!(digest(&append(b"put")), digest(&append(b"put")));
        assert_ne!(digest(&append(b"put")), digest(&append(b"get")));
    }

    #[test]
    fn the_digest_of_a_known_message_is_pinned() {
        // The trace hash of every checked-in run depends on this digest: it changes
        // only on purpose.
        assert_eq!(digest(&append(b"put")), 5_707_271_855_721_172_111);
    }

    #[test]
    fn debug_shows_the_type_the_route_and_the_entries() {
        let shown = format!("{:?}", append(b"put"));
        assert_eq!(
            shown,
            "MsgAppend 1->2 term 2 log 0@0 entries [2@7] commit 0"
        );
    }
}
