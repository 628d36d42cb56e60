//! [proptest] strategies for the engine's inputs: latencies, link and network settings,
//! and fault schedules (feature `proptest`).
//!
//! They shrink *structurally*. A failing fault schedule shrinks to fewer faults, each
//! shorter, earlier and on lower-numbered nodes; a network shrinks towards constant
//! latency without loss, duplication or reordering. The case a property reports is
//! then small enough to read, not merely another seed.
//!
//! In a test, use them in `proptest! { ... }` like any strategy; here, with a runner:
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use sim_core::strategy::{FaultSpace, fault_schedule, network_config};
//! use sim_core::SimDuration;
//!
//! let space = FaultSpace::new(4, SimDuration::from_secs(30));
//! let mut runner = TestRunner::default();
//! runner
//!     .run(&(fault_schedule(space), network_config(4)), |(schedule, network)| {
//!         for timed in schedule.iter() {
//!             prop_assert!(timed.fault.nodes().iter().all(|n| n.0 < 4));
//!         }
//!         prop_assert!(network.default_link.validate().is_ok());
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! [proptest]: https://docs.rs/proptest

use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::strategy::Union;

use crate::disk::DiskFaults;
use crate::fault::{ClogTarget, Fault, FaultSchedule};
use crate::fault_generator::FaultWeights;
use crate::latency::Latency;
use crate::network::{LinkConfig, LinkOverride, NetworkConfig};
use crate::node::NodeId;
use crate::rng::Chance;
use crate::time::{SimDuration, SimTime};
use crate::topology::Partition;

/// A latency distribution of at most 50 ms; shrinks towards a constant 1 ms.
pub fn latency() -> impl Strategy<Value = Latency> {
    let millis = SimDuration::from_millis;
    prop_oneof![
        (1_u64..=50).prop_map(move |ms| Latency::Constant(millis(ms))),
        (1_u64..=20, 0_u64..=30).prop_map(move |(min, spread)| Latency::Uniform {
            min: millis(min),
            max: millis(min + spread),
        }),
        (1_u64..=10, 1_u32..=3).prop_map(move |(min, shape)| Latency::Pareto {
            min: millis(min),
            max: millis(min * 20),
            shape: f64::from(shape),
        }),
    ]
}

/// A chance of at most `max_percent` percent; shrinks towards never.
pub fn chance(max_percent: u32) -> impl Strategy<Value = Chance> {
    (0..=max_percent).prop_map(Chance::percent)
}

/// Settings of one link: any latency, up to 10% loss, 5% duplication and 10%
/// reordering, FIFO or not; shrinks towards a plain link.
pub fn link_config() -> impl Strategy<Value = LinkConfig> {
    (latency(), chance(10), chance(5), chance(10), any::<bool>()).prop_map(
        |(latency, loss, duplicate, reorder, fifo)| LinkConfig {
            latency,
            loss,
            duplicate,
            reorder,
            reorder_delay_max: SimDuration::from_millis(20),
            fifo,
            ..LinkConfig::default()
        },
    )
}

/// A full-mesh network of `nodes` nodes: default link settings and up to three
/// per-link overrides; shrinks towards no overrides and a plain default link.
pub fn network_config(nodes: u32) -> impl Strategy<Value = NetworkConfig> {
    let link_override = (0..nodes.max(1), 0..nodes.max(1), link_config()).prop_filter_map(
        "a link joins two different nodes",
        |(source, target, config)| {
            (source != target).then_some(LinkOverride {
                source: NodeId(source),
                target: NodeId(target),
                config,
            })
        },
    );
    let overrides = if nodes >= 2 { 0..4_usize } else { 0..1 };
    (
        link_config(),
        proptest::collection::vec(link_override, overrides),
    )
        .prop_map(|(default_link, links)| NetworkConfig {
            default_link,
            links,
            ..NetworkConfig::default()
        })
}

/// What a fault schedule may contain: see [`fault_schedule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultSpace {
    /// The nodes are `0..nodes`.
    pub nodes: u32,
    /// Every fault starts and is repaired within this time from the start.
    pub duration: SimDuration,
    /// The longest a fault lasts before its repair.
    pub outage_max: SimDuration,
    /// Which kinds of fault, how likely (0 = never).
    pub weights: FaultWeights,
    /// The most nodes crashed, paused or isolated at once.
    pub max_down: u32,
    /// The most faults in one schedule.
    pub max_faults: usize,
}

