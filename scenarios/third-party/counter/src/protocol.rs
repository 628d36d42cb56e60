//! The counter as a detsim protocol: its scenario tables, what they mean (the plan),
//! and how to run a plan. This file is everything detsim needs to know about it.

use scenarios::{
    Case, Facts, FaultKind, FaultKinds, FaultModel, FinalCheck, HealPhase, Implementation,
    InputError, Liveness, NoTable, Protocol, Smaller, Spanned, Tables, Text, WhileConnected, built,
};
use serde::{Deserialize, Serialize};
use sim_core::{ConnectedGroup, NodeId, NodeStatus, Sim, SimConfig, SimDuration, SimTime, World};

use crate::checks::{DURABLE, Durable, NO_PHANTOMS, NoPhantoms, agreed_total};
use crate::node::{Ack, CounterNode, Settings};

/// `[cluster]`: how many nodes, and their settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterTable {
    /// How many nodes (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Spanned<u32>>,
    /// How often a node gossips its view (default `"100ms"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gossip_interval: Option<Text>,
    /// How often unsynced increments are synced (default `"10ms"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_interval: Option<Text>,
    /// `"after_sync"` (default, correct) or `"before_sync"` (the planted bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<Text>,
    /// Whether a restarted node gossips again (default `true`; `false` is the planted
    /// liveness bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gossip_after_restart: Option<bool>,
    /// Drop views stamped longer ago than this (default: keep every view; set, it is
    /// the planted clock bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_max_age: Option<Text>,
}

/// `[workload]`: increments at random nodes.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadTable {
    /// Increments per second.
    pub rate: Spanned<f64>,
    /// The first increment (default: the start of the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Text>,
    /// The last (default: the end of the fault phase).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Text>,
}

/// `[[checks.final]]`: exactly one assertion on the end state.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FinalTable {
    /// Every running node holds the same view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// Every running node counts at least this many increments in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_total: Option<u64>,
}

/// A counter scenario, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// How many nodes.
    pub nodes: u32,
    /// Their settings.
    pub settings: Settings,
    /// The client load, if any.
    pub workload: Option<Load>,
    /// The final assertions.
    pub finals: Vec<Assertion>,
}

/// Increments, one every `interval` from `start` until `end`, each at a random node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// The gap between increments.
    pub interval: SimDuration,
    /// The first increment.
    pub start: SimTime,
    /// No increment after this.
    pub end: SimTime,
}

/// A final assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assertion {
    /// Every running node holds the same view.
    Converged,
    /// Every running node counts at least this many increments.
    MinTotal(u64),
}

/// The protocol: `protocol = "counter"` in scenario files.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counter;

impl Protocol for Counter {
    type Cluster = ClusterTable;
    type Workload = WorkloadTable;
    type Final = FinalTable;
    type Sometimes = NoTable;
    type Plan = Plan;

    fn name(&self) -> &str {
        "counter"
    }

    fn invariants(&self) -> &[&str] {
        &[DURABLE, NO_PHANTOMS]
    }

    /// Crash-recovery with a durable disk: no disk damage, no wipes.
    fn fault_kinds(&self) -> FaultKinds {
        FaultKinds::ALL
            .without(FaultKind::Disk)
            .without(FaultKind::ResetData)
    }

    /// On the time scale of a gossip round.
    fn fault_model(&self, plan: &Plan) -> FaultModel {
        FaultModel {
            time_scale: plan.settings.gossip_interval,
            unsynced_kept: true,
            ..FaultModel::new(self.fault_kinds())
        }
    }

