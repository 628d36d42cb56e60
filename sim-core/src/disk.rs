//! Each node's durable storage: an in-memory key-value store owned by the simulator.
//!
//! A write is visible to later reads at once but becomes *durable* only when the node
//! calls [`Disk::sync`]. A crash throws away every write since the last sync; a data
//! reset throws away everything. This is the contract of `write` + `fsync` on a real
//! file system, and protocols that reply before syncing lose data here exactly as they
//! would in production.
//!
//! # Faults
//!
//! With [`DiskFaults`] (off by default, drawn from the disk's own seeded stream):
//! - a **lost write** is acknowledged by `sync` but never reaches the platter: the
//!   node keeps seeing it until it crashes, then it is gone;
//! - a **corrupted write** reaches the platter with one byte flipped: after a crash
//!   the node reads back a damaged value and must detect it (checksums);
//! - a **read error** makes one read fail; reading again may succeed.
//!
//! Nothing else can go wrong: synced, uncorrupted data always survives a crash.
//!
//! # Storage of a type of your own
//!
//! The engine's faults reach only this disk. A node that keeps its durable state in a
//! type of its own (a library's in-memory log store, say) loses that copy with the
//! rest of its memory at a crash, which is right, but nothing of it comes back unless
//! it was also written here. So write through: stage every durable change on the disk
//! as you make it in your type, [`Disk::sync`] where your storage would fsync, and
//! rebuild your type from the disk in `on_recover`. Encode values with
//! [`crate::encoding`]. detsim's raft-rs adapter does this with raft-rs's `MemStorage`
//! (`node-model/src/raft_rs/storage.rs`).
//!
//! ```
//! use sim_core::encoding::{decode, encode};
//! use sim_core::{Disk, SimRng};
//!
//! /// A store of the node's own, kept on the disk as well, one key per entry.
//! #[derive(Default)]
//! struct Log(Vec<String>);
//!
//! impl Log {
//!     fn append(&mut self, disk: &mut Disk, entry: &str) {
//!         self.0.push(entry.to_string());
//!         disk.write(&format!("log/{:020}", self.0.len()), encode(entry));
//!         disk.write("log/len", encode(&self.0.len()));
//!     }
//!
//!     /// The log as the disk holds it, after a restart.
//!     fn load(disk: &mut Disk) -> Log {
//!         let len: usize = disk.peek("log/len").map_or(0, |b| decode(b).unwrap());
//!         let entry = |i: usize| decode(disk.peek(&format!("log/{i:020}")).unwrap()).unwrap();
//!         Log((1..=len).map(entry).collect())
//!     }
//! }
//!
//! let mut disk = Disk::new(SimRng::new(1, "disk"));
//! let mut log = Log::default();
//! log.append(&mut disk, "x = 1");
//! disk.sync(); // Where the store would fsync.
//! log.append(&mut disk, "x = 2");
//! // (A crash here loses "x = 2"; what was synced comes back.)
//! assert_eq!(Log::load(&mut disk).0, ["x = 1", "x = 2"], "unsynced writes are read back until a crash");
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::fault::{Moment, Strike};
use crate::rng::{Chance, SimRng};
use crate::time::{SimDuration, SimTime};

/// The probabilities of disk faults; all zero by default.
#[derive(Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskFaults {
    /// Chance that a synced write is silently not made durable.
    pub lost_write: Chance,
    /// Chance that a synced write is made durable with one byte flipped.
    pub corrupt_write: Chance,
    /// Chance that a read fails.
    pub read_error: Chance,
    /// Chance, for each write not yet synced, that it survives a crash all the same:
    /// a file system that had flushed some of its dirty pages when the power went. A
    /// crash then keeps a seeded subset of the unsynced writes, in no particular
    /// order, instead of none.
    #[serde(default)]
    pub unsynced_kept: Chance,
}

