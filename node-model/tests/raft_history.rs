//! The linearizability checker on hand-written histories, linearizable or not.

use node_model::raft::{History, LinearizabilityError, Op, RaftEvent, RequestId};
use sim_core::{NodeId, Observation, SimTime};

fn at(millis: u64) -> SimTime {
    SimTime::from_millis(millis)
}

fn request(sequence: u64) -> RequestId {
    RequestId {
        client: 0,
        sequence,
    }
}

/// Writes a history event by event: `invoke` and `complete` in time order.
struct Script(History);

impl Script {
    fn new() -> Script {
        Script(History::new())
    }

    fn put(&mut self, sequence: u64, key: u32, value: u64, time: u64) -> &mut Script {
        self.0
            .invoke(request(sequence), Op::Put { key, value }, at(time));
        self
    }

    fn get(&mut self, sequence: u64, key: u32, time: u64) -> &mut Script {
        self.0.invoke(request(sequence), Op::Get { key }, at(time));
        self
    }

    fn ok(&mut self, sequence: u64, time: u64) -> &mut Script {
        self.0.complete(request(sequence), None, at(time));
        self
    }

    fn read(&mut self, sequence: u64, value: Option<u64>, time: u64) -> &mut Script {
        self.0.complete(request(sequence), value, at(time));
        self
    }

    fn check(&self) -> Result<node_model::raft::CheckReport, LinearizabilityError> {
        self.0.check()
    }
}

#[test]
fn a_sequential_history_is_linearizable() {
    let report = Script::new()
        .get(1, 1, 0)
        .read(1, None, 1)
        .put(2, 1, 5, 2)
        .ok(2, 3)
        .get(3, 1, 4)
        .read(3, Some(5), 5)
        .check()
        .unwrap();
    assert_eq!((report.keys, report.completed, report.pending), (1, 3, 0));
}

#[test]
fn overlapping_writes_may_take_effect_in_either_order() {
    let history = Script::new()
        .put(1, 1, 1, 0)
        .put(2, 1, 2, 5)
        .ok(1, 10)
        .ok(2, 15)
        .get(3, 1, 20)
        .read(3, Some(1), 25)
        .check();
    assert!(history.is_ok(), "{history:?}");
}

#[test]
fn reads_that_disagree_on_the_order_of_two_writes_are_not_linearizable() {
    let error = Script::new()
        .put(1, 1, 1, 0)
        .put(2, 1, 2, 5)
        .ok(1, 10)
        .ok(2, 15)
        .get(3, 1, 20)
        .read(3, Some(1), 25)
        .get(4, 1, 30)
        .read(4, Some(2), 35)
        .check()
        .unwrap_err();
    let LinearizabilityError::NotLinearizable { key, blocked, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(*key, 1);
    assert_eq!(blocked.len(), 1);
    assert_eq!(
        blocked[0].request,
        request(4),
        "the second read cannot be placed"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("key 1 is not linearizable"),
        "{message}"
    );
    assert!(message.contains("c0#4 get -> Some(2)"), "{message}");
}

#[test]
fn a_stale_read_is_not_linearizable() {
    let error = Script::new()
        .put(1, 7, 1, 0)
        .ok(1, 10)
        .put(2, 7, 2, 20)
        .ok(2, 30)
        .get(3, 7, 40)
        .read(3, Some(1), 50)
        .check()
        .unwrap_err();
    assert!(error.to_string().contains("key 7"), "{error}");
}

#[test]
fn reading_a_value_never_written_is_not_linearizable() {
    let error = Script::new().get(1, 1, 0).read(1, Some(9), 5).check();
    assert!(matches!(
        error,
        Err(LinearizabilityError::NotLinearizable { .. })
    ));
}

#[test]
fn a_pending_write_that_was_read_must_have_taken_effect() {
    let report = Script::new()
        .put(1, 1, 7, 0)
        .get(2, 1, 10)
        .read(2, Some(7), 20)
        .get(3, 1, 30)
        .read(3, Some(7), 40)
        .check()
        .unwrap();
    assert_eq!((report.completed, report.pending), (2, 1));
}

#[test]
fn a_pending_write_may_never_take_effect() {
    let history = Script::new()
        .put(1, 1, 7, 0)
        .get(2, 1, 10)
        .read(2, None, 20)
        .check();
    assert!(history.is_ok(), "{history:?}");
}

#[test]
fn a_pending_write_cannot_take_effect_before_it_was_invoked() {
    let error = Script::new()
        .get(1, 1, 0)
        .read(1, Some(7), 10)
        .put(2, 1, 7, 20)
        .check();
    assert!(matches!(
        error,
        Err(LinearizabilityError::NotLinearizable { .. })
    ));
}

#[test]
fn a_pending_write_cannot_be_undone_once_it_was_read() {
    // Seen by one read, the pending write took effect: a later read cannot miss it.
    let error = Script::new()
        .put(1, 1, 7, 0)
        .get(2, 1, 10)
        .read(2, Some(7), 20)
        .get(3, 1, 30)
        .read(3, None, 40)
        .check();
    assert!(matches!(
        error,
        Err(LinearizabilityError::NotLinearizable { .. })
    ));
}

#[test]
fn keys_are_checked_independently_and_the_error_names_the_bad_one() {
    let error = Script::new()
        .put(1, 1, 10, 0)
        .put(2, 2, 20, 0)
        .ok(1, 5)
        .ok(2, 5)
        .get(3, 1, 10)
        .get(4, 2, 10)
        .read(3, Some(10), 15)
        .read(4, Some(10), 15)
        .check()
        .unwrap_err();
    let LinearizabilityError::NotLinearizable { key, .. } = error else {
        panic!("{error}");
    };
    assert_eq!(key, 2);
}

#[test]
fn events_at_one_virtual_time_keep_the_order_they_were_recorded_in() {
    // The write returns, then the read is invoked, both at 10 ms: the read must see it.
    let observe = |time, value| Observation {
        node: NodeId(0),
        time: at(time),
        value,
    };
    let mut history = History::new();
    history.record(&[
        observe(
            0,
            RaftEvent::Invoked {
                request: request(1),
                op: Op::Put { key: 1, value: 3 },
            },
        ),
        observe(
            10,
            RaftEvent::Returned {
                request: request(1),
                value: None,
            },
        ),
        observe(
            10,
            RaftEvent::Invoked {
                request: request(2),
                op: Op::Get { key: 1 },
            },
        ),
        observe(
            10,
            RaftEvent::Returned {
                request: request(2),
                value: None,
            },
        ),
    ]);
    let error = history.check().unwrap_err();
    assert!(matches!(
        error,
        LinearizabilityError::NotLinearizable { .. }
    ));
}

#[test]
fn a_return_without_an_invocation_is_a_malformed_history() {
    let error = Script::new().ok(1, 5).check().unwrap_err();
    assert_eq!(
        error,
        LinearizabilityError::Malformed("c0#1 returned None but was never invoked".to_string())
    );
}

#[test]
fn a_history_too_large_for_the_budget_is_reported_as_such_not_passed() {
    let mut script = Script::new();
    for sequence in 0..12 {
        script.put(sequence, 1, sequence, 0);
    }
    for sequence in 0..12 {
        script.ok(sequence, 10);
    }
    script.get(99, 1, 20).read(99, Some(1_000), 30);
    let error = script.0.check_with_budget(100).unwrap_err();
    assert!(
        matches!(
            error,
            LinearizabilityError::TooLarge {
                key: 1,
                operations: 13,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("too large to check"));
}
