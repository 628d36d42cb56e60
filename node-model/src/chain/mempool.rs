//! Pending transactions, by shard, in nonce order per signer.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::chain::state::ChainState;
use crate::chain::types::{AccountId, SignedTransaction, shard_of};

/// The transactions a node knows and has not seen included yet.
#[derive(Debug)]
pub struct Mempool {
    shards: Vec<BTreeMap<(AccountId, u64), Rc<SignedTransaction>>>,
    capacity: usize,
    len: usize,
}

impl Mempool {
    /// An empty mempool for `shards` shards holding at most `capacity` transactions.
    pub fn new(shards: u32, capacity: usize) -> Mempool {
        Mempool {
            shards: vec![BTreeMap::new(); shards as usize],
            capacity,
            len: 0,
        }
    }

    /// The number of pending transactions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` if nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `tx`; returns `false` if it was already there or the pool is full.
    pub fn insert(&mut self, tx: Rc<SignedTransaction>) -> bool {
        if self.len >= self.capacity {
            return false;
        }
        let shard = shard_of(&tx.transfer.signer, self.shards.len() as u32) as usize;
        let key = (tx.transfer.signer.clone(), tx.transfer.nonce);
        if self.shards[shard].contains_key(&key) {
            return false;
        }
        self.shards[shard].insert(key, tx);
        self.len += 1;
        true
    }

    /// Chooses up to `per_chunk` transactions per shard that apply on top of `state`, in
    /// nonce order per signer, and forgets those that never can (stale nonces).
    pub fn select(&mut self, state: &ChainState, per_chunk: usize) -> Vec<Vec<SignedTransaction>> {
        let mut chunks = Vec::with_capacity(self.shards.len());
        for pool in &mut self.shards {
            pool.retain(|(signer, nonce), _| {
                state
                    .accounts
                    .get(signer)
                    .is_none_or(|account| *nonce > account.nonce)
            });
            let mut chunk = Vec::new();
            let mut spent: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for tx in pool.values() {
                if chunk.len() == per_chunk {
                    break;
                }
                let transfer = &tx.transfer;
                let Some(account) = state.accounts.get(&transfer.signer) else {
                    continue;
                };
                let (nonce, balance) = spent
                    .entry(&transfer.signer)
                    .or_insert((account.nonce, account.balance));
                if transfer.nonce > *nonce && transfer.amount <= *balance {
                    *nonce = transfer.nonce;
                    *balance -= transfer.amount;
                    chunk.push(SignedTransaction::clone(tx));
                }
            }
            chunks.push(chunk);
        }
        self.len = self.shards.iter().map(BTreeMap::len).sum();
        chunks
    }
}
