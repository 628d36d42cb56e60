//! The trace: a rolling hash over every step, and an optional full record.
//!
//! The **trace hash** is always on. After every step it folds in the step's kind, its
//! true time, the node it happened to, the sender (for deliveries) and a digest of the
//! message, timer or fault. Two runs with the same hash took the same steps in the same
//! order; a golden hash in a test pins a whole run in 64 bits.
//!
//! The **full record** ([`TraceRecord`] per step) is off by default, for speed; turn it
//! on to replay, diff or visualise a run. Records serialise with serde (JSON lines for
//! people, [`Trace::encode`] for compact files).

use std::fmt;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::encoding::{self, DecodeError};
use crate::node::NodeId;
use crate::time::SimTime;

/// The trace hash before the first step.
pub const TRACE_HASH_INIT: u64 = 0xcbf2_9ce4_8422_2325;

/// Folds one 64-bit word into a trace hash: `(hash ^ word) * FNV_PRIME`.
#[inline]
pub fn fold(hash: u64, word: u64) -> u64 {
    (hash ^ word).wrapping_mul(0x0000_0100_0000_01b3)
}

/// A [`Hasher`] with a fixed, documented algorithm (the trace fold over 64-bit words;
/// byte strings in little-endian 8-byte words), used to digest messages for the trace
/// hash and to model content hashes. Unlike the standard
/// library's default hasher, its output never changes between Rust releases.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(TRACE_HASH_INIT)
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    /// Folds whole little-endian 8-byte words, then the remaining bytes one by one
    /// (explicit byte order: the same digest on every platform).
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().expect("chunks of eight"));
            self.0 = fold(self.0, word);
        }
        for &byte in words.remainder() {
            self.0 = fold(self.0, u64::from(byte));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.0 = fold(self.0, word);
    }

    #[inline]
    fn write_u32(&mut self, word: u32) {
        self.0 = fold(self.0, u64::from(word));
    }

    #[inline]
    fn write_u8(&mut self, word: u8) {
        self.0 = fold(self.0, u64::from(word));
    }

    #[inline]
    fn write_usize(&mut self, word: usize) {
        self.0 = fold(self.0, word as u64);
    }
}

/// The digest of a hashable value under [`StableHasher`].
#[inline]
pub fn digest<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = StableHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The digest of a value's `Debug` text under [`StableHasher`], written into the
/// hasher as it is formatted: what [`crate::Node::message_digest`] uses by default.
pub fn debug_digest<T: std::fmt::Debug + ?Sized>(value: &T) -> u64 {
    struct Sink(StableHasher);
    impl std::fmt::Write for Sink {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            std::hash::Hasher::write(&mut self.0, text.as_bytes());
            Ok(())
        }
    }
    let mut sink = Sink(StableHasher::default());
    std::fmt::write(&mut sink, format_args!("{value:?}")).expect("Debug into a hasher");
    std::hash::Hasher::finish(&sink.0)
}

/// What kind of step happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepKind {
    /// A node started.
    Start,
    /// A message was delivered.
    Deliver,
    /// A timer fired.
    Timer,
    /// A fault was applied.
    Fault,
    /// A node learned that a link went down or up.
    LinkChange,
    /// A scheduled or immediate call into a node (a client request, a test's poke).
    Call,
}

impl StepKind {
    /// The word folded into the trace hash for this kind.
    pub(crate) fn tag(self) -> u64 {
        match self {
            StepKind::Start => 1,
            StepKind::Deliver => 2,
            StepKind::Timer => 3,
            StepKind::Fault => 4,
            StepKind::LinkChange => 5,
            StepKind::Call => 6,
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Start => "start",
            StepKind::Deliver => "deliver",
            StepKind::Timer => "timer",
            StepKind::Fault => "fault",
            StepKind::LinkChange => "link",
            StepKind::Call => "call",
        })
    }
}

