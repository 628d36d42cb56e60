//! A node's view of the chain: the tree of known blocks, their states, the votes,
//! justification and finality (Casper-FFG over heights), and the fork choice.
//!
//! - A block is **justified** when validators holding more than 2/3 of its epoch's
//!   stake endorsed it with the same justified source (genesis is justified).
//! - A justified block is **final** when its direct child (the next height) is
//!   justified with it as the source. Everything below a final block is final.
//! - The **head** is the highest block that descends from the highest justified block
//!   (ties broken by the smaller hash): producers build on it, validators vote for it.
//!
//! Honest validators vote at most once per height and never lower their source, so two
//! conflicting blocks can be final only if more than a third of the stake broke those
//! rules.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::chain::state::{ChainSetup, ChainState, TxOutcome};
use crate::chain::types::{AppliedTransaction, Block, Endorsement, ValidatorId};
use crate::crypto::CryptoHash;

/// A block the tree accepted, with the state after it.
#[derive(Debug)]
pub struct Entry {
    /// The block.
    pub block: Rc<Block>,
    /// The state after it.
    pub state: Rc<ChainState>,
    /// The transactions it applied (for the finality checkers).
    pub applied: Vec<AppliedTransaction>,
    /// What became of each of its transactions.
    pub outcomes: Vec<(CryptoHash, TxOutcome)>,
}

/// Blocks finalized by one update, in height order.
pub type Finalized = Vec<CryptoHash>;

/// The tree of blocks known to one node.
#[derive(Debug)]
pub struct BlockTree {
    entries: BTreeMap<CryptoHash, Entry>,
    /// Endorsements by (target, source), then by validator.
    votes: BTreeMap<(CryptoHash, CryptoHash), BTreeMap<ValidatorId, Endorsement>>,
    /// Justified blocks above the final one: height, and the source of their quorum.
    justified: BTreeMap<CryptoHash, (u64, CryptoHash)>,
    /// The quorum that justified each justified block, kept for the final chain too, so
    /// that a node can prove justification to a peer that missed the votes.
    quorums: BTreeMap<CryptoHash, Vec<Endorsement>>,
    highest_justified: CryptoHash,
    final_block: CryptoHash,
    /// The final chain, by height.
    final_chain: BTreeMap<u64, CryptoHash>,
    /// Blocks above the final block, by height: the only ones pruning has to look at.
    pending: BTreeSet<(u64, CryptoHash)>,
    /// Blocks justified since the node last asked ([`BlockTree::take_newly_justified`]).
    newly_justified: Vec<CryptoHash>,
    head: CryptoHash,
}

impl BlockTree {
    /// A tree holding only genesis, which is justified and final.
    pub fn new(setup: &ChainSetup) -> BlockTree {
        let genesis = setup.genesis_block.hash;
        let entry = Entry {
            block: Rc::new(setup.genesis_block.clone()),
            state: Rc::new(setup.genesis_state.clone()),
            applied: Vec::new(),
            outcomes: Vec::new(),
        };
        BlockTree {
            entries: BTreeMap::from([(genesis, entry)]),
            votes: BTreeMap::new(),
            justified: BTreeMap::from([(genesis, (0, genesis))]),
            quorums: BTreeMap::new(),
            highest_justified: genesis,
            final_block: genesis,
            final_chain: BTreeMap::from([(0, genesis)]),
            pending: BTreeSet::new(),
            newly_justified: Vec::new(),
            head: genesis,
        }
    }

    /// The block and state an accepted hash refers to.
    pub fn get(&self, hash: CryptoHash) -> Option<&Entry> {
        self.entries.get(&hash)
    }

    /// Is the block known (accepted)?
    pub fn contains(&self, hash: CryptoHash) -> bool {
        self.entries.contains_key(&hash)
    }

    /// The current head.
    pub fn head(&self) -> &Entry {
        &self.entries[&self.head]
    }

    /// The last final block.
    pub fn final_entry(&self) -> &Entry {
        &self.entries[&self.final_block]
    }

    /// The highest justified block.
    pub fn highest_justified(&self) -> &Entry {
        &self.entries[&self.highest_justified]
    }

    /// The final chain's block at `height`, if one is final there.
    pub fn final_at(&self, height: u64) -> Option<CryptoHash> {
        self.final_chain.get(&height).copied()
    }

