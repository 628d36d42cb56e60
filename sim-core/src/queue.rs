//! The event queue: one total order over everything that will happen.
//!
//! Every future event (a message delivery, a timer, a fault, a node start) sits in one
//! priority queue keyed by `(time, order)`. The earliest time goes first; among events
//! at the same virtual time, `order` decides. Nothing else in the engine decides what
//! happens next.
//!
//! # Tie-breaking
//!
//! With [`TieBreak::Fifo`] (the default), `order` is a sequence number assigned at
//! push, so same-time events run in the order they were scheduled. For example, if
//! node 0 sends `a` to node 2 with 1 ms latency at t=0, and node 1 sends `b` to node 2
//! with 2 ms latency at t=0 and then, at t=1ms, node 1 sends `c` to node 2 with 1 ms
//! latency, then `b` (seq 1) and `c` (seq 2) both arrive at t=2ms and node 2 sees `b`
//! before `c` because `b` was scheduled first.
//!
//! With [`TieBreak::Random`], the high 24 bits of `order` are drawn from a seeded
//! stream (`"tie-break"`) and the low 40 bits keep the sequence number, so
//! same-time events run in a seeded random order that is still total and still
//! reproducible: node 2 may see `c` before `b` for some seeds. Events at different
//! times are never reordered. This explores orderings that FIFO would never produce,
//! such as a timer firing just before a message that arrives "at the same instant".
//!
//! The order is total: no two entries share a key, so the result never depends on the
//! heap's internal layout.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::rng::SimRng;
use crate::time::SimTime;

/// How events scheduled for the same virtual time are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TieBreak {
    /// In the order they were scheduled (first in, first out).
    #[default]
    Fifo,
    /// In a seeded random order, to explore more interleavings.
    Random,
}

/// Bits of `order` that hold the sequence number in random tie-break mode.
const SEQUENCE_BITS: u32 = 40;
const SEQUENCE_MASK: u64 = (1 << SEQUENCE_BITS) - 1;

/// One queued event and its position in the total order.
#[derive(Debug)]
pub(crate) struct Entry<E> {
    time: u64,
    order: u64,
    pub(crate) event: E,
}

impl<E> Entry<E> {
    #[inline]
    pub(crate) fn time(&self) -> SimTime {
        SimTime::from_nanos(self.time)
    }

    /// Its order key: the sequence number of its push, under random tie-breaking with
    /// random bits above it (see [`EventQueue::sequence_mask`]).
    #[inline]
    pub(crate) fn order(&self) -> u64 {
        self.order
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.order) == (other.time, other.order)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the smallest key first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.order).cmp(&(self.time, self.order))
    }
}

/// The order key of a same-time event in random tie-break mode: random high bits,
/// the sequence number below them (so that the order stays total).
#[inline(never)]
fn random_order(rng: &mut SimRng, sequence: u64) -> u64 {
    assert!(
        sequence <= SEQUENCE_MASK,
        "random tie-breaking supports 2^40 events per run"
    );
    (rng.next_u64() << SEQUENCE_BITS) | sequence
}

/// A priority queue of events ordered by `(time, order)`; see the module docs.
#[derive(Debug)]
pub(crate) struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    sequence: u64,
    tie_rng: Option<SimRng>,
}

