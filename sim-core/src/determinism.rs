//! The determinism check: run the same simulation twice and find the first step at
//! which the runs differ.
//!
//! Determinism is the product, so it is checked rather than assumed. A node that reads
//! the wall clock, iterates a hash map, keeps global state between runs or draws OS
//! randomness will, sooner or later, make two runs of the same seed take different
//! steps. [`check_determinism`] runs the simulation twice, compares the trace hash after
//! every step and, if the runs diverge, runs both again up to the divergent step with
//! full recording to show what each run did there.
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

/// Builds and runs a simulation twice; returns the trace hash if both runs took the same
/// steps, or where they diverged.
///
/// `build` must create the simulation from scratch (same seed, same nodes); `run` drives
/// it (its result is ignored: a violation is fine, as long as both runs hit the same one).
pub fn check_determinism<N: Node>(
    build: impl Fn() -> Sim<N>,
    run: impl Fn(&mut Sim<N>) -> Result<(), Stop>,
) -> Result<u64, Box<Divergence>> {
    let hashes = |_: ()| {
        let mut sim = build();
        sim.record_step_hashes();
        let _ = run(&mut sim);
        (sim.step_hashes().to_vec(), sim.trace_hash())
    };
    let (first, first_hash) = hashes(());
    let (second, second_hash) = hashes(());
    let common = first.len().min(second.len());
    let diverged = (0..common)
        .find(|&i| first[i] != second[i])
        .or((first.len() != second.len()).then_some(common));
    let Some(index) = diverged else {
        assert_eq!(
            first_hash, second_hash,
            "equal step hashes, equal final hash"
        );
        return Ok(first_hash);
    };
    let records = |_: ()| {
        let mut sim = build();
        sim.record_trace();
        sim.set_max_steps(index as u64 + 1);
        let _ = run(&mut sim);
        sim.take_trace().records
    };
    let (mut first, mut second) = (records(()), records(()));
    let at =
        |records: &mut Vec<TraceRecord>| (records.len() > index).then(|| records.remove(index));
    let (first_record, second_record) = (at(&mut first), at(&mut second));
    let context = first[index.saturating_sub(CONTEXT_STEPS)..index.min(first.len())].to_vec();
    Err(Box::new(Divergence {
        step: index as u64 + 1,
        first: first_record,
        second: second_record,
        context,
    }))
}
