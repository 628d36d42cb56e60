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
//! isolated at once, and at most one network fault (a partition, a one-way cut, a cut
//! link) is in force at a time. A node may suffer several faults at once as long as
//! they are of different sorts: a skewed clock and a crash, say.
//!
//! **Timing follows the protocol.** [`FaultGenerator::scaled`] takes the protocol's
//! time scale (its shortest timeout: an election timeout, a slot) and draws faults
//! two time scales apart at the middle pace (a quarter of one to 16 of them, as the
//! pace varies), each lasting from a tenth of it to a hundred times it. Outages are drawn *log-uniformly*: a 20 ms outage is as likely as a 2 s one, so
//! the short windows where bugs live are drawn as often as the long ones.
//!
//! **The pace varies** ([`Tempo::Varied`]): the run is a string of episodes, each with
//! its own pace, from bursts of short faults a fraction of a time scale apart (bugs
//! that need a crash, a restart and a cut within one election) to calm stretches with
//! a few long faults (bugs that need a long cut and quiet around it). One pace for the
//! whole run could only serve one of the two.
//!
//! **Faults at the right moment.** Besides crashes at random instants it draws *crash
//! points* ([`Fault::CrashPoint`]): a crash right after one of a node's next few
//! effects, or, given the moments a protocol names ([`FaultGenerator::generate_at`]: a
//! kind of message sent or handled, a protocol event), right after the node next
//! reaches one drawn at random. Pause points and isolate points wait for a moment the
//! same way, then pause the node or cut it off ([`crate::Strike`]). A crash that lands between a reply and the
//! sync it depends on, or a cut right after a node wins an election, is then a matter
//! of a few seeds, not of luck.
//!
//! **Shapes.** Partitions into two groups; one-way cuts between two sets of nodes that
//! need not cover the cluster (one follower deaf to the leader, say); a single cut
//! link; clock skew and clock drift; and now and then an explicit *heal*, which repairs
//! every fault in force at once.
//!
//! **Swarm testing.** [`FaultGenerator::swarmed`] draws, per seed, which kinds are
//! enabled, how likely each is, and how fast the faults come, so that a sweep of seeds
//! explores many mixes instead of one average.

use serde::{Deserialize, Serialize};

use crate::disk::DiskFaults;
use crate::fault::{ClogTarget, Fault, FaultSchedule, Moment, Strike};
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
    /// Cut one set's messages to another set in one direction, heal later. The two sets
    /// need not cover the cluster.
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
    /// Cut one directed link, heal it later.
    pub link: u32,
    /// Make a node's clock run fast or slow, set it right later.
    pub clock_drift: u32,
    /// Repair every fault in force at once: a mass heal in the middle of the run.
    pub heal: u32,
    /// Pause a node right after it reaches a moment (or one of its next few effects),
    /// resume it later ([`crate::Strike::Pause`]).
    #[serde(default)]
    pub pause_point: u32,
    /// Cut every link of a node right after it reaches a moment (or one of its next few
    /// effects), heal it later ([`crate::Strike::Isolate`]).
    #[serde(default)]
    pub isolate_point: u32,
}

impl Default for FaultWeights {
    /// Every fault kind equally likely (a weight of 4 each), and a mass heal a quarter
    /// as likely as any one of them (1): heals that came as often as faults would cut
    /// short the long outages that partition bugs need. Pause and isolate points are a
    /// quarter as likely too: they are pauses and cuts, aimed, and as likely as the
    /// others they would crowd out the crashes.
    fn default() -> Self {
        FaultWeights {
            heal: 1,
            pause_point: 1,
            isolate_point: 1,
            ..FaultWeights::from_array([4; KINDS])
        }
    }
}

/// How many kinds of fault the generator knows.
const KINDS: usize = 15;

impl FaultWeights {
    /// No fault at all.
    pub const NONE: FaultWeights = FaultWeights::from_array([0; KINDS]);

    /// The weights in the order of [`Kind::ALL`].
    fn as_array(&self) -> [u32; KINDS] {
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
            self.link,
            self.clock_drift,
            self.heal,
            self.pause_point,
            self.isolate_point,
        ]
    }

    /// The weights given in the order of [`Kind::ALL`].
    const fn from_array(w: [u32; KINDS]) -> FaultWeights {
        FaultWeights {
            crash: w[0],
            reset_data: w[1],
            pause: w[2],
            partition: w[3],
            one_way: w[4],
            isolate: w[5],
            clog: w[6],
            clock_skew: w[7],
            disk: w[8],
            crash_point: w[9],
            link: w[10],
            clock_drift: w[11],
            heal: w[12],
            pause_point: w[13],
            isolate_point: w[14],
        }
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
    Link,
    ClockDrift,
    Heal,
    PausePoint,
    IsolatePoint,
}

/// The sorts of fault a node can suffer at once, one of each: indexes into
/// [`State::busy_until`].
#[derive(Clone, Copy)]
enum Slot {
    /// Crashed, paused or isolated.
    Down,
    Clog,
    Skew,
    Drift,
    Disk,
}

const SLOTS: usize = 5;

impl Kind {
    const ALL: [Kind; KINDS] = [
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
        Kind::Link,
        Kind::ClockDrift,
        Kind::Heal,
        Kind::PausePoint,
        Kind::IsolatePoint,
    ];

