//! The per-link state of the network, costing memory only for links that need it.
//!
//! A link needs state while it carries messages (how many are in flight, for its bounded
//! queue), while it is cut or clogged, and on FIFO links (the time of its last delivery).
//! Any other link is in its *fresh* state, which the network can make again at any time
//! from its settings and the topology: it need not be stored.
//!
//! Small clusters keep every link in a dense table indexed by `source * nodes + target`,
//! the fastest lookup there is. Clusters of more than [`DENSE_NODES_MAX`] nodes keep only
//! the links that need state, in a map from `(source, target)`; a link is dropped from it
//! as soon as it is fresh again (its last message delivered, no cut, no clog, not FIFO),
//! so memory follows the messages in flight, not the square of the nodes. Both give every
//! link exactly the same state at every step, so the kind of table never changes a run.

use std::hash::{BuildHasherDefault, Hasher};

use crate::node::NodeId;
use crate::time::SimTime;

/// The most nodes for which the dense table is kept (256² links × 16 bytes: 1 MiB).
pub(crate) const DENSE_NODES_MAX: usize = 256;

/// The link is cut by a partition (mirrors the topology graph).
pub(crate) const CUT: u8 = 1;
/// The link itself is clogged.
pub(crate) const CLOGGED: u8 = 2;

/// The per-link state the hot path needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LinkState {
    /// When the link last delivered (FIFO links only).
    pub(crate) last_delivery: SimTime,
    /// Messages in flight on the link.
    pub(crate) in_flight: u32,
    /// The index of the link's settings.
    pub(crate) config: u16,
    /// `CUT | CLOGGED` bits: zero on a healthy link.
    pub(crate) blocked: u8,
}

const _: () = assert!(std::mem::size_of::<LinkState>() == 16);

/// A cheap, fixed hash of a link's `(source, target)` word: a multiply and two folds,
/// so that every bit of both ends reaches the bits the map uses. No seed, no state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LinkHasher(u64);

impl Hasher for LinkHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        let mixed = (self.0 ^ word ^ (word >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = mixed ^ (mixed >> 32);
    }
}

/// The sparse table: a hash map with the fixed [`LinkHasher`], so its layout is the same
/// in every process. Its iteration order is never observed ([`LinkTable::for_each_mut`]
/// changes every link alike); what it buys over an ordered map is one probe, with the
/// state stored inline, where a large cluster's lookups miss the cache.
#[expect(
    clippy::disallowed_types,
    reason = "a fixed hasher, and no caller depends on the iteration order"
)]
type Sparse = std::collections::HashMap<u64, LinkState, BuildHasherDefault<LinkHasher>>;

/// The state of every link (see the module docs).
///
/// The dense table is kept in plain fields, so that the hot path of a small cluster is
/// one multiply and one bounds check ([`LinkTable::dense_mut`]); everything else (the
/// first message, and every link of a large cluster) goes through the other methods.
#[derive(Clone, Debug)]
pub(crate) struct LinkTable {
    /// Every link, `source * stride + target`, while the cluster is small; empty until
    /// the first message, and for good once the cluster is large.
    dense: Vec<LinkState>,
    stride: usize,
    /// Only the links that are not fresh, by `source << 32 | target`: large clusters.
    sparse: Option<Sparse>,
    /// The most nodes for a dense table ([`DENSE_NODES_MAX`]; tests lower it to check
    /// that both tables run alike).
    dense_nodes_max: usize,
}

fn key(source: NodeId, target: NodeId) -> u64 {
    (u64::from(source.0) << 32) | u64::from(target.0)
}

impl LinkTable {
    /// A table with no state at all.
    pub(crate) fn new() -> LinkTable {
        LinkTable::with_dense_limit(DENSE_NODES_MAX)
    }

    /// A table that is dense for at most `dense_nodes_max` nodes.
    pub(crate) fn with_dense_limit(dense_nodes_max: usize) -> LinkTable {
        LinkTable {
            dense: Vec::new(),
            stride: 0,
            sparse: None,
            dense_nodes_max,
        }
    }

