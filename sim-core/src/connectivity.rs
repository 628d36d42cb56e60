//! Who is up and who can reach whom: ready-made conditions for windowed liveness checks
//! ([`crate::Sim::whenever`]).
//!
//! A link *carries* messages when no partition cuts it, neither it nor its ends are
//! clogged and it does not lose every message. Two nodes are *linked* when both are up
//! (not crashed, not paused) and the links between them carry messages both ways. A
//! *connected group* is a set of nodes that are all linked to each other: the nodes that
//! can make progress together, whatever else the faults are doing.

use crate::check::Property;
use crate::node::{Node, NodeId};
use crate::world::World;

/// The condition "at least `quorum` nodes are up and all linked to each other",
/// counting partitions (symmetric and one-way), clogs, pauses, crashes and links that
/// lose every message. Use it with [`crate::Sim::whenever`]: whenever a quorum has been
/// connected for a while, the protocol should make progress.
///
/// It looks for the group only when a fault changed something
/// ([`World::fault_epoch`]), so it costs next to nothing on other steps.
///
/// ```
/// use sim_core::{QuorumConnected, Property};
///
/// // Three of five nodes, the majority.
/// let condition = QuorumConnected::majority(5);
/// assert_eq!(condition.quorum(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct QuorumConnected {
    quorum: usize,
    group: ConnectedGroup,
}

impl QuorumConnected {
    /// At least `quorum` nodes up and linked to each other.
    pub fn new(quorum: usize) -> QuorumConnected {
        QuorumConnected {
            quorum,
            group: ConnectedGroup::default(),
        }
    }

    /// A strict majority of `nodes` nodes.
    pub fn majority(nodes: usize) -> QuorumConnected {
        QuorumConnected::new(nodes / 2 + 1)
    }

    /// How many nodes must be connected.
    pub fn quorum(&self) -> usize {
        self.quorum
    }
}

impl<N: Node> Property<N> for QuorumConnected {
    fn holds(&mut self, world: &World<'_, N>) -> bool {
        self.group.of(world).len() >= self.quorum
    }
}

/// [`World::largest_connected_group`], looked for again only when a fault changed
/// something ([`World::fault_epoch`]): what a property judged after every step uses to
/// know which nodes should be making progress.
///
/// ```
/// use sim_core::{ConnectedGroup, NodeId, World};
/// # use sim_core::{Context, Node, Sim};
/// # struct Idle;
/// # impl Node for Idle { type Message = (); type Timer = (); type Observation = ();
/// #     fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {} }
/// # let mut sim = Sim::<Idle>::with_seed(1);
/// # for _ in 0..3 { sim.add_node(|_| Idle); }
/// # sim.run_for(sim_core::SimDuration::ZERO).unwrap();
/// let mut group = ConnectedGroup::default();
/// let world: World<'_, Idle> = sim.world();
/// assert_eq!(group.of(&world), [NodeId(0), NodeId(1), NodeId(2)]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConnectedGroup {
    /// The fault epoch last looked at, and the group then.
    cached: Option<(u64, Vec<NodeId>)>,
}

impl ConnectedGroup {
    /// The largest group of up nodes linked to each other, in id order.
    pub fn of<N: Node>(&mut self, world: &World<'_, N>) -> &[NodeId] {
        let epoch = world.fault_epoch();
        if self.cached.as_ref().is_none_or(|(seen, _)| *seen != epoch) {
            self.cached = Some((epoch, world.largest_connected_group()));
        }
        self.cached.as_ref().map_or(&[], |(_, group)| group)
    }
}

/// A set of node indices as bits.
#[derive(Clone, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn empty(nodes: usize) -> Bits {
        Bits(vec![0; nodes.div_ceil(64)])
    }

    fn insert(&mut self, index: usize) {
        self.0[index / 64] |= 1 << (index % 64);
    }

    fn remove(&mut self, index: usize) {
        self.0[index / 64] &= !(1 << (index % 64));
    }

    fn len(&self) -> usize {
        self.0.iter().map(|word| word.count_ones() as usize).sum()
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&word| word == 0)
    }

    fn and(&self, other: &Bits) -> Bits {
        Bits(self.0.iter().zip(&other.0).map(|(a, b)| a & b).collect())
    }

    fn and_not(&self, other: &Bits) -> Bits {
        Bits(self.0.iter().zip(&other.0).map(|(a, b)| a & !b).collect())
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(at, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    at * 64 + bit
                })
            })
        })
    }
}

