//! Faults: the things that go wrong, as events at virtual times.
//!
//! A [`Fault`] is applied by the engine as one step of the run, like a message or a
//! timer, so it takes part in the trace hash and the checks. Faults are idempotent and
//! never fail: restarting a node that is up, resuming one that is not paused or healing
//! a network that is whole does nothing. That keeps random and shrunk fault schedules
//! valid whatever was removed from them.
//!
//! | fault | what is lost | what remains recoverable |
//! |---|---|---|
//! | crash | volatile state, unsynced writes, pending timers, messages addressed to it while down | everything synced to disk |
//! | restart | nothing | the node rebuilds from its disk in `on_recover` |
//! | reset data | the disk as well (a crash first, if it was up) | only what peers can resend |
//! | pause / resume | nothing: events wait for the resume | everything |
//! | partition / heal | messages sent across a cut, and those in flight when it was cut | everything else |
//! | clog / unclog | nothing: messages are held until the clog clears | everything |
//! | clock skew / drift | the node's idea of the time | true time is unaffected |
//! | disk faults | writes and reads, as [`DiskFaults`] says | depends on the node's own checks |

use serde::{Deserialize, Serialize};

use crate::disk::DiskFaults;
use crate::network::LinkConfig;
use crate::node::NodeId;
use crate::time::{SimDuration, SimTime};
use crate::topology::Partition;

/// What a clog applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClogTarget {
    /// Every message to or from the node.
    Node(NodeId),
    /// Messages on one directed link.
    Link {
        /// The sending end.
        source: NodeId,
        /// The receiving end.
        target: NodeId,
    },
}

/// One thing that goes wrong (or is repaired) at a point in virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fault {
    /// The node stops at once; its volatile state and unsynced writes are lost.
    Crash(NodeId),
    /// A crashed node is rebuilt by its factory and recovers from its disk. It also
    /// disarms a crash point that has not struck.
    Restart(NodeId),
    /// The node's disk is wiped (the node is crashed first if it is up).
    ResetData(NodeId),
    /// The node stops handling events but keeps its state, like `SIGSTOP`.
    Pause(NodeId),
    /// A paused node handles what it missed, in order, then carries on.
    Resume(NodeId),
    /// Cuts links, on top of the cuts already in force.
    Partition(Partition),
    /// Restores every link of the base topology.
    Heal,
    /// Restores the links to and from one node.
    HealNode(NodeId),
    /// Holds messages on a node or link, for `duration` or until an [`Fault::Unclog`].
    Clog {
        /// What to clog.
        target: ClogTarget,
        /// How long; `None` until an explicit unclog.
        duration: Option<SimDuration>,
    },
    /// Releases a clog; held messages are delivered at once, in order.
    Unclog(ClogTarget),
    /// Releases every clog.
    UnclogAll,
    /// Jumps the node's clock by `offset_ns` nanoseconds (positive = ahead).
    ClockSkew {
        /// The node whose clock jumps.
        node: NodeId,
        /// The jump in nanoseconds.
        offset_ns: i64,
    },
    /// Makes the node's clock run fast or slow by `ppm` parts per million.
    ClockDrift {
        /// The node whose clock drifts.
        node: NodeId,
        /// The rate error.
        ppm: i64,
    },
    /// Sets the probabilities of the node's disk faults (`DiskFaults::NONE` to stop).
    DiskFaults {
        /// The node whose disk misbehaves.
        node: NodeId,
        /// The new fault probabilities.
        faults: DiskFaults,
    },
    /// Changes the settings of one directed link (degrade or repair it).
    SetLink {
        /// The sending end.
        source: NodeId,
        /// The receiving end.
        target: NodeId,
        /// The new settings.
        config: Box<LinkConfig>,
    },
    /// Arms a crash point: the node crashes right after its next `after + 1`-th effect
    /// (a message sent, an observation, a disk sync), in the middle of whatever handler
    /// makes it. That effect happens; nothing after it in the handler does (no more
    /// sends, observations or syncs), and the node is down when the handler returns,
    /// its unsynced writes lost. With `after = 0`, the next reply it sends before
    /// syncing is the last thing it does: the window of "reply, then sync" bugs, hit
    /// on purpose instead of by a crash that happens to land inside it. With `on`, only
    /// that [`Moment`] counts: "crash right after the next `Vote` it sends", "right
    /// after it handles a `RequestVote`", "right after it emits `voted`". With
    /// `down_for`, the node restarts that long after the point strikes: "crash right
    /// after voting, back 30 ms later", however long the point waited.
    ///
    /// With a `strike` other than [`Strike::Crash`] the point pauses or isolates the
    /// node instead, once the handler in which it struck is done, for `down_for`:
    /// "cut the new leader off right after it wins". Nothing of the handler is lost
    /// then, but what it sent is still in flight when an isolation cuts its links.
    CrashPoint {
        /// The node.
        node: NodeId,
        /// How many effects (or moments `on`, if set) it still makes before the one
        /// after which it dies.
        after: u32,
        /// Count only this moment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<Moment>,
        /// Restart the node this long after the point strikes (or resume it, or heal
        /// its links).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        down_for: Option<SimDuration>,
        /// What happens when it strikes: a crash, unless it says otherwise.
        #[serde(default, skip_serializing_if = "Strike::is_crash")]
        strike: Strike,
        /// Its repair comes no later than this, however late it strikes: the fault
        /// generator's own repair of the point, so that a late strike cannot leave a
        /// repair behind that undoes a later fault.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<SimTime>,
    },
}

