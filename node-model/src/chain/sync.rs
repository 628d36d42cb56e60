//! Block sync between peers, and what a node keeps on its disk.
//!
//! A node writes every block it accepts, every vote it casts (before sending it) and
//! the quorum of endorsements that justified its highest justified block, synced. The quorums matter
//! for liveness: a validator whose last vote used a source the others never saw
//! justified may not vote from an older source (that vote would surround its last one),
//! so after a crash it must still be able to prove that source to its peers. After a crash it rebuilds its tree from the blocks on
//! disk, recovers its last vote, and asks a peer for what it missed; after a data reset
//! it starts from genesis and syncs everything. Damaged records (a lost or corrupted
//! write, a failed read) are detected by the block hash and the decoder, skipped, and
//! fetched again from peers; an unreadable vote record makes the validator assume it
//! voted as high as any block it knows, so it can never vote twice for a height. A
//! validator whose data was reset knows nothing of its past votes: it listens for ten
//! block times and then votes only above every height it heard of.

use std::rc::Rc;

use sim_core::encoding::{decode, encode};
use sim_core::{Context, NodeId};

use crate::chain::adversary::Adversary;
use crate::chain::node::{ChainNode, LastVote};
use crate::chain::types::{Block, ChainEvent, ChainMessage, Endorsement};
use crate::crypto::CryptoHash;

const BLOCK_PREFIX: &str = "block/";
const QUORUM_KEY: &str = "quorum";
const VOTE_KEY: &str = "vote";
/// Attempts at reading one record before giving up on it.
const READ_ATTEMPTS: u32 = 3;
/// Block times a validator that lost its data waits, listening, before voting again.
const EMBARGO_SLOTS: u64 = 10;

impl ChainNode {
    /// Asks `peer` for canonical blocks above this node's final height (at most once a
    /// block time, however many reasons to sync arrive).
    pub(crate) fn request_sync(&mut self, ctx: &mut Context<'_, Self>, peer: NodeId) {
        // At most one request per block time, measured on the monotonic clock. (On the
        // wall clock, a validator whose clock was once a minute ahead stopped syncing for
        // that minute after it was set back: found by scenarios' property tests.)
        let now = ctx.monotonic_now();
        let block_time = self.setup.config.genesis.block_time;
        if self
            .sync_requested_at
            .is_some_and(|at| now < at.saturating_add(block_time))
        {
            return;
        }
        self.sync_requested_at = Some(now);
        let after_height = self.tree.final_entry().block.height;
        ctx.send(peer, ChainMessage::SyncRequest { after_height });
    }

    /// Sends `peer` a batch of canonical blocks above `after_height`.
    pub(crate) fn answer_sync(
        &mut self,
        ctx: &mut Context<'_, Self>,
        peer: NodeId,
        after_height: u64,
    ) {
        if self.is(Adversary::WithholdBlocks) {
            return;
        }
        let batch = self.overrides.sync_batch.unwrap_or(64).max(1) as usize;
        let blocks = self.tree.canonical_after(after_height, batch + 1);
        let more = blocks.len() > batch;
        let blocks: Vec<Rc<Block>> = blocks.into_iter().take(batch).collect();
        let justifications = blocks
            .iter()
            .flat_map(|block| self.tree.justifying_votes(block.hash).iter().copied())
            .collect();
        if !blocks.is_empty() {
            ctx.send(
                peer,
                ChainMessage::SyncResponse {
                    blocks,
                    justifications,
                    more,
                },
            );
        }
    }

    pub(crate) fn persist_block(&mut self, ctx: &mut Context<'_, Self>, block: &Block) {
        let key = format!("{BLOCK_PREFIX}{:012}/{:016x}", block.height, block.hash.0);
        ctx.disk().write(&key, encode(block));
        ctx.disk().sync();
    }

    /// Writes the quorum that justified the highest justified block (the source of this
    /// node's next vote; older ones its peers can supply) and syncs.
    pub(crate) fn persist_quorum(&mut self, ctx: &mut Context<'_, Self>) {
        let highest = self.tree.highest_justified().block.hash;
        let votes = self.tree.justifying_votes(highest);
        if !votes.is_empty() {
            ctx.disk().write(QUORUM_KEY, encode(votes));
            ctx.disk().sync();
        }
    }

