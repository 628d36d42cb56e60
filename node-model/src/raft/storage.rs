//! A replica's durable state on the simulated disk: its term, its vote and its log.
//!
//! One disk key per record, each value encoded with [`sim_core::encoding`]:
//!
//! | key | value |
//! |---|---|
//! | `raft/hard_state` | the current term and the vote cast in it |
//! | `raft/log/length` | the index of the last entry |
//! | `raft/log/<index as 20 digits>` | one entry |
//!
//! The functions here only stage writes. The replica syncs the disk before it tells
//! anyone what it wrote (a vote, an append reply, a vote request for itself): only then
//! is the write durable. One sync makes all its writes durable together, so after a
//! crash the length and the entries agree.
//!
//! What is not survived: lost or corrupted writes (disk faults). Raft trusts its disk;
//! a lost vote is exactly the canary's bug. A record that does not decode is reported
//! as a [`StorageError`] and the replica halts rather than run on a damaged log.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sim_core::encoding::{decode, encode};
use sim_core::{Disk, DiskError, NodeId};
use thiserror::Error;

use super::log::RaftLog;
use super::view::LogEntry;

const HARD_STATE_KEY: &str = "raft/hard_state";
const LOG_LENGTH_KEY: &str = "raft/log/length";
/// Read errors are transient: a read is tried this many times before recovery gives up.
const READ_ATTEMPTS_MAX: u32 = 8;

/// Why a replica could not read back its durable state.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StorageError {
    /// Every attempt to read the record failed.
    #[error("cannot read {key}: {error}")]
    Unreadable {
        /// The disk key.
        key: String,
        /// The last read error.
        error: DiskError,
    },
    /// The record does not decode: the disk corrupted it.
    #[error("record {key} is corrupt: {reason}")]
    Corrupt {
        /// The disk key.
        key: String,
        /// What the decoder said.
        reason: String,
    },
    /// A log entry below the recorded length is missing.
    #[error("log entry {key} is missing below the recorded log length")]
    Missing {
        /// The disk key.
        key: String,
    },
}

/// The term and the vote, written together.
#[derive(Serialize, Deserialize)]
struct HardState {
    term: u64,
    voted_for: Option<NodeId>,
}

/// Everything a replica reads back when it recovers.
#[derive(Debug, Default)]
pub(crate) struct Durable {
    pub(crate) term: u64,
    pub(crate) voted_for: Option<NodeId>,
    pub(crate) log: RaftLog,
}

fn entry_key(index: u64) -> String {
    format!("raft/log/{index:020}")
}

/// Stages the term and the vote.
pub(crate) fn save_hard_state(disk: &mut Disk, term: u64, voted_for: Option<NodeId>) {
    disk.write(HARD_STATE_KEY, encode(&HardState { term, voted_for }));
}

/// Stages the log from index `first_changed` on, given that it ended at `old_last`
/// when last saved: writes the new entries and the length, deletes the dropped ones.
pub(crate) fn save_log(disk: &mut Disk, log: &RaftLog, first_changed: u64, old_last: u64) {
    assert!(first_changed >= 1, "index 0 is not an entry");
    let last = log.last_index();
    for index in first_changed..=last {
        let entry = log
            .get(index)
            .expect("the log holds every index up to its last");
        disk.write(&entry_key(index), encode(entry));
    }
    for index in (last + 1)..=old_last {
        disk.delete(&entry_key(index));
    }
    if last != old_last {
        disk.write(LOG_LENGTH_KEY, encode(&last));
    }
}

/// Reads back the term, the vote and the log (all empty on a blank disk).
pub(crate) fn load(disk: &mut Disk) -> Result<Durable, StorageError> {
    let hard_state: Option<HardState> = read(disk, HARD_STATE_KEY)?;
    let length: u64 = read(disk, LOG_LENGTH_KEY)?.unwrap_or(0);
    let mut entries = Vec::new();
    for index in 1..=length {
        let key = entry_key(index);
        let entry: LogEntry = read(disk, &key)?.ok_or(StorageError::Missing { key })?;
        entries.push(entry);
    }
    let (term, voted_for) = hard_state.map_or((0, None), |h| (h.term, h.voted_for));
    Ok(Durable {
        term,
        voted_for,
        log: RaftLog::from_entries(entries),
    })
}

/// Reads and decodes one record, retrying transient read errors (both Raft
/// implementations read their records this way).
pub(crate) fn read<T: DeserializeOwned>(
    disk: &mut Disk,
    key: &str,
) -> Result<Option<T>, StorageError> {
    let mut attempt = 1;
    let bytes = loop {
        match disk.read(key) {
            Ok(bytes) => break bytes,
            Err(error) if attempt >= READ_ATTEMPTS_MAX => {
                return Err(StorageError::Unreadable {
                    key: key.to_string(),
                    error,
                });
            }
            Err(_) => attempt += 1,
        }
    };
    bytes
        .map(|bytes| decode(bytes))
        .transpose()
        .map_err(|error| StorageError::Corrupt {
            key: key.to_string(),
            reason: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use sim_core::SimRng;

    use super::*;
    use crate::raft::view::{Command, Op, RequestId};

    fn entry(term: u64, sequence: u64) -> LogEntry {
        let request = RequestId {
            client: 0,
            sequence,
        };
        let op = Op::Put {
            key: 1,
            value: sequence,
        };
        LogEntry {
            term,
            command: Some(Command { request, op }),
        }
    }

    #[test]
    fn a_blank_disk_loads_as_an_empty_replica() {
        let mut disk = Disk::new(SimRng::new(1, "disk/0"));
        let durable = load(&mut disk).unwrap();
        assert_eq!((durable.term, durable.voted_for), (0, None));
        assert_eq!(durable.log.last_index(), 0);
    }

    #[test]
    fn a_truncated_and_rewritten_log_loads_back_as_written() {
        let mut disk = Disk::new(SimRng::new(1, "disk/0"));
        let mut log = RaftLog::from_entries(vec![entry(1, 1), entry(1, 2), entry(1, 3)]);
        save_log(&mut disk, &log, 1, 0);
        save_hard_state(&mut disk, 2, Some(NodeId(2)));
        log.truncate_from(2);
        log.push(entry(2, 4));
        save_log(&mut disk, &log, 2, 3);
        disk.sync();
        let durable = load(&mut disk).unwrap();
        assert_eq!((durable.term, durable.voted_for), (2, Some(NodeId(2))));
        assert_eq!(durable.log, log);
        assert_eq!(disk.keys().len(), 4, "hard state, length and two entries");
    }

    #[test]
    fn a_record_that_does_not_decode_is_reported_as_corrupt() {
        let mut disk = Disk::new(SimRng::new(1, "disk/0"));
        disk.write(LOG_LENGTH_KEY, encode(&1_u64));
        disk.write(&entry_key(1), vec![0xff; 3]);
        let error = load(&mut disk).unwrap_err();
        assert!(
            matches!(&error, StorageError::Corrupt { key, .. } if key == &entry_key(1)),
            "{error}"
        );
    }
}