    fn plan(&self, tables: Tables<'_, Self>) -> Result<Plan, InputError> {
        let source = tables.source;
        let cluster = tables.cluster();
        let mut settings = Settings::default();
        let nodes = match &cluster.nodes {
            Some(nodes) => source.range(nodes, 1..=64, "nodes")?,
            None => 3,
        };
        if let Some(text) = &cluster.gossip_interval {
            settings.gossip_interval = source.duration(text)?;
        }
        if let Some(text) = &cluster.flush_interval {
            settings.flush_interval = source.duration(text)?;
        }
        for (text, value) in [
            (&cluster.gossip_interval, settings.gossip_interval),
            (&cluster.flush_interval, settings.flush_interval),
        ] {
            if let Some(text) = text
                && value == SimDuration::ZERO
            {
                return Err(source
                    .error(text.span(), "an interval must be longer than zero")
                    .with_help("write, say, \"10ms\""));
            }
        }
        if let Some(ack) = &cluster.ack {
            settings.ack = match ack.get_ref().as_str() {
                "after_sync" => Ack::AfterSync,
                "before_sync" => Ack::BeforeSync,
                other => {
                    return Err(source
                        .error(ack.span(), format!("unknown ack \"{other}\""))
                        .with_help(
                            "use \"after_sync\" (correct) or \"before_sync\" (the planted bug)",
                        ));
                }
            };
        }
        if let Some(gossip) = cluster.gossip_after_restart {
            settings.gossip_after_restart = gossip;
        }
        if let Some(text) = &cluster.view_max_age {
            settings.view_max_age = Some(source.duration(text)?);
        }
        let workload = match &tables.workload {
            Some(table) => Some(load(&tables, table.get_ref())?),
            None => None,
        };
        let finals = tables
            .finals
            .iter()
            .map(
                |entry| match (entry.get_ref().converged, entry.get_ref().min_total) {
                    (Some(true), None) => Ok(Assertion::Converged),
                    (None, Some(total)) => Ok(Assertion::MinTotal(total)),
                    _ => Err(source
                        .error(entry.span(), "a final check takes exactly one assertion")
                        .with_help("write `converged = true` or `min_total = N`")),
                },
            )
            .collect::<Result<_, _>>()?;
        Ok(Plan {
            nodes,
            settings,
            workload,
            finals,
        })
    }

    fn message_kinds(&self, _: &Plan) -> Vec<&'static str> {
        vec!["view"]
    }

    /// Crash points may strike right after a client is told its increment counted.
    fn events(&self, _: &Plan) -> Vec<&'static str> {
        vec![crate::node::ACKED]
    }

    fn node_names(&self, plan: &Plan) -> Vec<String> {
        (0..plan.nodes).map(|i| format!("node-{i}")).collect()
    }

    fn requests(&self, plan: &Plan) -> u64 {
        plan.workload.map_or(0, |load| {
            (load.end - load.start).as_nanos() / load.interval.as_nanos()
        })
    }

    fn shrink(
        &self,
        cluster: &ClusterTable,
        workload: Option<&WorkloadTable>,
    ) -> Vec<Smaller<Self>> {
        let mut smaller = Vec::new();
        if let Some(workload) = workload
            && *workload.rate.get_ref() >= 0.2
        {
            let mut lighter = workload.clone();
            lighter.rate = built(workload.rate.get_ref() / 2.0);
            smaller.push(Smaller {
                cluster: cluster.clone(),
                workload: Some(lighter),
            });
        }
        let nodes = cluster.nodes.as_ref().map_or(3, |n| *n.get_ref());
        if nodes > 1 {
            let mut fewer = cluster.clone();
            fewer.nodes = Some(built(nodes - 1));
            smaller.push(Smaller {
                cluster: fewer,
                workload: workload.cloned(),
            });
        }
        smaller
    }
}

fn load(tables: &Tables<'_, Counter>, table: &WorkloadTable) -> Result<Load, InputError> {
    let source = tables.source;
    let rate = *table.rate.get_ref();
    if !(rate > 0.0 && rate <= 10_000.0) {
        return Err(source
            .error(table.rate.span(), format!("rate = {rate} is out of range"))
            .with_help("use a rate above 0 and at most 10000 increments per second"));
    }
    let start = match &table.start {
        Some(text) => source.time(text)?,
        None => SimTime::ZERO,
    };
    let end = match &table.end {
        Some(text) => source.time(text)?,
        None => SimTime::ZERO + tables.duration,
    };
    Ok(Load {
        interval: SimDuration::from_nanos((1e9 / rate) as u64),
        start,
        end,
    })
}

/// The one implementation: `implementation = "counter"`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CounterImpl;

/// The name of the counter's liveness check.
pub const LIVENESS: &str = "liveness: increments spread after healing";

/// The name of the counter's check during the fault phase (`[checks.while_connected]`).
pub const SPREADS_WHILE_CONNECTED: &str = "liveness: increments spread while a quorum is connected";

impl Implementation<Counter> for CounterImpl {
    type Node = CounterNode;
    type State = ();

    fn name(&self) -> &str {
        "counter"
    }

    fn version(&self) -> Option<String> {
        Some(format!("counter {}", env!("CARGO_PKG_VERSION")))
    }

    fn build(&self, case: &Case<'_, Counter>, config: SimConfig) -> (Sim<CounterNode>, ()) {
        let plan = case.plan;
        let mut sim = Sim::new(config);
        for _ in 0..plan.nodes {
            let (nodes, settings) = (plan.nodes, plan.settings);
            sim.add_node(move |id| CounterNode::new(id, nodes, settings));
        }
        for name in case.invariants() {
            match name {
                DURABLE => sim.add_invariant(name, Durable::default()),
                NO_PHANTOMS => sim.add_invariant(name, NoPhantoms::default()),
                other => unreachable!("the parser checked invariant names: {other}"),
            }
        }
        (sim, ())
    }