    /// Which of a node's slots the fault takes, if it strikes one node.
    fn slot(self) -> Option<Slot> {
        match self {
            Kind::Crash
            | Kind::ResetData
            | Kind::Pause
            | Kind::Isolate
            | Kind::CrashPoint
            | Kind::PausePoint
            | Kind::IsolatePoint => Some(Slot::Down),
            Kind::Clog => Some(Slot::Clog),
            Kind::ClockSkew => Some(Slot::Skew),
            Kind::ClockDrift => Some(Slot::Drift),
            Kind::Disk => Some(Slot::Disk),
            Kind::Partition | Kind::OneWay | Kind::Link | Kind::Heal => None,
        }
    }

    /// Does the fault change the topology?
    fn touches_network(self) -> bool {
        matches!(
            self,
            Kind::Partition | Kind::OneWay | Kind::Isolate | Kind::Link | Kind::IsolatePoint
        )
    }
}

/// How to draw a random fault schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultGenerator {
    /// No fault before this time.
    pub start: SimTime,
    /// No fault after this time; every fault is repaired by then.
    pub end: SimTime,
    /// The average gap between two faults (gaps are uniform in `0..=2 × mean`); with a
    /// [`Tempo::Varied`] pace, the gap of the middle pace, each episode's being from an
    /// eighth of it to eight times it.
    pub mean_interval: SimDuration,
    /// The shortest time a fault lasts before its repair.
    pub outage_min: SimDuration,
    /// The longest time a fault lasts before its repair. Outages are drawn
    /// log-uniformly between the two: every doubling is as likely as every other.
    pub outage_max: SimDuration,
    /// The most nodes crashed, paused or isolated at once.
    pub max_down: u32,
    /// The largest clock jump, either way (drawn log-uniformly up to it).
    #[serde(default)]
    pub clock_skew_max: SimDuration,
    /// The largest clock drift, fast or slow, in parts per million (drawn
    /// log-uniformly up to it; at most [`crate::clock::DRIFT_PPM_MAX`]).
    #[serde(default)]
    pub clock_drift_max_ppm: u32,
    /// With what chance each write not yet synced survives a crash the generator draws
    /// ([`DiskFaults::unsynced_kept`], set on the node's disk from the crash to the
    /// restart unless it has disk faults already): unsynced means "maybe lost", not
    /// "surely lost".
    #[serde(default)]
    pub unsynced_kept: Chance,
    /// Which kinds of fault, how likely.
    pub weights: FaultWeights,
    /// Whether the pace holds for the whole run or changes from one stretch to the next.
    #[serde(default)]
    pub tempo: Tempo,
}

/// How the pace of faults changes over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tempo {
    /// One pace throughout: gaps average `mean_interval`, outages span
    /// `outage_min..=outage_max`.
    #[default]
    Steady,
    /// The run is a string of episodes of forty mean intervals each, each at its own
    /// pace: gaps from an eighth of the mean to eight times it (each doubling as likely
    /// as the others), outages at most eight gaps long. Bugs that need several faults
    /// close together meet bursts of short ones; bugs that need a long cut with quiet
    /// around it meet calm stretches; a long run meets both.
    Varied,
}

impl FaultGenerator {
    /// A generator of every fault kind between `start` and `end`, for a protocol whose
    /// time scale is a second ([`FaultGenerator::scaled`]).
    pub fn new(start: SimTime, end: SimTime) -> FaultGenerator {
        FaultGenerator::scaled(start, end, SimDuration::from_secs(1))
    }