    /// The canonical chain (final chain, then the head's branch) from `after` (exclusive)
    /// upwards, at most `limit` blocks.
    pub fn canonical_after(&self, after: u64, limit: usize) -> Vec<Rc<Block>> {
        let final_height = self.final_entry().block.height;
        let mut branch = Vec::new();
        let mut cursor = self.head;
        while let Some(entry) = self.entries.get(&cursor) {
            if entry.block.height <= final_height.max(after) {
                break;
            }
            branch.push(Rc::clone(&entry.block));
            cursor = entry.block.parent;
        }
        branch.reverse();
        let finals = self
            .final_chain
            .range(after + 1..)
            .map(|(_, hash)| Rc::clone(&self.entries[hash].block));
        finals.chain(branch).take(limit).collect()
    }

    /// The canonical block at `height` (on the head's chain), if any.
    pub fn canonical_at(&self, height: u64) -> Option<&Entry> {
        if let Some(hash) = self.final_at(height) {
            return self.entries.get(&hash);
        }
        let mut cursor = self.head;
        loop {
            let entry = self.entries.get(&cursor)?;
            if entry.block.height == height {
                return Some(entry);
            }
            if entry.block.height < height {
                return None;
            }
            cursor = entry.block.parent;
        }
    }

    /// Does `descendant` descend from (or equal) `ancestor`?
    pub fn descends(&self, descendant: CryptoHash, ancestor: CryptoHash) -> bool {
        let Some(target) = self.entries.get(&ancestor) else {
            return false;
        };
        let mut cursor = descendant;
        while let Some(entry) = self.entries.get(&cursor) {
            if cursor == ancestor {
                return true;
            }
            if entry.block.height <= target.block.height {
                return false;
            }
            cursor = entry.block.parent;
        }
        false
    }

    /// Accepts a block already applied on top of its (accepted) parent; updates the head.
    /// Returns blocks that became final because of votes waiting for this block.
    pub fn insert(&mut self, entry: Entry) -> Finalized {
        let hash = entry.block.hash;
        debug_assert!(self.contains(entry.block.parent), "the parent is accepted");
        self.pending.insert((entry.block.height, hash));
        self.entries.insert(hash, entry);
        self.consider_head(hash);
        let sources: Vec<CryptoHash> = self
            .votes
            .range((hash, CryptoHash(0))..=(hash, CryptoHash(u64::MAX)))
            .map(|(&(_, source), _)| source)
            .collect();
        let mut finalized = Vec::new();
        for source in sources {
            finalized.extend(self.try_justify(hash, source));
        }
        finalized
    }

    fn consider_head(&mut self, candidate: CryptoHash) {
        let (new, old) = (
            &self.entries[&candidate].block,
            &self.entries[&self.head].block,
        );
        let better =
            (new.height, std::cmp::Reverse(new.hash)) > (old.height, std::cmp::Reverse(old.hash));
        if better && self.descends(candidate, self.highest_justified) {
            self.head = candidate;
        }
    }

    /// Records a (signature-checked) endorsement; returns blocks that became final.
    pub fn add_vote(&mut self, vote: Endorsement) -> Finalized {
        let votes = self.votes.entry((vote.target, vote.source)).or_default();
        if votes.insert(vote.validator, vote).is_some() {
            return Vec::new();
        }
        self.try_justify(vote.target, vote.source)
    }

    /// The endorsements of `target`, for the next block's justification: the set with
    /// the most voters.
    pub fn votes_for(&self, target: CryptoHash) -> Vec<Endorsement> {
        self.votes
            .range((target, CryptoHash(0))..=(target, CryptoHash(u64::MAX)))
            .max_by_key(|(_, votes)| votes.len())
            .map(|(_, votes)| votes.values().copied().collect())
            .unwrap_or_default()
    }

    /// The quorum of endorsements that justified `hash` (empty for genesis or a block not
    /// known to be justified): what a producer puts in its block and a sync response
    /// carries, so that peers who missed those votes learn the justification too.
    pub fn justifying_votes(&self, hash: CryptoHash) -> &[Endorsement] {
        self.quorums.get(&hash).map_or(&[], Vec::as_slice)
    }

    /// The blocks justified since the last call, in the order they were justified.
    pub fn take_newly_justified(&mut self) -> Vec<CryptoHash> {
        std::mem::take(&mut self.newly_justified)
    }

