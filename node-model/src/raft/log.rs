//! A replica's log in memory: entries indexed from 1, with the term of each.
//!
//! Index 0 is the empty prefix every log shares; its term is 0. The log only grows at
//! the end or loses a suffix: that is what makes "the first index that changed" a
//! single number that persistence can work from.

use super::view::LogEntry;

/// The entries of one replica, `entries[i - 1]` holding index `i`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RaftLog {
    entries: Vec<LogEntry>,
}

impl RaftLog {
    /// A log holding `entries`, the first at index 1.
    pub(crate) fn from_entries(entries: Vec<LogEntry>) -> RaftLog {
        RaftLog { entries }
    }

    /// The index of the last entry (0 if the log is empty).
    pub(crate) fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The term of the last entry (0 if the log is empty).
    pub(crate) fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |entry| entry.term)
    }

    /// The entry at `index`, if the log holds it (never for index 0).
    pub(crate) fn get(&self, index: u64) -> Option<&LogEntry> {
        let position = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(position)
    }

    /// The term at `index`: 0 for index 0, `None` past the end.
    pub(crate) fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            return Some(0);
        }
        self.get(index).map(|entry| entry.term)
    }

    /// Appends `entry` and returns its index.
    pub(crate) fn push(&mut self, entry: LogEntry) -> u64 {
        if let Some(last) = self.entries.last() {
            assert!(
                entry.term >= last.term,
                "log terms never decrease: {} after {}",
                entry.term,
                last.term
            );
        }
        self.entries.push(entry);
        self.last_index()
    }

    /// Removes the entries from `index` on.
    pub(crate) fn truncate_from(&mut self, index: u64) {
        assert!(index >= 1, "index 0 is not an entry");
        let keep = usize::try_from(index - 1).expect("log index fits in memory");
        self.entries.truncate(keep);
    }

    /// Up to `count` entries starting at `index`.
    pub(crate) fn slice(&self, index: u64, count: u64) -> &[LogEntry] {
        assert!(index >= 1, "index 0 is not an entry");
        let start = usize::try_from(index - 1)
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let end = start.saturating_add(count).min(self.entries.len());
        &self.entries[start..end]
    }

    /// Whether a log ending at `(last_index, last_term)` is at least as up to date as
    /// this one: Raft's voting rule, which keeps committed entries in every leader.
    pub(crate) fn is_up_to_date(&self, last_index: u64, last_term: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(term: u64) -> LogEntry {
        LogEntry {
            term,
            command: None,
        }
    }

    #[test]
    fn index_zero_is_the_shared_empty_prefix() {
        let log = RaftLog::from_entries(vec![entry(1)]);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.get(0), None);
        assert_eq!(log.term_at(1), Some(1));
        assert_eq!(log.term_at(2), None);
    }

    #[test]
    fn slices_stop_at_the_end_of_the_log() {
        let log = RaftLog::from_entries(vec![entry(1), entry(1), entry(2)]);
        assert_eq!(log.slice(2, 10), &[entry(1), entry(2)]);
        assert_eq!(log.slice(4, 10), &[]);
        assert_eq!(log.slice(1, 1), &[entry(1)]);
    }

    #[test]
    fn a_later_last_term_beats_a_longer_log() {
        let log = RaftLog::from_entries(vec![entry(1), entry(1), entry(1)]);
        assert!(log.is_up_to_date(1, 2));
        assert!(log.is_up_to_date(3, 1));
        assert!(!log.is_up_to_date(2, 1));
    }
}