    /// A generator of every fault kind between `start` and `end`, timed for a protocol
    /// whose time scale — its shortest timeout that matters, such as an election
    /// timeout or a slot — is `time_scale`: faults come two time scales apart at the
    /// middle of a [`Tempo::Varied`] pace (bursts a quarter of a time scale apart, calm
    /// stretches sixteen apart), and last from a tenth of it to a hundred times it
    /// (three decades, drawn log-uniformly: as many outages inside one election as
    /// outlast many); clocks jump by up to ten time scales and drift by up to 10%. One
    /// node at a time is out, and a crash loses every write not yet synced (set
    /// `unsynced_kept` to keep some).
    ///
    /// ```
    /// use sim_core::{FaultGenerator, SimDuration, SimTime, Tempo};
    ///
    /// let raft = FaultGenerator::scaled(SimTime::ZERO, SimTime::from_secs(30), SimDuration::from_millis(150));
    /// assert_eq!(raft.mean_interval, SimDuration::from_millis(300));
    /// assert_eq!(raft.tempo, Tempo::Varied);
    /// assert_eq!(raft.outage_min, SimDuration::from_millis(15));
    /// assert_eq!(raft.outage_max, SimDuration::from_secs(15));
    /// ```
    pub fn scaled(start: SimTime, end: SimTime, time_scale: SimDuration) -> FaultGenerator {
        let scale = time_scale.as_nanos().max(10);
        FaultGenerator {
            start,
            end,
            mean_interval: SimDuration::from_nanos(scale.saturating_mul(2)),
            outage_min: SimDuration::from_nanos(scale / 10),
            outage_max: SimDuration::from_nanos(scale.saturating_mul(100)),
            max_down: 1,
            clock_skew_max: SimDuration::from_nanos(scale.saturating_mul(10)),
            clock_drift_max_ppm: 100_000,
            unsynced_kept: Chance::NEVER,
            weights: FaultWeights::default(),
            tempo: Tempo::Varied,
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
        if i64::from(self.clock_drift_max_ppm) > crate::clock::DRIFT_PPM_MAX {
            return Err(format!(
                "clock_drift_max_ppm ({}) is beyond {}",
                self.clock_drift_max_ppm,
                crate::clock::DRIFT_PPM_MAX
            ));
        }
        Ok(())
    }

    /// The generator one seed of a swarm runs, drawn from `rng` (give it a stream of
    /// its own, so that the mix never shifts the run's other draws): each kind this
    /// generator draws is kept with chance 1/2 (at least one is), with a weight of 1 to
    /// 4; the outages are drawn from a random part of `outage_min..=outage_max`; and,
    /// with a [`Tempo::Steady`] pace (a varied one changes on its own), the mean gap
    /// between faults is scaled by a power of two from 1/8 to 8. So one seed has bursts
    /// of short faults inside single elections, and another has a few long cuts with
    /// quiet between them: bugs of both kinds need the other kind's absence.
    ///
    /// ```
    /// use sim_core::{FaultGenerator, FaultWeights, SimRng, SimTime};
    ///
    /// let base = FaultGenerator::new(SimTime::ZERO, SimTime::from_secs(60));
    /// let mix = base.swarmed(&mut SimRng::new(7, "swarm"));
    /// assert_eq!(mix, base.swarmed(&mut SimRng::new(7, "swarm")));
    /// assert_ne!(mix.weights, FaultWeights::NONE);
    /// ```
    #[must_use]
    pub fn swarmed(&self, rng: &mut SimRng) -> FaultGenerator {
        let mut generator = *self;
        generator.weights = FaultWeights::from_array(mix(self.weights.as_array(), rng));
        if self.tempo == Tempo::Steady {
            let shift = rng.below(7) as u32;
            let mean = self.mean_interval.as_nanos().saturating_mul(1 << shift) / 8;
            generator.mean_interval = SimDuration::from_nanos(mean.max(1));
        }
        let (min, max) = (self.outage_min.as_nanos(), self.outage_max.as_nanos());
        let ends = [log_uniform(min, max, rng), log_uniform(min, max, rng)];
        generator.outage_min = SimDuration::from_nanos(ends[0].min(ends[1]));
        generator.outage_max = SimDuration::from_nanos(ends[0].max(ends[1]));
        generator
    }

    /// Draws a schedule of faults over `nodes` from `rng`.
    pub fn generate(&self, nodes: &[NodeId], rng: &mut SimRng) -> FaultSchedule {
        self.generate_for(nodes, &[], rng)
    }

    /// [`FaultGenerator::generate`] for nodes that send the given kinds of message
    /// ([`crate::Node::message_kind`]): half of the crash points then strike right after
    /// the node next sends a message of one of them, drawn at random
    /// ([`FaultGenerator::generate_at`] waits for other moments too).
    pub fn generate_for(
        &self,
        nodes: &[NodeId],
        message_kinds: &[&str],
        rng: &mut SimRng,
    ) -> FaultSchedule {
        let moments: Vec<Moment> = message_kinds
            .iter()
            .map(|kind| Moment::Sends((*kind).to_string()))
            .collect();
        self.generate_at(nodes, &moments, rng)
    }

    /// [`FaultGenerator::generate`] for nodes that reach the given moments (messages of
    /// a kind sent or handled, protocol events emitted): half of the crash points then
    /// strike right after the node next (or next but one) reaches one of them, drawn at
    /// random.
    pub fn generate_at(
        &self,
        nodes: &[NodeId],
        moments: &[Moment],
        rng: &mut SimRng,
    ) -> FaultSchedule {
        assert!(self.validate().is_ok(), "invalid fault generator: {self:?}");
        let mut state = State {
            moments: moments.to_vec(),
            drawn: Vec::new(),
            deferred: Vec::new(),
            busy_until: vec![[SimTime::ZERO; SLOTS]; nodes.len()],
            network_busy_until: SimTime::ZERO,
        };
        let weights = self.weights.as_array().map(u64::from);
        if nodes.is_empty() || weights.iter().all(|&w| w == 0) {
            return FaultSchedule::new();
        }
        let mut at = self.start;
        let mut pace = Pace::steady(self);
        if self.tempo == Tempo::Varied {
            pace.until = at;
        }
        loop {
            if self.tempo == Tempo::Varied && at >= pace.until {
                pace = Pace::draw(self, at, rng);
            }
            let gap = rng.between(0, 2 * pace.mean_interval);
            at = at.saturating_add(SimDuration::from_nanos(gap));
            if at >= self.end {
                break;
            }
            let outage = log_uniform(pace.outage_min, pace.outage_max, rng);
            let repair = at
                .saturating_add(SimDuration::from_nanos(outage))
                .min(self.end);
            let kind = rng
                .pick_weighted(&weights)
                .expect("some weight is non-zero");
            let wait = SimDuration::from_nanos(pace.mean_interval.saturating_mul(5));
            self.add_fault(Kind::ALL[kind], (at, repair, wait), nodes, rng, &mut state);
        }
        state.schedule()
    }

    /// Draws a fault of `kind` striking at `at`, repaired at `repair`; a crash point
    /// waits at most `wait` for its moment.
    fn add_fault(
        &self,
        kind: Kind,
        (at, repair, wait): (SimTime, SimTime, SimDuration),
        nodes: &[NodeId],
        rng: &mut SimRng,
        state: &mut State,
    ) {
        if kind == Kind::Heal {
            state.heal(at);
            return;
        }
        if kind.touches_network() && state.network_busy_until > at {
            return;
        }
        let outage = repair.duration_since(at);
        // A point waits for its moment, then keeps the node out for the outage; the
        // repair that ends its turn disarms it if the moment never came.
        let point = matches!(
            kind,
            Kind::CrashPoint | Kind::PausePoint | Kind::IsolatePoint
        );
        let repair = if point {
            at.saturating_add(wait.max(outage)).min(self.end)
        } else {
            repair
        };
        let (fault, repair_fault) = match kind.slot() {
            Some(slot) => {
                if matches!(slot, Slot::Down) && state.down_at(at) >= self.max_down as usize {
                    return;
                }
                let free: Vec<usize> = (0..nodes.len())
                    .filter(|&i| state.busy_until[i][slot as usize] <= at)
                    .collect();
                let Some(&index) = rng.pick(&free) else {
                    return;
                };
                state.busy_until[index][slot as usize] = repair;
                if matches!(kind, Kind::Crash | Kind::CrashPoint) {
                    self.keep_unsynced(index, nodes[index], at, repair, state);
                }
                self.node_fault(kind, nodes[index], (outage, repair), rng, state)
            }
            None => match network_fault(kind, nodes, rng) {
                Some(pair) => pair,
                None => return,
            },
        };
        if kind.touches_network() {
            state.network_busy_until = repair;
        }
        state.drawn.push((at, fault));
        state.drawn.push((repair, repair_fault));
        state.drawn.append(&mut state.deferred);
    }

    /// Lets a crash of `node` from `at` to `repair` keep some unsynced writes, if its disk
    /// is free of other faults.
    fn keep_unsynced(
        &self,
        index: usize,
        node: NodeId,
        at: SimTime,
        repair: SimTime,
        state: &mut State,
    ) {
        let disk = &mut state.busy_until[index][Slot::Disk as usize];
        if self.unsynced_kept == Chance::NEVER || *disk > at {
            return;
        }
        *disk = repair;
        let faults = DiskFaults {
            unsynced_kept: self.unsynced_kept,
            ..DiskFaults::NONE
        };
        state.drawn.push((at, Fault::DiskFaults { node, faults }));
        state.deferred.push((
            repair,
            Fault::DiskFaults {
                node,
                faults: DiskFaults::NONE,
            },
        ));
    }

    /// A fault of `kind` on `node`, and its repair.
    /// A fault of `kind` on `node` lasting `outage`, and its repair, due at `repair`.
    fn node_fault(
        &self,
        kind: Kind,
        node: NodeId,
        (outage, repair): (SimDuration, SimTime),
        rng: &mut SimRng,
        state: &State,
    ) -> (Fault, Fault) {
        // A varied pace bounds a point's own repair by the generator's; a steady one
        // draws what it always drew, so that repro files from before replay.
        let until = (self.tempo == Tempo::Varied).then_some(repair);
        let times = (outage, until);
        match kind {
            Kind::Crash => (Fault::Crash(node), Fault::Restart(node)),
            Kind::CrashPoint => (
                crash_point(node, &state.moments, times, Strike::Crash, rng),
                Fault::Restart(node),
            ),
            Kind::PausePoint => (
                crash_point(node, &state.moments, times, Strike::Pause, rng),
                Fault::Resume(node),
            ),
            Kind::IsolatePoint => (
                crash_point(node, &state.moments, times, Strike::Isolate, rng),
                Fault::HealNode(node),
            ),
            Kind::ResetData => (Fault::ResetData(node), Fault::Restart(node)),
            Kind::Pause => (Fault::Pause(node), Fault::Resume(node)),
            Kind::Isolate => (
                Fault::Partition(Partition::Isolate(node)),
                Fault::HealNode(node),
            ),
            Kind::Clog => (
                Fault::Clog {
                    target: ClogTarget::Node(node),
                    duration: None,
                },
                Fault::Unclog(ClogTarget::Node(node)),
            ),
            Kind::ClockSkew => {
                let max = self.clock_skew_max.as_nanos().min(i64::MAX as u64);
                let size = log_uniform(max / 1024, max, rng) as i64;
                let offset_ns = if rng.chance(1, 2) { size } else { -size };
                (
                    Fault::ClockSkew { node, offset_ns },
                    Fault::ClockSkew {
                        node,
                        offset_ns: -offset_ns,
                    },
                )
            }
            Kind::ClockDrift => {
                let max = u64::from(self.clock_drift_max_ppm);
                let size = log_uniform(max / 1024, max, rng) as i64;
                let ppm = if rng.chance(1, 2) { size } else { -size };
                (
                    Fault::ClockDrift { node, ppm },
                    Fault::ClockDrift { node, ppm: 0 },
                )
            }
            Kind::Disk => {
                let faults = DiskFaults {
                    lost_write: Chance::percent(10),
                    corrupt_write: Chance::percent(5),
                    read_error: Chance::percent(5),
                    unsynced_kept: self.unsynced_kept,
                };
                (
                    Fault::DiskFaults { node, faults },
                    Fault::DiskFaults {
                        node,
                        faults: DiskFaults::NONE,
                    },
                )
            }
            Kind::Partition | Kind::OneWay | Kind::Link | Kind::Heal => {
                unreachable!("{kind:?} strikes no one node")
            }
        }
    }
}

/// A fault of a network-wide `kind` and its repair, if the cluster is large enough.
fn network_fault(kind: Kind, nodes: &[NodeId], rng: &mut SimRng) -> Option<(Fault, Fault)> {
    let fault = match kind {
        Kind::Partition => Partition::Groups(split(nodes, rng)),
        Kind::OneWay => one_way(nodes, rng)?,
        Kind::Link => {
            let mut ends = nodes.to_vec();
            rng.shuffle(&mut ends);
            match ends[..] {
                [source, target, ..] => Partition::Link { source, target },
                _ => return None,
            }
        }
        _ => unreachable!("{kind:?} strikes one node"),
    };
    Some((Fault::Partition(fault), Fault::Heal))
}

/// How fast faults come and how long they last, for a stretch of the run.
struct Pace {
    /// Until when this pace holds.
    until: SimTime,
    mean_interval: u64,
    outage_min: u64,
    outage_max: u64,
}

impl Pace {
    /// The generator's own pace, for the whole run.
    fn steady(generator: &FaultGenerator) -> Pace {
        Pace {
            until: SimTime::MAX,
            mean_interval: generator.mean_interval.as_nanos(),
            outage_min: generator.outage_min.as_nanos(),
            outage_max: generator.outage_max.as_nanos(),
        }
    }

