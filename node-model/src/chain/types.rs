//! The chain's data: transactions, receipts, endorsements, blocks and messages.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sim_core::SimTime;

use crate::crypto::{CryptoHash, SecretKey, Signature};

/// An account's name, as the scenario gives it ("alice", "validator-2"). Shared, since
/// every transaction, state and receipt names accounts and cloning must be cheap.
pub type AccountId = Rc<str>;

/// A validator's index in the genesis validator list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ValidatorId(pub u32);

impl fmt::Display for ValidatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "validator-{}", self.0)
    }
}

/// The shard an account lives in.
pub fn shard_of(account: &str, shards: u32) -> u32 {
    (CryptoHash::of(account).0 % u64::from(shards)) as u32
}

/// A transfer of `amount` from `signer` to `receiver`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    /// The paying account, whose key signs.
    pub signer: AccountId,
    /// The paid account.
    pub receiver: AccountId,
    /// How much.
    pub amount: u64,
    /// Must exceed the signer's last used nonce.
    pub nonce: u64,
}

/// A transfer with its hash and the signer's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// What is transferred.
    pub transfer: Transfer,
    /// The hash of `transfer`: the transaction's identity.
    pub hash: CryptoHash,
    /// The signer's signature of `hash`.
    pub signature: Signature,
}

impl SignedTransaction {
    /// Signs `transfer` with `key`.
    pub fn sign(transfer: Transfer, key: &SecretKey) -> SignedTransaction {
        let hash = CryptoHash::of(&transfer);
        SignedTransaction {
            signature: key.sign(hash),
            hash,
            transfer,
        }
    }
}

/// A credit to an account on another shard, applied in a later block.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Receipt {
    /// The account to credit.
    pub receiver: AccountId,
    /// How much.
    pub amount: u64,
    /// The transaction that sent it.
    pub origin: CryptoHash,
}

/// A validator's vote that `target` extends the justified `source` (Casper-FFG style).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endorsement {
    /// Who votes.
    pub validator: ValidatorId,
    /// The block voted for.
    pub target: CryptoHash,
    /// Its height.
    pub target_height: u64,
    /// The highest justified block the voter knew, an ancestor of `target`.
    pub source: CryptoHash,
    /// Its height.
    pub source_height: u64,
    /// The validator's signature of the four fields above.
    pub signature: Signature,
}

impl Endorsement {
    /// The hash a validator signs.
    pub fn signed_hash(
        target: CryptoHash,
        target_height: u64,
        source: CryptoHash,
        source_height: u64,
    ) -> CryptoHash {
        CryptoHash::of(&("endorse", target, target_height, source, source_height))
    }

    /// This endorsement's signed hash.
    pub fn message(&self) -> CryptoHash {
        Endorsement::signed_hash(
            self.target,
            self.target_height,
            self.source,
            self.source_height,
        )
    }
}

/// A block: transactions of every shard on top of a parent, with the endorsements the
/// producer collected for its ancestors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Its height; heights may skip when a producer missed its turn.
    pub height: u64,
    /// The parent block.
    pub parent: CryptoHash,
    /// The validator scheduled for this height.
    pub producer: ValidatorId,
    /// The producer's clock when it produced the block.
    pub timestamp: SimTime,
    /// Transactions, by shard (`chunks[s]` holds shard `s`).
    pub chunks: Vec<Vec<SignedTransaction>>,
    /// Endorsements of the parent (and other recent blocks) the producer had seen.
    pub justification: Vec<Endorsement>,
    /// The hash of everything above.
    pub hash: CryptoHash,
    /// The producer's signature of `hash`.
    pub signature: Signature,
}

/// The parts of a block that its hash covers.
#[derive(Hash)]
struct BlockContent<'a> {
    height: u64,
    parent: CryptoHash,
    producer: ValidatorId,
    timestamp: SimTime,
    transactions: Vec<Vec<CryptoHash>>,
    justification: &'a [Endorsement],
}