    /// Makes room for `nodes` nodes, keeping the state of every link. `fresh` gives the
    /// state of a link that has none yet. Until the first call the table holds nothing.
    #[cold]
    pub(crate) fn resize(&mut self, nodes: usize, fresh: impl Fn(NodeId, NodeId) -> LinkState) {
        if self.sparse.is_some() {
            return; // a sparse table has room for any node
        }
        if nodes > self.dense_nodes_max {
            let mut sparse = Sparse::default();
            for (at, link) in self.dense.iter().enumerate() {
                let (source, target) = (
                    NodeId((at / self.stride) as u32),
                    NodeId((at % self.stride) as u32),
                );
                if *link != fresh(source, target) {
                    sparse.insert(key(source, target), *link);
                }
            }
            self.sparse = Some(sparse);
            self.dense = Vec::new();
            self.stride = 0;
            return;
        }
        let mut grown = vec![LinkState::default(); nodes * nodes];
        for source in 0..nodes {
            for target in 0..nodes {
                let (s, t) = (NodeId(source as u32), NodeId(target as u32));
                grown[source * nodes + target] = if source < self.stride && target < self.stride {
                    self.dense[source * self.stride + target]
                } else {
                    fresh(s, t)
                };
            }
        }
        self.dense = grown;
        self.stride = nodes;
    }

    /// Has the table been made (by the first [`LinkTable::resize`])?
    pub(crate) fn is_made(&self) -> bool {
        !self.dense.is_empty() || self.sparse.is_some()
    }

    /// The state of a link in the dense table; `None` if the table is not made yet, or
    /// is sparse.
    #[inline(always)]
    pub(crate) fn dense_mut(&mut self, source: NodeId, target: NodeId) -> Option<&mut LinkState> {
        self.dense
            .get_mut(source.index() * self.stride + target.index())
    }

    /// The state of a link, made fresh if it has none. The table must be made.
    pub(crate) fn open(
        &mut self,
        source: NodeId,
        target: NodeId,
        fresh: impl FnOnce() -> LinkState,
    ) -> &mut LinkState {
        match &mut self.sparse {
            Some(map) => map.entry(key(source, target)).or_insert_with(fresh),
            None => &mut self.dense[source.index() * self.stride + target.index()],
        }
    }

    /// The state of a link, if it has any.
    pub(crate) fn get(&self, source: NodeId, target: NodeId) -> Option<&LinkState> {
        match &self.sparse {
            Some(map) => map.get(&key(source, target)),
            None => self
                .dense
                .get(source.index() * self.stride + target.index()),
        }
    }

    /// The state of a link, if it has any.
    pub(crate) fn get_mut(&mut self, source: NodeId, target: NodeId) -> Option<&mut LinkState> {
        match &mut self.sparse {
            Some(map) => map.get_mut(&key(source, target)),
            None => self
                .dense
                .get_mut(source.index() * self.stride + target.index()),
        }
    }

    /// Takes a message that reached the end of its link off it and returns the link's
    /// state after that, dropping it from a sparse table if it is fresh again (`fifo`
    /// tells whether settings, by index, make a link FIFO, whose state must stay).
    pub(crate) fn land(
        &mut self,
        source: NodeId,
        target: NodeId,
        fifo: impl Fn(u16) -> bool,
    ) -> LinkState {
        let Some(map) = &mut self.sparse else {
            let link = &mut self.dense[source.index() * self.stride + target.index()];
            debug_assert!(link.in_flight > 0, "a delivery that was never sent");
            link.in_flight -= 1;
            return *link;
        };
        let key = key(source, target);
        let link = map
            .get_mut(&key)
            .expect("a link with a message in flight has state");
        debug_assert!(link.in_flight > 0, "a delivery that was never sent");
        link.in_flight -= 1;
        let landed = *link;
        if landed.in_flight == 0 && landed.blocked == 0 && !fifo(landed.config) {
            map.remove(&key);
        }
        landed
    }

    /// Drops a link's state if it is fresh again: nothing in flight, not blocked, not
    /// FIFO (a dense table keeps every link).
    pub(crate) fn release(&mut self, source: NodeId, target: NodeId, fifo: bool) {
        if let Some(map) = &mut self.sparse {
            let key = key(source, target);
            if map
                .get(&key)
                .is_some_and(|link| link.in_flight == 0 && link.blocked == 0 && !fifo)
            {
                map.remove(&key);
            }
        }
    }

    /// Calls `f` on every link that has state (the order does not matter to any caller).
    pub(crate) fn for_each_mut(&mut self, f: impl FnMut(&mut LinkState)) {
        match &mut self.sparse {
            Some(map) => map.values_mut().for_each(f),
            None => self.dense.iter_mut().for_each(f),
        }
    }

    /// How many links have state (all of them, in a dense table).
    #[cfg(test)]
    pub(crate) fn stored(&self) -> usize {
        self.sparse.as_ref().map_or(self.dense.len(), Sparse::len)
    }
}