    /// Writes the vote record — the last vote, whether a post-reset embargo is still on,
    /// and a checksum (a flipped bit must not lower the vote) — and syncs.
    pub(crate) fn persist_vote(&mut self, ctx: &mut Context<'_, Self>) {
        let record = (self.last_vote, self.vote_embargo_until.is_some());
        let checksum = CryptoHash::of(&record);
        ctx.disk().write(VOTE_KEY, encode(&(record, checksum)));
        ctx.disk().sync();
    }

    /// Decodes a vote record, refusing one whose checksum does not match.
    fn decode_vote(bytes: &[u8]) -> Option<(LastVote, bool)> {
        let (record, checksum) = decode::<((LastVote, bool), CryptoHash)>(bytes).ok()?;
        (CryptoHash::of(&record) == checksum).then_some(record)
    }

    /// Starts (or restarts) the listening period of a validator that lost its votes.
    fn start_embargo(&mut self, ctx: &mut Context<'_, Self>) {
        let wait = self
            .setup
            .config
            .genesis
            .block_time
            .saturating_mul(EMBARGO_SLOTS);
        self.vote_embargo_until = Some(ctx.monotonic_now().saturating_add(wait));
        self.persist_vote(ctx);
    }

    /// Reads one record, retrying failed reads.
    fn read_record(ctx: &mut Context<'_, Self>, key: &str) -> Option<Vec<u8>> {
        for _ in 0..READ_ATTEMPTS {
            if let Ok(value) = ctx.disk().read(key) {
                return value.map(<[u8]>::to_vec);
            }
        }
        None
    }

    /// Rebuilds the last vote and then the tree from disk after a crash. The vote comes
    /// first, so that replaying blocks cannot lead to a second vote for a height.
    pub(crate) fn restore(&mut self, ctx: &mut Context<'_, Self>) {
        // Read the quorum before replaying the blocks: replaying them justifies their
        // ancestors again, and each of those justifications rewrites the quorum record
        // (`report_finalized` -> `persist_quorum`) with a lower block's quorum. The record
        // may hold the only copy of a quorum that includes this validator's own vote
        // (one its peers never received), and its vote record may already use that block
        // as its source: lose it and the validator can never vote again.
        let quorum = Self::read_record(ctx, QUORUM_KEY);
        let keys: Vec<String> = ctx
            .disk()
            .keys()
            .into_iter()
            .filter(|key| key.starts_with(BLOCK_PREFIX))
            .collect();
        let height_of = |key: &str| key[BLOCK_PREFIX.len()..].split('/').next()?.parse().ok();
        let highest: u64 = keys
            .iter()
            .filter_map(|key| height_of(key))
            .max()
            .unwrap_or(0);
        let record = Self::read_record(ctx, VOTE_KEY);
        self.last_vote = match record.as_deref().map(Self::decode_vote) {
            Some(Some((vote, embargo))) => {
                if embargo && self.validator.is_some() {
                    self.start_embargo(ctx);
                }
                vote
            }
            None if highest == 0 => {
                // Nothing on disk: the data was reset. Like a validator whose slashing
                // protection database was lost, listen before voting, then vote only
                // above anything heard of. The embargo is recorded, so a crash during
                // it does not look like a damaged vote record.
                if self.validator.is_some() {
                    self.start_embargo(ctx);
                }
                LastVote::default()
            }
            _ => {
                ctx.observe(ChainEvent::Rejected {
                    reason: "damaged vote record",
                });
                LastVote {
                    target_height: highest,
                    source_height: highest,
                }
            }
        };
        let me = ctx.id();
        for key in keys {
            let block = Self::read_record(ctx, &key).and_then(|bytes| decode::<Block>(&bytes).ok());
            match block {
                Some(block) if block.content_hash() == block.hash => {
                    self.receive_block(ctx, Rc::new(block), me, false);
                }
                _ => ctx.observe(ChainEvent::Rejected {
                    reason: "damaged block on disk",
                }),
            }
        }
        self.restore_quorum(ctx, quorum);
    }

    /// Applies the quorum record read before the replay (damaged votes fail their
    /// signature check); justifying its block persists that quorum again.
    fn restore_quorum(&mut self, ctx: &mut Context<'_, Self>, record: Option<Vec<u8>>) {
        let votes = record.and_then(|bytes| decode::<Vec<Endorsement>>(&bytes).ok());
        for vote in votes.unwrap_or_default() {
            let finalized = self.add_vote(vote);
            self.report_finalized(ctx, &finalized);
        }
    }
}
