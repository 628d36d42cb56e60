//! The topology graph: which node can send to which, and the partitions that cut it.
//!
//! The *base* graph is what the scenario configured: a full mesh by default, or an
//! explicit set of directed links (a petgraph `GraphMap`). Partitions cut directed edges
//! of the *current* graph; healing restores edges of the base graph, never more. Because
//! edges are directed, one-way and asymmetric partitions are just cuts in one direction.
//!
//! Memory grows with the nodes and the cut links, never with the square of the nodes: a
//! full mesh is implicit, and the current graph is the base minus an ordered set of cut
//! links. (A partition that cuts most pairs of a large cluster costs what it cuts.)
//!
//! Every operation reports the directed edges whose state changed, in a fixed order, so
//! that the engine can tell the nodes at the sending end that a link went down or came
//! back up.

use std::collections::BTreeSet;
use std::hash::{BuildHasherDefault, DefaultHasher};

use petgraph::Directed;
use petgraph::algo::has_path_connecting;
use petgraph::graphmap::GraphMap;
use petgraph::visit::EdgeFiltered;
use serde::{Deserialize, Serialize};

use crate::node::NodeId;

/// A fixed hasher for petgraph's internal id storage: no OS-seeded state anywhere.
type FixedHasher = BuildHasherDefault<DefaultHasher>;
/// Explicit base links; iteration follows insertion order, whatever the hasher.
type Links = GraphMap<u32, (), Directed, FixedHasher>;

/// Which links exist before any partition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopologySpec {
    /// Every node can send to every other node.
    #[default]
    FullMesh,
    /// Only the listed directed links exist (list both directions for a two-way link).
    Links(Vec<(NodeId, NodeId)>),
}

/// A cut in the topology, applied on top of whatever is already cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Partition {
    /// Split the nodes into groups that cannot reach each other in either direction.
    /// Nodes not listed form one more group together.
    Groups(Vec<Vec<NodeId>>),
    /// Messages from any node in `from` to any node in `to` are cut; the other
    /// direction keeps working.
    OneWay {
        /// The senders that can no longer reach `to`.
        from: Vec<NodeId>,
        /// The receivers that no longer hear from `from`.
        to: Vec<NodeId>,
    },
    /// Cut every link to and from one node.
    Isolate(NodeId),
    /// Cut one directed link.
    Link {
        /// The sending end.
        source: NodeId,
        /// The receiving end.
        target: NodeId,
    },
}

/// A directed edge whose state changed: `(source, target, now_up)`.
pub type EdgeChange = (NodeId, NodeId, bool);

/// The base topology and its current, possibly partitioned, state.
#[derive(Clone)]
pub struct Topology {
    spec: TopologySpec,
    nodes: u32,
    /// The base links of a [`TopologySpec::Links`] topology; `None` for a full mesh.
    base: Option<Links>,
    /// Base links a partition has cut, as `(source, target)`.
    cut: BTreeSet<(NodeId, NodeId)>,
    /// The same links as `(target, source)`, to find the cuts into a node.
    cut_into: BTreeSet<(NodeId, NodeId)>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("spec", &self.spec)
            .field("nodes", &self.node_count())
            .field("cut", &self.cut_links())
            .finish()
    }
}

impl Topology {
    /// An empty topology that will connect nodes as `spec` says when they are added.
    pub fn new(spec: TopologySpec) -> Topology {
        let base = match &spec {
            TopologySpec::FullMesh => None,
            TopologySpec::Links(_) => Some(Links::default()),
        };
        Topology {
            spec,
            nodes: 0,
            base,
            cut: BTreeSet::new(),
            cut_into: BTreeSet::new(),
        }
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes as usize
    }

    /// Adds the next node and the base links it takes part in.
    pub(crate) fn add_node(&mut self) -> NodeId {
        let node = NodeId(self.nodes);
        self.nodes += 1;
        if let (Some(base), TopologySpec::Links(links)) = (&mut self.base, &self.spec) {
            base.add_node(node.0);
            for &(source, target) in links {
                if source != target && source.max(target) == node {
                    base.add_edge(source.0, target.0, ());
                }
            }
        }
        node
    }

    /// May `source` send to `target` right now? A node can always reach itself.
    #[inline]
    pub fn connected(&self, source: NodeId, target: NodeId) -> bool {
        source == target
            || (self.in_base(source, target)
                && (self.cut.is_empty() || !self.cut.contains(&(source, target))))
    }

