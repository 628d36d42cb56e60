//! The search behind [`super::history::History::check`]: is there an order of one key's
//! operations that respects real time and reads every value from the latest write?
//!
//! Wing & Gong's search with Lowe's memoisation: a state is the set of operations
//! already placed in the order plus the register's value; from a state, any operation
//! not yet placed may come next if it was invoked before every other unplaced,
//! completed operation returned, and if it is legal (a read must return the current
//! value). States are explored depth first with an explicit stack (no recursion) and
//! each is visited once, so the work is bounded by the number of distinct states; past
//! `budget` states the search gives up instead of running on. Pending operations (no
//! return) need not be placed at all: they may or may not have taken effect.

use std::collections::BTreeSet;

use super::view::Value;

/// What one operation does to the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Sets the value.
    Write(Value),
    /// Returned this value.
    Read(Option<Value>),
}

impl Effect {
    /// The register's value after this operation, or `None` if it cannot happen now.
    fn apply(self, current: Option<Value>) -> Option<Option<Value>> {
        match self {
            Effect::Write(value) => Some(Some(value)),
            Effect::Read(read) => (read == current).then_some(current),
        }
    }
}

/// One operation on one key, with its real-time interval as positions in the history.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyOp {
    pub(crate) effect: Effect,
    /// When it was invoked (a position in the history, not a time).
    pub(crate) invoked: u64,
    /// When it returned, if it did.
    pub(crate) returned: Option<u64>,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An order exists; `states` states were explored.
    Linearizable { states: u64 },
    /// No order exists. The deepest state reached had `placed` operations placed and
    /// left the register at `value`; `blocked` are the operations that could have come
    /// next in time but were not legal there (indexes into the input).
    NotLinearizable {
        placed: usize,
        value: Option<Value>,
        blocked: Vec<usize>,
    },
    /// The search gave up after `states` states.
    TooLarge { states: u64 },
}

/// A set of operation indexes, as the ones below `prefix` (all placed) and a bitset of
/// the ones from `prefix` on. Canonical: `prefix` is not in the set (bit 0 clear) and
/// `rest` has no trailing zero words, so equal sets have equal representations. Its
/// size is the window of operations placed out of invocation order, not the history.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Placed {
    prefix: usize,
    rest: Vec<u64>,
}

impl Placed {
    fn contains(&self, index: usize) -> bool {
        if index < self.prefix {
            return true;
        }
        let bit = index - self.prefix;
        self.rest
            .get(bit / 64)
            .is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }

    fn with(&self, index: usize) -> Placed {
        debug_assert!(!self.contains(index));
        let mut next = self.clone();
        let bit = index - next.prefix;
        if next.rest.len() <= bit / 64 {
            next.rest.resize(bit / 64 + 1, 0);
        }
        next.rest[bit / 64] |= 1 << (bit % 64);
        next.normalize();
        next
    }

    /// Moves the placed run at the start of `rest` into `prefix`.
    fn normalize(&mut self) {
        let whole = self
            .rest
            .iter()
            .take_while(|&&word| word == u64::MAX)
            .count();
        if whole > 0 {
            self.rest.drain(..whole);
            self.prefix += whole * 64;
        }
        let shift = self
            .rest
            .first()
            .map_or(0, |word| word.trailing_ones() as usize);
        if shift > 0 {
            for i in 0..self.rest.len() {
                let high = self.rest.get(i + 1).map_or(0, |next| next << (64 - shift));
                self.rest[i] = (self.rest[i] >> shift) | high;
            }
            self.prefix += shift;
        }
        while self.rest.last() == Some(&0) {
            self.rest.pop();
        }
    }

