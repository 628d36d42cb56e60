//! Checks: what must always hold, what must eventually happen, and what we hope to see.
//!
//! Checks live outside the nodes and see the whole [`World`] after every step: every
//! node's state, the messages in flight, and what nodes observed during the step.
//!
//! - An **always** check (safety) is an [`Invariant`]: it returns `Err(message)` when
//!   the world is wrong. The first failure stops the run with a [`Violation`].
//! - An **eventually** check (liveness) is a [`Property`] with a virtual-time deadline:
//!   it must hold after some step at or before the deadline, or the run stops with a
//!   liveness [`Violation`] once the clock passes the deadline.
//! - A **sometimes** check (coverage) counts the steps after which its property held,
//!   so a swarm can report which interesting situations it reached and which never.
//!
//! Checkers may keep state (a canonical history to compare nodes against): both traits
//! take `&mut self`, and closures `FnMut(&World<N>) -> ...` implement them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::node::Node;
use crate::time::SimTime;
use crate::world::World;

/// The three kinds of check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CheckKind {
    /// Safety: must hold after every step.
    Always,
    /// Liveness: must hold by a deadline.
    Eventually,
    /// Coverage: counted when it holds.
    Sometimes,
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckKind::Always => "always",
            CheckKind::Eventually => "eventually",
            CheckKind::Sometimes => "sometimes",
        })
    }
}

/// A failed check: which one, what it said, and exactly when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The check's name.
    pub check: String,
    /// Safety (`Always`) or liveness (`Eventually`).
    pub kind: CheckKind,
    /// What the check reported.
    pub message: String,
    /// The step after which the check failed (for liveness: the last step before the
    /// deadline passed).
    pub step: u64,
    /// The virtual time of the failure (for liveness: the deadline).
    pub time: SimTime,
    /// The run's seed.
    pub seed: u64,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} check `{}` failed at step {} ({}), seed {}: {}",
            self.kind, self.check, self.step, self.time, self.seed, self.message
        )
    }
}

/// A safety check: `Err(what is wrong)` stops the run.
pub trait Invariant<N: Node> {
    /// Checks the world after a step.
    fn check(&mut self, world: &World<'_, N>) -> Result<(), String>;
}

impl<N: Node, F: FnMut(&World<'_, N>) -> Result<(), String>> Invariant<N> for F {
    fn check(&mut self, world: &World<'_, N>) -> Result<(), String> {
        self(world)
    }
}

/// A property of the world, for eventually and sometimes checks.
pub trait Property<N: Node> {
    /// Does the property hold after this step?
    fn holds(&mut self, world: &World<'_, N>) -> bool;
}

impl<N: Node, F: FnMut(&World<'_, N>) -> bool> Property<N> for F {
    fn holds(&mut self, world: &World<'_, N>) -> bool {
        self(world)
    }
}

/// What a check reached during the run, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The check's name.
    pub check: String,
    /// Its kind.
    pub kind: CheckKind,
    /// Steps after which it held (always checks: steps checked).
    pub hits: u64,
    /// The first step and time at which it held, if ever.
    pub first: Option<(u64, SimTime)>,
    /// For eventually checks: the deadline.
    pub deadline: Option<SimTime>,
}

struct Named<C: ?Sized> {
    name: String,
    hits: u64,
    first: Option<(u64, SimTime)>,
    deadline: SimTime,
    check: Box<C>,
}

impl<C: ?Sized> Named<C> {
    fn hit(&mut self, step: u64, time: SimTime) {
        self.hits += 1;
        self.first.get_or_insert((step, time));
    }
}

/// Every registered check.
pub(crate) struct Checks<N: Node> {
    always: Vec<Named<dyn Invariant<N>>>,
    eventually: Vec<Named<dyn Property<N>>>,
    sometimes: Vec<Named<dyn Property<N>>>,
    /// The earliest deadline of an unsatisfied eventually check.
    pub(crate) next_deadline: SimTime,
    /// Whether any check is registered: one test on the hot path.
    any: bool,
}

impl<N: Node> fmt::Debug for Checks<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checks")
            .field("always", &self.always.len())
            .field("eventually", &self.eventually.len())
            .field("sometimes", &self.sometimes.len())
            .finish()
    }
}

