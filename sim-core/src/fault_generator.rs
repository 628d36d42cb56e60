//! The random fault generator: a seeded schedule of faults and their repairs.
//!
//! Given a [`FaultGenerator`] (which kinds of fault, how often, how long, how many nodes
//! may be out at once) and a random stream, [`FaultGenerator::generate`] produces an
//! explicit [`FaultSchedule`]. Being explicit, the schedule can be printed, saved in a
//! repro file, edited and shrunk like a hand-written one.
//!
//! Every fault comes with its repair (restart, resume, heal, unclog, clock back,
//! disk faults off) no later than `end`, so that after `end` the cluster is whole again
//! and liveness can be demanded. At most `max_down` nodes are crashed, paused or
//! isolated at once, and at most one network partition is in force at a time.
//!
//! Besides crashes at random instants it draws *crash points*
//! ([`Fault::CrashPoint`]): a crash right after one of a node's next few effects, or,
//! given the kinds of message the nodes send ([`FaultGenerator::generate_for`]), right
//! after the node next sends one of a kind drawn at random. A crash that lands between
//! a reply and the sync it depends on is then a matter of a few seeds, not of luck.

use serde::{Deserialize, Serialize};

use crate::disk::DiskFaults;
use crate::fault::{ClogTarget, Fault, FaultSchedule};
use crate::node::NodeId;
use crate::rng::{Chance, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::topology::Partition;

/// Relative weights of the fault kinds the generator picks from (0 = never).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultWeights {
    /// Crash a node, restart it later.
    pub crash: u32,
    /// Wipe a node's data, restart it later.
    pub reset_data: u32,
    /// Pause a node, resume it later.
    pub pause: u32,
    /// Split the nodes into two groups, heal later.
    pub partition: u32,
    /// Cut one group's messages to another in one direction, heal later.
    pub one_way: u32,
    /// Isolate one node, heal it later.
    pub isolate: u32,
    /// Clog a node for a while.
    pub clog: u32,
    /// Jump a node's clock, jump it back later.
    pub clock_skew: u32,
    /// Make a node's disk lose and corrupt writes for a while.
    pub disk: u32,
    /// Crash a node in the middle of a handler, right after one of its next few
    /// effects (a send, an observation, a sync), and restart it later: the window of
    /// "reply, then sync" bugs ([`Fault::CrashPoint`]).
    pub crash_point: u32,
}

impl Default for FaultWeights {
    /// Every kind equally likely.
    fn default() -> Self {
        FaultWeights {
            crash: 1,
            reset_data: 1,
            pause: 1,
            partition: 1,
            one_way: 1,
            isolate: 1,
            clog: 1,
            clock_skew: 1,
            disk: 1,
            crash_point: 1,
        }
    }
}

impl FaultWeights {
    /// No fault at all.
    pub const NONE: FaultWeights = FaultWeights {
        crash: 0,
        reset_data: 0,
        pause: 0,
        partition: 0,
        one_way: 0,
        isolate: 0,
        clog: 0,
        clock_skew: 0,
        disk: 0,
        crash_point: 0,
    };

    /// The weights in the order of [`Kind::ALL`].
    fn as_array(&self) -> [u64; 10] {
        [
            self.crash,
            self.reset_data,
            self.pause,
            self.partition,
            self.one_way,
            self.isolate,
            self.clog,
            self.clock_skew,
            self.disk,
            self.crash_point,
        ]
        .map(u64::from)
    }
}

