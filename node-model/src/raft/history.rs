//! Client histories and whether they are linearizable.
//!
//! A [`History`] records, in the order they happened, the invocation
//! ([`RaftEvent::Invoked`]) and the return ([`RaftEvent::Returned`]) of every client
//! request, with their virtual times. Feed it a run's observations after every step
//! with [`record_history`] (an always-check that only records), or by hand with
//! [`History::invoke`] and [`History::complete`].
//!
//! [`History::check`] then decides whether some order of the operations, one register
//! per key, respects real time (an operation that returned before another was invoked
//! comes first) and the register's meaning (a read returns the latest write, or `None`
//! before any). Keys are independent, so each is checked alone. An operation invoked
//! but never returned may have taken effect at any time after its invocation, or not
//! at all. The search is bounded ([`SEARCH_STATES_MAX`] states per key): a history too
//! large to decide is reported as such, never as a pass.

use std::cell::{Ref, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;

use sim_core::{Node, Observation, Sim, SimTime, World};
use thiserror::Error;

use super::linearizability::{self, Effect, KeyOp};
use super::view::{Key, Op, RaftEvent, RequestId, Value};

/// How many search states [`History::check`] explores per key before it gives up.
pub const SEARCH_STATES_MAX: u64 = 1_000_000;

/// One client operation: what was asked, when, and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The request.
    pub request: RequestId,
    /// What it asked.
    pub op: Op,
    /// When a replica accepted it.
    pub invoked_at: SimTime,
    /// When and what it returned; `None` while pending.
    pub returned: Option<(SimTime, Option<Value>)>,
    /// Positions in the history, for real-time order between equal times.
    invoked_order: u64,
    returned_order: Option<u64>,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.op, self.returned) {
            (Op::Put { value, .. }, _) => write!(f, "{} put {value}", self.request)?,
            (Op::Get { .. }, Some((_, read))) => write!(f, "{} get -> {read:?}", self.request)?,
            (Op::Get { .. }, None) => write!(f, "{} get", self.request)?,
        }
        match self.returned {
            Some((at, _)) => write!(f, " [{} .. {at}]", self.invoked_at),
            None => write!(f, " [{} .. pending]", self.invoked_at),
        }
    }
}

/// Why a history is not known to be linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LinearizabilityError {
    /// No order of the key's operations is legal.
    #[error(
        "key {key} is not linearizable: after {placed} of its {total} operations \
         (value {value:?}), none of these can come next: {}",
        list(.blocked)
    )]
    NotLinearizable {
        /// The key.
        key: Key,
        /// The most operations the search could place in a legal order.
        placed: usize,
        /// The key's operations, pending reads left out.
        total: usize,
        /// The register's value after them.
        value: Option<Value>,
        /// The operations that real time allowed next, none of which was legal.
        blocked: Vec<Operation>,
    },
    /// The search gave up: the key's history is too large to check.
    #[error(
        "key {key} is too large to check: {operations} operations, gave up after {states} states"
    )]
    TooLarge {
        /// The key.
        key: Key,
        /// Its operations.
        operations: usize,
        /// The states explored.
        states: u64,
    },
    /// The history itself is inconsistent (a return without an invocation, say).
    #[error("malformed history: {0}")]
    Malformed(String),
}

fn list(operations: &[Operation]) -> String {
    let described: Vec<String> = operations.iter().map(ToString::to_string).collect();
    described.join("; ")
}

/// What a successful check covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Keys checked.
    pub keys: usize,
    /// Operations that returned.
    pub completed: usize,
    /// Operations invoked but never returned.
    pub pending: usize,
    /// Search states explored over all keys.
    pub states: u64,
}

/// The invocations and returns of client requests, in the order they happened.
#[derive(Clone, Debug, Default)]
pub struct History {
    operations: BTreeMap<RequestId, Operation>,
    /// Inconsistencies noticed while recording, reported by [`History::check`].
    problems: Vec<String>,
    /// The position of the next event.
    order: u64,
    /// The time of the last event.
    last_time: SimTime,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Records every client event among a step's observations.
    pub fn record(&mut self, observations: &[Observation<RaftEvent>]) {
        for observation in observations {
            match observation.value {
                RaftEvent::Invoked { request, op } => self.invoke(request, op, observation.time),
                RaftEvent::Returned { request, value } => {
                    self.complete(request, value, observation.time);
                }
                RaftEvent::BecameLeader { .. } | RaftEvent::Applied { .. } => {}
            }
        }
    }

    /// Records that `request` was invoked at `at` (not before the last event).
    /// Invoking a request again with the same operation is ignored, like a retry.
    pub fn invoke(&mut self, request: RequestId, op: Op, at: SimTime) {
        let order = self.advance(at);
        if let Some(known) = self.operations.get(&request) {
            if known.op != op {
                let problem = format!("{request} invoked as {:?} and as {op:?}", known.op);
                self.problems.push(problem);
            }
            return;
        }
        let operation = Operation {
            request,
            op,
            invoked_at: at,
            returned: None,
            invoked_order: order,
            returned_order: None,
        };
        self.operations.insert(request, operation);
    }

