//! The chain node: a validator or an observer, as a sans-IO state machine.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sim_core::{Context, Node, NodeId, TimerId};

use crate::chain::adversary::Adversary;
use crate::chain::config::NodeOverrides;
use crate::chain::mempool::Mempool;
use crate::chain::state::ChainSetup;
use crate::chain::tree::{BlockTree, Entry, Finalized};
use crate::chain::types::{Block, ChainEvent, ChainMessage, ChainTimer, Endorsement, ValidatorId};
use crate::crypto::{CryptoHash, SecretKey};

/// The most blocks kept waiting for a missing parent.
const ORPHANS_MAX: usize = 512;

/// The last vote a validator cast, persisted before the vote is sent: it must never vote
/// twice for one height nor lower its source, even across crashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LastVote {
    /// The height of the last block voted for.
    pub target_height: u64,
    /// The height of the source of that vote.
    pub source_height: u64,
}

/// A node of the proof-of-stake chain.
#[derive(Debug)]
pub struct ChainNode {
    pub(crate) setup: Rc<ChainSetup>,
    pub(crate) index: u32,
    /// The validator id and key, for validators.
    pub(crate) validator: Option<(ValidatorId, SecretKey)>,
    pub(crate) overrides: NodeOverrides,
    pub(crate) tree: BlockTree,
    /// Blocks whose parent is unknown, by parent.
    pub(crate) orphans: BTreeMap<CryptoHash, Vec<Rc<Block>>>,
    pub(crate) mempool: Mempool,
    /// Where each transaction was included: (transaction, height, block), one entry per
    /// fork that included it. The outcome itself is in the block's tree entry.
    pub(crate) inclusions: BTreeSet<(CryptoHash, u64, CryptoHash)>,
    pub(crate) last_vote: LastVote,
    pub(crate) slot_timer: Option<TimerId>,
    /// Slots that passed since the head last changed.
    pub(crate) missed: u64,
    /// When this node last asked a peer for blocks, on its monotonic clock.
    pub(crate) sync_requested_at: Option<sim_core::SimTime>,
    /// The highest height of any block or vote this node has seen.
    pub(crate) highest_seen: u64,
    /// A validator that lost its data may not vote before this time on its monotonic
    /// clock (see `vote`).
    pub(crate) vote_embargo_until: Option<sim_core::SimTime>,
    /// Blocks and votes this node sent or received, for the replaying adversary.
    #[cfg_attr(not(feature = "adversarial"), allow(dead_code))]
    pub(crate) sent_history: Vec<ChainMessage>,
}

impl ChainNode {
    /// Node `index` of the cluster described by `setup`.
    pub fn new(setup: Rc<ChainSetup>, index: u32) -> ChainNode {
        let config = &setup.config;
        assert!(
            index < config.node_count(),
            "node {index} is not in the cluster"
        );
        let validator = (index < config.validators).then(|| {
            let key = setup.secret_key(&config.node_name(index));
            (ValidatorId(index), key)
        });
        let overrides = config.overrides_of(index);
        let capacity = overrides.mempool_capacity.unwrap_or(10_000);
        ChainNode {
            tree: BlockTree::new(&setup),
            mempool: Mempool::new(config.shards, capacity),
            index,
            validator,
            overrides,
            orphans: BTreeMap::new(),
            inclusions: BTreeSet::new(),
            last_vote: LastVote::default(),
            slot_timer: None,
            missed: 0,
            sync_requested_at: None,
            highest_seen: 0,
            vote_embargo_until: None,
            sent_history: Vec::new(),
            setup,
        }
    }

    /// This node's name (`validator-2`, `observer-0`).
    pub fn name(&self) -> String {
        self.setup.config.node_name(self.index)
    }

    /// The validator id, if this node is a validator.
    pub fn validator_id(&self) -> Option<ValidatorId> {
        self.validator.map(|(id, _)| id)
    }

    /// The adversary this node plays, if any.
    pub fn adversary(&self) -> Option<Adversary> {
        self.overrides.adversary
    }