    fn workload(&self, case: &Case<'_, Counter>, sim: &mut Sim<CounterNode>, _: &mut ()) {
        let Some(load) = case.plan.workload else {
            return;
        };
        let mut rng = sim.rng("workload");
        let mut at = load.start;
        while at <= load.end {
            let node = NodeId(rng.below(u64::from(case.plan.nodes)) as u32);
            sim.schedule_call(at, node, |node, ctx| node.increment(ctx));
            at += load.interval;
        }
    }

    /// `progress` increments, one every 10 ms at the nodes of the core in turn, must reach
    /// every running node of the core.
    fn liveness(
        &self,
        _: &Case<'_, Counter>,
        heal: &HealPhase,
        sim: &mut Sim<CounterNode>,
        _: &mut (),
    ) -> Option<Liveness<CounterNode>> {
        let world = sim.world();
        let mut expected: Vec<(NodeId, u64)> = heal
            .core
            .iter()
            .map(|&id| (id, world.node(id).map_or(0, CounterNode::own)))
            .collect();
        for probe in 0..heal.progress {
            let slot = (probe % expected.len() as u64) as usize;
            expected[slot].1 += 1;
            let at = heal.at + SimDuration::from_millis(10 * (probe + 1));
            sim.schedule_call(at, expected[slot].0, |node, ctx| node.increment(ctx));
        }
        let core = heal.core.clone();
        Some(Liveness::new(
            LIVENESS,
            move |world: &World<'_, CounterNode>| {
                core.iter()
                    .filter(|&&id| world.status(id) == NodeStatus::Up)
                    .filter_map(|&id| world.node(id))
                    .all(|node| {
                        expected
                            .iter()
                            .all(|&(of, count)| node.count_of(of) >= count)
                    })
            },
        ))
    }

    /// Whenever a quorum has been up and linked, what each of them counted spreads to
    /// the others: every member comes to know every member's count as it was at the last
    /// time they had all caught up, again and again.
    fn while_connected(
        &self,
        _: &Case<'_, Counter>,
        _: &WhileConnected,
        _: &mut Sim<CounterNode>,
        _: &mut (),
    ) -> Option<Liveness<CounterNode>> {
        let mut group = ConnectedGroup::default();
        // Every node's own count when the group last caught up.
        let mut target: Vec<u64> = Vec::new();
        Some(Liveness::new(
            SPREADS_WHILE_CONNECTED,
            move |world: &World<'_, CounterNode>| {
                let members = group.of(world);
                let caught_up = members.iter().filter_map(|&id| world.node(id)).all(|node| {
                    members.iter().all(|&of| {
                        node.count_of(of) >= target.get(of.index()).copied().unwrap_or(0)
                    })
                });
                if caught_up {
                    target = world
                        .node_ids()
                        .map(|id| world.node(id).map_or(0, CounterNode::own))
                        .collect();
                }
                caught_up
            },
        ))
    }

    fn finals(
        &self,
        case: &Case<'_, Counter>,
        world: &World<'_, CounterNode>,
        _: &(),
    ) -> Vec<FinalCheck> {
        let all: Vec<NodeId> = world.node_ids().collect();
        case.plan
            .finals
            .iter()
            .map(|assertion| match *assertion {
                Assertion::Converged => FinalCheck::liveness(
                    "converged",
                    agreed_total(world, &all)
                        .map(|total| format!("every running node counts {total}"))
                        .ok_or_else(|| "the running nodes hold different views".to_string()),
                ),
                Assertion::MinTotal(minimum) => {
                    let lowest = up(world).map(CounterNode::total).min().unwrap_or(0);
                    FinalCheck::liveness(
                        format!("total >= {minimum}"),
                        if lowest >= minimum {
                            Ok(format!("every running node counts at least {lowest}"))
                        } else {
                            Err(format!("a running node counts only {lowest}"))
                        },
                    )
                }
            })
            .collect()
    }

    fn facts(&self, _: &Case<'_, Counter>, world: &World<'_, CounterNode>, _: &()) -> Facts {
        let mut facts = Facts::new();
        let total = up(world).map(CounterNode::total).max().unwrap_or(0);
        facts.insert("total".to_string(), total.to_string());
        facts.insert("nodes_up".to_string(), up(world).count().to_string());
        facts
    }
}

/// The running nodes.
fn up<'a>(world: &'a World<'_, CounterNode>) -> impl Iterator<Item = &'a CounterNode> + 'a {
    world
        .nodes()
        .filter(|&(id, _)| world.status(id) == NodeStatus::Up)
        .map(|(_, node)| node)
}