/// The kinds of fault the generator draws, in the order of [`FaultWeights::as_array`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Crash,
    ResetData,
    Pause,
    Partition,
    OneWay,
    Isolate,
    Clog,
    ClockSkew,
    Disk,
    CrashPoint,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::Crash,
        Kind::ResetData,
        Kind::Pause,
        Kind::Partition,
        Kind::OneWay,
        Kind::Isolate,
        Kind::Clog,
        Kind::ClockSkew,
        Kind::Disk,
        Kind::CrashPoint,
    ];

    /// Does the fault take its node out (crashed, paused or cut off)?
    fn takes_a_node_down(self) -> bool {
        matches!(
            self,
            Kind::Crash | Kind::ResetData | Kind::Pause | Kind::Isolate | Kind::CrashPoint
        )
    }

    /// Does the fault change the topology?
    fn touches_network(self) -> bool {
        matches!(self, Kind::Partition | Kind::OneWay | Kind::Isolate)
    }
}

/// How to draw a random fault schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultGenerator {
    /// No fault before this time.
    pub start: SimTime,
    /// No fault after this time; every fault is repaired by then.
    pub end: SimTime,
    /// The average gap between two faults (gaps are uniform in `0..=2 × mean`).
    pub mean_interval: SimDuration,
    /// The shortest time a fault lasts before its repair.
    pub outage_min: SimDuration,
    /// The longest time a fault lasts before its repair.
    pub outage_max: SimDuration,
    /// The most nodes crashed, paused or isolated at once.
    pub max_down: u32,
    /// Which kinds of fault, how likely.
    pub weights: FaultWeights,
}

impl FaultGenerator {
    /// A generator of every fault kind between `start` and `end`.
    pub fn new(start: SimTime, end: SimTime) -> FaultGenerator {
        FaultGenerator {
            start,
            end,
            mean_interval: SimDuration::from_secs(5),
            outage_min: SimDuration::from_secs(1),
            outage_max: SimDuration::from_secs(10),
            max_down: 1,
            weights: FaultWeights::default(),
        }
    }

    /// Checks the settings, returning what is wrong in words.
    pub fn validate(&self) -> Result<(), String> {
        if self.start > self.end {
            return Err(format!(
                "fault start {} is after end {}",
                self.start, self.end
            ));
        }
        if self.mean_interval == SimDuration::ZERO {
            return Err("mean_interval must be greater than zero".to_string());
        }
        if self.outage_min > self.outage_max {
            return Err(format!(
                "outage_min ({}) is greater than outage_max ({})",
                self.outage_min, self.outage_max
            ));
        }
        Ok(())
    }

    /// Draws a schedule of faults over `nodes` from `rng`.
    pub fn generate(&self, nodes: &[NodeId], rng: &mut SimRng) -> FaultSchedule {
        self.generate_for(nodes, &[], rng)
    }

    /// [`FaultGenerator::generate`] for nodes that send the given kinds of message
    /// ([`crate::Node::message_kind`]): half of the crash points then strike right after
    /// the node next sends (or sends again) a message of one of them, drawn at random.
    pub fn generate_for(
        &self,
        nodes: &[NodeId],
        message_kinds: &[&str],
        rng: &mut SimRng,
    ) -> FaultSchedule {
        assert!(self.validate().is_ok(), "invalid fault generator: {self:?}");
        let mut state = State {
            message_kinds: message_kinds.iter().map(|k| (*k).to_string()).collect(),
            schedule: FaultSchedule::new(),
            busy_until: vec![SimTime::ZERO; nodes.len()],
            out_until: vec![SimTime::ZERO; nodes.len()],
            network_busy_until: SimTime::ZERO,
        };
        let weights = self.weights.as_array();
        if nodes.is_empty() || weights.iter().all(|&w| w == 0) {
            return state.schedule;
        }
        let mut at = self.start;
        loop {
            let gap = rng.between(0, 2 * self.mean_interval.as_nanos());
            at = at.saturating_add(SimDuration::from_nanos(gap));
            if at >= self.end {
                break;
            }
            let outage = rng.between(self.outage_min.as_nanos(), self.outage_max.as_nanos());
            let repair = at
                .saturating_add(SimDuration::from_nanos(outage))
                .min(self.end);
            let kind = rng
                .pick_weighted(&weights)
                .expect("some weight is non-zero");
            self.add_fault(Kind::ALL[kind], at, repair, nodes, rng, &mut state);
        }
        state.schedule
    }

