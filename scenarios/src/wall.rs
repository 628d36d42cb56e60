//! The wall clock, for what runs *around* simulations: how long a case or a swarm took,
//! a seed for a run that names none, when a report was written (and, beside it, the
//! commit under test). Nothing that runs inside
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

/// A moment on the wall clock, for reports.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallTime(SystemTime);

impl WallTime {
    /// Now.
    pub(crate) fn now() -> WallTime {
        WallTime(SystemTime::now())
    }

    /// As RFC 3339 in UTC, to the millisecond: `2026-12-01T23:07:22.123Z`.
    pub(crate) fn rfc3339(self) -> String {
        chrono::DateTime::<chrono::Utc>::from(self.0)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// The commit of the code under test, if known: `DETSIM_COMMIT`, then the CI systems'
/// `GITHUB_SHA` and `CI_COMMIT_SHA`, then `git rev-parse HEAD` in the working directory.
pub(crate) fn commit() -> Option<String> {
    for name in ["DETSIM_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"] {
        if let Ok(value) = std::env::var(name)
            && !value.trim().is_empty()
        {
            return Some(value.trim().to_string());
        }
    }
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
