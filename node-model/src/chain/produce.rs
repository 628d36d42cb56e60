//! Slots, block production, voting and transactions.

use std::rc::Rc;

use sim_core::{Context, NodeId};

use crate::chain::adversary::Adversary;
use crate::chain::node::{ChainNode, LastVote};
use crate::chain::state::TxFailure;
use crate::chain::types::{
    Block, ChainEvent, ChainMessage, ChainTimer, Endorsement, SignedTransaction,
};
use crate::crypto::CryptoHash;

/// Why a submitted transaction was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxRejection {
    /// The signature does not verify against the signer's key.
    #[error("invalid signature")]
    InvalidSignature,
    /// The transaction cannot apply on the node's head (nonce, balance, signer).
    #[error("invalid transaction: {0:?}")]
    Invalid(TxFailure),
    /// The node already has it, or its mempool is full.
    #[error("not accepted by the mempool (duplicate or full)")]
    NotAccepted,
}

/// After this many slots without a new head, a node asks a peer for blocks.
const SYNC_AFTER_MISSED: u64 = 3;

impl ChainNode {
    /// (Re)starts the slot timer: one block time (plus this node's production delay).
    pub(crate) fn arm_slot(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(timer) = self.slot_timer.take() {
            ctx.cancel_timer(timer);
        }
        let mut period = self.setup.config.genesis.block_time;
        if let Some(delay) = self.overrides.produce_delay {
            period += delay;
        }
        self.slot_timer = Some(ctx.set_timer(period, ChainTimer::Slot));
    }

    /// A slot passed: produce if it is this node's turn at the next height still open.
    /// The slot counts as missed until a new head arrives (producing one resets it).
    pub(crate) fn slot(&mut self, ctx: &mut Context<'_, Self>) {
        self.slot_timer = None;
        let target = self.tree.head().block.height + 1 + self.missed;
        self.missed += 1;
        self.arm_slot(ctx);
        if self.missed.is_multiple_of(SYNC_AFTER_MISSED) {
            let peers: Vec<NodeId> = ctx.peers().collect();
            if let Some(&peer) = ctx.rng().pick(&peers) {
                self.request_sync(ctx, peer);
            }
        }
        let Some((me, _)) = self.validator else {
            return;
        };
        let schedule = self.tree.head().state.schedule_for(&self.setup, target);
        let scheduled = schedule.producer_for(self.setup.config.genesis.chain_id, target);
        let out_of_turn = self.is(Adversary::ProduceOutOfTurn) && schedule.stake_of(me) > 0;
        if scheduled == me || out_of_turn {
            if scheduled != me {
                ctx.observe(ChainEvent::Attack {
                    kind: "produce_out_of_turn",
                });
            }
            self.produce(ctx, target);
        }
    }

    /// Builds a block at `height` on the head, accepts it and sends it out.
    fn produce(&mut self, ctx: &mut Context<'_, Self>, height: u64) {
        let (me, key) = self.validator.expect("only validators produce");
        let head = self.tree.head();
        let (parent, parent_time) = (head.block.hash, head.block.timestamp);
        let state = Rc::clone(&head.state);
        let per_chunk = self.setup.config.genesis.max_txs_per_chunk as usize;
        let mut chunks = self.mempool.select(&state, per_chunk);
        self.add_replayed_transactions(&mut chunks);
        let mut justification = self.tree.votes_for(parent);
        let highest_justified = self.tree.highest_justified().block.hash;
        if highest_justified != parent {
            justification.extend_from_slice(self.tree.justifying_votes(highest_justified));
        }
        let timestamp = ctx
            .now()
            .max(parent_time + sim_core::SimDuration::from_nanos(1));
        let block = Rc::new(Block::new(
            height,
            parent,
            me,
            timestamp,
            chunks,
            justification,
            &key,
        ));
        let me_node = ctx.id();
        self.receive_block(ctx, Rc::clone(&block), me_node, true);
        if self.is(Adversary::WithholdBlocks) {
            ctx.observe(ChainEvent::Attack {
                kind: "withhold_blocks",
            });
            return;
        }
        if self.is(Adversary::Equivocate) {
            self.equivocate(ctx, &block, &key);
            return;
        }
        self.remember(&ChainMessage::Block(Rc::clone(&block)));
        ctx.broadcast(ChainMessage::Block(block));
    }