    pub(crate) fn is(&self, adversary: Adversary) -> bool {
        self.overrides.adversary == Some(adversary)
    }

    /// The tree of blocks this node knows.
    pub fn tree(&self) -> &BlockTree {
        &self.tree
    }

    /// The shared genesis setup.
    pub fn setup(&self) -> &Rc<ChainSetup> {
        &self.setup
    }

    /// Handles a block from `source` (or from disk, `persist == false`), then any orphans
    /// it unblocks.
    pub(crate) fn receive_block(
        &mut self,
        ctx: &mut Context<'_, Self>,
        block: Rc<Block>,
        source: NodeId,
        persist: bool,
    ) {
        let mut work = vec![block];
        while let Some(block) = work.pop() {
            if self.tree.contains(block.hash) {
                continue;
            }
            if let Err(reason) = self.check_block(ctx, &block) {
                ctx.observe(ChainEvent::Rejected { reason });
                continue;
            }
            self.highest_seen = self.highest_seen.max(block.height);
            if !self.tree.contains(block.parent) {
                self.keep_orphan(ctx, block, source);
                continue;
            }
            if self.accept(ctx, &block, persist) {
                work.extend(self.orphans.remove(&block.hash).unwrap_or_default());
            }
        }
    }

    /// Checks what can be checked without the parent: hash, signature, clock.
    fn check_block(&self, ctx: &Context<'_, Self>, block: &Block) -> Result<(), &'static str> {
        if block.content_hash() != block.hash {
            return Err("block hash mismatch");
        }
        let key = self.setup.validator_keys.get(block.producer.0 as usize);
        if !key.is_some_and(|key| key.verify(block.hash, block.signature)) {
            return Err("invalid block signature");
        }
        let horizon = ctx
            .now()
            .saturating_add(self.setup.config.genesis.max_clock_drift);
        if block.timestamp > horizon {
            return Err("block from the future");
        }
        Ok(())
    }

    fn keep_orphan(&mut self, ctx: &mut Context<'_, Self>, block: Rc<Block>, source: NodeId) {
        if self.orphans.values().map(Vec::len).sum::<usize>() >= ORPHANS_MAX {
            self.orphans.clear();
        }
        let first = !self.orphans.contains_key(&block.parent);
        self.orphans.entry(block.parent).or_default().push(block);
        if first && source != ctx.id() {
            self.request_sync(ctx, source);
        }
    }

    /// Applies a block whose parent is accepted; returns whether it was accepted.
    fn accept(&mut self, ctx: &mut Context<'_, Self>, block: &Rc<Block>, persist: bool) -> bool {
        let parent = self.tree.get(block.parent).expect("the parent is accepted");
        if block.timestamp <= parent.block.timestamp {
            ctx.observe(ChainEvent::Rejected {
                reason: "timestamp not after parent",
            });
            return false;
        }
        let applied = match parent.state.apply(&self.setup, block) {
            Ok(applied) => applied,
            Err(error) => {
                ctx.observe(ChainEvent::Rejected {
                    reason: error.reason(),
                });
                return false;
            }
        };
        for &(tx, _) in &applied.outcomes {
            self.inclusions.insert((tx, block.height, block.hash));
        }
        if persist {
            self.persist_block(ctx, block);
        }
        let head_before = self.tree.head().block.hash;
        let mut finalized = self.tree.insert(Entry {
            block: Rc::clone(block),
            state: Rc::new(applied.state),
            applied: applied.applied,
            outcomes: applied.outcomes,
        });
        let mut behind = false;
        for vote in &block.justification {
            finalized.extend(self.add_vote(*vote));
            behind |= !self.tree.is_justified(vote.source)
                && vote.source_height > self.tree.highest_justified().block.height;
        }
        self.report_finalized(ctx, &finalized);
        if behind && persist {
            // The producer knows justifications this node missed: fetch them.
            let producer = NodeId(block.producer.0);
            if producer != ctx.id() {
                self.request_sync(ctx, producer);
            }
        }
        if self.tree.head().block.hash != head_before {
            self.on_new_head(ctx);
        }
        true
    }

    /// Records a vote whose signature verifies; returns newly final blocks.
    pub(crate) fn add_vote(&mut self, vote: Endorsement) -> Finalized {
        let key = self.setup.validator_keys.get(vote.validator.0 as usize);
        if !key.is_some_and(|key| key.verify(vote.message(), vote.signature)) {
            return Vec::new();
        }
        self.tree.add_vote(vote)
    }

    fn receive_vote(&mut self, ctx: &mut Context<'_, Self>, vote: Endorsement) {
        self.highest_seen = self.highest_seen.max(vote.target_height);
        let head_before = self.tree.head().block.hash;
        let finalized = self.add_vote(vote);
        self.report_finalized(ctx, &finalized);
        if self.tree.head().block.hash != head_before {
            self.on_new_head(ctx);
        }
    }

    /// Tells the checkers about newly final blocks and epochs, in height order, and
    /// persists the quorums of newly justified blocks.
    pub(crate) fn report_finalized(
        &mut self,
        ctx: &mut Context<'_, Self>,
        finalized: &[CryptoHash],
    ) {
        if !self.tree.take_newly_justified().is_empty() {
            self.persist_quorum(ctx);
        }
        for hash in finalized {
            let entry = self.tree.get(*hash).expect("final blocks stay in the tree");
            let (block, state) = (&entry.block, &entry.state);
            let parent_epoch = self
                .tree
                .get(block.parent)
                .map_or(0, |parent| parent.state.epoch());
            ctx.observe(ChainEvent::Finalized {
                height: block.height,
                hash: block.hash,
                parent: block.parent,
                applied: entry.applied.clone(),
            });
            if state.epoch() > parent_epoch {
                let validators = state.validators().collect();
                ctx.observe(ChainEvent::EpochStarted {
                    epoch: state.epoch(),
                    validators,
                });
            }
        }
    }
}

impl Node for ChainNode {
    type Message = ChainMessage;
    type Timer = ChainTimer;
    type Observation = ChainEvent;

