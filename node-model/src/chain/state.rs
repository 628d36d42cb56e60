//! The state after each block, and the rules that take a parent's state to a child's:
//! epochs and kick-out, the producer schedule, transaction execution and receipts.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::chain::config::ChainConfig;
use crate::chain::types::{
    AccountId, AppliedTransaction, Block, Receipt, SignedTransaction, ValidatorId, shard_of,
};
use crate::crypto::{CryptoHash, PublicKey, SecretKey};

/// An account: its balance, the last nonce it used, and its key (accounts created by a
/// transfer have no key and cannot send).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The balance.
    pub balance: u64,
    /// The highest nonce used so far.
    pub nonce: u64,
    /// The key that signs for the account.
    pub key: Option<PublicKey>,
}

/// Why a transaction in a block did not apply (the block itself stays valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxFailure {
    /// The nonce did not exceed the signer's last nonce (a replay or a reorder).
    InvalidNonce,
    /// The signer could not afford it.
    NotEnoughBalance,
    /// The signer does not exist.
    UnknownSigner,
}

/// What became of a transaction included in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxOutcome {
    /// Applied: the signer paid; the receiver is (or, across shards, will be) credited.
    Success,
    /// Included but not applied.
    Failed(TxFailure),
}

/// Why a block is invalid on top of its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The height does not exceed the parent's.
    NotAboveParent,
    /// Someone other than the scheduled producer made it.
    WrongProducer,
    /// A transaction's signature does not verify.
    InvalidTransactionSignature,
    /// A transaction sits in the wrong shard's chunk, or there are too many chunks.
    WrongShard,
    /// A chunk holds more transactions than genesis allows.
    ChunkTooLarge,
}

impl BlockError {
    /// A short, stable description for observations and logs.
    pub fn reason(self) -> &'static str {
        match self {
            BlockError::NotAboveParent => "height not above parent",
            BlockError::WrongProducer => "wrong producer",
            BlockError::InvalidTransactionSignature => "invalid transaction signature",
            BlockError::WrongShard => "transaction in wrong shard",
            BlockError::ChunkTooLarge => "chunk too large",
        }
    }
}

/// Everything derived from the genesis config, shared by all nodes of a cluster.
#[derive(Debug)]
pub struct ChainSetup {
    /// The configuration.
    pub config: ChainConfig,
    /// The genesis block.
    pub genesis_block: Block,
    /// The state at genesis.
    pub genesis_state: ChainState,
    /// Each validator's public key, by validator index.
    pub validator_keys: Vec<PublicKey>,
    /// The sum of all balances at genesis: conserved forever.
    pub total_supply: u64,
}

impl ChainSetup {
    /// Derives genesis from a (validated) config.
    pub fn new(config: ChainConfig) -> ChainSetup {
        let chain_id = config.genesis.chain_id;
        let key = |name: &str| SecretKey::derive(chain_id, name).public_key();
        let mut accounts = BTreeMap::new();
        for (name, &balance) in &config.genesis.balances {
            accounts.insert(
                AccountId::from(name.as_str()),
                Account {
                    balance,
                    nonce: 0,
                    key: Some(key(name)),
                },
            );
        }
        let validators: Vec<(ValidatorId, u64)> = (0..config.validators)
            .map(|v| (ValidatorId(v), config.stake(v)))
            .collect();
        for v in 0..config.validators {
            let name = config.node_name(v);
            let balance = config.genesis.default_balance;
            accounts
                .entry(AccountId::from(name.as_str()))
                .or_insert(Account {
                    balance,
                    nonce: 0,
                    key: Some(key(&name)),
                });
        }
        let genesis_block = Block::genesis(chain_id);
        let total_supply = accounts.values().map(|a| a.balance).sum();
        let genesis_state = ChainState {
            block: genesis_block.hash,
            parent: genesis_block.parent,
            schedule: Schedule {
                height: 0,
                epoch: 0,
                produced: vec![0; validators.len()],
                expected: vec![0; validators.len()],
                validators,
                epoch_start: 0,
                frozen: None,
            },
            finality: Finality {
                justified: (genesis_block.hash, 0),
                final_height: 0,
            },
            accounts,
            pending_receipts: Vec::new(),
        };
        let validator_keys = (0..config.validators)
            .map(|v| key(&config.node_name(v)))
            .collect();
        ChainSetup {
            config,
            genesis_block,
            genesis_state,
            validator_keys,
            total_supply,
        }
    }