    /// Is `hash` justified in this node's view (only blocks above the final one, and the
    /// final one, are tracked)?
    pub fn is_justified(&self, hash: CryptoHash) -> bool {
        self.justified.contains_key(&hash)
    }

    /// Justifies `target` if its votes with `source` reach the threshold, and cascades.
    fn try_justify(&mut self, target: CryptoHash, source: CryptoHash) -> Finalized {
        let mut finalized = Vec::new();
        let mut work = vec![(target, source)];
        while let Some((target, source)) = work.pop() {
            if self.justified.contains_key(&target) || !self.justified.contains_key(&source) {
                continue;
            }
            let Some(entry) = self.entries.get(&target) else {
                continue;
            };
            if !self.descends(target, source) || !self.has_quorum(entry, target, source) {
                continue;
            }
            let (height, parent) = (entry.block.height, entry.block.parent);
            self.justified.insert(target, (height, source));
            let quorum = self.votes[&(target, source)].values().copied().collect();
            self.quorums.insert(target, quorum);
            self.newly_justified.push(target);
            if height > self.justified[&self.highest_justified].0 {
                self.highest_justified = target;
                self.refresh_head();
            }
            if parent == source && self.entries[&source].block.height + 1 == height {
                finalized.extend(self.finalize(source));
            }
            // Votes that were waiting for `target` to be justified as their source.
            let waiting = self.votes.keys().filter(|&&(_, s)| s == target).copied();
            work.extend(waiting.collect::<Vec<_>>());
        }
        finalized
    }

    fn has_quorum(&self, entry: &Entry, target: CryptoHash, source: CryptoHash) -> bool {
        let Some(votes) = self.votes.get(&(target, source)) else {
            return false;
        };
        let state = &entry.state;
        let stake: u64 = votes.keys().map(|&v| state.stake_of(v)).sum();
        3 * stake > 2 * state.total_stake()
    }

    /// After the highest justified block changed: make sure the head descends from it.
    fn refresh_head(&mut self) {
        if self.descends(self.head, self.highest_justified) {
            return;
        }
        let floor = self.entries[&self.highest_justified].block.height;
        let mut best = self.highest_justified;
        let candidates: Vec<CryptoHash> = self
            .entries
            .iter()
            .filter(|(_, e)| e.block.height > floor)
            .map(|(&h, _)| h)
            .collect();
        self.head = best;
        for candidate in candidates {
            if self.descends(candidate, self.highest_justified) {
                let (c, b) = (&self.entries[&candidate].block, &self.entries[&best].block);
                if (c.height, std::cmp::Reverse(c.hash)) > (b.height, std::cmp::Reverse(b.hash)) {
                    best = candidate;
                }
            }
        }
        self.head = best;
    }

    /// Makes `hash` and its ancestors final; prunes blocks that can no longer be
    /// canonical. Returns the newly final blocks in height order.
    fn finalize(&mut self, hash: CryptoHash) -> Finalized {
        let old_height = self.final_entry().block.height;
        if self.entries[&hash].block.height <= old_height {
            return Vec::new();
        }
        if !self.descends(hash, self.final_block) {
            // Finality conflict: more than a third of the stake broke the voting rules.
            // A node cannot undo finality; it keeps its final chain, and the safety
            // checkers report the conflict between nodes.
            tracing::warn!(block = %hash, "justified block conflicts with the final chain");
            return Vec::new();
        }
        let mut newly = Vec::new();
        let mut cursor = hash;
        while cursor != self.final_block {
            let block = &self.entries[&cursor].block;
            newly.push(cursor);
            self.final_chain.insert(block.height, cursor);
            cursor = block.parent;
        }
        newly.reverse();
        self.final_block = hash;
        self.prune();
        newly
    }

    /// Forgets blocks at or below the final height that are not final, and the votes and
    /// justifications below it. Looks only at what was above the previous final block.
    fn prune(&mut self) {
        let final_height = self.final_entry().block.height;
        let above = self.pending.split_off(&(final_height + 1, CryptoHash(0)));
        for (height, hash) in std::mem::replace(&mut self.pending, above) {
            if self.final_chain.get(&height) != Some(&hash) {
                self.entries.remove(&hash);
                self.quorums.remove(&hash);
            }
        }
        self.votes.retain(|_, votes| {
            votes
                .values()
                .next()
                .is_none_or(|vote| vote.target_height >= final_height)
        });
        self.justified
            .retain(|_, &mut (height, _)| height >= final_height);
    }
}