    /// The head changed: restart the slot clock and vote for the new head.
    pub(crate) fn on_new_head(&mut self, ctx: &mut Context<'_, Self>) {
        self.missed = 0;
        self.arm_slot(ctx);
        self.vote(ctx);
    }

    /// Votes for the head if the voting rules allow: a higher height than any earlier
    /// vote, and a source no lower than before. The vote is synced to disk before it is
    /// sent, so that a crash cannot make this validator vote twice.
    fn vote(&mut self, ctx: &mut Context<'_, Self>) {
        let Some((me, key)) = self.validator else {
            return;
        };
        if self.overrides.endorse == Some(false) {
            return;
        }
        if let Some(until) = self.vote_embargo_until {
            if ctx.monotonic_now() < until {
                return;
            }
            self.vote_embargo_until = None;
            self.last_vote.target_height = self.last_vote.target_height.max(self.highest_seen);
        }
        let (head, source) = (self.tree.head(), self.tree.highest_justified());
        let (target, target_height) = (head.block.hash, head.block.height);
        let (source_hash, source_height) = (source.block.hash, source.block.height);
        if head.state.stake_of(me) == 0
            || target_height <= self.last_vote.target_height
            || source_height < self.last_vote.source_height
            || target_height <= source_height
        {
            return;
        }
        let message = Endorsement::signed_hash(target, target_height, source_hash, source_height);
        let vote = Endorsement {
            validator: me,
            target,
            target_height,
            source: source_hash,
            source_height,
            signature: key.sign(message),
        };
        self.last_vote = LastVote {
            target_height,
            source_height,
        };
        self.persist_vote(ctx);
        let finalized = self.add_vote(vote);
        self.report_finalized(ctx, &finalized);
        if self.is(Adversary::WithholdEndorsements) {
            ctx.observe(ChainEvent::Attack {
                kind: "withhold_endorsements",
            });
            return;
        }
        self.remember(&ChainMessage::Endorsement(vote));
        ctx.broadcast(ChainMessage::Endorsement(vote));
    }

    /// Accepts a client's transaction: checks it against the head, keeps it, and sends it
    /// to every other node. Returns its hash.
    pub fn submit(
        &mut self,
        ctx: &mut Context<'_, Self>,
        tx: SignedTransaction,
    ) -> Result<CryptoHash, TxRejection> {
        let tx = Rc::new(tx);
        self.admit(ctx, &tx)?;
        ctx.broadcast(ChainMessage::Transaction(Rc::clone(&tx)));
        Ok(tx.hash)
    }

    /// A transaction gossiped by a peer: kept if valid, not passed on.
    pub(crate) fn receive_transaction(
        &mut self,
        ctx: &mut Context<'_, Self>,
        tx: Rc<SignedTransaction>,
    ) {
        let _ = self.admit(ctx, &tx);
    }

    fn admit(
        &mut self,
        ctx: &mut Context<'_, Self>,
        tx: &Rc<SignedTransaction>,
    ) -> Result<(), TxRejection> {
        let state = &self.tree.head().state;
        let verdict = if !state.signature_valid(tx) {
            Err(TxRejection::InvalidSignature)
        } else {
            state.check(tx).map_err(TxRejection::Invalid)
        };
        if let Err(rejection) = verdict {
            let reason = match rejection {
                TxRejection::InvalidSignature => "invalid transaction signature",
                TxRejection::Invalid(TxFailure::InvalidNonce) => "replayed nonce",
                TxRejection::Invalid(_) | TxRejection::NotAccepted => "invalid transaction",
            };
            ctx.observe(ChainEvent::Rejected { reason });
            return Err(rejection);
        }
        if self.mempool.insert(Rc::clone(tx)) {
            Ok(())
        } else {
            Err(TxRejection::NotAccepted)
        }
    }
}