    fn count(&self) -> usize {
        self.prefix
            + self
                .rest
                .iter()
                .map(|word| word.count_ones() as usize)
                .sum::<usize>()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct State {
    placed: Placed,
    value: Option<Value>,
}

/// Every completed operation is placed. `next_required[i]` is the first completed
/// operation at `i` or later (`ops.len()` if none): only those in the window can be
/// placed, so this looks at a window's worth of them.
fn covers(state: &State, next_required: &[usize]) -> bool {
    let mut index = next_required[state.placed.prefix.min(next_required.len() - 1)];
    while index < next_required.len() - 1 {
        if !state.placed.contains(index) {
            return false;
        }
        index = next_required[index + 1];
    }
    true
}

/// Searches for a linearization of `ops` (sorted by `invoked`) on a register that
/// starts empty, exploring at most `budget` states.
pub(crate) fn search(ops: &[KeyOp], budget: u64) -> Outcome {
    assert!(
        ops.is_sorted_by_key(|op| op.invoked),
        "ops sorted by invocation"
    );
    debug_assert!(
        ops.iter()
            .all(|op| op.returned.is_none_or(|r| r >= op.invoked)),
        "an operation returns no earlier than it is invoked"
    );
    let mut next_required = vec![ops.len(); ops.len() + 1];
    for index in (0..ops.len()).rev() {
        next_required[index] = if ops[index].returned.is_some() {
            index
        } else {
            next_required[index + 1]
        };
    }
    let start = State {
        placed: Placed::default(),
        value: None,
    };
    let mut visited = BTreeSet::from([start.clone()]);
    let mut stack = vec![start.clone()];
    let mut deepest = (0, start);
    let mut states = 0;
    while let Some(state) = stack.pop() {
        if covers(&state, &next_required) {
            return Outcome::Linearizable { states };
        }
        states += 1;
        if states > budget {
            return Outcome::TooLarge { states };
        }
        let placed = state.placed.count();
        if placed > deepest.0 {
            deepest = (placed, state.clone());
        }
        let successors: Vec<State> = candidates(ops, &state)
            .filter_map(|index| {
                let value = ops[index].effect.apply(state.value)?;
                let placed = state.placed.with(index);
                Some(State { placed, value })
            })
            .collect();
        for next in successors.into_iter().rev() {
            if visited.insert(next.clone()) {
                stack.push(next);
            }
        }
    }
    let (placed, state) = deepest;
    let blocked = candidates(ops, &state).collect();
    Outcome::NotLinearizable {
        placed,
        value: state.value,
        blocked,
    }
}

/// The unplaced operations that real time allows next: invoked before every other
/// unplaced, completed operation returned. Everything below the prefix is placed, and
/// no operation invoked after the earliest return seen so far can return earlier (it
/// returns after it is invoked), so both scans stop at the window's end.
fn candidates<'a>(ops: &'a [KeyOp], state: &'a State) -> impl Iterator<Item = usize> + 'a {
    let start = state.placed.prefix.min(ops.len());
    let mut horizon = u64::MAX;
    for (index, op) in ops.iter().enumerate().skip(start) {
        if op.invoked > horizon {
            break;
        }
        if !state.placed.contains(index)
            && let Some(returned) = op.returned
        {
            horizon = horizon.min(returned);
        }
    }
    ops.iter()
        .enumerate()
        .skip(start)
        .take_while(move |(_, op)| op.invoked < horizon)
        .filter(|&(index, _)| !state.placed.contains(index))
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(effect: Effect, invoked: u64, returned: Option<u64>) -> KeyOp {
        KeyOp {
            effect,
            invoked,
            returned,
        }
    }

    #[test]
    fn a_budget_too_small_gives_up_instead_of_guessing() {
        let ops: Vec<KeyOp> = (0..8)
            .map(|i| op(Effect::Write(i), i, Some(100 + i)))
            .chain([op(Effect::Read(Some(99)), 50, Some(200))])
            .collect();
        assert_eq!(search(&ops, 10), Outcome::TooLarge { states: 11 });
        assert!(matches!(
            search(&ops, 1_000_000),
            Outcome::NotLinearizable { .. }
        ));
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        assert_eq!(search(&[], 1), Outcome::Linearizable { states: 0 });
    }

    /// Is there an order of some of `ops` (every completed one, any pending ones) in
    /// which an operation that returned before another was invoked comes first and every
    /// read returns the latest write? By trying every order, from the definition.
    fn linearizable_by_definition(ops: &[KeyOp]) -> bool {
        fn extend(ops: &[KeyOp], placed: &mut Vec<usize>, value: Option<Value>) -> bool {
            let complete = ops
                .iter()
                .enumerate()
                .all(|(i, op)| op.returned.is_none() || placed.contains(&i));
            if complete {
                return true;
            }
            for next in 0..ops.len() {
                if placed.contains(&next) {
                    continue;
                }
                // Everything that returned before `next` was invoked must already be
                // placed (a pending operation never returned).
                let in_time = ops.iter().enumerate().all(|(i, op)| {
                    placed.contains(&i) || op.returned.is_none_or(|r| r > ops[next].invoked)
                });
                let Some(after) = ops[next].effect.apply(value) else {
                    continue;
                };
                if in_time {
                    placed.push(next);
                    if extend(ops, placed, after) {
                        return true;
                    }
                    placed.pop();
                }
            }
            false
        }
        extend(ops, &mut Vec::new(), None)
    }

    /// Up to seven operations with distinct positions, some pending, sorted by
    /// invocation, on values 0..3.
    fn histories() -> impl proptest::strategy::Strategy<Value = Vec<KeyOp>> {
        use proptest::prelude::*;
        (1_usize..=7)
            .prop_flat_map(|n| {
                let positions = Just((0..2 * n as u64).collect::<Vec<_>>()).prop_shuffle();
                let effects = proptest::collection::vec((any::<bool>(), 0_u64..3, 0_u8..4), n);
                (positions, effects)
            })
            .prop_map(|(positions, effects)| {
                let mut ops: Vec<KeyOp> = effects
                    .into_iter()
                    .enumerate()
                    .map(|(i, (write, value, pending))| {
                        let (a, b) = (positions[2 * i], positions[2 * i + 1]);
                        let effect = match (write, value) {
                            (true, v) => Effect::Write(v),
                            (false, 0) => Effect::Read(None),
                            (false, v) => Effect::Read(Some(v)),
                        };
                        op(effect, a.min(b), (pending != 0).then_some(a.max(b)))
                    })
                    .collect();
                ops.sort_by_key(|op| op.invoked);
                ops
            })
    }

    proptest::proptest! {
        /// The memoised search with its windowed state agrees with the definition.
        #[test]
        fn the_search_agrees_with_trying_every_order(ops in histories()) {
            let found = search(&ops, 1_000_000);
            let gave_up = matches!(found, Outcome::TooLarge { .. });
            proptest::prop_assert!(!gave_up, "gave up on {} operations", ops.len());
            proptest::prop_assert_eq!(
                matches!(found, Outcome::Linearizable { .. }),
                linearizable_by_definition(&ops),
                "{:?}", ops
            );
        }
    }
}