impl DiskFaults {
    /// No faults at all.
    pub const NONE: DiskFaults = DiskFaults {
        lost_write: Chance::NEVER,
        corrupt_write: Chance::NEVER,
        read_error: Chance::NEVER,
        unsynced_kept: Chance::NEVER,
    };
}

/// As derived, but `unsynced_kept` only when set: traces describe a fault by this text,
/// and faults written before it existed keep their trace hashes.
impl std::fmt::Debug for DiskFaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("DiskFaults");
        out.field("lost_write", &self.lost_write)
            .field("corrupt_write", &self.corrupt_write)
            .field("read_error", &self.read_error);
        if !self.unsynced_kept.is_never() {
            out.field("unsynced_kept", &self.unsynced_kept);
        }
        out.finish()
    }
}

/// A failed disk operation.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DiskError {
    /// The read failed (an injected read error); retrying may succeed.
    #[error("read error on key {key:?} (injected disk fault)")]
    Read {
        /// The key that could not be read.
        key: String,
    },
}

/// What the disk did, counted over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskStats {
    /// Calls to `write` and `delete`.
    pub writes: u64,
    /// Calls to `sync`.
    pub syncs: u64,
    /// Synced writes that were silently lost.
    pub lost_writes: u64,
    /// Synced writes that were stored damaged.
    pub corrupted_writes: u64,
    /// Reads that failed.
    pub read_errors: u64,
    /// Unsynced writes thrown away by crashes.
    pub discarded_by_crash: u64,
    /// Unsynced writes a crash kept all the same (`unsynced_kept`).
    #[serde(default)]
    pub kept_by_crash: u64,
}

/// A node's disk: durable data plus the writes not yet synced.
#[derive(Clone, Debug)]
pub struct Disk {
    durable: BTreeMap<String, Vec<u8>>,
    /// Writes since the last sync: `Some(value)` to store, `None` to delete.
    pending: BTreeMap<String, Option<Vec<u8>>>,
    /// Synced writes that were lost: visible until the next crash.
    phantom: BTreeMap<String, Option<Vec<u8>>>,
    faults: DiskFaults,
    rng: SimRng,
    stats: DiskStats,
    /// The crash point armed on the node, if any (see [`crate::Fault::CrashPoint`]).
    point: Option<CrashPoint>,
}

/// A crash point: how many more effects the node makes before it stops dead, and
/// whether it has.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CrashPoint {
    left: u32,
    /// Count only this moment (every effect if `None`).
    on: Option<Moment>,
    /// Restart (resume, heal) this long after striking.
    down_for: Option<SimDuration>,
    /// What it does when it strikes.
    strike: Strike,
    /// Its repair comes no later than this.
    until: Option<SimTime>,
    struck: bool,
}