    /// Does the base topology (before partitions) have this link?
    pub fn in_base(&self, source: NodeId, target: NodeId) -> bool {
        if source == target {
            return true;
        }
        match &self.base {
            None => source.0 < self.nodes && target.0 < self.nodes,
            Some(base) => base.contains_edge(source.0, target.0),
        }
    }

    /// Has a partition cut any link at all?
    pub fn is_whole(&self) -> bool {
        self.cut.is_empty()
    }

    /// Is there a path of current links from `source` to `target` (through other nodes)?
    pub fn can_reach(&self, source: NodeId, target: NodeId) -> bool {
        if source == target {
            return true;
        }
        match &self.base {
            Some(base) => {
                let current = EdgeFiltered::from_fn(base, |(a, b, _): (u32, u32, &())| {
                    !self.cut.contains(&(NodeId(a), NodeId(b)))
                });
                has_path_connecting(&current, source.0, target.0, None)
            }
            None => self.mesh_can_reach(source, target),
        }
    }

    /// [`Topology::can_reach`] on a full mesh, by a search that visits each node once and
    /// looks at each cut link once: from a node, every unvisited node is reachable but
    /// those it is cut from.
    fn mesh_can_reach(&self, source: NodeId, target: NodeId) -> bool {
        let mut unvisited: BTreeSet<NodeId> = (0..self.nodes).map(NodeId).collect();
        unvisited.remove(&source);
        let mut frontier = vec![source];
        while let Some(node) = frontier.pop() {
            let blocked: BTreeSet<NodeId> = self
                .cut
                .range((node, NodeId(0))..=(node, NodeId(u32::MAX)))
                .map(|&(_, b)| b)
                .collect();
            let reached: Vec<NodeId> = unvisited.difference(&blocked).copied().collect();
            for next in reached {
                if next == target {
                    return true;
                }
                unvisited.remove(&next);
                frontier.push(next);
            }
        }
        false
    }

    /// Every directed link that the base topology has but a partition has cut, in
    /// `(source, target)` order.
    pub fn cut_links(&self) -> Vec<(NodeId, NodeId)> {
        self.cut.iter().copied().collect()
    }

    fn set(&mut self, source: NodeId, target: NodeId, up: bool, changes: &mut Vec<EdgeChange>) {
        if source == target || !self.in_base(source, target) {
            return;
        }
        let flipped = if up {
            self.cut.remove(&(source, target))
        } else {
            self.cut.insert((source, target))
        };
        if flipped {
            if up {
                self.cut_into.remove(&(target, source));
            } else {
                self.cut_into.insert((target, source));
            }
            changes.push((source, target, up));
        }
    }

