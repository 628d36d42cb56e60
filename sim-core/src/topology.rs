//! The topology graph: which node can send to which, and the partitions that cut it.
//!
//! The topology is a directed graph (a petgraph `MatrixGraph`, so that "may `a` send to
//! `b`?" is one lookup on the hot path). The *base* graph is what the scenario
//! configured: a full mesh by default, or an explicit set of links. Partitions cut
//! directed edges of the *current* graph; healing restores edges of the base graph,
//! never more. Because edges are directed, one-way and asymmetric partitions are just
//! cuts in one direction.
//!
//! Every operation reports the directed edges whose state changed, so that the engine
//! can tell the nodes at the sending end that a link went down or came back up.

use std::hash::{BuildHasherDefault, DefaultHasher};

use petgraph::Directed;
use petgraph::algo::has_path_connecting;
use petgraph::graph::NodeIndex;
use petgraph::matrix_graph::MatrixGraph;
use serde::{Deserialize, Serialize};

use crate::node::NodeId;

/// A fixed hasher for petgraph's internal id storage: no OS-seeded state anywhere.
type FixedHasher = BuildHasherDefault<DefaultHasher>;
type Graph = MatrixGraph<(), (), FixedHasher, Directed, Option<()>, u32>;

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
    base: Graph,
    current: Graph,
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

fn index(node: NodeId) -> NodeIndex<u32> {
    NodeIndex::new(node.index())
}

impl Topology {
    /// An empty topology that will connect nodes as `spec` says when they are added.
    pub fn new(spec: TopologySpec) -> Topology {
        Topology {
            spec,
            base: Graph::default(),
            current: Graph::default(),
        }
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.base.node_count()
    }

    /// Adds the next node and the base links it takes part in.
    pub(crate) fn add_node(&mut self) -> NodeId {
        let added = self.base.add_node(());
        let again = self.current.add_node(());
        debug_assert_eq!(added, again);
        let node = NodeId(added.index() as u32);
        let links: Vec<(NodeId, NodeId)> = match &self.spec {
            TopologySpec::FullMesh => (0..node.0)
                .flat_map(|other| [(NodeId(other), node), (node, NodeId(other))])
                .collect(),
            TopologySpec::Links(links) => links
                .iter()
                .copied()
                .filter(|&(a, b)| a != b && a.max(b) == node)
                .collect(),
        };
        for (source, target) in links {
            self.base.update_edge(index(source), index(target), ());
            self.current.update_edge(index(source), index(target), ());
        }
        node
    }

    /// May `source` send to `target` right now? A node can always reach itself.
    #[inline]
    pub fn connected(&self, source: NodeId, target: NodeId) -> bool {
        source == target || self.current.has_edge(index(source), index(target))
    }

    /// Does the base topology (before partitions) have this link?
    pub fn in_base(&self, source: NodeId, target: NodeId) -> bool {
        source == target || self.base.has_edge(index(source), index(target))
    }

    /// Is there a path of current links from `source` to `target` (through other nodes)?
    pub fn can_reach(&self, source: NodeId, target: NodeId) -> bool {
        has_path_connecting(&self.current, index(source), index(target), None)
    }

    /// Every directed link that the base topology has but a partition has cut.
    pub fn cut_links(&self) -> Vec<(NodeId, NodeId)> {
        let n = self.node_count() as u32;
        let pairs = (0..n).flat_map(|a| (0..n).map(move |b| (NodeId(a), NodeId(b))));
        pairs
            .filter(|&(a, b)| a != b && self.in_base(a, b) && !self.connected(a, b))
            .collect()
    }

    fn set(&mut self, source: NodeId, target: NodeId, up: bool, changes: &mut Vec<EdgeChange>) {
        if source == target || !self.in_base(source, target) {
            return;
        }
        let (a, b) = (index(source), index(target));
        let was_up = self.current.has_edge(a, b);
        if was_up == up {
            return;
        }
        if up {
            self.current.add_edge(a, b, ());
        } else {
            self.current.remove_edge(a, b);
        }
        changes.push((source, target, up));
    }

    /// Applies a partition on top of the current cuts; returns the edges it cut.
    pub fn partition(&mut self, partition: &Partition) -> Vec<EdgeChange> {
        let mut changes = Vec::new();
        let n = self.node_count() as u32;
        let all = || (0..n).map(NodeId);
        match partition {
            Partition::Groups(groups) => {
                let group_of = |node: NodeId| groups.iter().position(|g| g.contains(&node));
                for a in all() {
                    for b in all() {
                        if group_of(a) != group_of(b) {
                            self.set(a, b, false, &mut changes);
                        }
                    }
                }
            }
            Partition::OneWay { from, to } => {
                for &a in from {
                    for &b in to {
                        self.set(a, b, false, &mut changes);
                    }
                }
            }
            Partition::Isolate(node) => {
                for other in all() {
                    self.set(*node, other, false, &mut changes);
                    self.set(other, *node, false, &mut changes);
                }
            }
            Partition::Link { source, target } => self.set(*source, *target, false, &mut changes),
        }
        changes
    }

    /// Restores every base link; returns the edges that came back.
    pub fn heal(&mut self) -> Vec<EdgeChange> {
        let mut changes = Vec::new();
        let n = self.node_count() as u32;
        for a in (0..n).map(NodeId) {
            for b in (0..n).map(NodeId) {
                self.set(a, b, true, &mut changes);
            }
        }
        changes
    }

    /// Restores the base links to and from `node`; returns the edges that came back.
    pub fn heal_node(&mut self, node: NodeId) -> Vec<EdgeChange> {
        let mut changes = Vec::new();
        for other in (0..self.node_count() as u32).map(NodeId) {
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