    /// Every genesis account holding a balance (not the validators' own), in name order:
    /// what client workloads send between.
    pub fn accounts(&self) -> Vec<AccountId> {
        self.config
            .genesis
            .balances
            .keys()
            .map(|name| AccountId::from(name.as_str()))
            .collect()
    }

    /// The secret key of account `name` (for its owner only: a validator's node, a
    /// client's wallet).
    pub fn secret_key(&self, name: &str) -> SecretKey {
        SecretKey::derive(self.config.genesis.chain_id, name)
    }
}

/// Who produces which height: the epoch's validators and how well they produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The height this schedule has been advanced to.
    pub height: u64,
    /// The epoch.
    pub epoch: u64,
    /// The epoch's validators and their stakes, by validator id.
    pub validators: Vec<(ValidatorId, u64)>,
    /// Blocks produced in this epoch, parallel to `validators`.
    pub produced: Vec<u64>,
    /// Blocks expected in this epoch, parallel to `validators`.
    pub expected: Vec<u64>,
    /// The height of the parent of the epoch's first block (0 for the first epoch).
    pub epoch_start: u64,
    /// The counters as of the epoch's last block: the last block of the chain at or below
    /// `epoch_start + epoch_length`, recorded once the chain passes that height.
    pub frozen: Option<Frozen>,
}

/// The production counters of an epoch, frozen at its last block.
///
/// The epoch ends (and kick-outs happen) only once the chain proves that block final
/// (see [`Finality`]). Every fork agrees on final blocks, so every fork computes the same
/// next validator set; a fork no supermajority follows (an isolated validator's, one side
/// of an even split) cannot count the others out and then finalize on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frozen {
    /// The height of the epoch's last block.
    pub height: u64,
    /// Blocks produced, parallel to the validators.
    pub produced: Vec<u64>,
    /// Blocks expected, parallel to the validators.
    pub expected: Vec<u64>,
}

/// Justification and finality as the chain itself proves them: from the endorsements
/// each block carries for its parent. Unlike a node's local view, this is the same for
/// every node that applies the block, so consensus rules (the epoch switch) may use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finality {
    /// The last block justified on chain, and its height.
    pub justified: (CryptoHash, u64),
    /// The height of the last block final on chain.
    pub final_height: u64,
}

/// The state after a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainState {
    /// The block's hash.
    pub block: CryptoHash,
    /// The block's parent.
    pub parent: CryptoHash,
    /// The producer schedule as of this block.
    pub schedule: Schedule,
    /// Justification and finality proven on chain up to this block.
    pub finality: Finality,
    /// Every account.
    pub accounts: BTreeMap<AccountId, Account>,
    /// Credits for other shards, applied by the next block.
    pub pending_receipts: Vec<Receipt>,
}

impl Schedule {
    /// The total stake of the epoch's validators.
    pub fn total_stake(&self) -> u64 {
        self.validators.iter().map(|&(_, stake)| stake).sum()
    }

    /// The stake of `validator` in this epoch (0 if it is not a validator now).
    pub fn stake_of(&self, validator: ValidatorId) -> u64 {
        self.position(validator).map_or(0, |i| self.validators[i].1)
    }

    fn position(&self, validator: ValidatorId) -> Option<usize> {
        self.validators.iter().position(|&(v, _)| v == validator)
    }

