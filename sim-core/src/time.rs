//! Virtual time: instants and durations in integer nanoseconds.
//!
//! Nothing in a simulation reads the wall clock. [`SimTime`] counts nanoseconds since
//! the start of the run and only moves forward; [`SimDuration`] is the distance
//! between two instants. Both are plain `u64`s, so arithmetic is exact and the same
//! on every machine. Arithmetic that would overflow or go below zero panics: in a
//! simulator that is always a bug, never something to paper over.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Serialize};

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A point in virtual time: nanoseconds since the start of the run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A span of virtual time in nanoseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time: a deadline that never passes.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `nanos` nanoseconds after the start.
    pub const fn from_nanos(nanos: u64) -> SimTime {
        SimTime(nanos)
    }

    /// The instant `millis` milliseconds after the start.
    pub const fn from_millis(millis: u64) -> SimTime {
        SimTime(millis * NANOS_PER_MILLI)
    }

    /// The instant `secs` seconds after the start.
    pub const fn from_secs(secs: u64) -> SimTime {
        SimTime(secs * NANOS_PER_SEC)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start, for display and reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The time elapsed since `earlier`. Panics if `earlier` is later than `self`.
    pub fn duration_since(self, earlier: SimTime) -> SimDuration {
        assert!(earlier <= self, "duration_since: {earlier} is after {self}");
        SimDuration(self.0 - earlier.0)
    }

    /// `self + duration`, or [`SimTime::MAX`] if that would overflow.
    pub const fn saturating_add(self, duration: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(duration.0))
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable duration.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> SimDuration {
        SimDuration(nanos)
    }

    /// A duration of `micros` microseconds.
    pub const fn from_micros(micros: u64) -> SimDuration {
        SimDuration(micros * NANOS_PER_MICRO)
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> SimDuration {
        SimDuration(millis * NANOS_PER_MILLI)
    }

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs * NANOS_PER_SEC)
    }

    /// A duration of `minutes` minutes.
    pub const fn from_minutes(minutes: u64) -> SimDuration {
        SimDuration(minutes * 60 * NANOS_PER_SEC)
    }

    /// A duration of `hours` hours.
    pub const fn from_hours(hours: u64) -> SimDuration {
        SimDuration(hours * 3_600 * NANOS_PER_SEC)
    }

    /// The duration in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The duration in whole milliseconds, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }

    /// The duration in seconds, for display and reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self + other`, or [`SimDuration::MAX`] if that would overflow.
    pub const fn saturating_add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }

    /// `self * factor`, or [`SimDuration::MAX`] if that would overflow.
    pub const fn saturating_mul(self, factor: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(factor))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, duration: SimDuration) -> SimTime {
        SimTime(
            self.0
                .checked_add(duration.0)
                .expect("virtual time overflowed u64 nanoseconds"),
        )
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, duration: SimDuration) {
        *self = *self + duration;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.duration_since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(
            self.0
                .checked_add(other.0)
                .expect("virtual duration overflowed u64 nanoseconds"),
        )
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, other: SimDuration) {
        *self = *self + other;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, other: SimDuration) -> SimDuration {
        assert!(other <= self, "duration subtraction went below zero");
        SimDuration(self.0 - other.0)
    }
}

/// Writes nanoseconds in the largest unit that keeps them readable: `0s`, `1.5ms`, `2h3m4.5s`.
fn write_nanos(f: &mut fmt::Formatter<'_>, nanos: u64) -> fmt::Result {
    if nanos == 0 {
        return f.write_str("0s");
    }
    if nanos < NANOS_PER_MICRO {
        return write!(f, "{nanos}ns");
    }
    if nanos < NANOS_PER_MILLI {
        return write_fraction(f, nanos, NANOS_PER_MICRO, "µs");
    }
    if nanos < NANOS_PER_SEC {
        return write_fraction(f, nanos, NANOS_PER_MILLI, "ms");
    }
    let total_secs = nanos / NANOS_PER_SEC;
    let (hours, minutes) = (total_secs / 3_600, total_secs / 60 % 60);
    if hours > 0 {
        write!(f, "{hours}h")?;
    }
    if hours > 0 || minutes > 0 {
        write!(f, "{minutes}m")?;
    }
    write_fraction(f, nanos % (60 * NANOS_PER_SEC), NANOS_PER_SEC, "s")
}

/// Writes `value / unit` with up to nine decimals and no trailing zeros.
fn write_fraction(f: &mut fmt::Formatter<'_>, value: u64, unit: u64, suffix: &str) -> fmt::Result {
    let (whole, rest) = (value / unit, value % unit);
    if rest == 0 {
        return write!(f, "{whole}{suffix}");
    }
    let digits = unit.ilog10() as usize;
    let fraction = format!("{rest:0digits$}");
    write!(f, "{whole}.{}{suffix}", fraction.trim_end_matches('0'))
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("t=")?;
        write_nanos(f, self.0)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_to_nanoseconds() {
        assert_eq!(SimDuration::from_micros(3).as_nanos(), 3_000);
        assert_eq!(SimDuration::from_millis(3).as_nanos(), 3_000_000);
        assert_eq!(SimDuration::from_secs(3).as_nanos(), 3_000_000_000);
        assert_eq!(SimDuration::from_minutes(2), SimDuration::from_secs(120));
        assert_eq!(SimDuration::from_hours(1), SimDuration::from_secs(3_600));
        assert_eq!(
            SimTime::from_millis(5),
            SimTime::ZERO + SimDuration::from_millis(5)
        );
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(SimDuration::ZERO.to_string(), "0s");
        assert_eq!(SimDuration::from_nanos(12).to_string(), "12ns");
        assert_eq!(SimDuration::from_micros(1500).to_string(), "1.5ms");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_millis(61_500).to_string(), "1m1.5s");
        assert_eq!(SimDuration::from_secs(7_384).to_string(), "2h3m4s");
        assert_eq!(SimTime::from_secs(2).to_string(), "t=2s");
    }

    #[test]
    fn subtraction_measures_elapsed_time() {
        let later = SimTime::from_millis(7);
        assert_eq!(later - SimTime::from_millis(2), SimDuration::from_millis(5));
        assert_eq!(
            SimTime::from_millis(2).saturating_duration_since(later),
            SimDuration::ZERO
        );
    }

    #[test]
    #[should_panic(expected = "is after")]
    fn time_never_runs_backwards_in_subtraction() {
        let _ = SimTime::from_millis(1) - SimTime::from_millis(2);
    }

    #[test]
    #[should_panic(expected = "overflowed")]
    fn overflow_is_a_bug_not_a_wrap() {
        let _ = SimTime::MAX + SimDuration::from_nanos(1);
    }
}
