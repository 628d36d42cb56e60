//! The replicated state machine that both Raft implementations drive: a key-value
//! store, and the client requests this replica accepted as leader and must answer.
//!
//! Volatile: a crash loses it, and the replica rebuilds it by applying its log again.

use std::collections::BTreeMap;

use sim_core::NodeContext;

use super::view::{Key, LogEntry, Op, RaftEvent, RequestId, Value};

/// The key-value store and the requests awaiting an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KvMachine {
    kv: BTreeMap<Key, Value>,
    applied_index: u64,
    /// Client entries this replica appended as leader and has not answered, by index.
    accepted: BTreeMap<u64, RequestId>,
}

impl KvMachine {
    /// The store as applied so far.
    pub(crate) fn kv(&self) -> &BTreeMap<Key, Value> {
        &self.kv
    }

    /// The index of the last entry applied.
    pub(crate) fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// Remembers that the entry at `index` carries `request`, which this replica (as
    /// leader) accepted and answers once it applies the entry.
    pub(crate) fn accept(&mut self, index: u64, request: RequestId) {
        self.accepted.insert(index, request);
    }

    /// Forgets the accepted requests at `index` and above (their entries were replaced).
    pub(crate) fn forget_from(&mut self, index: u64) {
        self.accepted.retain(|&accepted, _| accepted < index);
    }

    /// Applies `entry`, the next one (`index` = applied + 1): observes
    /// [`RaftEvent::Applied`], and [`RaftEvent::Returned`] if this replica accepted its
    /// request.
    pub(crate) fn apply<M: Clone + 'static, T>(
        &mut self,
        ctx: &mut NodeContext<'_, M, T, RaftEvent>,
        index: u64,
        entry: LogEntry,
    ) {
        assert_eq!(
            index,
            self.applied_index + 1,
            "committed entries are applied in order"
        );
        self.applied_index = index;
        let value = entry.command.and_then(|command| self.execute(command.op));
        ctx.observe(RaftEvent::Applied { index, entry });
        let answered = self.accepted.remove(&index);
        if let Some(command) = entry.command
            && answered == Some(command.request)
        {
            let request = command.request;
            ctx.observe(RaftEvent::Returned { request, value });
        }
    }

    /// Runs one operation on the store; a read returns what it read.
    fn execute(&mut self, op: Op) -> Option<Value> {
        match op {
            Op::Put { key, value } => {
                self.kv.insert(key, value);
                None
            }
            Op::Get { key } => self.kv.get(&key).copied(),
        }
    }
}