/// What a node just did, as a crash point counts it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Effect<'a> {
    /// It sent a message of this kind.
    Send(&'a str),
    /// It reported an observation.
    Observe,
    /// It synced its disk.
    Sync,
    /// It finished handling a message of this kind.
    Handled(&'a str),
    /// It emitted this protocol event.
    Event(&'a str),
}

impl Disk {
    /// An empty disk whose faults draw from `rng`.
    pub fn new(rng: SimRng) -> Disk {
        Disk {
            durable: BTreeMap::new(),
            pending: BTreeMap::new(),
            phantom: BTreeMap::new(),
            faults: DiskFaults::NONE,
            rng,
            stats: DiskStats::default(),
            point: None,
        }
    }

    /// Reads the current value of `key` (synced or not), or `None` if there is none.
    pub fn read(&mut self, key: &str) -> Result<Option<&[u8]>, DiskError> {
        if self.rng.sample(self.faults.read_error) {
            self.stats.read_errors += 1;
            return Err(DiskError::Read {
                key: key.to_string(),
            });
        }
        Ok(self.peek(key))
    }

    /// The current value of `key` without any chance of an injected error; for
    /// checkers and tests that inspect a disk from outside the node.
    pub fn peek(&self, key: &str) -> Option<&[u8]> {
        let layered = self.pending.get(key).or_else(|| self.phantom.get(key));
        match layered {
            Some(value) => value.as_deref(),
            None => self.durable.get(key).map(Vec::as_slice),
        }
    }

    /// Stores `value` under `key`; durable after the next [`Disk::sync`].
    pub fn write(&mut self, key: &str, value: impl Into<Vec<u8>>) {
        self.stats.writes += 1;
        self.pending.insert(key.to_string(), Some(value.into()));
    }

    /// Removes `key`; durable after the next [`Disk::sync`].
    pub fn delete(&mut self, key: &str) {
        self.stats.writes += 1;
        self.pending.insert(key.to_string(), None);
    }

    /// Makes every write so far durable (subject to injected faults). Past a crash point
    /// it does nothing: the node is dead (see [`crate::Fault::CrashPoint`]).
    pub fn sync(&mut self) {
        if self.point.is_some() && !self.effect(Effect::Sync) {
            return;
        }
        self.stats.syncs += 1;
        for (key, value) in std::mem::take(&mut self.pending) {
            if self.rng.sample(self.faults.lost_write) {
                self.stats.lost_writes += 1;
                self.phantom.insert(key, value);
                continue;
            }
            self.phantom.remove(&key);
            match value {
                Some(mut bytes) => {
                    if !bytes.is_empty() && self.rng.sample(self.faults.corrupt_write) {
                        self.stats.corrupted_writes += 1;
                        let at = self.rng.below(bytes.len() as u64) as usize;
                        bytes[at] ^= 1 << self.rng.below(8);
                    }
                    self.durable.insert(key, bytes);
                }
                None => {
                    self.durable.remove(&key);
                }
            }
        }
    }

    /// Every key with a current value, in order.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .durable
            .keys()
            .chain(self.phantom.keys())
            .chain(self.pending.keys())
            .filter(|key| self.peek(key).is_some())
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// `true` if there are writes that a crash would lose.
    pub fn has_unsynced_writes(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The disk's counters.
    pub fn stats(&self) -> DiskStats {
        self.stats
    }

    /// The fault probabilities in force.
    pub fn faults(&self) -> DiskFaults {
        self.faults
    }

    pub(crate) fn set_faults(&mut self, faults: DiskFaults) {
        self.faults = faults;
    }

    /// Arms a point, replacing any armed one: it strikes after the node's next `after`
    /// effects (messages sent, observations, syncs), or moments `on`; past a crash,
    /// nothing happens.
    pub(crate) fn arm_crash_point(
        &mut self,
        after: u32,
        on: Option<Moment>,
        (down_for, strike, until): (Option<SimDuration>, Strike, Option<SimTime>),
    ) {
        self.point = Some(CrashPoint {
            left: after,
            on,
            down_for,
            strike,
            until,
            struck: false,
        });
    }

    /// Is a crash point armed (struck or not)? One test on the hot path of a send.
    #[inline]
    pub(crate) fn crash_point_armed(&self) -> bool {
        self.point.is_some()
    }

    /// Has the armed crash point struck: is the node dead, waiting to be crashed when its
    /// handler returns?
    pub(crate) fn crash_point_struck(&self) -> bool {
        self.point.as_ref().is_some_and(|point| point.struck)
    }

    /// When the armed point, striking `now`, brings the node back, if it does: its
    /// `down_for` later, but no later than its `until`.
    pub(crate) fn crash_point_repair_at(&self, now: SimTime) -> Option<SimTime> {
        let point = self.point.as_ref()?;
        let back = now.saturating_add(point.down_for?);
        Some(point.until.map_or(back, |until| back.min(until.max(now))))
    }

    /// What the armed point does when it strikes.
    pub(crate) fn crash_point_strike(&self) -> Option<Strike> {
        self.point.as_ref().map(|point| point.strike)
    }

    /// Counts one effect against the armed point; returns whether it happens (nothing
    /// does once a crash point has struck; past a pause or a cut, the handler goes on).
    #[cold]
    pub(crate) fn effect(&mut self, effect: Effect<'_>) -> bool {
        let Some(point) = &mut self.point else {
            return true;
        };
        if point.struck {
            // Past a crash, nothing happens; past a pause or a cut, the handler goes on.
            return point.strike != Strike::Crash;
        }
        let counts = match (&point.on, effect) {
            (None, Effect::Send(_) | Effect::Observe | Effect::Sync) => true,
            (Some(Moment::Sends(kind)), Effect::Send(sent)) => kind == sent,
            (Some(Moment::Handles(kind)), Effect::Handled(handled)) => kind == handled,
            (Some(Moment::Emits(event)), Effect::Event(emitted)) => event == emitted,
            _ => false,
        };
        if counts {
            match point.left.checked_sub(1) {
                Some(left) => point.left = left,
                None => point.struck = true,
            }
        }
        true
    }

    /// A crash: unsynced and lost writes vanish (but those `unsynced_kept` keeps);
    /// durable data (maybe corrupted) stays. A crash point is spent.
    pub(crate) fn crash(&mut self) {
        self.point = None;
        if !self.faults.unsynced_kept.is_never() {
            self.keep_some_unsynced();
        }
        self.stats.discarded_by_crash += self.pending.len() as u64;
        self.pending.clear();
        self.phantom.clear();
    }

    /// Makes a seeded subset of the unsynced writes durable, as a crash that came after
    /// the file system had flushed them.
    fn keep_some_unsynced(&mut self) {
        for (key, value) in std::mem::take(&mut self.pending) {
            if !self.rng.sample(self.faults.unsynced_kept) {
                self.pending.insert(key, value);
                continue;
            }
            self.stats.kept_by_crash += 1;
            match value {
                Some(bytes) => {
                    self.durable.insert(key, bytes);
                }
                None => {
                    self.durable.remove(&key);
                }
            }
        }
    }

    /// Disarms the armed point if it strikes so (the repair of that strike came first).
    pub(crate) fn disarm_point_of(&mut self, strike: Strike) {
        if self.crash_point_strike() == Some(strike) {
            self.point = None;
        }
    }

    /// A data reset: the disk is empty afterwards.
    pub(crate) fn wipe(&mut self) {
        self.crash();
        self.durable.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk() -> Disk {
        Disk::new(SimRng::new(1, "disk/0"))
    }

    #[test]
    fn unsynced_writes_are_visible_but_lost_on_crash() {
        let mut disk = disk();
        disk.write("term", [7]);
        assert_eq!(disk.read("term").unwrap(), Some(&[7][..]));
        assert!(disk.has_unsynced_writes());
        disk.crash();
        assert_eq!(disk.read("term").unwrap(), None);
        assert_eq!(disk.stats().discarded_by_crash, 1);
    }

    /// Which of 64 unsynced writes a crash kept, with `kept` as the chance.
    fn kept_after_crash(seed: u64, kept: Chance) -> Vec<String> {
        let mut disk = Disk::new(SimRng::new(seed, "disk/0"));
        disk.set_faults(DiskFaults {
            unsynced_kept: kept,
            ..DiskFaults::NONE
        });
        disk.write("old", [1]);
        disk.sync();
        disk.delete("old");
        for key in 0..64 {
            disk.write(&format!("k{key:02}"), [key]);
        }
        disk.crash();
        disk.keys()
    }

    #[test]
    fn a_crash_can_keep_a_seeded_subset_of_unsynced_writes() {
        let some = kept_after_crash(1, Chance::percent(50));
        assert!(some.len() > 10 && some.len() < 55, "a subset: {some:?}");
        assert_eq!(some, kept_after_crash(1, Chance::percent(50)), "seeded");
        assert_ne!(some, kept_after_crash(2, Chance::percent(50)));
        let all = kept_after_crash(1, Chance::ALWAYS);
        assert_eq!(
            all.len(),
            64,
            "the unsynced delete of `old` was kept too: {all:?}"
        );
        assert_eq!(
            kept_after_crash(1, Chance::NEVER),
            ["old"],
            "none: the old contract"
        );
    }

    #[test]
    fn the_description_of_disk_faults_is_as_before_unless_writes_are_kept() {
        let old = DiskFaults {
            lost_write: Chance::percent(10),
            ..DiskFaults::NONE
        };
        assert_eq!(
            format!("{old:?}"),
            "DiskFaults { lost_write: Chance { numerator: 10, denominator: 100 }, \
             corrupt_write: Chance { numerator: 0, denominator: 1 }, \
             read_error: Chance { numerator: 0, denominator: 1 } }"
        );
        let kept = DiskFaults {
            unsynced_kept: Chance::percent(50),
            ..old
        };
        assert!(format!("{kept:?}").contains("unsynced_kept"));
    }

    #[test]
    fn synced_writes_survive_a_crash() {
        let mut disk = disk();
        disk.write("term", [7]);
        disk.sync();
        disk.write("term", [8]);
        disk.crash();
        assert_eq!(disk.read("term").unwrap(), Some(&[7][..]));
    }

    #[test]
    fn deletes_follow_the_same_rules() {
        let mut disk = disk();
        disk.write("vote", [1]);
        disk.sync();
        disk.delete("vote");
        assert_eq!(disk.peek("vote"), None);
        disk.crash();
        assert_eq!(disk.peek("vote"), Some(&[1][..]), "unsynced delete undone");
        disk.delete("vote");
        disk.sync();
        disk.crash();
        assert_eq!(disk.peek("vote"), None);
    }

    #[test]
    fn a_wipe_empties_everything() {
        let mut disk = disk();
        disk.write("a", [1]);
        disk.sync();
        disk.write("b", [2]);
        disk.wipe();
        assert!(disk.keys().is_empty());
    }

    #[test]
    fn keys_merge_all_layers_in_order() {
        let mut disk = disk();
        disk.write("b", [1]);
        disk.sync();
        disk.write("a", [2]);
        disk.write("c", [3]);
        disk.delete("b");
        assert_eq!(disk.keys(), ["a", "c"]);
    }

    #[test]
    fn lost_writes_are_seen_until_a_crash_then_gone() {
        let mut disk = disk();
        disk.set_faults(DiskFaults {
            lost_write: Chance::ALWAYS,
            ..DiskFaults::NONE
        });
        disk.write("log/1", [9]);
        disk.sync();
        assert!(!disk.has_unsynced_writes());
        assert_eq!(disk.peek("log/1"), Some(&[9][..]));
        disk.crash();
        assert_eq!(disk.peek("log/1"), None);
        assert_eq!(disk.stats().lost_writes, 1);
    }

    #[test]
    fn corrupted_writes_differ_in_exactly_one_bit() {
        let mut disk = disk();
        disk.set_faults(DiskFaults {
            corrupt_write: Chance::ALWAYS,
            ..DiskFaults::NONE
        });
        let original = vec![0_u8; 16];
        disk.write("block", original.clone());
        disk.sync();
        disk.crash();
        let stored = disk.peek("block").unwrap();
        let flipped: u32 = stored
            .iter()
            .zip(&original)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1);
    }

    #[test]
    fn read_errors_are_reported_and_transient() {
        let mut disk = disk();
        disk.write("k", [1]);
        disk.set_faults(DiskFaults {
            read_error: Chance::percent(50),
            ..DiskFaults::NONE
        });
        let results: Vec<bool> = (0..100).map(|_| disk.read("k").is_ok()).collect();
        assert!(results.contains(&true) && results.contains(&false));
        assert_eq!(
            disk.stats().read_errors as usize,
            results.iter().filter(|ok| !**ok).count()
        );
        let error = (0..100).find_map(|_| disk.read("k").err()).unwrap();
        assert!(error.to_string().contains("\"k\""));
    }
}