impl FaultSpace {
    /// Every kind of fault over `nodes` nodes within `duration`, each lasting up to a
    /// third of it; at most a minority of the nodes out at once, at most eight faults.
    pub fn new(nodes: u32, duration: SimDuration) -> FaultSpace {
        FaultSpace {
            nodes,
            duration,
            outage_max: SimDuration::from_nanos(duration.as_nanos() / 3),
            weights: FaultWeights::default(),
            max_down: nodes.saturating_sub(1) / 2,
            max_faults: 8,
        }
    }
}

/// One fault and its repair, as the strategy draws them.
#[derive(Clone, Debug, PartialEq)]
struct Episode {
    /// Milliseconds from the start.
    at_ms: u64,
    /// How long until the repair, in milliseconds (cut short at the end).
    lasting_ms: u64,
    kind: EpisodeKind,
}

#[derive(Clone, Debug, PartialEq)]
enum EpisodeKind {
    Crash(u32),
    ResetData(u32),
    Pause(u32),
    /// The nodes of one side; the others form the other side.
    Partition(Vec<u32>),
    /// Cut from `from` to every other node.
    OneWay(Vec<u32>),
    Isolate(u32),
    Clog(u32),
    ClockSkew {
        node: u32,
        offset_ms: i64,
    },
    Disk(u32),
}

impl EpisodeKind {
    /// The node this episode is about (one fault per node at a time), if one.
    fn node(&self) -> Option<u32> {
        match *self {
            EpisodeKind::Crash(n)
            | EpisodeKind::ResetData(n)
            | EpisodeKind::Pause(n)
            | EpisodeKind::Isolate(n)
            | EpisodeKind::Clog(n)
            | EpisodeKind::Disk(n)
            | EpisodeKind::ClockSkew { node: n, .. } => Some(n),
            EpisodeKind::Partition(_) | EpisodeKind::OneWay(_) => None,
        }
    }

    fn takes_a_node_down(&self) -> bool {
        matches!(
            self,
            EpisodeKind::Crash(_)
                | EpisodeKind::ResetData(_)
                | EpisodeKind::Pause(_)
                | EpisodeKind::Isolate(_)
        )
    }

    fn touches_network(&self) -> bool {
        matches!(
            self,
            EpisodeKind::Partition(_) | EpisodeKind::OneWay(_) | EpisodeKind::Isolate(_)
        )
    }

    /// The fault and its repair.
    fn faults(&self, nodes: u32) -> (Fault, Fault) {
        let all = |except: &[u32]| -> Vec<NodeId> {
            (0..nodes)
                .filter(|n| !except.contains(n))
                .map(NodeId)
                .collect()
        };
        let ids = |list: &[u32]| -> Vec<NodeId> { list.iter().copied().map(NodeId).collect() };
        match self {
            EpisodeKind::Crash(n) => (Fault::Crash(NodeId(*n)), Fault::Restart(NodeId(*n))),
            EpisodeKind::ResetData(n) => (Fault::ResetData(NodeId(*n)), Fault::Restart(NodeId(*n))),
            EpisodeKind::Pause(n) => (Fault::Pause(NodeId(*n)), Fault::Resume(NodeId(*n))),
            EpisodeKind::Partition(side) => (
                Fault::Partition(Partition::Groups(vec![ids(side), all(side)])),
                Fault::Heal,
            ),
            EpisodeKind::OneWay(from) => (
                Fault::Partition(Partition::OneWay {
                    from: ids(from),
                    to: all(from),
                }),
                Fault::Heal,
            ),
            EpisodeKind::Isolate(n) => (
                Fault::Partition(Partition::Isolate(NodeId(*n))),
                Fault::HealNode(NodeId(*n)),
            ),
            EpisodeKind::Clog(n) => {
                let target = ClogTarget::Node(NodeId(*n));
                (
                    Fault::Clog {
                        target,
                        duration: None,
                    },
                    Fault::Unclog(target),
                )
            }
            EpisodeKind::ClockSkew { node, offset_ms } => {
                let offset_ns = offset_ms * 1_000_000;
                let node = NodeId(*node);
                (
                    Fault::ClockSkew { node, offset_ns },
                    Fault::ClockSkew {
                        node,
                        offset_ns: -offset_ns,
                    },
                )
            }
            EpisodeKind::Disk(n) => {
                let node = NodeId(*n);
                let faults = DiskFaults {
                    lost_write: Chance::percent(10),
                    corrupt_write: Chance::percent(5),
                    read_error: Chance::percent(5),
                    unsynced_kept: Chance::NEVER,
                };
                (
                    Fault::DiskFaults { node, faults },
                    Fault::DiskFaults {
                        node,
                        faults: DiskFaults::NONE,
                    },
                )
            }
        }
    }
}