    /// Records that `request` returned `value` at `at` (not before the last event).
    pub fn complete(&mut self, request: RequestId, value: Option<Value>, at: SimTime) {
        let order = self.advance(at);
        let Some(operation) = self.operations.get_mut(&request) else {
            self.problems.push(format!(
                "{request} returned {value:?} but was never invoked"
            ));
            return;
        };
        match operation.returned {
            None => {
                operation.returned = Some((at, value));
                operation.returned_order = Some(order);
            }
            Some((_, first)) if first != value => {
                let problem = format!("{request} returned {first:?} and then {value:?}");
                self.problems.push(problem);
            }
            Some(_) => {}
        }
    }

    fn advance(&mut self, at: SimTime) -> u64 {
        assert!(at >= self.last_time, "history events arrive in time order");
        self.last_time = at;
        self.order += 1;
        self.order
    }

    /// Every operation, by request.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.values()
    }

    /// The number of operations that returned.
    pub fn completed(&self) -> usize {
        self.operations().filter(|o| o.returned.is_some()).count()
    }

    /// The number of operations invoked but not returned.
    pub fn pending(&self) -> usize {
        self.operations().filter(|o| o.returned.is_none()).count()
    }

    /// Decides whether the history is linearizable, exploring at most
    /// [`SEARCH_STATES_MAX`] states per key.
    pub fn check(&self) -> Result<CheckReport, LinearizabilityError> {
        self.check_with_budget(SEARCH_STATES_MAX)
    }

    /// [`History::check`] with another bound on the states explored per key.
    pub fn check_with_budget(&self, budget: u64) -> Result<CheckReport, LinearizabilityError> {
        if let Some(problem) = self.problems.first() {
            return Err(LinearizabilityError::Malformed(problem.clone()));
        }
        let mut report = CheckReport {
            keys: 0,
            completed: self.completed(),
            pending: self.pending(),
            states: 0,
        };
        for (key, operations) in self.by_key() {
            report.keys += 1;
            report.states += check_key(key, &operations, budget)?;
        }
        Ok(report)
    }

    /// Operations grouped by key, in invocation order, without the pending operations
    /// that cannot matter (see [`History::matters`]).
    fn by_key(&self) -> BTreeMap<Key, Vec<&Operation>> {
        let mut keys: BTreeMap<Key, Vec<&Operation>> = BTreeMap::new();
        for operation in self.operations() {
            keys.entry(operation.op.key()).or_default().push(operation);
        }
        for operations in keys.values_mut() {
            let reads: BTreeSet<Value> = operations
                .iter()
                .filter_map(|o| o.returned.and_then(|(_, read)| read))
                .collect();
            operations.retain(|operation| Self::matters(operation, &reads));
            operations.sort_by_key(|operation| operation.invoked_order);
        }
        keys
    }

    /// Whether an operation can change the verdict. A pending read constrains nothing.
    /// A pending write whose value no read returned can be assumed never to have taken
    /// effect: placing it anywhere only hides earlier writes from later reads, it never
    /// helps one. Dropping both keeps the search from trying every subset of the
    /// writes a deposed leader accepted and never answered.
    fn matters(operation: &Operation, reads: &BTreeSet<Value>) -> bool {
        match (operation.op, operation.returned) {
            (_, Some(_)) => true,
            (Op::Get { .. }, None) => false,
            (Op::Put { value, .. }, None) => reads.contains(&value),
        }
    }
}

/// Checks one key's operations; returns the states explored.
fn check_key(
    key: Key,
    operations: &[&Operation],
    budget: u64,
) -> Result<u64, LinearizabilityError> {
    let ops: Vec<KeyOp> = operations
        .iter()
        .map(|operation| KeyOp {
            effect: match (operation.op, operation.returned) {
                (Op::Put { value, .. }, _) => Effect::Write(value),
                (Op::Get { .. }, returned) => Effect::Read(returned.and_then(|(_, read)| read)),
            },
            invoked: operation.invoked_order,
            returned: operation.returned_order,
        })
        .collect();
    match linearizability::search(&ops, budget) {
        linearizability::Outcome::Linearizable { states } => Ok(states),
        linearizability::Outcome::TooLarge { states } => Err(LinearizabilityError::TooLarge {
            key,
            operations: ops.len(),
            states,
        }),
        linearizability::Outcome::NotLinearizable {
            placed,
            value,
            blocked,
        } => Err(LinearizabilityError::NotLinearizable {
            key,
            placed,
            total: ops.len(),
            value,
            blocked: blocked
                .iter()
                .map(|&index| operations[index].clone())
                .collect(),
        }),
    }
}

/// A history being recorded from a running simulation; see [`record_history`].
#[derive(Clone, Debug, Default)]
pub struct HistoryHandle {
    shared: Rc<RefCell<History>>,
}

impl HistoryHandle {
    /// The history recorded so far.
    pub fn history(&self) -> Ref<'_, History> {
        self.shared.borrow()
    }

    /// Checks the history recorded so far; see [`History::check`].
    pub fn check(&self) -> Result<CheckReport, LinearizabilityError> {
        self.shared.borrow().check()
    }
}

/// The name [`record_history`] gives its recording check.
pub const HISTORY_RECORDER: &str = "raft: record client history";

/// Records the client history of `sim` from now on: registers an always-check that
/// never fails and only records each step's observations. Check the history at the
/// end of the run through the returned handle.
pub fn record_history<N: Node<Observation = RaftEvent>>(sim: &mut Sim<N>) -> HistoryHandle {
    let handle = HistoryHandle::default();
    let shared = Rc::clone(&handle.shared);
    sim.always(HISTORY_RECORDER, move |world: &World<'_, N>| {
        shared.borrow_mut().record(world.observations());
        Ok(())
    });
    handle
}
