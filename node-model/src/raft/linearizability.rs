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

/// A set of operation indexes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Placed(Vec<u64>);

impl Placed {
    fn new(len: usize) -> Placed {
        Placed(vec![0; len.div_ceil(64)])
    }

    fn contains(&self, index: usize) -> bool {
        self.0[index / 64] & (1 << (index % 64)) != 0
    }

    fn with(&self, index: usize) -> Placed {
        let mut next = self.clone();
        next.0[index / 64] |= 1 << (index % 64);
        next
    }

    fn count(&self) -> usize {
        self.0.iter().map(|word| word.count_ones() as usize).sum()
    }

    fn covers(&self, other: &Placed) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a & b == *b)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct State {
    placed: Placed,
    value: Option<Value>,
}

/// Searches for a linearization of `ops` (sorted by `invoked`) on a register that
/// starts empty, exploring at most `budget` states.
pub(crate) fn search(ops: &[KeyOp], budget: u64) -> Outcome {
    assert!(
        ops.is_sorted_by_key(|op| op.invoked),
        "ops sorted by invocation"
    );
    let mut required = Placed::new(ops.len());
    for (index, op) in ops.iter().enumerate() {
        if op.returned.is_some() {
            required = required.with(index);
        }
    }
    let start = State {
        placed: Placed::new(ops.len()),
        value: None,
    };
    let mut visited = BTreeSet::from([start.clone()]);
    let mut stack = vec![start.clone()];
    let mut deepest = (0, start);
    let mut states = 0;
    while let Some(state) = stack.pop() {
        if state.placed.covers(&required) {
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
/// unplaced, completed operation returned.
fn candidates<'a>(ops: &'a [KeyOp], state: &'a State) -> impl Iterator<Item = usize> + 'a {
    let horizon = ops
        .iter()
        .enumerate()
        .filter(|&(index, _)| !state.placed.contains(index))
        .filter_map(|(_, op)| op.returned)
        .min()
        .unwrap_or(u64::MAX);
    ops.iter()
        .enumerate()
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
}
