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
//! - A **whenever** check (liveness while it should hold) is a [`Property`] guarded by
//!   a condition and a [`Window`]: whenever the condition has held for `window.after`
//!   without a break, the property may not stay false for longer than `window.within`.
//!   Unlike an eventually check it is never met once and for all: it is owed again every
//!   time it turns false while the condition holds, so a protocol that stalls in the
//!   middle of a run, with a quorum up and connected, fails it there and then.
//! - A **sometimes** check (coverage) counts the steps after which its property held,
//!   so a swarm can report which interesting situations it reached and which never.
//!
//! Checkers may keep state (a canonical history to compare nodes against): both traits
//! take `&mut self`, and closures `FnMut(&World<N>) -> ...` implement them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::node::Node;
use crate::time::{SimDuration, SimTime};
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
    /// Liveness while a condition holds: see [`Window`].
    Whenever,
}

impl CheckKind {
    /// Is a failure of this kind a liveness failure (something did not happen in time)
    /// rather than a safety failure?
    pub fn is_liveness(self) -> bool {
        matches!(self, CheckKind::Eventually | CheckKind::Whenever)
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckKind::Always => "always",
            CheckKind::Eventually => "eventually",
            CheckKind::Sometimes => "sometimes",
            CheckKind::Whenever => "whenever",
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
    /// For a whenever check: the span of virtual time over which the property was owed
    /// and did not hold, `(from, to)`, with `to == time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<(SimTime, SimTime)>,
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

/// The window of a whenever check ([`crate::Sim::whenever`]).
///
/// ```
/// use sim_core::{SimDuration, Window};
///
/// // Once a quorum has been connected for 3 s, a leader within 2 s, and never
/// // leaderless for longer than that while the quorum stays connected.
/// let window = Window::new(SimDuration::from_secs(3), SimDuration::from_secs(2));
/// assert_eq!(window.to_string(), "after 3s, within 2s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// How long the condition must have held, without a break, before the property is
    /// owed: the time the protocol is given to settle.
    pub after: SimDuration,
    /// How long the property may then stay false.
    pub within: SimDuration,
}

impl Window {
    /// A window: owed `after` the condition has held that long, due `within`.
    pub fn new(after: SimDuration, within: SimDuration) -> Window {
        Window { after, within }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "after {}, within {}", self.after, self.within)
    }
}

/// What a check reached during the run, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The check's name.
    pub check: String,
    /// Its kind.
    pub kind: CheckKind,
    /// Steps after which it held (always checks: steps checked; whenever checks: steps
    /// after which it was in force, its condition having held long enough).
    pub hits: u64,
    /// The first step and time at which it held (whenever checks: came into force), if
    /// ever.
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

/// A whenever check and where it stands.
struct Windowed<N: Node> {
    window: Window,
    condition: Box<dyn Property<N>>,
    /// Since when the condition has held without a break.
    held_since: Option<SimTime>,
    /// Since when the property has been false, while the condition held.
    false_since: Option<SimTime>,
}

impl<N: Node> Windowed<N> {
    /// When the property is due, if it is owed: once the condition has held for
    /// `after` and the property has been false for `within`.
    fn due(&self) -> Option<(SimTime, SimTime)> {
        let owed = self
            .held_since?
            .saturating_add(self.window.after)
            .max(self.false_since?);
        Some((owed, owed.saturating_add(self.window.within)))
    }
}

/// A check whose time ran out: what the violation says.
pub(crate) struct Expired {
    pub(crate) check: String,
    pub(crate) kind: CheckKind,
    pub(crate) message: String,
    pub(crate) time: SimTime,
    pub(crate) window: Option<(SimTime, SimTime)>,
}

/// Every registered check.
pub(crate) struct Checks<N: Node> {
    always: Vec<Named<dyn Invariant<N>>>,
    eventually: Vec<Named<dyn Property<N>>>,
    sometimes: Vec<Named<dyn Property<N>>>,
    whenever: Vec<(Named<dyn Property<N>>, Windowed<N>)>,
    /// The earliest deadline of an unsatisfied eventually check or an owed whenever
    /// check.
    pub(crate) next_deadline: SimTime,
    /// The earliest deadline of an unsatisfied eventually check.
    eventually_deadline: SimTime,
    /// Whether any check is registered: one test on the hot path.
    any: bool,
}

