//! A raft-rs replica's durable state on the simulated disk, and the `MemStorage` that
//! raft-rs reads it through.
//!
//! raft-rs does not write anything itself: it hands the application, in each `Ready`,
//! the entries and the hard state to make durable, and reads its log back through the
//! `Storage` trait. The adapter keeps the raft crate's own `MemStorage` as that view
//! and mirrors every change to the disk, one key per record, each value encoded with
//! [`sim_core::encoding`]:
//!
//! | key | value |
//! |---|---|
//! | `raft-rs/conf_state` | the voters and learners (fixed: the simulation's nodes) |
//! | `raft-rs/hard_state` | the term, the vote and the commit index |
//! | `raft-rs/log/last` | the index of the last entry |
//! | `raft-rs/log/<index as 20 digits>` | one entry |
//!
//! The functions here only stage writes; the replica syncs before it sends anything
//! that depends on them. One sync makes a whole `Ready` durable at once, so after a
//! crash the last index, the entries and the hard state agree. On recovery [`load`]
//! rebuilds a `MemStorage` from the disk, and raft-rs restarts from it.
//!
//! Nothing is ever compacted, so the log always starts at index 1 and raft-rs never
//! needs a snapshot. Lost or corrupted writes (disk faults) are not survived: a record
//! that cannot be read or decoded is reported as a [`StorageError`] and the replica
//! halts rather than run on a damaged log.

use raft::eraftpb::{ConfState, Entry, EntryType, HardState};
use raft::storage::MemStorage;
use serde::{Deserialize, Serialize};
use sim_core::Disk;
use sim_core::encoding::encode;

use crate::raft::StorageError;
use crate::raft::storage::read;

const CONF_STATE_KEY: &str = "raft-rs/conf_state";
const HARD_STATE_KEY: &str = "raft-rs/hard_state";
const LAST_INDEX_KEY: &str = "raft-rs/log/last";

/// raft-rs's `HardState`, as stored.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StoredHardState {
    term: u64,
    vote: u64,
    commit: u64,
}

/// raft-rs's `ConfState` without the joint-consensus fields, which fixed membership
/// leaves empty.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StoredConfState {
    voters: Vec<u64>,
    learners: Vec<u64>,
}

/// The three kinds of raft-rs entry.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
enum StoredEntryKind {
    Normal,
    ConfChange,
    ConfChangeV2,
}

/// raft-rs's `Entry` without its index, which is in the key.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StoredEntry {
    kind: StoredEntryKind,
    term: u64,
    data: Vec<u8>,
    context: Vec<u8>,
}

fn entry_key(index: u64) -> String {
    format!("raft-rs/log/{index:020}")
}

/// A `MemStorage` for a replica that has never run: the given voters, an empty log.
pub(super) fn fresh(voters: impl IntoIterator<Item = u64>) -> MemStorage {
    MemStorage::new_with_conf_state(ConfState::from((voters, Vec::new())))
}

/// Stages the membership. Joint configurations never occur: membership is fixed.
pub(super) fn save_conf_state(disk: &mut Disk, conf_state: &ConfState) {
    assert!(
        conf_state.voters_outgoing.is_empty() && conf_state.learners_next.is_empty(),
        "membership is fixed: no joint configuration"
    );
    let stored = StoredConfState {
        voters: conf_state.voters.clone(),
        learners: conf_state.learners.clone(),
    };
    disk.write(CONF_STATE_KEY, encode(&stored));
}

/// Stages the term, the vote and the commit index.
pub(super) fn save_hard_state(disk: &mut Disk, hard_state: &HardState) {
    let stored = StoredHardState {
        term: hard_state.term,
        vote: hard_state.vote,
        commit: hard_state.commit,
    };
    disk.write(HARD_STATE_KEY, encode(&stored));
}

/// Stages `entries` (consecutive, not empty) over a log that ended at `old_last`:
/// writes them, deletes the entries after them that they replace, records the new
/// last index.
pub(super) fn save_entries(disk: &mut Disk, entries: &[Entry], old_last: u64) {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        panic!("save_entries needs entries");
    };
    assert!(
        first.index >= 1 && first.index <= old_last + 1,
        "entries from {} leave a gap after the last index {old_last}",
        first.index
    );
    for (offset, entry) in (0_u64..).zip(entries) {
        assert_eq!(entry.index, first.index + offset, "entries are consecutive");
        disk.write(&entry_key(entry.index), encode(&stored_entry(entry)));
    }
    for index in (last.index + 1)..=old_last {
        disk.delete(&entry_key(index));
    }
    if last.index != old_last {
        disk.write(LAST_INDEX_KEY, encode(&last.index));
    }
}

fn stored_entry(entry: &Entry) -> StoredEntry {
    let kind = match entry.entry_type {
        EntryType::EntryNormal => StoredEntryKind::Normal,
        EntryType::EntryConfChange => StoredEntryKind::ConfChange,
        EntryType::EntryConfChangeV2 => StoredEntryKind::ConfChangeV2,
    };
    StoredEntry {
        kind,
        term: entry.term,
        data: entry.data.to_vec(),
        context: entry.context.to_vec(),
    }
}