    /// The validator scheduled to produce `height` in this state's epoch: a
    /// stake-weighted draw that every node computes alike.
    pub fn producer_for(&self, chain_id: u64, height: u64) -> ValidatorId {
        let total = self.total_stake();
        assert!(total > 0, "an epoch always has validators");
        let mut ticket = CryptoHash::of(&("producer", chain_id, self.epoch, height)).0 % total;
        for &(validator, stake) in &self.validators {
            if ticket < stake {
                return validator;
            }
            ticket -= stake;
        }
        unreachable!("the ticket is below the total stake")
    }

    /// Ends the epoch: removes validators whose frozen counters fall below the kick-out
    /// threshold, but keeps at least `min_validators` (the best producers, by ratio),
    /// and starts counting afresh.
    fn start_epoch(&mut self, frozen: Frozen, kickout_threshold_percent: u32, min_validators: u32) {
        let threshold = u64::from(kickout_threshold_percent);
        // Production ratio in millionths (a validator never expected to produce ranks
        // first); ties keep validator order.
        let ratio = |i: usize| {
            let produced = frozen.produced[i] * 1_000_000;
            produced.checked_div(frozen.expected[i]).unwrap_or(u64::MAX)
        };
        let mut ranked: Vec<usize> = (0..self.validators.len()).collect();
        ranked.sort_by_key(|&i| (std::cmp::Reverse(ratio(i)), self.validators[i].0));
        let passes = |i: usize| {
            frozen.expected[i] == 0 || frozen.produced[i] * 100 >= threshold * frozen.expected[i]
        };
        let keep = ranked
            .iter()
            .filter(|&&i| passes(i))
            .count()
            .max(min_validators as usize);
        let mut kept: Vec<usize> = ranked.into_iter().take(keep).collect();
        kept.sort_unstable();
        self.validators = kept.into_iter().map(|i| self.validators[i]).collect();
        self.epoch += 1;
        self.epoch_start = self.height;
        self.produced = vec![0; self.validators.len()];
        self.expected = vec![0; self.validators.len()];
    }

    /// Moves the schedule from its block to a child at `height`, given the parent's
    /// on-chain final height: ends the epoch if its last block is final, freezes the
    /// counters if the child passes the epoch's end, then counts an expected block for
    /// every height up to `height` (and, if `produced`, a produced one there). Returns
    /// the producer scheduled for `height`.
    fn advance(
        &mut self,
        setup: &ChainSetup,
        height: u64,
        produced: bool,
        final_height: u64,
    ) -> Option<ValidatorId> {
        let genesis = &setup.config.genesis;
        if self
            .frozen
            .as_ref()
            .is_some_and(|f| final_height >= f.height)
        {
            let frozen = self.frozen.take().expect("checked above");
            let min_validators = setup.config.min_validators();
            self.start_epoch(frozen, genesis.kickout_threshold_percent, min_validators);
        }
        let end = self.epoch_start + genesis.epoch_length;
        if self.frozen.is_none() && height > end && self.height <= end {
            self.frozen = Some(Frozen {
                height: self.height,
                produced: self.produced.clone(),
                expected: self.expected.clone(),
            });
        }
        let mut last = None;
        for k in self.height + 1..=height {
            let producer = self.producer_for(genesis.chain_id, k);
            let index = self
                .position(producer)
                .expect("the producer is a validator");
            self.expected[index] += 1;
            if produced && k == height {
                self.produced[index] += 1;
            }
            last = Some(producer);
        }
        self.height = self.height.max(height);
        last
    }
}

/// The result of applying a block.
#[derive(Debug)]
pub struct Applied {
    /// The state after the block.
    pub state: ChainState,
    /// The outcome of each transaction, in block order.
    pub outcomes: Vec<(CryptoHash, TxOutcome)>,
    /// The transactions that applied, for the finality checkers.
    pub applied: Vec<AppliedTransaction>,
}

impl ChainState {
    /// The sum of balances and of credits in flight: conserved by every block.
    pub fn total_supply(&self) -> u64 {
        let balances: u64 = self.accounts.values().map(|a| a.balance).sum();
        balances + self.pending_receipts.iter().map(|r| r.amount).sum::<u64>()
    }

    /// The block's height.
    pub fn height(&self) -> u64 {
        self.schedule.height
    }