    fn message_digest(message: &ChainMessage) -> u64 {
        sim_core::digest(message)
    }

    fn message_kind(message: &ChainMessage) -> &'static str {
        message.kind()
    }

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        if self.validator.is_some() {
            // "Never voted" is a record too: without it, a crash before the first vote
            // would look like a damaged vote record.
            self.persist_vote(ctx);
        }
        self.arm_slot(ctx);
        self.start_mischief(ctx);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.restore(ctx);
        self.arm_slot(ctx);
        self.start_mischief(ctx);
        let peers: Vec<NodeId> = ctx.peers().collect();
        if let Some(&peer) = ctx.rng().pick(&peers) {
            self.request_sync(ctx, peer);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, source: NodeId, message: ChainMessage) {
        if matches!(
            message,
            ChainMessage::Block(_) | ChainMessage::Endorsement(_)
        ) {
            self.remember(&message);
        }
        match message {
            ChainMessage::Block(block) => self.receive_block(ctx, block, source, true),
            ChainMessage::Endorsement(vote) => self.receive_vote(ctx, vote),
            ChainMessage::Transaction(tx) => self.receive_transaction(ctx, tx),
            ChainMessage::SyncRequest { after_height } => {
                self.answer_sync(ctx, source, after_height);
            }
            ChainMessage::SyncResponse {
                blocks,
                justifications,
                more,
            } => {
                let last = blocks.last().map(|b| b.height);
                for block in blocks {
                    self.receive_block(ctx, block, source, true);
                }
                for vote in justifications {
                    self.receive_vote(ctx, vote);
                }
                if let (true, Some(after_height)) = (more, last) {
                    ctx.send(source, ChainMessage::SyncRequest { after_height });
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: ChainTimer) {
        match timer {
            ChainTimer::Slot => self.slot(ctx),
            ChainTimer::Mischief => self.mischief(ctx),
        }
    }
}