fn raft_entry(index: u64, stored: StoredEntry) -> Entry {
    let entry_type = match stored.kind {
        StoredEntryKind::Normal => EntryType::EntryNormal,
        StoredEntryKind::ConfChange => EntryType::EntryConfChange,
        StoredEntryKind::ConfChangeV2 => EntryType::EntryConfChangeV2,
    };
    Entry {
        entry_type,
        index,
        term: stored.term,
        data: stored.data.into(),
        context: stored.context.into(),
        ..Entry::default()
    }
}

/// Rebuilds raft-rs's storage from the disk: `None` if the disk is blank (the replica
/// never ran, or its data was reset).
pub(super) fn load(disk: &mut Disk) -> Result<Option<MemStorage>, StorageError> {
    let Some(conf_state) = read::<StoredConfState>(disk, CONF_STATE_KEY)? else {
        if disk.peek(HARD_STATE_KEY).is_some() {
            let key = CONF_STATE_KEY.to_string();
            return Err(StorageError::Missing { key });
        }
        return Ok(None);
    };
    let hard_state: Option<StoredHardState> = read(disk, HARD_STATE_KEY)?;
    let last: u64 = read(disk, LAST_INDEX_KEY)?.unwrap_or(0);
    let mut entries = Vec::new();
    for index in 1..=last {
        let key = entry_key(index);
        let stored: StoredEntry = read(disk, &key)?.ok_or(StorageError::Missing { key })?;
        entries.push(raft_entry(index, stored));
    }
    if let Some(stored) = &hard_state
        && stored.commit > last
    {
        return Err(StorageError::Corrupt {
            key: HARD_STATE_KEY.to_string(),
            reason: format!("commit index {} is past the log end {last}", stored.commit),
        });
    }
    let storage = MemStorage::new();
    {
        let mut core = storage.wl();
        core.set_conf_state(ConfState::from((conf_state.voters, conf_state.learners)));
        core.append(&entries)
            .expect("entries from index 1 append to an empty storage");
        if let Some(stored) = hard_state {
            core.set_hardstate(HardState {
                term: stored.term,
                vote: stored.vote,
                commit: stored.commit,
                ..HardState::default()
            });
        }
    }
    Ok(Some(storage))
}

#[cfg(test)]
mod tests {
    use raft::Storage;
    use sim_core::SimRng;

    use super::*;

    fn entry(index: u64, term: u64, data: &[u8]) -> Entry {
        Entry {
            index,
            term,
            data: data.to_vec().into(),
            ..Entry::default()
        }
    }

    fn hard_state(term: u64, vote: u64, commit: u64) -> HardState {
        HardState {
            term,
            vote,
            commit,
            ..HardState::default()
        }
    }

    fn disk() -> Disk {
        Disk::new(SimRng::new(1, "disk/0"))
    }

    #[test]
    fn a_blank_disk_loads_as_nothing() {
        assert!(load(&mut disk()).unwrap().is_none());
    }

    #[test]
    fn a_rewritten_suffix_loads_back_as_raft_rs_last_saw_it() {
        let mut disk = disk();
        save_conf_state(&mut disk, &ConfState::from((vec![1, 2, 3], Vec::new())));
        let first = [entry(1, 1, b""), entry(2, 1, b"a"), entry(3, 1, b"b")];
        save_entries(&mut disk, &first, 0);
        // A new leader of term 2 replaces entries 2 and 3 with one entry.
        save_entries(&mut disk, &[entry(2, 2, b"c")], 3);
        let hard_state = hard_state(2, 3, 2);
        save_hard_state(&mut disk, &hard_state);
        disk.sync();

        let storage = load(&mut disk).unwrap().expect("not blank");
        let state = storage.initial_state().unwrap();
        assert_eq!(state.hard_state, hard_state);
        assert_eq!(state.conf_state.voters, [1, 2, 3]);
        assert_eq!(storage.first_index().unwrap(), 1);
        assert_eq!(storage.last_index().unwrap(), 2);
        let context = raft::GetEntriesContext::empty(false);
        let entries = storage.entries(1, 3, None, context).unwrap();
        assert_eq!(entries, [entry(1, 1, b""), entry(2, 2, b"c")]);
        assert!(
            disk.peek(&entry_key(3)).is_none(),
            "the replaced entry is gone"
        );
    }

    #[test]
    fn a_commit_index_past_the_log_is_reported_as_corrupt() {
        let mut disk = disk();
        save_conf_state(&mut disk, &ConfState::from((vec![1], Vec::new())));
        save_hard_state(&mut disk, &hard_state(1, 0, 4));
        let Err(error) = load(&mut disk) else {
            panic!("a commit past the log loads");
        };
        assert!(
            matches!(&error, StorageError::Corrupt { key, .. } if key == HARD_STATE_KEY),
            "{error}"
        );
    }
}