    /// The block's epoch.
    pub fn epoch(&self) -> u64 {
        self.schedule.epoch
    }

    /// The epoch's validators.
    pub fn validators(&self) -> impl Iterator<Item = ValidatorId> + '_ {
        self.schedule.validators.iter().map(|&(v, _)| v)
    }

    /// The stake of `validator` in this epoch (0 if it is not a validator now).
    pub fn stake_of(&self, validator: ValidatorId) -> u64 {
        self.schedule.stake_of(validator)
    }

    /// The total stake of the epoch's validators.
    pub fn total_stake(&self) -> u64 {
        self.schedule.total_stake()
    }

    /// The schedule for producing at `height` on top of this state: the same epoch, or
    /// the next one's if `height` crosses a boundary. Tells who produces `height`.
    pub fn schedule_for(&self, setup: &ChainSetup, height: u64) -> Schedule {
        let mut schedule = self.schedule.clone();
        schedule.advance(setup, height, false, self.finality.final_height);
        schedule
    }

    /// Applies `block` on top of this state (which must be its parent's).
    pub fn apply(&self, setup: &ChainSetup, block: &Block) -> Result<Applied, BlockError> {
        if block.height <= self.height() {
            return Err(BlockError::NotAboveParent);
        }
        // The schedule advances on what the parent proved; what this block proves takes
        // effect for its children, so that a producer knows beforehand whose turn it is.
        let mut schedule = self.schedule.clone();
        let final_height = self.finality.final_height;
        if schedule.advance(setup, block.height, true, final_height) != Some(block.producer) {
            return Err(BlockError::WrongProducer);
        }
        let finality = self.prove_finality(setup, block);
        let mut state = self.clone();
        state.schedule = schedule;
        state.finality = finality;
        state.block = block.hash;
        state.parent = block.parent;
        for receipt in std::mem::take(&mut state.pending_receipts) {
            state.credit(&receipt.receiver, receipt.amount);
        }
        let shards = setup.config.shards;
        if block.chunks.len() > shards as usize {
            return Err(BlockError::WrongShard);
        }
        let mut outcomes = Vec::with_capacity(block.transaction_count());
        let mut applied = Vec::new();
        for (shard, chunk) in block.chunks.iter().enumerate() {
            if chunk.len() > setup.config.genesis.max_txs_per_chunk as usize {
                return Err(BlockError::ChunkTooLarge);
            }
            for tx in chunk {
                if shard_of(&tx.transfer.signer, shards) != shard as u32 {
                    return Err(BlockError::WrongShard);
                }
                let outcome = state.execute(tx, shards)?;
                if outcome == TxOutcome::Success {
                    applied.push(AppliedTransaction {
                        hash: tx.hash,
                        signer: tx.transfer.signer.clone(),
                        nonce: tx.transfer.nonce,
                    });
                }
                outcomes.push((tx.hash, outcome));
            }
        }
        Ok(Applied {
            state,
            outcomes,
            applied,
        })
    }

    /// Updates on-chain finality with the endorsements `block` carries for its parent
    /// (this state's block): the parent is justified if more than 2/3 of the epoch's
    /// stake endorsed it from the on-chain justified source; the source is then final if
    /// the parent is its child at the next height.
    fn prove_finality(&self, setup: &ChainSetup, block: &Block) -> Finality {
        let mut finality = self.finality;
        let (source, source_height) = finality.justified;
        let mut voters: Vec<ValidatorId> = block
            .justification
            .iter()
            .filter(|vote| {
                vote.target == self.block
                    && vote.target_height == self.height()
                    && vote.source == source
                    && vote.source_height == source_height
                    && setup
                        .validator_keys
                        .get(vote.validator.0 as usize)
                        .is_some_and(|key| key.verify(vote.message(), vote.signature))
            })
            .map(|vote| vote.validator)
            .collect();
        voters.sort_unstable();
        voters.dedup();
        let stake: u64 = voters.iter().map(|&v| self.schedule.stake_of(v)).sum();
        if self.height() == source_height || 3 * stake <= 2 * self.schedule.total_stake() {
            return finality;
        }
        finality.justified = (self.block, self.height());
        if self.parent == source && source_height + 1 == self.height() {
            finality.final_height = source_height;
        }
        finality
    }

    /// Checks a transaction against this state without applying it (for mempools).
    pub fn check(&self, tx: &SignedTransaction) -> Result<(), TxFailure> {
        let account = self
            .accounts
            .get(&tx.transfer.signer)
            .ok_or(TxFailure::UnknownSigner)?;
        if tx.transfer.nonce <= account.nonce {
            return Err(TxFailure::InvalidNonce);
        }
        if account.balance < tx.transfer.amount {
            return Err(TxFailure::NotEnoughBalance);
        }
        Ok(())
    }

    /// Does `tx` carry its signer's valid signature?
    pub fn signature_valid(&self, tx: &SignedTransaction) -> bool {
        let key = self.accounts.get(&tx.transfer.signer).and_then(|a| a.key);
        key.is_some_and(|key| {
            tx.hash == crate::crypto::CryptoHash::of(&tx.transfer)
                && key.verify(tx.hash, tx.signature)
        })
    }

    fn execute(&mut self, tx: &SignedTransaction, shards: u32) -> Result<TxOutcome, BlockError> {
        if !self.signature_valid(tx) {
            return Err(BlockError::InvalidTransactionSignature);
        }
        if let Err(failure) = self.check(tx) {
            return Ok(TxOutcome::Failed(failure));
        }
        let transfer = &tx.transfer;
        let signer = self
            .accounts
            .get_mut(&transfer.signer)
            .expect("checked above");
        signer.balance -= transfer.amount;
        signer.nonce = transfer.nonce;
        if shard_of(&transfer.receiver, shards) == shard_of(&transfer.signer, shards) {
            self.credit(&transfer.receiver, transfer.amount);
        } else {
            self.pending_receipts.push(Receipt {
                receiver: transfer.receiver.clone(),
                amount: transfer.amount,
                origin: tx.hash,
            });
        }
        Ok(TxOutcome::Success)
    }

    fn credit(&mut self, account: &AccountId, amount: u64) {
        let entry = self.accounts.entry(Rc::clone(account)).or_insert(Account {
            balance: 0,
            nonce: 0,
            key: None,
        });
        entry.balance += amount;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::types::Transfer;
    use sim_core::SimTime;

    fn setup(shards: u32) -> ChainSetup {
        ChainSetup::new(ChainConfig {
            shards,
            ..ChainConfig::default()
        })
    }

    fn transfer(
        setup: &ChainSetup,
        from: &str,
        to: &str,
        amount: u64,
        nonce: u64,
    ) -> SignedTransaction {
        let transfer = Transfer {
            signer: AccountId::from(from),
            receiver: AccountId::from(to),
            amount,
            nonce,
        };
        SignedTransaction::sign(transfer, &setup.secret_key(from))
    }

    /// Endorsements of `parent` by `voters`, from the on-chain justified source.
    fn votes(
        setup: &ChainSetup,
        parent: &ChainState,
        voters: &[u32],
    ) -> Vec<crate::chain::types::Endorsement> {
        let (source, source_height) = parent.finality.justified;
        voters
            .iter()
            .map(|&v| {
                let key = setup.secret_key(&setup.config.node_name(v));
                let message = crate::chain::types::Endorsement::signed_hash(
                    parent.block,
                    parent.height(),
                    source,
                    source_height,
                );
                crate::chain::types::Endorsement {
                    validator: ValidatorId(v),
                    target: parent.block,
                    target_height: parent.height(),
                    source,
                    source_height,
                    signature: key.sign(message),
                }
            })
            .collect()
    }

    fn block_with_votes(
        setup: &ChainSetup,
        parent: &ChainState,
        height: u64,
        txs: Vec<SignedTransaction>,
        voters: &[u32],
    ) -> Block {
        let producer = parent.schedule_for(setup, height).producer_for(1, height);
        let mut chunks = vec![Vec::new(); setup.config.shards as usize];
        for tx in txs {
            chunks[shard_of(&tx.transfer.signer, setup.config.shards) as usize].push(tx);
        }
        let key = setup.secret_key(&setup.config.node_name(producer.0));
        let justification = votes(setup, parent, voters);
        Block::new(
            height,
            parent.block,
            producer,
            SimTime::ZERO,
            chunks,
            justification,
            &key,
        )
    }

    fn block(
        setup: &ChainSetup,
        parent: &ChainState,
        height: u64,
        txs: Vec<SignedTransaction>,
    ) -> Block {
        block_with_votes(setup, parent, height, txs, &[])
    }

    /// Builds blocks skipping `absent`'s heights, with `voters` endorsing every block,
    /// until the chain leaves epoch 0 (or 3 epochs' worth of heights pass); returns the
    /// epoch reached and its validators.
    fn epoch_without(absent: ValidatorId, voters: &[u32]) -> (u64, Vec<ValidatorId>) {
        let setup = setup(1);
        let mut state = setup.genesis_state.clone();
        for height in 1..=3 * setup.config.genesis.epoch_length {
            let producer = state.schedule_for(&setup, height).producer_for(1, height);
            if producer == absent {
                continue;
            }
            let b = block_with_votes(&setup, &state, height, Vec::new(), voters);
            state = state.apply(&setup, &b).unwrap().state;
            if state.epoch() > 0 {
                break;
            }
        }
        (state.epoch(), state.validators().collect())
    }

    #[test]
    fn a_transfer_moves_balance_and_uses_the_nonce() {
        let setup = setup(1);
        let genesis = &setup.genesis_state;
        let b = block(
            &setup,
            genesis,
            1,
            vec![transfer(&setup, "alice", "bob", 10, 1)],
        );
        let applied = genesis.apply(&setup, &b).unwrap();
        assert_eq!(
            applied.outcomes,
            [(b.chunks[0][0].hash, TxOutcome::Success)]
        );
        assert_eq!(applied.state.accounts["alice"].balance, 999_990);
        assert_eq!(applied.state.accounts["alice"].nonce, 1);
        assert_eq!(applied.state.accounts["bob"].balance, 1_000_010);
        assert_eq!(applied.state.total_supply(), setup.total_supply);
    }

    #[test]
    fn replayed_nonces_and_overdrafts_fail_without_effect() {
        let setup = setup(1);
        let first = transfer(&setup, "alice", "bob", 10, 5);
        let replay = transfer(&setup, "alice", "carol", 10, 5);
        let overdraft = transfer(&setup, "bob", "carol", 10_000_000, 1);
        let b = block(
            &setup,
            &setup.genesis_state,
            1,
            vec![first, replay, overdraft],
        );
        let applied = setup.genesis_state.apply(&setup, &b).unwrap();
        let outcomes: Vec<TxOutcome> = applied.outcomes.iter().map(|&(_, o)| o).collect();
        assert_eq!(
            outcomes,
            [
                TxOutcome::Success,
                TxOutcome::Failed(TxFailure::InvalidNonce),
                TxOutcome::Failed(TxFailure::NotEnoughBalance)
            ]
        );
        assert_eq!(applied.applied.len(), 1);
    }

    #[test]
    fn a_forged_signature_invalidates_the_block() {
        let setup = setup(1);
        let mut forged = transfer(&setup, "alice", "bob", 10, 1);
        forged.transfer.amount = 500_000; // tampered after signing
        forged.hash = CryptoHash::of(&forged.transfer);
        let b = block(&setup, &setup.genesis_state, 1, vec![forged]);
        let error = setup.genesis_state.apply(&setup, &b).unwrap_err();
        assert_eq!(error, BlockError::InvalidTransactionSignature);
    }

    #[test]
    fn cross_shard_transfers_are_credited_by_the_next_block() {
        let setup = setup(4);
        let (from, to) = ["alice", "bob", "carol"]
            .iter()
            .flat_map(|a| ["alice", "bob", "carol"].map(move |b| (*a, b)))
            .find(|(a, b)| shard_of(a, 4) != shard_of(b, 4))
            .expect("some pair of accounts lives on different shards");
        let b1 = block(
            &setup,
            &setup.genesis_state,
            1,
            vec![transfer(&setup, from, to, 7, 1)],
        );
        let s1 = setup.genesis_state.apply(&setup, &b1).unwrap().state;
        assert_eq!(s1.accounts[to].balance, 1_000_000, "not yet credited");
        assert_eq!(s1.pending_receipts.len(), 1);
        assert_eq!(
            s1.total_supply(),
            setup.total_supply,
            "receipts count as supply"
        );
        let b2 = block(&setup, &s1, 2, Vec::new());
        let s2 = s1.apply(&setup, &b2).unwrap().state;
        assert_eq!(s2.accounts[to].balance, 1_000_007);
        assert!(s2.pending_receipts.is_empty());
    }

    #[test]
    fn only_the_scheduled_producer_may_produce() {
        let setup = setup(1);
        let mut b = block(&setup, &setup.genesis_state, 1, Vec::new());
        b.producer = ValidatorId((b.producer.0 + 1) % 4);
        assert_eq!(
            setup.genesis_state.apply(&setup, &b).unwrap_err(),
            BlockError::WrongProducer
        );
    }

    #[test]
    fn a_validator_that_misses_its_blocks_is_kicked_out_at_the_epoch_switch() {
        let (epoch, next) = epoch_without(ValidatorId(2), &[0, 1, 3]);
        assert_eq!(epoch, 1);
        assert_eq!(next, [ValidatorId(0), ValidatorId(1), ValidatorId(3)]);
    }

    #[test]
    fn without_finality_on_chain_the_epoch_does_not_end() {
        // A lone validator's fork: only its own endorsements, never a supermajority, so
        // it can neither finalize the epoch's last block nor vote the others out.
        let (epoch, validators) = epoch_without(ValidatorId(2), &[0]);
        assert_eq!(epoch, 0);
        assert_eq!(validators.len(), 4);
    }

    #[test]
    fn endorsements_in_blocks_prove_justification_and_finality_on_chain() {
        let setup = setup(1);
        let s0 = setup.genesis_state.clone();
        let b1 = block(&setup, &s0, 1, Vec::new());
        let s1 = s0.apply(&setup, &b1).unwrap().state;
        let b2 = block_with_votes(&setup, &s1, 2, Vec::new(), &[0, 1, 2]);
        let s2 = s1.apply(&setup, &b2).unwrap().state;
        assert_eq!(s2.finality.justified, (b1.hash, 1));
        let b3 = block_with_votes(&setup, &s2, 3, Vec::new(), &[0, 1]);
        let s3 = s2.apply(&setup, &b3).unwrap().state;
        assert_eq!(
            s3.finality.justified,
            (b1.hash, 1),
            "two of four is not enough"
        );
        let b4 = block_with_votes(&setup, &s3, 4, Vec::new(), &[1, 2, 3]);
        let s4 = s3.apply(&setup, &b4).unwrap().state;
        assert_eq!(s4.finality.justified.1, 3);
        assert_eq!(s4.finality.final_height, 0, "3 does not follow 1 directly");
        let b5 = block_with_votes(&setup, &s4, 5, Vec::new(), &[0, 2, 3]);
        let s5 = s4.apply(&setup, &b5).unwrap().state;
        assert_eq!(s5.finality.final_height, 3);
    }

    #[test]
    fn producers_follow_stake() {
        let mut config = ChainConfig::default();
        config.genesis.stakes = vec![700, 100, 100, 100];
        let setup = ChainSetup::new(config);
        let state = &setup.genesis_state;
        let heavy = (1..=1_000)
            .filter(|&h| state.schedule.producer_for(1, h) == ValidatorId(0))
            .count();
        assert!((620..780).contains(&heavy), "{heavy} of 1000");
    }
}
