//! The wall clock, for what runs *around* simulations: how long a case or a swarm took,
//! a seed for a run that names none, when a report was written. Nothing that runs inside
//! a simulation reads it; the determinism bans of `clippy.toml` apply to the rest of this
//! crate, and this module is their one exception.
#![expect(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the one place that reads the wall clock, outside every simulation"
)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Measures wall time from its start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub(crate) fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// The wall time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A seed for a run that names none: from the clock and the process id (printed first,
/// so that the run can be repeated).
pub(crate) fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}