impl Block {
    /// Builds and signs a block.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        height: u64,
        parent: CryptoHash,
        producer: ValidatorId,
        timestamp: SimTime,
        chunks: Vec<Vec<SignedTransaction>>,
        justification: Vec<Endorsement>,
        key: &SecretKey,
    ) -> Block {
        let mut block = Block {
            height,
            parent,
            producer,
            timestamp,
            chunks,
            justification,
            hash: CryptoHash::default(),
            signature: Signature(0),
        };
        block.hash = block.content_hash();
        block.signature = key.sign(block.hash);
        block
    }

    /// The genesis block of a chain.
    pub fn genesis(chain_id: u64) -> Block {
        let mut block = Block {
            height: 0,
            parent: CryptoHash(chain_id),
            producer: ValidatorId(0),
            timestamp: SimTime::ZERO,
            chunks: Vec::new(),
            justification: Vec::new(),
            hash: CryptoHash::default(),
            signature: Signature(0),
        };
        block.hash = block.content_hash();
        block
    }

    /// The hash the block's content should have; differs from `hash` if it was tampered
    /// with or corrupted.
    pub fn content_hash(&self) -> CryptoHash {
        let content = BlockContent {
            height: self.height,
            parent: self.parent,
            producer: self.producer,
            timestamp: self.timestamp,
            transactions: self
                .chunks
                .iter()
                .map(|chunk| chunk.iter().map(|tx| tx.hash).collect())
                .collect(),
            justification: &self.justification,
        };
        CryptoHash::of(&content)
    }

    /// Every transaction, shard by shard.
    pub fn transactions(&self) -> impl Iterator<Item = &SignedTransaction> {
        self.chunks.iter().flatten()
    }

    /// The number of transactions.
    pub fn transaction_count(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }
}

impl ChainMessage {
    /// Every kind, as [`ChainMessage::kind`] names them.
    pub const KINDS: [&'static str; 5] = [
        "Block",
        "Endorsement",
        "Transaction",
        "SyncRequest",
        "SyncResponse",
    ];

    /// Its kind, for traces and for faults that strike after a given kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ChainMessage::Block(_) => "Block",
            ChainMessage::Endorsement(_) => "Endorsement",
            ChainMessage::Transaction(_) => "Transaction",
            ChainMessage::SyncRequest { .. } => "SyncRequest",
            ChainMessage::SyncResponse { .. } => "SyncResponse",
        }
    }
}

/// What chain nodes send each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainMessage {
    /// A new block, from its producer.
    Block(Rc<Block>),
    /// A validator's vote.
    Endorsement(Endorsement),
    /// A transaction to include.
    Transaction(Rc<SignedTransaction>),
    /// "Send me your canonical blocks above this height."
    SyncRequest {
        /// The requester's finalized height.
        after_height: u64,
    },
    /// Canonical blocks in increasing height, with the endorsements that justified them.
    SyncResponse {
        /// The blocks.
        blocks: Vec<Rc<Block>>,
        /// For each justified block among them, the quorum that justified it.
        justifications: Vec<Endorsement>,
        /// `true` if the responder has more above the last one.
        more: bool,
    },
}

/// Hashes a message by identity (block and transaction hashes, not their contents),
/// which is what the trace needs and costs a few words per delivery.
impl Hash for ChainMessage {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            ChainMessage::Block(block) => (0_u8, block.hash).hash(state),
            ChainMessage::Endorsement(endorsement) => (1_u8, endorsement).hash(state),
            ChainMessage::Transaction(tx) => (2_u8, tx.hash).hash(state),
            ChainMessage::SyncRequest { after_height } => (3_u8, after_height).hash(state),
            ChainMessage::SyncResponse {
                blocks,
                justifications,
                more,
            } => {
                (4_u8, more, justifications).hash(state);
                blocks.iter().for_each(|block| block.hash.hash(state));
            }
        }
    }
}

/// The chain node's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainTimer {
    /// A block time passed: maybe produce, maybe note a missed height.
    Slot,
    /// An adversary's periodic mischief.
    Mischief,
}

/// A transaction as the finality checkers track it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AppliedTransaction {
    /// Its hash.
    pub hash: CryptoHash,
    /// Who signed it.
    pub signer: AccountId,
    /// Its nonce.
    pub nonce: u64,
}

/// What chain nodes report to the checkers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainEvent {
    /// The node finalized a block (reported for every block of the final chain, in order).
    Finalized {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: CryptoHash,
        /// Its parent.
        parent: CryptoHash,
        /// The transactions it applied successfully.
        applied: Vec<AppliedTransaction>,
    },
    /// The node finalized the first block of a new epoch.
    EpochStarted {
        /// The epoch.
        epoch: u64,
        /// Its validator set.
        validators: Vec<ValidatorId>,
    },
    /// The node rejected something a peer or client sent.
    Rejected {
        /// Why, in a stable short form (`"invalid signature"`, `"wrong producer"`, ...).
        reason: &'static str,
    },
    /// An adversary carried out its attack (for "sometimes" checks).
    Attack {
        /// Which attack.
        kind: &'static str,
    },
}