impl<E> EventQueue<E> {
    /// An empty queue. `tie_rng` is drawn from only in [`TieBreak::Random`] mode.
    pub(crate) fn new(tie_break: TieBreak, tie_rng: SimRng) -> EventQueue<E> {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            sequence: 0,
            tie_rng: (tie_break == TieBreak::Random).then_some(tie_rng),
        }
    }

    /// Schedules `event` at `time`.
    #[inline(always)]
    pub(crate) fn push(&mut self, time: SimTime, event: E) {
        let sequence = self.sequence;
        self.sequence += 1;
        let order = match &mut self.tie_rng {
            None => sequence,
            Some(rng) => random_order(rng, sequence),
        };
        self.heap.push(Entry {
            time: time.as_nanos(),
            order,
            event,
        });
    }

    /// The sequence number the next push gets: events pushed from now on have this one
    /// or a greater.
    #[inline]
    pub(crate) fn next_sequence(&self) -> u64 {
        self.sequence
    }

    /// What of an entry's order key is its sequence number: all of it, or the low bits
    /// under random tie-breaking.
    pub(crate) fn sequence_mask(&self) -> u64 {
        if self.tie_rng.is_some() {
            SEQUENCE_MASK
        } else {
            u64::MAX
        }
    }

    /// The time of the next event, if any.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(Entry::time)
    }

    /// Removes and returns the next event.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry<E>> {
        self.heap.pop()
    }

    /// The number of queued events.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Every queued event with its time, in no particular (but deterministic) order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (SimTime, &E)> {
        self.heap.iter().map(|entry| (entry.time(), &entry.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(queue: &mut EventQueue<u32>) -> Vec<(u64, u32)> {
        std::iter::from_fn(|| queue.pop())
            .map(|entry| (entry.time().as_nanos(), entry.event))
            .collect()
    }

    fn queue(tie_break: TieBreak, seed: u64) -> EventQueue<u32> {
        EventQueue::new(tie_break, SimRng::new(seed, "tie-break"))
    }

    #[test]
    fn earlier_events_come_first() {
        let mut q = queue(TieBreak::Fifo, 0);
        q.push(SimTime::from_nanos(30), 1);
        q.push(SimTime::from_nanos(10), 2);
        q.push(SimTime::from_nanos(20), 3);
        assert_eq!(drain(&mut q), [(10, 2), (20, 3), (30, 1)]);
    }

    #[test]
    fn same_time_events_are_first_in_first_out_by_default() {
        let mut q = queue(TieBreak::Fifo, 0);
        for event in 0..10 {
            q.push(SimTime::from_nanos(5), event);
        }
        let order: Vec<u32> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn random_tie_break_reorders_only_same_time_events() {
        let mut q = queue(TieBreak::Random, 1);
        for event in 0..20 {
            q.push(SimTime::from_nanos(5), event);
        }
        q.push(SimTime::from_nanos(4), 100);
        q.push(SimTime::from_nanos(6), 200);
        let drained = drain(&mut q);
        assert_eq!(drained.first(), Some(&(4, 100)));
        assert_eq!(drained.last(), Some(&(6, 200)));
        let middle: Vec<u32> = drained[1..21].iter().map(|&(_, e)| e).collect();
        assert_ne!(middle, (0..20).collect::<Vec<_>>(), "no reordering at all");
    }

    #[test]
    fn random_tie_break_is_reproducible_per_seed() {
        let run = |seed| {
            let mut q = queue(TieBreak::Random, seed);
            for event in 0..20 {
                q.push(SimTime::from_nanos(5), event);
            }
            drain(&mut q)
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    proptest! {
        /// Whatever is pushed, pops come out sorted by time, and FIFO among equal times.
        #[test]
        fn pops_are_sorted_by_time_then_push_order(times in prop::collection::vec(0_u64..20, 0..200)) {
            let mut q = queue(TieBreak::Fifo, 0);
            for (index, &time) in times.iter().enumerate() {
                q.push(SimTime::from_nanos(time), index as u32);
            }
            let mut expected: Vec<(u64, u32)> =
                times.iter().enumerate().map(|(i, &t)| (t, i as u32)).collect();
            expected.sort();
            prop_assert_eq!(drain(&mut q), expected);
        }

        /// Random tie-breaking is a permutation within each time, never across times.
        #[test]
        fn random_order_keeps_time_order(times in prop::collection::vec(0_u64..5, 0..200), seed: u64) {
            let mut q = queue(TieBreak::Random, seed);
            for (index, &time) in times.iter().enumerate() {
                q.push(SimTime::from_nanos(time), index as u32);
            }
            let drained = drain(&mut q);
            prop_assert!(drained.windows(2).all(|w| w[0].0 <= w[1].0));
            let mut events: Vec<u32> = drained.iter().map(|&(_, e)| e).collect();
            events.sort_unstable();
            prop_assert_eq!(events, (0..times.len() as u32).collect::<Vec<_>>());
        }
    }
}