/// The kinds of episode `space` allows, each with its weight.
fn episode_kind(space: FaultSpace) -> impl Strategy<Value = EpisodeKind> {
    let nodes = space.nodes.max(1);
    let node = move || 0..nodes;
    let everyone: Vec<u32> = (0..nodes).collect();
    let side = move || subsequence(everyone.clone(), 1..nodes.max(2) as usize);
    let w = space.weights;
    let mut kinds: Vec<(u32, BoxedStrategy<EpisodeKind>)> = vec![
        (w.crash, node().prop_map(EpisodeKind::Crash).boxed()),
        (
            w.reset_data,
            node().prop_map(EpisodeKind::ResetData).boxed(),
        ),
        (w.pause, node().prop_map(EpisodeKind::Pause).boxed()),
        (w.isolate, node().prop_map(EpisodeKind::Isolate).boxed()),
        (w.clog, node().prop_map(EpisodeKind::Clog).boxed()),
        (
            w.clock_skew,
            (node(), -60_000_i64..=60_000)
                .prop_map(|(node, offset_ms)| EpisodeKind::ClockSkew { node, offset_ms })
                .boxed(),
        ),
        (w.disk, node().prop_map(EpisodeKind::Disk).boxed()),
    ];
    if nodes >= 2 {
        kinds.push((w.partition, side().prop_map(EpisodeKind::Partition).boxed()));
        kinds.push((w.one_way, side().prop_map(EpisodeKind::OneWay).boxed()));
    }
    kinds.retain(|(weight, _)| *weight > 0);
    if kinds.is_empty() {
        // No kind allowed: a crash that `schedule` will never keep.
        return Just(EpisodeKind::Crash(0)).boxed();
    }
    Union::new_weighted(kinds).boxed()
}

/// A fault schedule over `space`: faults with their repairs (restart, resume, heal,
/// unclog, clock back, disk faults off), every repair by `space.duration`, at most
/// `max_down` nodes out at once, one network cut at a time and one fault per node at a
/// time, as [`crate::FaultGenerator`] would draw them.
///
/// Shrinks to fewer faults, then to each fault shorter, earlier and on a
/// lower-numbered node.
pub fn fault_schedule(space: FaultSpace) -> impl Strategy<Value = FaultSchedule> {
    let duration_ms = (space.duration.as_nanos() / 1_000_000).max(1);
    let outage_max_ms = (space.outage_max.as_nanos() / 1_000_000).max(1);
    let no_faults = space.nodes == 0 || space.weights == FaultWeights::NONE;
    let max_faults = if no_faults { 0 } else { space.max_faults };
    let episode = (0..duration_ms, 1..=outage_max_ms, episode_kind(space)).prop_map(
        |(at_ms, lasting_ms, kind)| Episode {
            at_ms,
            lasting_ms,
            kind,
        },
    );
    proptest::collection::vec(episode, 0..=max_faults)
        .prop_map(move |episodes| schedule(&episodes, space, duration_ms))
}

