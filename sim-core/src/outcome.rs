//! What a run produced: why it stopped, what it counted, and its trace hash.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::check::{CheckKind, Coverage, Violation};
use crate::interceptor::InterceptorStats;
use crate::network::NetworkStats;
use crate::time::SimTime;

/// Bounds on a run, so that no run can go on forever. Hitting one stops the run and
/// is reported, never silently ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The most steps a run may take.
    pub max_steps: u64,
    /// The latest virtual time a run may reach.
    pub max_time: SimTime,
}

impl Default for Limits {
    /// A billion steps or thirty days of virtual time.
    fn default() -> Self {
        Limits {
            max_steps: 1_000_000_000,
            max_time: SimTime::from_secs(30 * 24 * 3_600),
        }
    }
}

/// Why a run stopped before it was asked to.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum Stop {
    /// A check failed.
    #[error("{0}")]
    Violation(Violation),
    /// The run took `Limits::max_steps` steps.
    #[error("step limit of {0} steps reached")]
    StepLimit(u64),
    /// The run reached `Limits::max_time`.
    #[error("virtual time limit {0} reached")]
    TimeLimit(SimTime),
    /// Something outside the run asked it to stop through its [`Cancel`] token (a
    /// runner's wall-time limit per case, an interrupt). Unlike the other stops it does
    /// not follow from the seed: the same run may go further another time.
    #[error("stopped from outside the run after {0} steps")]
    Cancelled(u64),
}

/// A token that stops a run from outside it: a runner holds one clone and the run's
/// [`SimConfig`](crate::SimConfig) the other. The run looks at it every
/// [`Cancel::POLL_STEPS`] steps and stops with [`Stop::Cancelled`] once it is set.
///
/// This is how a wall-time limit per case works without the engine reading a clock:
/// the runner's watchdog thread reads the clock and sets the token.
///
/// ```
/// use sim_core::Cancel;
/// let token = Cancel::new();
/// let for_the_run = token.clone();
/// token.cancel();
/// assert!(for_the_run.is_cancelled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// How many steps a run takes between looks at its token.
    pub const POLL_STEPS: u64 = 4_096;

    /// A token that is not set.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every run holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Has [`Cancel::cancel`] been called?
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for Cancel {
    /// Two tokens are equal when they are clones of one another.
    fn eq(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Stop {
    /// The violation, if a check failed.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Stop::Violation(violation) => Some(violation),
            _ => None,
        }
    }
}

/// Why [`Sim::run_until`](crate::Sim::run_until) returned without its predicate holding.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RunUntilError {
    /// The run stopped (a violation or a limit).
    #[error(transparent)]
    Stopped(#[from] Stop),
    /// The deadline passed before the predicate held.
    #[error("the condition did not hold by {deadline}")]
    DeadlinePassed {
        /// The deadline that passed.
        deadline: SimTime,
    },
}

/// Counters of everything the engine did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Steps taken (events dispatched to nodes, and faults).
    pub steps: u64,
    /// Messages delivered to a node.
    pub deliveries: u64,
    /// Timers fired.
    pub timers: u64,
    /// Faults applied.
    pub faults: u64,
    /// Crash points that struck: nodes crashed in the middle of a handler.
    pub crash_points: u64,
    /// Node starts and recoveries.
    pub starts: u64,
    /// Link up/down notifications delivered.
    pub link_changes: u64,
    /// Calls into nodes.
    pub calls: u64,
    /// Messages that reached a crashed node and were dropped.
    pub dropped_at_down_node: u64,
    /// Calls addressed to a crashed node.
    pub calls_dropped: u64,
    /// Events that waited for a paused node.
    pub deferred_while_paused: u64,
    /// What the network did.
    pub network: NetworkStats,
    /// What the interceptors did.
    pub interceptors: InterceptorStats,
}

/// The result of a run: how it ended, when, and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The run's seed.
    pub seed: u64,
    /// Why the run stopped early, or `None` if it ran as long as it was asked to.
    pub stop: Option<Stop>,
    /// The virtual time reached.
    pub time: SimTime,
    /// The trace hash after the last step.
    pub trace_hash: u64,
    /// What the engine counted.
    pub stats: Stats,
    /// What each check reached.
    pub coverage: Vec<Coverage>,
}

impl Outcome {
    /// `true` if no check failed and no limit was hit.
    pub fn passed(&self) -> bool {
        self.stop.is_none()
    }

    /// The violation, if a check failed.
    pub fn violation(&self) -> Option<&Violation> {
        self.stop.as_ref().and_then(Stop::violation)
    }

    /// `true` if a safety (always) check failed.
    pub fn safety_failed(&self) -> bool {
        self.violation()
            .is_some_and(|v| v.kind == CheckKind::Always)
    }

    /// `true` if a liveness (eventually or whenever) check failed.
    pub fn liveness_failed(&self) -> bool {
        self.violation().is_some_and(|v| v.kind.is_liveness())
    }

    /// Sometimes checks that never held: situations the run never reached.
    pub fn never_reached(&self) -> impl Iterator<Item = &str> {
        self.coverage
            .iter()
            .filter(|c| c.kind == CheckKind::Sometimes && c.hits == 0)
            .map(|c| c.check.as_str())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stop {
            None => write!(f, "passed")?,
            Some(stop) => write!(f, "FAILED: {stop}")?,
        }
        write!(
            f,
            " (seed {}, {} steps, {}, trace {:#018x})",
            self.seed, self.stats.steps, self.time, self.trace_hash
        )
    }
}