    /// The pace of an episode of [`EPISODE`] mean intervals from `at` ([`Tempo::Varied`]):
    /// its gaps scaled by a power of two from 1/8 to 8, its outages at most
    /// [`OUTAGE_GAPS`] of its gaps long.
    fn draw(generator: &FaultGenerator, at: SimTime, rng: &mut SimRng) -> Pace {
        let mean = generator.mean_interval.as_nanos();
        let gap = (mean.saturating_mul(1 << rng.below(7)) / 8).max(1);
        let (min, max) = (
            generator.outage_min.as_nanos(),
            generator.outage_max.as_nanos(),
        );
        Pace {
            until: at.saturating_add(SimDuration::from_nanos(mean.saturating_mul(EPISODE))),
            mean_interval: gap,
            outage_min: min,
            outage_max: gap.saturating_mul(OUTAGE_GAPS).clamp(min, max),
        }
    }
}

/// How many mean intervals an episode of [`Tempo::Varied`] lasts.
const EPISODE: u64 = 40;

/// How many of its gaps an episode's outages last at most: bursts of faults are bursts
/// of short ones, so that they do not block one another.
const OUTAGE_GAPS: u64 = 8;

struct State {
    /// The moments crash points may wait for.
    moments: Vec<Moment>,
    /// Faults and repairs as drawn; sorted by time (stably) into the schedule.
    drawn: Vec<(SimTime, Fault)>,
    /// Repairs to draw after the one of the fault being drawn.
    deferred: Vec<(SimTime, Fault)>,
    /// Until when each node suffers a fault of each [`Slot`].
    busy_until: Vec<[SimTime; SLOTS]>,
    network_busy_until: SimTime,
}

impl State {
    /// How many nodes are out (crashed, paused or isolated) at `at`.
    fn down_at(&self, at: SimTime) -> usize {
        self.busy_until
            .iter()
            .filter(|slots| slots[Slot::Down as usize] > at)
            .count()
    }