    fn add_fault(
        &self,
        kind: Kind,
        at: SimTime,
        repair: SimTime,
        nodes: &[NodeId],
        rng: &mut SimRng,
        state: &mut State,
    ) {
        let down = state.out_until.iter().filter(|&&until| until > at).count();
        if kind.takes_a_node_down() && down >= self.max_down as usize {
            return;
        }
        if kind.touches_network() && state.network_busy_until > at {
            return;
        }
        let free: Vec<usize> = (0..nodes.len())
            .filter(|&i| state.busy_until[i] <= at)
            .collect();
        let Some(&index) = rng.pick(&free) else {
            return;
        };
        let node = nodes[index];
        let (fault, repair_fault) = match kind {
            Kind::Crash => (Fault::Crash(node), Fault::Restart(node)),
            Kind::CrashPoint => (
                crash_point(node, &state.message_kinds, rng),
                Fault::Restart(node),
            ),
            Kind::ResetData => (Fault::ResetData(node), Fault::Restart(node)),
            Kind::Pause => (Fault::Pause(node), Fault::Resume(node)),
            Kind::Partition => (Fault::Partition(split(nodes, rng)), Fault::Heal),
            Kind::OneWay => (Fault::Partition(one_way(nodes, rng)), Fault::Heal),
            Kind::Isolate => (
                Fault::Partition(Partition::Isolate(node)),
                Fault::HealNode(node),
            ),
            Kind::Clog => {
                let clog = Fault::Clog {
                    target: ClogTarget::Node(node),
                    duration: None,
                };
                (clog, Fault::Unclog(ClogTarget::Node(node)))
            }
            Kind::ClockSkew => {
                let span = self.outage_max.as_nanos().min(i64::MAX as u64) as i64;
                let offset_ns = rng.between(0, 2 * span as u64) as i64 - span;
                let skew = Fault::ClockSkew { node, offset_ns };
                let back = Fault::ClockSkew {
                    node,
                    offset_ns: -offset_ns,
                };
                (skew, back)
            }
            Kind::Disk => {
                let faults = DiskFaults {
                    lost_write: Chance::percent(10),
                    corrupt_write: Chance::percent(5),
                    read_error: Chance::percent(5),
                    unsynced_kept: Chance::NEVER,
                };
                let on = Fault::DiskFaults { node, faults };
                let off = Fault::DiskFaults {
                    node,
                    faults: DiskFaults::NONE,
                };
                (on, off)
            }
        };
        if !matches!(kind, Kind::Partition | Kind::OneWay) {
            state.busy_until[index] = repair;
        }
        if kind.takes_a_node_down() {
            state.out_until[index] = repair;
        }
        if kind.touches_network() {
            state.network_busy_until = repair;
        }
        state.schedule.push(at, fault);
        state.schedule.push(repair, repair_fault);
    }
}

struct State {
    /// The kinds of message crash points may wait for.
    message_kinds: Vec<String>,
    schedule: FaultSchedule,
    /// Until when each node is the subject of a fault (one fault per node at a time).
    busy_until: Vec<SimTime>,
    /// Until when each node is out (crashed, paused or isolated).
    out_until: Vec<SimTime>,
    network_busy_until: SimTime,
}

/// A crash point on `node`: half the time (if there are kinds) right after its next or
/// second next message of a random kind; otherwise after one of its next few effects,
/// now and then a later one.
fn crash_point(node: NodeId, kinds: &[String], rng: &mut SimRng) -> Fault {
    if !kinds.is_empty() && rng.chance(1, 2) {
        let kind = rng.pick(kinds).cloned();
        let after = rng.below(2) as u32;
        return Fault::CrashPoint { node, after, kind };
    }
    let span = 1 << rng.below(5);
    let after = rng.below(span) as u32;
    Fault::CrashPoint {
        node,
        after,
        kind: None,
    }
}

