//! Timer identities and cancellation.
//!
//! A timer lives in the event queue like any other event. Cancelling it does not search
//! the queue: each timer owns a slot whose generation is bumped when the timer fires or
//! is cancelled, and a popped timer whose generation no longer matches is skipped
//! silently. Slots are recycled, so memory stays proportional to the timers pending.

use serde::{Deserialize, Serialize};

/// A handle to a pending timer, returned by `set_timer` and accepted by `cancel_timer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimerId {
    slot: u32,
    generation: u32,
}

/// The slots of all pending timers.
#[derive(Debug, Default)]
pub(crate) struct TimerSlots {
    generations: Vec<u32>,
    free: Vec<u32>,
}

impl TimerSlots {
    /// Allocates a slot for a new timer.
    #[inline]
    pub(crate) fn allocate(&mut self) -> TimerId {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.generations.push(0);
                u32::try_from(self.generations.len() - 1).expect("more than 2^32 pending timers")
            }
        };
        TimerId {
            slot,
            generation: self.generations[slot as usize],
        }
    }

    /// Retires `id` if it is still pending; returns whether it was.
    #[inline]
    pub(crate) fn retire(&mut self, id: TimerId) -> bool {
        let generation = &mut self.generations[id.slot as usize];
        if *generation != id.generation {
            return false;
        }
        *generation = generation.wrapping_add(1);
        self.free.push(id.slot);
        true
    }

    /// Is `id` still pending (neither fired nor cancelled)?
    pub(crate) fn is_pending(&self, id: TimerId) -> bool {
        self.generations[id.slot as usize] == id.generation
    }

    /// A number identifying the timer within the run, for traces.
    pub(crate) fn trace_word(id: TimerId) -> u64 {
        (u64::from(id.slot) << 32) | u64::from(id.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_retires_once() {
        let mut slots = TimerSlots::default();
        let id = slots.allocate();
        assert!(slots.is_pending(id));
        assert!(slots.retire(id));
        assert!(!slots.is_pending(id));
        assert!(!slots.retire(id), "retired twice");
    }

    #[test]
    fn a_recycled_slot_does_not_revive_the_old_timer() {
        let mut slots = TimerSlots::default();
        let old = slots.allocate();
        slots.retire(old);
        let new = slots.allocate();
        assert_ne!(old, new);
        assert!(!slots.is_pending(old));
        assert!(slots.is_pending(new));
        assert!(!slots.retire(old), "a stale id cancelled the new timer");
        assert!(slots.is_pending(new));
    }
}