/// What a [`Fault::CrashPoint`] does to its node when it strikes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strike {
    /// Crash it on the spot, in the middle of its handler: nothing after the moment
    /// happens, and its unsynced writes are lost. [`Fault::Restart`] disarms the point.
    #[default]
    Crash,
    /// Pause it once its handler is done. [`Fault::Resume`] disarms the point.
    Pause,
    /// Cut all its links once its handler is done. [`Fault::HealNode`] and
    /// [`Fault::Heal`] disarm the point.
    Isolate,
}

impl Strike {
    /// Is it a crash (the default, left out of serialised faults)?
    pub fn is_crash(&self) -> bool {
        *self == Strike::Crash
    }

    /// The scenario-file name of a point that strikes so: `crash_point`, `pause_point`,
    /// `isolate_point`.
    pub fn point_name(self) -> &'static str {
        match self {
            Strike::Crash => "crash_point",
            Strike::Pause => "pause_point",
            Strike::Isolate => "isolate_point",
        }
    }
}

/// A moment in a node's handling that a crash point can wait for, so that a fault
/// strikes where a protocol's bugs live: between a reply and the sync it depends on,
/// right after a vote, right after becoming leader.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    /// The node sends a message of this kind ([`crate::Node::message_kind`]); the
    /// message goes out, nothing after it does.
    Sends(String),
    /// The node has handled a message of this kind: its handler runs to the end (what
    /// it sent goes out), then the point strikes (a crash loses the unsynced writes).
    Handles(String),
    /// The node emits this protocol event ([`crate::NodeContext::event`]); nothing
    /// after it in the handler happens.
    Emits(String),
}

impl Moment {
    /// The moment in a few words: `sends Vote`, `handles RequestVote`, `emits voted`
    /// (in scenario files, `kind = "Vote"`, `handles = "RequestVote"`, `emits = "voted"`).
    pub fn describe(&self) -> String {
        match self {
            Moment::Sends(kind) => format!("sends {kind}"),
            Moment::Handles(kind) => format!("handles {kind}"),
            Moment::Emits(event) => format!("emits {event}"),
        }
    }
}

impl Fault {
    /// The nodes this fault names (to validate a schedule against a cluster).
    pub fn nodes(&self) -> Vec<NodeId> {
        match self {
            Fault::Crash(n)
            | Fault::CrashPoint { node: n, .. }
            | Fault::Restart(n)
            | Fault::ResetData(n)
            | Fault::Pause(n)
            | Fault::Resume(n)
            | Fault::HealNode(n)
            | Fault::ClockSkew { node: n, .. }
            | Fault::ClockDrift { node: n, .. }
            | Fault::DiskFaults { node: n, .. } => vec![*n],
            Fault::Partition(Partition::Groups(groups)) => groups.concat(),
            Fault::Partition(Partition::OneWay { from, to }) => [from.clone(), to.clone()].concat(),
            Fault::Partition(Partition::Isolate(n)) => vec![*n],
            Fault::Partition(Partition::Link { source, target })
            | Fault::SetLink { source, target, .. }
            | Fault::Clog {
                target: ClogTarget::Link { source, target },
                ..
            }
            | Fault::Unclog(ClogTarget::Link { source, target }) => vec![*source, *target],
            Fault::Clog {
                target: ClogTarget::Node(n),
                ..
            }
            | Fault::Unclog(ClogTarget::Node(n)) => vec![*n],
            Fault::Heal | Fault::UnclogAll => Vec::new(),
        }
    }