/// Two non-empty groups from a random split of the shuffled nodes.
fn split(nodes: &[NodeId], rng: &mut SimRng) -> Partition {
    let mut shuffled = nodes.to_vec();
    rng.shuffle(&mut shuffled);
    let cut = if shuffled.len() < 2 {
        shuffled.len()
    } else {
        rng.between(1, shuffled.len() as u64 - 1) as usize
    };
    let right = shuffled.split_off(cut);
    Partition::Groups(vec![shuffled, right])
}

/// A one-way cut between two random non-empty, disjoint sets of nodes.
fn one_way(nodes: &[NodeId], rng: &mut SimRng) -> Partition {
    match split(nodes, rng) {
        Partition::Groups(mut groups) => {
            let to = groups.pop().unwrap_or_default();
            let from = groups.pop().unwrap_or_default();
            Partition::OneWay { from, to }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: u32) -> Vec<NodeId> {
        (0..n).map(NodeId).collect()
    }

    fn generator() -> FaultGenerator {
        FaultGenerator {
            mean_interval: SimDuration::from_secs(2),
            max_down: 2,
            ..FaultGenerator::new(SimTime::from_secs(1), SimTime::from_secs(300))
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_schedule() {
        let draw = |seed| generator().generate(&nodes(5), &mut SimRng::new(seed, "faults"));
        assert_eq!(draw(4), draw(4));
        assert_ne!(draw(4), draw(5));
    }

    #[test]
    fn every_fault_is_repaired_by_the_end() {
        let generator = generator();
        let schedule = generator.generate(&nodes(5), &mut SimRng::new(1, "faults"));
        assert!(schedule.len() > 20, "only {} faults", schedule.len());
        assert!(
            schedule
                .iter()
                .all(|t| t.at >= generator.start && t.at <= generator.end)
        );
        let mut down = [false; 5];
        let mut partitioned = false;
        for timed in schedule.iter() {
            match &timed.fault {
                Fault::Crash(n) | Fault::ResetData(n) | Fault::Pause(n) => down[n.index()] = true,
                Fault::Restart(n) | Fault::Resume(n) | Fault::HealNode(n) => {
                    down[n.index()] = false;
                }
                Fault::Partition(Partition::Isolate(n)) => down[n.index()] = true,
                Fault::Partition(_) => partitioned = true,
                Fault::Heal => partitioned = false,
                _ => {}
            }
        }
        assert_eq!(down, [false; 5]);
        assert!(!partitioned);
    }

    #[test]
    fn no_more_than_max_down_nodes_are_out_at_once() {
        let generator = FaultGenerator {
            weights: FaultWeights {
                crash: 1,
                pause: 1,
                ..FaultWeights::NONE
            },
            mean_interval: SimDuration::from_millis(200),
            ..generator()
        };
        for seed in 0..20 {
            let schedule = generator.generate(&nodes(7), &mut SimRng::new(seed, "faults"));
            let mut out = 0_i32;
            for timed in schedule.iter() {
                match timed.fault {
                    Fault::Crash(_) | Fault::Pause(_) => out += 1,
                    Fault::Restart(_) | Fault::Resume(_) => out -= 1,
                    _ => unreachable!("only crashes and pauses were weighted"),
                }
                assert!(out <= 2, "seed {seed}: {out} nodes down");
            }
        }
    }

    #[test]
    fn zero_weights_generate_nothing() {
        let generator = FaultGenerator {
            weights: FaultWeights::NONE,
            ..generator()
        };
        assert!(
            generator
                .generate(&nodes(3), &mut SimRng::new(1, "faults"))
                .is_empty()
        );
    }

    #[test]
    fn invalid_settings_are_explained() {
        let backwards = FaultGenerator {
            outage_min: SimDuration::from_secs(9),
            outage_max: SimDuration::from_secs(1),
            ..generator()
        };
        assert!(backwards.validate().unwrap_err().contains("outage_min"));
    }
}