/// One step, fully described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// The step number, from 1.
    pub step: u64,
    /// The true virtual time of the step.
    pub time: SimTime,
    /// What happened.
    pub kind: StepKind,
    /// The node it happened to (none for network-wide faults).
    pub node: Option<NodeId>,
    /// The sender, for deliveries.
    pub source: Option<NodeId>,
    /// When a delivered message was sent.
    pub sent_at: Option<SimTime>,
    /// The message, timer, fault or call, as `Debug` prints it.
    pub detail: String,
    /// The trace hash after this step.
    pub hash: u64,
    /// The protocol events the node emitted during the step
    /// ([`crate::NodeContext::event`]), in order.
    pub events: Vec<String>,
}

impl fmt::Display for TraceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.step, self.time, self.kind)?;
        match (self.source, self.node) {
            (Some(source), Some(node)) => write!(f, " {source}->{node}")?,
            (None, Some(node)) => write!(f, " {node}")?,
            _ => {}
        }
        write!(f, " {}", self.detail)?;
        if !self.events.is_empty() {
            write!(f, " [{}]", self.events.join(", "))?;
        }
        Ok(())
    }
}

/// A whole recorded run: its seed and every step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// The seed of the run.
    pub seed: u64,
    /// Every step, in order.
    pub records: Vec<TraceRecord>,
}

impl Trace {
    /// The compact binary form, for files.
    pub fn encode(&self) -> Vec<u8> {
        encoding::encode(self)
    }

    /// Reads back what [`Trace::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Trace, DecodeError> {
        encoding::decode(bytes)
    }

    /// The index of the first record at which `self` and `other` differ, if any
    /// (including one trace being a strict prefix of the other).
    pub fn first_divergence(&self, other: &Trace) -> Option<usize> {
        let common = self.records.len().min(other.records.len());
        (0..common)
            .find(|&i| self.records[i] != other.records[i])
            .or((self.records.len() != other.records.len()).then_some(common))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_strings_fold_in_words_and_every_byte_counts() {
        let digests: Vec<u64> = ["", "a", "abcdefgh", "abcdefgi", "abcdefghi"]
            .iter()
            .map(|s| {
                let mut h = StableHasher::default();
                h.write(s.as_bytes());
                h.finish()
            })
            .collect();
        for (i, a) in digests.iter().enumerate() {
            for b in &digests[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn stable_hasher_digest_is_pinned() {
        assert_eq!(digest(&0_u64), fold(TRACE_HASH_INIT, 0));
        assert_eq!(digest("ab"), {
            let mut h = StableHasher::default();
            h.write(b"ab");
            h.write_u8(0xff);
            h.finish()
        });
    }

    #[test]
    fn fold_is_order_sensitive() {
        let ab = fold(fold(TRACE_HASH_INIT, 1), 2);
        let ba = fold(fold(TRACE_HASH_INIT, 2), 1);
        assert_ne!(ab, ba);
    }

    fn record(step: u64, detail: &str) -> TraceRecord {
        TraceRecord {
            step,
            time: SimTime::from_millis(step),
            kind: StepKind::Deliver,
            node: Some(NodeId(1)),
            source: Some(NodeId(0)),
            sent_at: Some(SimTime::ZERO),
            detail: detail.to_string(),
            hash: step,
            events: Vec::new(),
        }
    }

    #[test]
    fn traces_round_trip_and_locate_divergence() {
        let a = Trace {
            seed: 3,
            records: vec![record(1, "x"), record(2, "y")],
        };
        assert_eq!(Trace::decode(&a.encode()).unwrap(), a);
        let mut b = a.clone();
        assert_eq!(a.first_divergence(&b), None);
        b.records[1].detail = "z".to_string();
        assert_eq!(a.first_divergence(&b), Some(1));
        b.records.truncate(1);
        assert_eq!(a.first_divergence(&b), Some(1));
        assert_eq!(record(2, "y").to_string(), "#2 t=2ms deliver n0->n1 y");
    }
}