impl<N: Node> fmt::Debug for Checks<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checks")
            .field("always", &self.always.len())
            .field("eventually", &self.eventually.len())
            .field("sometimes", &self.sometimes.len())
            .field("whenever", &self.whenever.len())
            .finish()
    }
}

impl<N: Node> Checks<N> {
    pub(crate) fn new() -> Checks<N> {
        Checks {
            always: Vec::new(),
            eventually: Vec::new(),
            sometimes: Vec::new(),
            whenever: Vec::new(),
            next_deadline: SimTime::MAX,
            eventually_deadline: SimTime::MAX,
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
        self.eventually_deadline = self.eventually_deadline.min(deadline);
        self.next_deadline = self.next_deadline.min(deadline);
    }

    pub(crate) fn add_whenever(
        &mut self,
        name: &str,
        condition: Box<dyn Property<N>>,
        window: Window,
        property: Box<dyn Property<N>>,
    ) {
        let named = self.named(name, property, SimTime::MAX);
        let windowed = Windowed {
            window,
            condition,
            held_since: None,
            false_since: None,
        };
        self.whenever.push((named, windowed));
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
            self.eventually_deadline = self.earliest_unsatisfied();
            self.next_deadline = self.eventually_deadline;
        }
        for check in &mut self.sometimes {
            if check.check.holds(world) {
                check.hit(step, now);
            }
        }
        if !self.whenever.is_empty() {
            self.evaluate_whenever(world);
        }
        None
    }

    /// Moves every whenever check on by one step, and the next deadline with them.
    pub(crate) fn evaluate_whenever(&mut self, world: &World<'_, N>) {
        let (step, now) = (world.step(), world.now());
        let mut next = self.eventually_deadline;
        for (check, windowed) in &mut self.whenever {
            if windowed.condition.holds(world) {
                let since = *windowed.held_since.get_or_insert(now);
                let in_force = since.saturating_add(windowed.window.after);
                if now >= in_force {
                    // It came into force at `in_force`, though no step may have been
                    // taken then.
                    check.hits += 1;
                    check.first.get_or_insert((step, in_force));
                }
                if check.check.holds(world) {
                    windowed.false_since = None;
                } else {
                    windowed.false_since.get_or_insert(now);
                }
            } else {
                windowed.held_since = None;
                windowed.false_since = None;
            }
            if let Some((_, due)) = windowed.due() {
                next = next.min(due);
            }
        }
        self.next_deadline = next;
    }

    fn earliest_unsatisfied(&self) -> SimTime {
        self.eventually
            .iter()
            .filter(|c| c.first.is_none())
            .map(|c| c.deadline)
            .min()
            .unwrap_or(SimTime::MAX)
    }

    /// The first check whose deadline is before `time` (or at it, if `inclusive`):
    /// an unsatisfied eventually check, or a whenever check owed and not met.
    pub(crate) fn expired(&self, time: SimTime, inclusive: bool) -> Option<Expired> {
        let passed = |deadline: SimTime| deadline < time || (inclusive && deadline == time);
        let eventually = self
            .eventually
            .iter()
            .filter(|c| c.first.is_none() && passed(c.deadline))
            .map(|c| Expired {
                check: c.name.clone(),
                kind: CheckKind::Eventually,
                message: format!("did not hold by its deadline {}", c.deadline),
                time: c.deadline,
                window: None,
            });
        let whenever = self.whenever.iter().filter_map(|(check, windowed)| {
            let (owed, due) = windowed.due()?;
            let since = windowed.held_since?;
            passed(due).then(|| Expired {
                check: check.name.clone(),
                kind: CheckKind::Whenever,
                message: format!(
                    "did not hold from {owed} to {due} ({}), while its condition had held \
                     since {since}",
                    windowed.window
                ),
                time: due,
                window: Some((owed, due)),
            })
        });
        eventually.chain(whenever).min_by_key(|e| e.time)
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
        let whenever = self
            .whenever
            .iter()
            .map(|(c, _)| (c.name.clone(), CheckKind::Whenever, c.hits, c.first, None));
        always
            .chain(eventually)
            .chain(sometimes)
            .chain(whenever)
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