    /// Brings every repair still due forward to `at`.
    fn heal(&mut self, at: SimTime) {
        // Every fault drawn so far struck at or before `at`: what lies after is a repair.
        let mut repairs = Vec::new();
        self.drawn.retain(|(when, fault)| {
            let due = *when > at;
            if due {
                repairs.push(fault.clone());
            }
            !due
        });
        self.drawn
            .extend(repairs.into_iter().map(|fault| (at, fault)));
        for slots in &mut self.busy_until {
            for until in slots {
                *until = (*until).min(at);
            }
        }
        self.network_busy_until = self.network_busy_until.min(at);
    }

    fn schedule(mut self) -> FaultSchedule {
        self.drawn.sort_by_key(|(at, _)| *at);
        FaultSchedule {
            faults: self
                .drawn
                .into_iter()
                .map(|(at, fault)| crate::fault::TimedFault { at, fault })
                .collect(),
        }
    }
}

/// A number drawn log-uniformly from `min..=max`: first a doubling of `min` (or of 1),
/// each equally likely, then a number within it. Integers only, so that every platform
/// draws the same.
fn log_uniform(min: u64, max: u64, rng: &mut SimRng) -> u64 {
    if max <= min {
        return min;
    }
    let low = min.max(1);
    let doublings = (max / low).ilog2() + 1;
    let doubling = rng.below(u64::from(doublings)) as u32;
    let from = low << doubling;
    let to = from.saturating_mul(2).min(max);
    rng.between(from, to).max(min)
}

/// A point on `node` that strikes as `strike` says and keeps it out for `outage` once
/// it does: half the time (if there are moments), and always for a pause or a cut,
/// right after it next or next but one reaches a random one of them; otherwise after
/// one of its next few effects, now and then a later one.
/// Its own repair comes no later than `until`, if given (the generator's own).
fn crash_point(
    node: NodeId,
    moments: &[Moment],
    (outage, until): (SimDuration, Option<SimTime>),
    strike: Strike,
    rng: &mut SimRng,
) -> Fault {
    let down_for = Some(outage);
    if !moments.is_empty() && (strike != Strike::Crash || rng.chance(1, 2)) {
        let on = rng.pick(moments).cloned();
        let after = rng.below(2) as u32;
        return Fault::CrashPoint {
            node,
            after,
            on,
            down_for,
            strike,
            until,
        };
    }
    let span = 1 << rng.below(5);
    let after = rng.below(span) as u32;
    Fault::CrashPoint {
        node,
        after,
        on: None,
        down_for,
        strike,
        until,
    }
}

/// A swarm's mix of `weights`: each kind drawn is kept with chance 1/2 (at least one
/// is), with a weight of 1 to 4.
fn mix(weights: [u32; KINDS], rng: &mut SimRng) -> [u32; KINDS] {
    let enabled: Vec<usize> = (0..KINDS).filter(|&i| weights[i] > 0).collect();
    let mut chosen = [0_u32; KINDS];
    for &i in &enabled {
        if rng.chance(1, 2) {
            chosen[i] = rng.between(1, 4) as u32;
        }
    }
    if chosen.iter().all(|&w| w == 0)
        && let Some(&i) = rng.pick(&enabled)
    {
        chosen[i] = 1;
    }
    chosen
}

/// Two non-empty groups from a random split of the shuffled nodes.
fn split(nodes: &[NodeId], rng: &mut SimRng) -> Vec<Vec<NodeId>> {
    let mut shuffled = nodes.to_vec();
    rng.shuffle(&mut shuffled);
    let cut = if shuffled.len() < 2 {
        shuffled.len()
    } else {
        rng.between(1, shuffled.len() as u64 - 1) as usize
    };
    let right = shuffled.split_off(cut);
    vec![shuffled, right]
}

/// A one-way cut from a random non-empty set of nodes to a random non-empty set of the
/// others; together they need not cover the cluster.
fn one_way(nodes: &[NodeId], rng: &mut SimRng) -> Option<Partition> {
    if nodes.len() < 2 {
        return None;
    }
    let mut shuffled = nodes.to_vec();
    rng.shuffle(&mut shuffled);
    let senders = rng.between(1, shuffled.len() as u64 - 1) as usize;
    let mut to = shuffled.split_off(senders);
    let receivers = rng.between(1, to.len() as u64) as usize;
    to.truncate(receivers);
    Some(Partition::OneWay { from: shuffled, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

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

    #[test]
    fn outages_span_every_doubling_between_min_and_max() {
        let mut rng = SimRng::new(3, "outages");
        let draws: Vec<u64> = (0..2000)
            .map(|_| log_uniform(10, 10_000, &mut rng))
            .collect();
        assert!(draws.iter().all(|d| (10..=10_000).contains(d)));
        // Log-uniform: about as many below 100 as above 1,000 (uniform would give 1%).
        let short = draws.iter().filter(|&&d| d < 100).count();
        let long = draws.iter().filter(|&&d| d > 1_000).count();
        assert!(short > 400 && long > 400, "{short} short, {long} long");
        assert_eq!(log_uniform(5, 5, &mut rng), 5);
        assert!(log_uniform(0, 3, &mut rng) <= 3);
    }

    fn only(weights: FaultWeights) -> FaultGenerator {
        FaultGenerator {
            weights,
            mean_interval: SimDuration::from_millis(500),
            outage_min: SimDuration::from_millis(100),
            outage_max: SimDuration::from_secs(2),
            ..generator()
        }
    }

    #[test]
    fn one_way_cuts_need_not_cover_the_cluster_and_links_are_cut_alone() {
        let generator = only(FaultWeights {
            one_way: 1,
            link: 1,
            ..FaultWeights::NONE
        });
        let schedule = generator.generate(&nodes(5), &mut SimRng::new(2, "faults"));
        let (mut partial, mut links) = (0, 0);
        for timed in schedule.iter() {
            match &timed.fault {
                Fault::Partition(Partition::OneWay { from, to }) => {
                    assert!(!from.is_empty() && !to.is_empty());
                    assert!(from.iter().all(|n| !to.contains(n)), "{from:?} -> {to:?}");
                    if from.len() + to.len() < 5 {
                        partial += 1;
                    }
                }
                Fault::Partition(Partition::Link { source, target }) => {
                    assert_ne!(source, target);
                    links += 1;
                }
                Fault::Heal => {}
                other => panic!("not weighted: {other:?}"),
            }
        }
        assert!(
            partial > 10 && links > 10,
            "{partial} partial, {links} links"
        );
    }

    #[test]
    fn clocks_drift_and_jump_within_their_bounds() {
        let generator = only(FaultWeights {
            clock_skew: 1,
            clock_drift: 1,
            ..FaultWeights::NONE
        });
        let schedule = generator.generate(&nodes(3), &mut SimRng::new(5, "faults"));
        let (mut drifts, mut slow) = (0, 0);
        for timed in schedule.iter() {
            match timed.fault {
                Fault::ClockDrift { ppm, .. } => {
                    assert!(ppm.unsigned_abs() <= u64::from(generator.clock_drift_max_ppm));
                    drifts += usize::from(ppm != 0);
                    slow += usize::from(ppm < 0);
                }
                Fault::ClockSkew { offset_ns, .. } => {
                    assert!(offset_ns.unsigned_abs() <= generator.clock_skew_max.as_nanos());
                }
                ref other => panic!("not weighted: {other:?}"),
            }
        }
        assert!(
            drifts > 10 && slow > 0 && slow < drifts,
            "{drifts} drifts, {slow} slow"
        );
    }

    /// Replays `schedule`'s crashes and restarts: the most nodes down at once, and
    /// whether some node was both down and had its clock skewed.
    fn overlaps(schedule: &FaultSchedule) -> (usize, bool) {
        let (mut down, mut skewed) = (vec![false; 7], vec![0_i64; 7]);
        let (mut most, mut both) = (0, false);
        for timed in schedule.iter() {
            match timed.fault {
                Fault::Crash(n) => down[n.index()] = true,
                Fault::Restart(n) => down[n.index()] = false,
                Fault::ClockSkew { node, offset_ns } => skewed[node.index()] += offset_ns,
                _ => {}
            }
            most = most.max(down.iter().filter(|&&d| d).count());
            both |= (0..7).any(|i| down[i] && skewed[i] != 0);
        }
        (most, both)
    }

    #[test]
    fn several_nodes_go_down_at_once_and_a_node_takes_faults_of_different_sorts() {
        let generator = FaultGenerator {
            max_down: 3,
            ..only(FaultWeights {
                crash: 1,
                clock_skew: 1,
                ..FaultWeights::NONE
            })
        };
        let (most, both) = overlaps(&generator.generate(&nodes(7), &mut SimRng::new(1, "f")));
        assert_eq!(most, 3);
        assert!(both, "no node was down with its clock skewed");
    }

    #[test]
    fn a_heal_repairs_every_fault_in_force_at_once() {
        let weights = FaultWeights {
            crash: 1,
            clog: 1,
            partition: 1,
            ..FaultWeights::NONE
        };
        let without = FaultGenerator {
            max_down: 3,
            ..only(weights)
        };
        let with = FaultGenerator {
            weights: FaultWeights { heal: 1, ..weights },
            ..without
        };
        // Instants before the end at which three or more repairs fall together.
        let mass_repairs = |generator: &FaultGenerator| {
            let schedule = generator.generate(&nodes(7), &mut SimRng::new(9, "faults"));
            let repairs: Vec<SimTime> = schedule
                .iter()
                .filter(|t| matches!(t.fault, Fault::Restart(_) | Fault::Unclog(_) | Fault::Heal))
                .map(|t| t.at)
                .filter(|&at| at < generator.end)
                .collect();
            repairs.windows(3).filter(|w| w[0] == w[2]).count()
        };
        assert_eq!(mass_repairs(&without), 0);
        assert!(mass_repairs(&with) >= 3, "{}", mass_repairs(&with));
        let (most, _) = overlaps(&with.generate(&nodes(7), &mut SimRng::new(9, "faults")));
        assert!(most <= 3);
    }

    #[test]
    fn a_swarm_mix_keeps_some_kinds_and_spreads_the_timing() {
        let varied = FaultGenerator::scaled(SimTime::ZERO, SimTime::from_secs(60), ms(100));
        let mix = varied.swarmed(&mut SimRng::new(3, "swarm"));
        assert_eq!(
            mix.mean_interval, varied.mean_interval,
            "a varied pace changes on its own"
        );
        let base = FaultGenerator {
            tempo: Tempo::Steady,
            ..varied
        };
        let mut shifts = std::collections::BTreeSet::new();
        let (mut short_only, mut long_only) = (0, 0);
        for seed in 0..300 {
            let mix = base.swarmed(&mut SimRng::new(seed, "swarm"));
            assert_ne!(mix.weights, FaultWeights::NONE);
            assert!(mix.weights.as_array().iter().all(|&w| w <= 4));
            let ratio = mix.mean_interval.as_nanos() * 8 / base.mean_interval.as_nanos();
            assert!([1, 2, 4, 8, 16, 32, 64].contains(&ratio), "ratio {ratio}/8");
            shifts.insert(ratio);
            assert!(base.outage_min <= mix.outage_min && mix.outage_min <= mix.outage_max);
            assert!(mix.outage_max <= base.outage_max);
            short_only += usize::from(mix.outage_max < ms(500));
            long_only += usize::from(mix.outage_min > ms(1000));
        }
        assert_eq!(shifts.len(), 7);
        assert!(
            short_only > 15 && long_only > 15,
            "{short_only} short, {long_only} long"
        );
        let only_crashes = FaultGenerator {
            weights: FaultWeights {
                crash: 2,
                ..FaultWeights::NONE
            },
            ..base
        };
        let mix = only_crashes.swarmed(&mut SimRng::new(1, "swarm"));
        assert!(mix.weights.crash > 0);
        assert_eq!(mix.weights.as_array().iter().filter(|&&w| w > 0).count(), 1);
    }

    /// How many crashes `generator` draws in each stretch of `bucket` over a
    /// cluster large enough that none is turned away.
    fn crashes_per_bucket(generator: &FaultGenerator, bucket: SimDuration) -> Vec<usize> {
        let generator = FaultGenerator {
            max_down: 1000,
            ..only_crashes(generator)
        };
        let schedule = generator.generate(&nodes(1000), &mut SimRng::new(5, "faults"));
        let buckets = generator.end.duration_since(generator.start).as_nanos() / bucket.as_nanos();
        let mut counts = vec![0; buckets as usize];
        for fault in &schedule.faults {
            if matches!(fault.fault, Fault::Crash(_)) {
                let index = fault.at.duration_since(generator.start).as_nanos() / bucket.as_nanos();
                if let Some(count) = counts.get_mut(index as usize) {
                    *count += 1;
                }
            }
        }
        counts
    }

    fn only_crashes(generator: &FaultGenerator) -> FaultGenerator {
        FaultGenerator {
            weights: FaultWeights {
                crash: 1,
                ..FaultWeights::NONE
            },
            ..*generator
        }
    }

    #[test]
    fn pause_and_isolate_points_wait_for_a_moment_and_come_with_their_repair() {
        let generator = only(FaultWeights {
            pause_point: 1,
            isolate_point: 1,
            ..FaultWeights::NONE
        });
        let moments = [Moment::Emits("voted".to_string())];
        let schedule = generator.generate_at(&nodes(3), &moments, &mut SimRng::new(2, "faults"));
        let mut seen = [0; 2];
        for (i, timed) in schedule.faults.iter().enumerate() {
            let Fault::CrashPoint {
                node,
                on,
                strike,
                down_for,
                ..
            } = &timed.fault
            else {
                continue;
            };
            assert_eq!(
                on.as_ref(),
                Some(&moments[0]),
                "always a moment, given some"
            );
            // (Cut short near the end, so that every fault is repaired by then.)
            let down = down_for.expect("a down time");
            assert!(down <= generator.outage_max && timed.at + down <= generator.end);
            let repair = match strike {
                Strike::Pause => Fault::Resume(*node),
                Strike::Isolate => Fault::HealNode(*node),
                Strike::Crash => panic!("no crash points drawn"),
            };
            seen[usize::from(*strike == Strike::Isolate)] += 1;
            assert!(
                schedule.faults[i..]
                    .iter()
                    .any(|later| later.fault == repair),
                "{repair:?} follows"
            );
        }
        assert!(seen[0] > 3 && seen[1] > 3, "{seen:?}");
    }

    #[test]
    fn a_varied_pace_has_bursts_and_calm_and_a_steady_one_neither() {
        let varied = FaultGenerator::scaled(SimTime::ZERO, SimTime::from_secs(3_600), ms(100));
        let episode = SimDuration::from_nanos(varied.mean_interval.as_nanos() * EPISODE);
        let counts = crashes_per_bucket(&varied, episode);
        let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        // An episode at an eighth of the mean has 320 faults on average, one at eight
        // times it 5: far apart, whatever the draws.
        assert!(
            *least < 15 && *most > 150,
            "{least}..{most} faults an episode"
        );
        let steady = FaultGenerator {
            tempo: Tempo::Steady,
            ..varied
        };
        let counts = crashes_per_bucket(&steady, episode);
        let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(
            *least > 20 && *most < 60,
            "{least}..{most} faults an episode"
        );
        // Bursts are bursts of short faults: in the densest stretch (gaps of an eighth
        // of the mean), outages last at most eight gaps, one mean interval. A steady
        // pace draws 43% of them that short.
        let dense = outages_in_densest_bucket(&varied, episode);
        let short = dense.iter().filter(|&&o| o <= varied.mean_interval).count();
        assert!(
            short * 10 >= dense.len() * 8,
            "{short} of {} short",
            dense.len()
        );
    }

    /// The outages of the crashes in the stretch of `bucket` with the most of them.
    fn outages_in_densest_bucket(
        generator: &FaultGenerator,
        bucket: SimDuration,
    ) -> Vec<SimDuration> {
        let counts = crashes_per_bucket(generator, bucket);
        let densest = (0..counts.len()).max_by_key(|&i| counts[i]).unwrap() as u64;
        let generator = FaultGenerator {
            max_down: 1000,
            ..only_crashes(generator)
        };
        let schedule = generator.generate(&nodes(1000), &mut SimRng::new(5, "faults"));
        let mut crashed = std::collections::BTreeMap::new();
        let mut outages = Vec::new();
        for fault in &schedule.faults {
            match fault.fault {
                Fault::Crash(node) => {
                    crashed.insert(node, fault.at);
                }
                Fault::Restart(node) => {
                    let at = crashed.remove(&node).unwrap();
                    if at.duration_since(generator.start).as_nanos() / bucket.as_nanos() == densest
                    {
                        outages.push(fault.at.duration_since(at));
                    }
                }
                _ => {}
            }
        }
        outages
    }

    #[test]
    fn crash_points_keep_their_node_down_for_an_outage_and_crashes_may_keep_unsynced_writes() {
        let generator = FaultGenerator {
            unsynced_kept: Chance::percent(50),
            ..only(FaultWeights {
                crash: 1,
                crash_point: 1,
                ..FaultWeights::NONE
            })
        };
        let schedule = generator.generate(&nodes(3), &mut SimRng::new(4, "faults"));
        let (mut points, mut kept) = (0, 0);
        for (index, timed) in schedule.faults.iter().enumerate() {
            match &timed.fault {
                Fault::CrashPoint { down_for, .. } => {
                    let down = down_for.expect("a drawn crash point brings its node back");
                    assert!(generator.outage_min <= down && down <= generator.outage_max);
                    points += 1;
                }
                Fault::DiskFaults { node, faults } if faults.unsynced_kept.is_never() => {
                    // Off again only when its node comes back.
                    let back = schedule.faults[..index]
                        .iter()
                        .rev()
                        .find(|t| t.at == timed.at && t.fault == Fault::Restart(*node));
                    assert!(back.is_some() || timed.at == generator.end, "{timed:?}");
                }
                Fault::DiskFaults { node, faults } => {
                    assert_eq!(faults.unsynced_kept, Chance::percent(50));
                    assert!(faults.lost_write.is_never() && faults.corrupt_write.is_never());
                    // On right before the crash it serves.
                    let next = &schedule.faults[index + 1];
                    assert_eq!(next.at, timed.at);
                    assert!(
                        matches!(next.fault, Fault::Crash(n) | Fault::CrashPoint { node: n, .. } if n == *node)
                    );
                    kept += 1;
                }
                _ => {}
            }
        }
        assert!(points > 5 && kept > 5, "{points} crash points, {kept} kept");
    }
}