    /// A short, stable name of the fault's kind, for reports and coverage.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Crash(_) => "crash",
            Fault::Restart(_) => "restart",
            Fault::ResetData(_) => "reset_data",
            Fault::Pause(_) => "pause",
            Fault::Resume(_) => "resume",
            Fault::Partition(_) => "partition",
            Fault::Heal => "heal",
            Fault::HealNode(_) => "heal_node",
            Fault::Clog { .. } => "clog",
            Fault::Unclog(_) => "unclog",
            Fault::UnclogAll => "unclog_all",
            Fault::ClockSkew { .. } => "clock_skew",
            Fault::ClockDrift { .. } => "clock_drift",
            Fault::DiskFaults { .. } => "disk_faults",
            Fault::SetLink { .. } => "set_link",
            Fault::CrashPoint { strike, .. } => strike.point_name(),
        }
    }
}

/// A fault and the virtual time at which it happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedFault {
    /// When the fault happens.
    pub at: SimTime,
    /// What happens.
    pub fault: Fault,
}

/// A list of faults in time order: what a scenario's timeline or a fault generator
/// produces, and what shrinking shortens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultSchedule {
    /// The faults, sorted by time (stable for equal times).
    pub faults: Vec<TimedFault>,
}

impl FaultSchedule {
    /// An empty schedule.
    pub fn new() -> FaultSchedule {
        FaultSchedule::default()
    }

    /// Adds `fault` at `at`, keeping the schedule in time order (after equal times).
    pub fn push(&mut self, at: SimTime, fault: Fault) {
        let index = self.faults.partition_point(|timed| timed.at <= at);
        self.faults.insert(index, TimedFault { at, fault });
    }

    /// The number of faults.
    pub fn len(&self) -> usize {
        self.faults.len()
    }

    /// `true` if there are no faults.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// The faults in time order.
    pub fn iter(&self) -> impl Iterator<Item = &TimedFault> {
        self.faults.iter()
    }

    /// The schedule with `other`'s faults merged in, in time order.
    pub fn merged(mut self, other: &FaultSchedule) -> FaultSchedule {
        for timed in &other.faults {
            self.push(timed.at, timed.fault.clone());
        }
        self
    }

    /// FoundationDB's "swizzle": clog `nodes` one after another, `interval` apart,
    /// starting at `start`, then unclog them one after another in reverse order.
    /// Every node ends unclogged; the swizzle takes `2 × nodes.len() × interval`.
    pub fn swizzle(start: SimTime, interval: SimDuration, nodes: &[NodeId]) -> FaultSchedule {
        let mut schedule = FaultSchedule::new();
        let mut at = start;
        for &node in nodes {
            schedule.push(
                at,
                Fault::Clog {
                    target: ClogTarget::Node(node),
                    duration: None,
                },
            );
            at += interval;
        }
        for &node in nodes.iter().rev() {
            schedule.push(at, Fault::Unclog(ClogTarget::Node(node)));
            at += interval;
        }
        schedule
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_keeps_time_order_and_is_stable() {
        let mut schedule = FaultSchedule::new();
        schedule.push(SimTime::from_secs(5), Fault::Heal);
        schedule.push(SimTime::from_secs(1), Fault::Crash(NodeId(0)));
        schedule.push(SimTime::from_secs(5), Fault::UnclogAll);
        let kinds: Vec<&str> = schedule.iter().map(|t| t.fault.kind()).collect();
        assert_eq!(kinds, ["crash", "heal", "unclog_all"]);
    }

    #[test]
    fn swizzle_clogs_in_order_and_unclogs_in_reverse() {
        let nodes = [NodeId(2), NodeId(0), NodeId(1)];
        let schedule =
            FaultSchedule::swizzle(SimTime::from_secs(10), SimDuration::from_secs(1), &nodes);
        let steps: Vec<(u64, &str, NodeId)> = schedule
            .iter()
            .map(|t| {
                (
                    t.at.as_nanos() / 1_000_000_000,
                    t.fault.kind(),
                    t.fault.nodes()[0],
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                (10, "clog", NodeId(2)),
                (11, "clog", NodeId(0)),
                (12, "clog", NodeId(1)),
                (13, "unclog", NodeId(1)),
                (14, "unclog", NodeId(0)),
                (15, "unclog", NodeId(2)),
            ]
        );
    }

    #[test]
    fn faults_name_the_nodes_they_touch() {
        let partition = Fault::Partition(Partition::OneWay {
            from: vec![NodeId(1)],
            to: vec![NodeId(2), NodeId(3)],
        });
        assert_eq!(partition.nodes(), [NodeId(1), NodeId(2), NodeId(3)]);
        assert!(Fault::Heal.nodes().is_empty());
    }
}
