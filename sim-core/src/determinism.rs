//! The determinism check: run the same simulation twice and find the first step at
//! which the runs differ.
//!
//! Determinism is the product, so it is checked rather than assumed. A node that reads
//! the wall clock, iterates a hash map, keeps global state between runs or draws OS
//! randomness will, sooner or later, make two runs of the same seed take different
//! steps. [`check_determinism`] runs the simulation twice with full recording, compares
//! the two records step by step and, if the runs diverge, shows what each run did at the
//! first step where they differ (the records of these two runs, not of a third one, so
//! a leak that draws differently each time is still shown as it happened).
//!
//! ```
//! use sim_core::{check_determinism, Context, Node, NodeId, Sim, SimDuration};
//!
//! struct Quiet;
//! impl Node for Quiet {
//!     type Message = ();
//!     type Timer = ();
//!     type Observation = ();
//!     fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}
//! }
//!
//! let report = check_determinism(
//!     || {
//!         let mut sim = Sim::with_seed(7);
//!         sim.add_node(|_| Quiet);
//!         sim
//!     },
//!     |sim: &mut Sim<Quiet>| sim.run_for(SimDuration::from_secs(1)),
//! );
//! assert!(report.is_ok());
//! ```

use std::fmt;

use thiserror::Error;

use crate::node::Node;
use crate::outcome::Stop;
use crate::sim::Sim;
use crate::trace::TraceRecord;

/// How many steps before the divergence a report shows.
const CONTEXT_STEPS: usize = 5;

/// Two runs of the same simulation that did not take the same steps.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct Divergence {
    /// The first step (from 1) at which the runs differ.
    pub step: u64,
    /// What the first run did at that step (`None` if it had already ended).
    pub first: Option<TraceRecord>,
    /// What the second run did at that step (`None` if it had already ended).
    pub second: Option<TraceRecord>,
    /// The steps just before, on which both runs agreed.
    pub context: Vec<TraceRecord>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the two runs diverged at step {}", self.step)?;
        for record in &self.context {
            writeln!(f, "  both:   {record}")?;
        }
        let show = |record: &Option<TraceRecord>| {
            record
                .as_ref()
                .map_or("(run had ended)".to_string(), ToString::to_string)
        };
        writeln!(f, "  first:  {}", show(&self.first))?;
        write!(f, "  second: {}", show(&self.second))
    }
}

/// Builds and runs a simulation twice, recording every step; returns the trace hash if
/// both runs took the same steps, or where they diverged, with what each run did there.
///
/// `build` must create the simulation from scratch (same seed, same nodes); `run` drives
/// it (its result is ignored: a violation is fine, as long as both runs hit the same one).
/// Both runs keep their full record, so the divergence shown is the one that happened,
/// even if the leak would draw differently a third time.
pub fn check_determinism<N: Node>(
    build: impl Fn() -> Sim<N>,
    run: impl Fn(&mut Sim<N>) -> Result<(), Stop>,
) -> Result<u64, Box<Divergence>> {
    let record = |_: ()| {
        let mut sim = build();
        sim.record_trace();
        let _ = run(&mut sim);
        (sim.take_trace(), sim.trace_hash())
    };
    let (first, first_hash) = record(());
    let (second, second_hash) = record(());
    let Some(index) = first.first_divergence(&second) else {
        assert_eq!(first_hash, second_hash, "equal records, equal final hash");
        return Ok(first_hash);
    };
    let context =
        first.records[index.saturating_sub(CONTEXT_STEPS)..index.min(first.records.len())].to_vec();
    Err(Box::new(Divergence {
        step: index as u64 + 1,
        first: first.records.get(index).cloned(),
        second: second.records.get(index).cloned(),
        context,
    }))
}