impl<N: Node> Checks<N> {
    pub(crate) fn new() -> Checks<N> {
        Checks {
            always: Vec::new(),
            eventually: Vec::new(),
            sometimes: Vec::new(),
            next_deadline: SimTime::MAX,
            any: false,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        !self.any
    }

    fn named<C: ?Sized>(&mut self, name: &str, check: Box<C>, deadline: SimTime) -> Named<C> {
        self.any = true;
        Named {
            name: name.to_string(),
            hits: 0,
            first: None,
            deadline,
            check,
        }
    }

    pub(crate) fn add_always(&mut self, name: &str, check: Box<dyn Invariant<N>>) {
        let named = self.named(name, check, SimTime::MAX);
        self.always.push(named);
    }

    pub(crate) fn add_eventually(
        &mut self,
        name: &str,
        deadline: SimTime,
        check: Box<dyn Property<N>>,
    ) {
        let named = self.named(name, check, deadline);
        self.eventually.push(named);
        self.next_deadline = self.next_deadline.min(deadline);
    }

    pub(crate) fn add_sometimes(&mut self, name: &str, check: Box<dyn Property<N>>) {
        let named = self.named(name, check, SimTime::MAX);
        self.sometimes.push(named);
    }

    /// Evaluates every check on the world after a step; returns the first safety failure
    /// as `(check name, message)`.
    pub(crate) fn evaluate(&mut self, world: &World<'_, N>) -> Option<(String, String)> {
        let (step, now) = (world.step(), world.now());
        for check in &mut self.always {
            if let Err(message) = check.check.check(world) {
                return Some((check.name.clone(), message));
            }
            check.hit(step, now);
        }
        let mut satisfied_any = false;
        for check in self.eventually.iter_mut().filter(|c| c.first.is_none()) {
            if check.check.holds(world) {
                check.hit(step, now);
                satisfied_any = true;
            }
        }
        if satisfied_any {
            self.next_deadline = self.earliest_unsatisfied();
        }
        for check in &mut self.sometimes {
            if check.check.holds(world) {
                check.hit(step, now);
            }
        }
        None
    }

    fn earliest_unsatisfied(&self) -> SimTime {
        self.eventually
            .iter()
            .filter(|c| c.first.is_none())
            .map(|c| c.deadline)
            .min()
            .unwrap_or(SimTime::MAX)
    }

    /// The first unsatisfied eventually check whose deadline is before `time`, as
    /// `(name, deadline)`.
    pub(crate) fn expired_before(&self, time: SimTime) -> Option<(String, SimTime)> {
        self.eventually
            .iter()
            .filter(|c| c.first.is_none() && c.deadline < time)
            .min_by_key(|c| c.deadline)
            .map(|c| (c.name.clone(), c.deadline))
    }

    /// The first unsatisfied eventually check whose deadline is at or before `time`.
    pub(crate) fn expired_by(&self, time: SimTime) -> Option<(String, SimTime)> {
        self.eventually
            .iter()
            .filter(|c| c.first.is_none() && c.deadline <= time)
            .min_by_key(|c| c.deadline)
            .map(|c| (c.name.clone(), c.deadline))
    }

    /// What every check reached, in registration order by kind.
    pub(crate) fn coverage(&self) -> Vec<Coverage> {
        let always = self
            .always
            .iter()
            .map(|c| (c.name.clone(), CheckKind::Always, c.hits, c.first, None));
        let eventually = self.eventually.iter().map(|c| {
            (
                c.name.clone(),
                CheckKind::Eventually,
                c.hits,
                c.first,
                Some(c.deadline),
            )
        });
        let sometimes = self
            .sometimes
            .iter()
            .map(|c| (c.name.clone(), CheckKind::Sometimes, c.hits, c.first, None));
        always
            .chain(eventually)
            .chain(sometimes)
            .map(|(check, kind, hits, first, deadline)| Coverage {
                check,
                kind,
                hits,
                first,
                deadline,
            })
            .collect()
    }
}
