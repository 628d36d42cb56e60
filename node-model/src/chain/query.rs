//! The query interface, like a node's RPC: status, blocks, transaction outcomes and
//! accounts. Read-only, for scenarios, tests and checkers (`world.node(id)`); submitting
//! a transaction is [`ChainNode::submit`], called through the simulation.

use crate::chain::node::ChainNode;
use crate::chain::state::{ChainState, TxOutcome};
use crate::chain::types::{Block, ValidatorId};
use crate::crypto::CryptoHash;

/// What a node's `status` call answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The height of the head.
    pub latest_height: u64,
    /// The hash of the head.
    pub latest_hash: CryptoHash,
    /// The height of the last final block.
    pub final_height: u64,
    /// The hash of the last final block.
    pub final_hash: CryptoHash,
    /// The head's epoch.
    pub epoch: u64,
    /// The head's epoch's validators.
    pub validators: Vec<ValidatorId>,
}

/// An account as a query shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountView {
    /// The balance.
    pub balance: u64,
    /// The last nonce used.
    pub nonce: u64,
}

impl ChainNode {
    /// The node's view of the chain: head, finality, epoch.
    pub fn status(&self) -> Status {
        let (head, final_entry) = (self.tree.head(), self.tree.final_entry());
        Status {
            latest_height: head.block.height,
            latest_hash: head.block.hash,
            final_height: final_entry.block.height,
            final_hash: final_entry.block.hash,
            epoch: head.state.epoch(),
            validators: head.state.validators().collect(),
        }
    }

    /// The block at `height` on the node's canonical chain, if there is one.
    pub fn block_at(&self, height: u64) -> Option<&Block> {
        self.tree.canonical_at(height).map(|entry| &*entry.block)
    }

    /// The outcome of transaction `hash` if a block on the canonical chain includes it.
    pub fn tx_outcome(&self, hash: CryptoHash) -> Option<TxOutcome> {
        let places = self
            .inclusions
            .range((hash, 0, CryptoHash(0))..=(hash, u64::MAX, CryptoHash(u64::MAX)));
        places.into_iter().find_map(|&(_, height, block)| {
            let canonical = self.tree.canonical_at(height)?;
            if canonical.block.hash != block {
                return None;
            }
            let outcomes = &canonical.outcomes;
            outcomes
                .iter()
                .find(|&&(tx, _)| tx == hash)
                .map(|&(_, outcome)| outcome)
        })
    }

    /// The account `name` at the head.
    pub fn account(&self, name: &str) -> Option<AccountView> {
        view(&self.tree.head().state, name)
    }

    /// The account `name` at the last final block.
    pub fn final_account(&self, name: &str) -> Option<AccountView> {
        view(&self.tree.final_entry().state, name)
    }

    /// The state after block `hash`, if the node still holds it.
    pub fn state_of(&self, hash: CryptoHash) -> Option<&ChainState> {
        self.tree.get(hash).map(|entry| &*entry.state)
    }

    /// Transactions waiting in the mempool.
    pub fn pending_transactions(&self) -> usize {
        self.mempool.len()
    }
}

fn view(state: &ChainState, name: &str) -> Option<AccountView> {
    state.accounts.get(name).map(|account| AccountView {
        balance: account.balance,
        nonce: account.nonce,
    })
}
