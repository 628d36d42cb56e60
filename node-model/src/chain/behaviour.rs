//! What adversaries actually do. Compiled only with the `adversarial` feature; without
//! it every hook is a no-op (and no node can be configured as an adversary).

#[cfg(feature = "adversarial")]
use std::rc::Rc;

use sim_core::Context;

use crate::chain::node::ChainNode;
use crate::chain::types::{Block, ChainMessage, SignedTransaction};
use crate::crypto::SecretKey;

#[cfg(feature = "adversarial")]
use crate::chain::adversary::Adversary;
#[cfg(feature = "adversarial")]
use crate::chain::types::{ChainEvent, ChainTimer, Transfer};
#[cfg(feature = "adversarial")]
use crate::crypto::Signature;

/// How many sent messages a replaying adversary remembers.
#[cfg(feature = "adversarial")]
const HISTORY_MAX: usize = 256;

#[cfg(feature = "adversarial")]
impl ChainNode {
    /// Starts the periodic timer of adversaries that act on their own.
    pub(crate) fn start_mischief(&mut self, ctx: &mut Context<'_, Self>) {
        let periodic = [
            Adversary::InvalidSignatures,
            Adversary::ReplayNonces,
            Adversary::ReplayMessages,
        ];
        if self.adversary().is_some_and(|a| periodic.contains(&a)) {
            ctx.set_timer(self.setup.config.genesis.block_time, ChainTimer::Mischief);
        }
    }

    /// One round of mischief, then the next one a block time later.
    pub(crate) fn mischief(&mut self, ctx: &mut Context<'_, Self>) {
        match self.adversary() {
            Some(Adversary::InvalidSignatures) => self.send_forged_transaction(ctx),
            Some(Adversary::ReplayNonces) => self.replay_applied_transaction(ctx),
            Some(Adversary::ReplayMessages) => self.replay_old_message(ctx),
            _ => return,
        }
        ctx.set_timer(self.setup.config.genesis.block_time, ChainTimer::Mischief);
    }

    fn send_forged_transaction(&mut self, ctx: &mut Context<'_, Self>) {
        let accounts = self.setup.accounts();
        let (Some(signer), Some(receiver)) = (ctx.rng().pick(&accounts), ctx.rng().pick(&accounts))
        else {
            return;
        };
        let transfer = Transfer {
            signer: std::rc::Rc::clone(signer),
            receiver: std::rc::Rc::clone(receiver),
            amount: 1 + ctx.rng().below(1_000),
            nonce: 1 + ctx.rng().below(1 << 40),
        };
        let mut tx = SignedTransaction::sign(transfer, &SecretKey::derive(0, "not the signer"));
        tx.signature = Signature(ctx.rng().next_u64());
        ctx.observe(ChainEvent::Attack {
            kind: "invalid_signatures",
        });
        ctx.broadcast(ChainMessage::Transaction(Rc::new(tx)));
    }

    /// A transaction that some final block already applied.
    fn applied_transaction(&mut self, ctx: &mut Context<'_, Self>) -> Option<SignedTransaction> {
        let final_height = self.tree.final_entry().block.height;
        let height = ctx.rng().between(0, final_height);
        let entry = self.tree.canonical_at(height)?;
        let applied: Vec<&SignedTransaction> = entry.block.transactions().collect();
        ctx.rng()
            .pick(&applied)
            .map(|tx| SignedTransaction::clone(tx))
    }

    fn replay_applied_transaction(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(tx) = self.applied_transaction(ctx) {
            ctx.observe(ChainEvent::Attack {
                kind: "replay_nonces",
            });
            ctx.broadcast(ChainMessage::Transaction(Rc::new(tx)));
        }
    }

    fn replay_old_message(&mut self, ctx: &mut Context<'_, Self>) {
        let old = ctx.rng().pick(&self.sent_history).cloned();
        if let Some(message) = old {
            ctx.observe(ChainEvent::Attack {
                kind: "replay_messages",
            });
            ctx.broadcast(message);
        }
    }

    /// Sends `block` to half the peers and a conflicting twin to the other half.
    pub(crate) fn equivocate(
        &mut self,
        ctx: &mut Context<'_, Self>,
        block: &Rc<Block>,
        key: &SecretKey,
    ) {
        let twin = Rc::new(Block::new(
            block.height,
            block.parent,
            block.producer,
            block.timestamp + sim_core::SimDuration::from_nanos(1),
            vec![Vec::new(); block.chunks.len()],
            block.justification.clone(),
            key,
        ));
        ctx.observe(ChainEvent::Attack { kind: "equivocate" });
        let peers: Vec<sim_core::NodeId> = ctx.peers().collect();
        for (i, peer) in peers.into_iter().enumerate() {
            let copy = if i % 2 == 0 {
                Rc::clone(block)
            } else {
                Rc::clone(&twin)
            };
            ctx.send(peer, ChainMessage::Block(copy));
        }
    }

    /// A replaying producer puts an already-applied transaction into its own block.
    pub(crate) fn add_replayed_transactions(&mut self, chunks: &mut [Vec<SignedTransaction>]) {
        if !self.is(Adversary::ReplayNonces) {
            return;
        }
        let final_block = &self.tree.final_entry().block;
        if let Some(tx) = final_block.transactions().next() {
            let shard = crate::chain::types::shard_of(&tx.transfer.signer, chunks.len() as u32);
            chunks[shard as usize].push(tx.clone());
        }
    }

    /// Keeps what a replaying adversary may send again.
    pub(crate) fn remember(&mut self, message: &ChainMessage) {
        if self.is(Adversary::ReplayMessages) && self.sent_history.len() < HISTORY_MAX {
            self.sent_history.push(message.clone());
        }
    }
}

#[cfg(not(feature = "adversarial"))]
impl ChainNode {
    pub(crate) fn start_mischief(&mut self, _: &mut Context<'_, Self>) {}

    pub(crate) fn mischief(&mut self, _: &mut Context<'_, Self>) {}

    pub(crate) fn equivocate(
        &mut self,
        _: &mut Context<'_, Self>,
        _: &std::rc::Rc<Block>,
        _: &SecretKey,
    ) {
        unreachable!("adversaries need the `adversarial` feature")
    }

    pub(crate) fn add_replayed_transactions(&mut self, _: &mut [Vec<SignedTransaction>]) {}

    pub(crate) fn remember(&mut self, _: &ChainMessage) {}
}