/// The largest set of `candidates` (node indices below `nodes`) that are pairwise
/// `linked`, in increasing order; of several of that size, the first the search meets,
/// which is the same in every run.
///
/// A branch-and-bound search for a maximum clique that branches, at each level, only on
/// the candidates not linked to a pivot: fast on the nearly complete graphs that faults
/// leave, exponential only on graphs no fault schedule draws.
pub(crate) fn largest_group(
    nodes: usize,
    candidates: impl Iterator<Item = usize>,
    linked: impl Fn(usize, usize) -> bool,
) -> Vec<NodeId> {
    let mut pool = Bits::empty(nodes);
    let members: Vec<usize> = candidates.collect();
    for &member in &members {
        pool.insert(member);
    }
    let mut neighbours = vec![Bits::empty(nodes); nodes];
    for (at, &a) in members.iter().enumerate() {
        for &b in &members[at + 1..] {
            if linked(a, b) {
                neighbours[a].insert(b);
                neighbours[b].insert(a);
            }
        }
    }
    let mut best = Vec::new();
    grow(&mut Vec::new(), pool, &neighbours, &mut best);
    best.into_iter()
        .map(|index| NodeId(u32::try_from(index).expect("node ids fit in u32")))
        .collect()
}

/// Extends the clique `group` with members of `pool` (all linked to every member of
/// `group`), keeping the largest found in `best`.
fn grow(group: &mut Vec<usize>, mut pool: Bits, neighbours: &[Bits], best: &mut Vec<usize>) {
    if pool.is_empty() {
        if group.len() > best.len() {
            best.clone_from(group);
            best.sort_unstable();
        }
        return;
    }
    if group.len() + pool.len() <= best.len() {
        return;
    }
    let pivot = pool
        .iter()
        .max_by_key(|&u| (pool.and(&neighbours[u]).len(), std::cmp::Reverse(u)))
        .expect("the pool is not empty");
    let branches: Vec<usize> = pool.and_not(&neighbours[pivot]).iter().collect();
    for node in branches {
        group.push(node);
        grow(group, pool.and(&neighbours[node]), neighbours, best);
        group.pop();
        pool.remove(node);
        if group.len() + pool.len() <= best.len() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(indices: &[u32]) -> Vec<NodeId> {
        indices.iter().copied().map(NodeId).collect()
    }

    /// Every subset of `n` nodes, largest clique by brute force (first in subset order).
    fn brute(n: usize, linked: &dyn Fn(usize, usize) -> bool) -> usize {
        (0u32..1 << n)
            .filter(|set| {
                (0..n).all(|a| {
                    (a + 1..n).all(|b| set & (1 << a) == 0 || set & (1 << b) == 0 || linked(a, b))
                })
            })
            .map(|set| set.count_ones() as usize)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_whole_mesh_is_one_group() {
        assert_eq!(largest_group(5, 0..5, |_, _| true), ids(&[0, 1, 2, 3, 4]));
    }

    #[test]
    fn a_split_keeps_the_larger_side() {
        let side = |i: usize| i < 2;
        let group = largest_group(5, 0..5, |a, b| side(a) == side(b));
        assert_eq!(group, ids(&[2, 3, 4]));
    }

    #[test]
    fn only_candidates_count() {
        let group = largest_group(5, [0, 2, 4].into_iter(), |_, _| true);
        assert_eq!(group, ids(&[0, 2, 4]));
    }

    #[test]
    fn one_cut_link_leaves_a_group_without_one_of_its_ends() {
        let group = largest_group(4, 0..4, |a, b| (a, b) != (0, 3));
        assert_eq!(group.len(), 3);
        assert!(!(group.contains(&NodeId(0)) && group.contains(&NodeId(3))));
    }

    #[test]
    fn the_search_agrees_with_brute_force_on_many_graphs() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..300 {
            let n = 1 + round % 12;
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let edges = state;
            let linked = move |a: usize, b: usize| {
                let (a, b) = (a.min(b), a.max(b));
                (edges.rotate_left((a * 13 + b * 7) as u32) & 3) != 0
            };
            let group = largest_group(n, 0..n, linked);
            assert_eq!(group.len(), brute(n, &linked), "graph {round}");
            for (at, a) in group.iter().enumerate() {
                for b in &group[at + 1..] {
                    assert!(linked(a.index(), b.index()), "graph {round}: not a clique");
                }
            }
        }
    }
}