    fn all(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.nodes).map(NodeId)
    }

    /// Applies a partition on top of the current cuts; returns the edges it cut, in
    /// `(source, target)` order for groups and isolation, and in the order the
    /// partition lists them for one-way cuts.
    pub fn partition(&mut self, partition: &Partition) -> Vec<EdgeChange> {
        let mut changes = Vec::new();
        match partition {
            Partition::Groups(groups) => self.split(groups, &mut changes),
            Partition::OneWay { from, to } => {
                for &a in from {
                    for &b in to {
                        self.set(a, b, false, &mut changes);
                    }
                }
            }
            Partition::Isolate(node) => {
                for other in self.all() {
                    self.set(*node, other, false, &mut changes);
                    self.set(other, *node, false, &mut changes);
                }
            }
            Partition::Link { source, target } => self.set(*source, *target, false, &mut changes),
        }
        changes
    }

    /// Cuts every link between nodes of different groups (the unlisted nodes being one
    /// more group), in `(source, target)` order. Between two unlisted nodes nothing is
    /// cut, so an unlisted source only looks at the listed targets: the cost is the
    /// listed nodes times all nodes, not all pairs.
    fn split(&mut self, groups: &[Vec<NodeId>], changes: &mut Vec<EdgeChange>) {
        let group_of = |node: NodeId| groups.iter().position(|g| g.contains(&node));
        let listed: BTreeSet<NodeId> = groups.iter().flatten().copied().collect();
        let labels: Vec<(NodeId, Option<usize>)> =
            listed.iter().map(|&n| (n, group_of(n))).collect();
        let label = |node: NodeId| {
            labels
                .binary_search_by_key(&node, |&(n, _)| n)
                .ok()
                .and_then(|at| labels[at].1)
        };
        for a in self.all() {
            let group = label(a);
            if group.is_none() {
                for &(b, other) in &labels {
                    if other.is_some() {
                        self.set(a, b, false, changes);
                    }
                }
            } else {
                for b in self.all() {
                    if label(b) != group {
                        self.set(a, b, false, changes);
                    }
                }
            }
        }
    }

    /// Restores every base link; returns the edges that came back, in `(source, target)`
    /// order.
    pub fn heal(&mut self) -> Vec<EdgeChange> {
        let changes = self.cut.iter().map(|&(a, b)| (a, b, true)).collect();
        self.cut.clear();
        self.cut_into.clear();
        changes
    }

    /// Restores the base links to and from `node`; returns the edges that came back:
    /// for each other node in id order, the link from `node`, then the link to it.
    pub fn heal_node(&mut self, node: NodeId) -> Vec<EdgeChange> {
        let range = (node, NodeId(0))..=(node, NodeId(u32::MAX));
        let mut others: Vec<NodeId> = self.cut.range(range.clone()).map(|&(_, b)| b).collect();
        others.extend(self.cut_into.range(range).map(|&(_, a)| a));
        others.sort();
        others.dedup();
        let mut changes = Vec::new();
        for other in others {
            self.set(node, other, true, &mut changes);
            self.set(other, node, true, &mut changes);
        }
        changes
    }

    /// Restores one base link; returns it if it came back.
    pub fn heal_link(&mut self, source: NodeId, target: NodeId) -> Vec<EdgeChange> {
        let mut changes = Vec::new();
        self.set(source, target, true, &mut changes);
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn mesh(n: u32) -> Topology {
        let mut topology = Topology::new(TopologySpec::FullMesh);
        for _ in 0..n {
            topology.add_node();
        }
        topology
    }

    fn ids(ids: &[u32]) -> Vec<NodeId> {
        ids.iter().copied().map(NodeId).collect()
    }

    #[test]
    fn a_full_mesh_connects_everyone_both_ways() {
        let topology = mesh(4);
        for a in 0..4 {
            for b in 0..4 {
                assert!(topology.connected(NodeId(a), NodeId(b)));
            }
        }
    }

    #[test]
    fn groups_cannot_talk_across_but_can_within() {
        let mut topology = mesh(5);
        let cut = topology.partition(&Partition::Groups(vec![ids(&[0, 1]), ids(&[2, 3])]));
        assert!(topology.connected(NodeId(0), NodeId(1)));
        assert!(topology.connected(NodeId(2), NodeId(3)));
        assert!(!topology.connected(NodeId(1), NodeId(2)));
        assert!(!topology.connected(NodeId(3), NodeId(0)));
        // Node 4 is unlisted: it forms its own group.
        assert!(!topology.connected(NodeId(4), NodeId(0)));
        assert!(cut.iter().all(|&(_, _, up)| !up));
        assert_eq!(cut.len(), topology.cut_links().len());
    }

    #[test]
    fn one_way_partition_cuts_one_direction_only() {
        let mut topology = mesh(3);
        topology.partition(&Partition::OneWay {
            from: ids(&[0]),
            to: ids(&[1, 2]),
        });
        assert!(!topology.connected(NodeId(0), NodeId(1)));
        assert!(!topology.connected(NodeId(0), NodeId(2)));
        assert!(topology.connected(NodeId(1), NodeId(0)));
        assert!(topology.connected(NodeId(2), NodeId(0)));
    }

    #[test]
    fn isolating_a_node_cuts_it_off_and_healing_it_reconnects() {
        let mut topology = mesh(4);
        topology.partition(&Partition::Isolate(NodeId(2)));
        assert!(!topology.can_reach(NodeId(0), NodeId(2)));
        assert!(!topology.can_reach(NodeId(2), NodeId(3)));
        assert!(topology.connected(NodeId(0), NodeId(3)));
        let back = topology.heal_node(NodeId(2));
        assert_eq!(back.len(), 6);
        assert!(topology.cut_links().is_empty());
    }

    #[test]
    fn healing_restores_only_base_links() {
        let mut topology = Topology::new(TopologySpec::Links(vec![
            (NodeId(0), NodeId(1)),
            (NodeId(1), NodeId(2)),
        ]));
        for _ in 0..3 {
            topology.add_node();
        }
        assert!(topology.connected(NodeId(0), NodeId(1)));
        assert!(!topology.connected(NodeId(1), NodeId(0)));
        assert!(topology.can_reach(NodeId(0), NodeId(2)));
        topology.partition(&Partition::Link {
            source: NodeId(1),
            target: NodeId(2),
        });
        assert!(!topology.can_reach(NodeId(0), NodeId(2)));
        topology.heal();
        assert!(topology.connected(NodeId(1), NodeId(2)));
        assert!(
            !topology.connected(NodeId(2), NodeId(0)),
            "heal invented a link"
        );
    }

    /// The reference model: a full mesh minus a set of cut directed pairs.
    #[derive(Debug, Clone)]
    enum Op {
        Partition(Partition),
        Heal,
        HealNode(u32),
        HealLink(u32, u32),
    }

    fn node(n: u32) -> BoxedStrategy<NodeId> {
        (0..n).prop_map(NodeId).boxed()
    }

    fn op(n: u32) -> impl Strategy<Value = Op> {
        let set = prop::collection::vec(node(n), 0..4).boxed();
        prop_oneof![
            prop::collection::vec(set.clone(), 0..3)
                .prop_map(|groups| Op::Partition(Partition::Groups(groups))),
            (set.clone(), set).prop_map(|(from, to)| Op::Partition(Partition::OneWay { from, to })),
            node(n).prop_map(|node| Op::Partition(Partition::Isolate(node))),
            (node(n), node(n))
                .prop_map(|(source, target)| Op::Partition(Partition::Link { source, target })),
            Just(Op::Heal),
            (0..n).prop_map(Op::HealNode),
            (0..n, 0..n).prop_map(|(a, b)| Op::HealLink(a, b)),
        ]
    }

    fn apply_to_model(cut: &mut BTreeSet<(u32, u32)>, op: &Op, n: u32) {
        let pairs = || (0..n).flat_map(|a| (0..n).map(move |b| (a, b)));
        match op {
            Op::Partition(Partition::Groups(groups)) => {
                let group = |x: u32| groups.iter().position(|g| g.contains(&NodeId(x)));
                cut.extend(pairs().filter(|&(a, b)| a != b && group(a) != group(b)));
            }
            Op::Partition(Partition::OneWay { from, to }) => {
                for a in from {
                    cut.extend(to.iter().filter(|b| *b != a).map(|b| (a.0, b.0)));
                }
            }
            Op::Partition(Partition::Isolate(x)) => {
                cut.extend(pairs().filter(|&(a, b)| a != b && (a == x.0 || b == x.0)));
            }
            Op::Partition(Partition::Link { source, target }) if source != target => {
                cut.insert((source.0, target.0));
            }
            Op::Partition(Partition::Link { .. }) => {}
            Op::Heal => cut.clear(),
            Op::HealNode(x) => cut.retain(|&(a, b)| a != *x && b != *x),
            Op::HealLink(a, b) => {
                cut.remove(&(*a, *b));
            }
        }
    }

    proptest! {
        /// After any sequence of partitions and heals, the graph agrees with the model
        /// on every directed pair, and each operation reported exactly the edges it flipped.
        #[test]
        fn partitions_match_the_reference_model(ops in prop::collection::vec(op(5), 0..30)) {
            let n = 5;
            let mut topology = mesh(n);
            let mut model = BTreeSet::new();
            for op in &ops {
                let before = model.clone();
                apply_to_model(&mut model, op, n);
                let changes = match op {
                    Op::Partition(p) => topology.partition(p),
                    Op::Heal => topology.heal(),
                    Op::HealNode(x) => topology.heal_node(NodeId(*x)),
                    Op::HealLink(a, b) => topology.heal_link(NodeId(*a), NodeId(*b)),
                };
                let flipped: BTreeSet<(u32, u32)> =
                    before.symmetric_difference(&model).copied().collect();
                let reported: BTreeSet<(u32, u32)> =
                    changes.iter().map(|&(a, b, _)| (a.0, b.0)).collect();
                prop_assert_eq!(reported, flipped);
                for a in 0..n {
                    for b in 0..n {
                        let expected = a == b || !model.contains(&(a, b));
                        prop_assert_eq!(topology.connected(NodeId(a), NodeId(b)), expected);
                    }
                }
            }
        }
    }
}