/// The schedule of `episodes`, keeping only those that fit the limits of `space`
/// given the ones kept before them (in time order).
fn schedule(episodes: &[Episode], space: FaultSpace, duration_ms: u64) -> FaultSchedule {
    let mut sorted: Vec<&Episode> = episodes.iter().collect();
    sorted.sort_by_key(|episode| episode.at_ms);
    let nodes = space.nodes as usize;
    let mut busy_until = vec![0_u64; nodes];
    let mut out_until = vec![0_u64; nodes];
    let mut network_busy_until = 0_u64;
    let mut schedule = FaultSchedule::new();
    for episode in sorted {
        let (at, kind) = (episode.at_ms, &episode.kind);
        let repair = (at + episode.lasting_ms).min(duration_ms);
        let down = out_until.iter().filter(|&&until| until > at).count();
        if kind.takes_a_node_down() && down >= space.max_down as usize {
            continue;
        }
        if kind.touches_network() && network_busy_until > at {
            continue;
        }
        if let Some(node) = kind.node() {
            let node = node as usize;
            if busy_until[node] > at {
                continue;
            }
            busy_until[node] = repair;
            if kind.takes_a_node_down() {
                out_until[node] = repair;
            }
        }
        if kind.touches_network() {
            network_busy_until = repair;
        }
        let (fault, repair_fault) = kind.faults(space.nodes);
        schedule.push(SimTime::from_millis(at), fault);
        schedule.push(SimTime::from_millis(repair), repair_fault);
    }
    schedule
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    /// Replays `schedule` and counts, at every instant, the nodes crashed, paused or
    /// isolated; returns the largest count.
    fn most_down(schedule: &FaultSchedule, nodes: u32) -> usize {
        let mut down = vec![false; nodes as usize];
        let mut most = 0;
        for timed in schedule.iter() {
            match &timed.fault {
                Fault::Crash(n)
                | Fault::ResetData(n)
                | Fault::Pause(n)
                | Fault::Partition(Partition::Isolate(n)) => down[n.index()] = true,
                Fault::Restart(n) | Fault::Resume(n) | Fault::HealNode(n) => {
                    down[n.index()] = false;
                }
                _ => {}
            }
            most = most.max(down.iter().filter(|&&d| d).count());
        }
        most
    }

    /// A space and a schedule drawn from it.
    fn space_and_schedule() -> impl Strategy<Value = (FaultSpace, FaultSchedule)> {
        (1_u32..8, 1_u64..120, 0_u32..4).prop_flat_map(|(nodes, seconds, max_down)| {
            let space = FaultSpace {
                max_down,
                ..FaultSpace::new(nodes, SimDuration::from_secs(seconds))
            };
            (Just(space), fault_schedule(space))
        })
    }

    proptest! {
        #[test]
        fn schedules_respect_their_space((space, schedule) in space_and_schedule()) {
            let end = SimTime::ZERO + space.duration;
            prop_assert!(schedule.len() <= 2 * space.max_faults);
            prop_assert_eq!(schedule.len() % 2, 0, "every fault has its repair");
            for timed in schedule.iter() {
                prop_assert!(timed.at <= end, "{:?} after the end", timed);
                prop_assert!(timed.fault.nodes().iter().all(|n| n.0 < space.nodes));
            }
            prop_assert!(most_down(&schedule, space.nodes) <= space.max_down as usize);
        }
    }

    #[test]
    fn a_failing_schedule_shrinks_to_one_short_early_fault() {
        // The "bug": any crash at all. Shrinking must end at a single crash of node 0
        // at time zero, repaired a millisecond later.
        let space = FaultSpace::new(5, SimDuration::from_secs(60));
        let mut runner = TestRunner::deterministic();
        let result = runner.run(&fault_schedule(space), |schedule| {
            let crashes = schedule
                .iter()
                .filter(|t| matches!(t.fault, Fault::Crash(_)))
                .count();
            prop_assert_eq!(crashes, 0);
            Ok(())
        });
        let Err(proptest::test_runner::TestError::Fail(_, minimal)) = result else {
            panic!("the property should fail: {result:?}");
        };
        let faults: Vec<(u64, &Fault)> = minimal
            .iter()
            .map(|t| (t.at.as_nanos() / 1_000_000, &t.fault))
            .collect();
        assert_eq!(
            faults,
            [
                (0, &Fault::Crash(NodeId(0))),
                (1, &Fault::Restart(NodeId(0)))
            ]
        );
    }

    #[test]
    fn no_weights_means_no_faults() {
        let space = FaultSpace {
            weights: FaultWeights::NONE,
            ..FaultSpace::new(3, SimDuration::from_secs(10))
        };
        let mut runner = TestRunner::deterministic();
        for _ in 0..20 {
            let schedule = fault_schedule(space)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(schedule.is_empty());
        }
    }

    #[test]
    fn a_failing_network_shrinks_to_a_plain_link() {
        // The "bug": more than one node. Whatever network fails first, shrinking must
        // end at the simplest one: a constant 1 ms default link and no overrides.
        let mut runner = TestRunner::deterministic();
        let result = runner.run(&network_config(3), |_| {
            prop_assert!(false);
            Ok(())
        });
        let Err(proptest::test_runner::TestError::Fail(_, minimal)) = result else {
            panic!("the property should fail");
        };
        assert!(minimal.links.is_empty());
        assert_eq!(
            minimal.default_link.latency,
            Latency::Constant(SimDuration::from_millis(1))
        );
        assert!(minimal.default_link.loss.is_never());
        assert!(!minimal.default_link.fifo);
    }
}
