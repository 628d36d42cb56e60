//! Per-node clocks: each node's view of virtual time, with skew and drift.
//!
//! The engine runs on one true virtual clock. A node sees its own *local* time:
//! `local = true + offset + drift × (true − anchor)`, where the offset is the clock's
//! skew (it may be set at any time, jumping the clock) and the drift is a rate error in
//! parts per million (a clock with +100 ppm gains 100 µs per second). Timers a node sets
//! are measured in its local time, so a fast clock fires its timers early in true time.
//!
//! Local time never goes below zero; a negative skew at the start of a run reads as 0.
//!
//! Like a real machine, a node has two clocks. [`Clock::local`] is its wall clock: what
//! it stamps on blocks and compares with others' stamps; a skew jumps it, forward or
//! back. [`Clock::monotonic`] is its monotonic clock: it runs at the same (drifting)
//! rate but never jumps, so it is the one to measure elapsed time with (rate limits,
//! waiting periods). A rate limit on the wall clock stalls for as long as the clock
//! jumped back.

use serde::{Deserialize, Serialize};

use crate::time::{SimDuration, SimTime};

const PPM: i128 = 1_000_000;

/// The largest drift magnitude accepted, in parts per million (±50%).
pub const DRIFT_PPM_MAX: i64 = 500_000;

/// A node's clock model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// `true` while local time equals true time (no skew, no drift): the fast path.
    perfect: bool,
    /// Local time at `anchor`, in nanoseconds (may be negative before clamping).
    anchor_local: i128,
    /// The true time at which the current drift started.
    anchor: SimTime,
    /// Rate error in parts per million.
    drift_ppm: i64,
    /// The sum of every skew so far: local minus monotonic time.
    jumped_ns: i128,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::PERFECT
    }
}

impl Clock {
    /// A perfect clock: local time equals true time.
    pub const PERFECT: Clock = Clock {
        perfect: true,
        anchor_local: 0,
        anchor: SimTime::ZERO,
        drift_ppm: 0,
        jumped_ns: 0,
    };

    /// `true` if this clock reads true time exactly.
    #[inline]
    pub fn is_perfect(&self) -> bool {
        self.perfect
    }

    /// The local reading at true time `now`.
    #[inline]
    pub fn local(&self, now: SimTime) -> SimTime {
        if self.is_perfect() {
            return now;
        }
        let elapsed = i128::from(now.as_nanos()) - i128::from(self.anchor.as_nanos());
        let local = self.anchor_local + elapsed * (PPM + i128::from(self.drift_ppm)) / PPM;
        SimTime::from_nanos(local.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The monotonic reading at true time `now`: the local reading without its skews.
    /// It runs at the clock's rate (drift applies) and never jumps.
    #[inline]
    pub fn monotonic(&self, now: SimTime) -> SimTime {
        if self.is_perfect() {
            return now;
        }
        let elapsed = i128::from(now.as_nanos()) - i128::from(self.anchor.as_nanos());
        let local = self.anchor_local + elapsed * (PPM + i128::from(self.drift_ppm)) / PPM;
        SimTime::from_nanos((local - self.jumped_ns).clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The true duration after which `local` time will have passed on this clock
    /// (rounded up, so a timer never fires before its local deadline).
    #[inline]
    pub fn true_duration(&self, local: SimDuration) -> SimDuration {
        if self.drift_ppm == 0 {
            return local;
        }
        let rate = PPM + i128::from(self.drift_ppm);
        let nanos = (i128::from(local.as_nanos()) * PPM + rate - 1) / rate;
        SimDuration::from_nanos(nanos.min(i128::from(u64::MAX)) as u64)
    }

    /// Jumps the clock by `offset_ns` (positive = ahead) at true time `now`.
    pub fn skew(&mut self, now: SimTime, offset_ns: i64) {
        self.reanchor(now);
        self.anchor_local += i128::from(offset_ns);
        self.jumped_ns += i128::from(offset_ns);
    }

    /// Sets the drift to `drift_ppm` from true time `now` on.
    pub fn set_drift(&mut self, now: SimTime, drift_ppm: i64) {
        assert!(
            drift_ppm.abs() <= DRIFT_PPM_MAX,
            "clock drift of {drift_ppm} ppm is beyond ±{DRIFT_PPM_MAX}"
        );
        self.reanchor(now);
        self.drift_ppm = drift_ppm;
    }

    /// The current rate error in parts per million.
    pub fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }

    /// Local minus true time at `now`, in nanoseconds.
    pub fn offset_ns(&self, now: SimTime) -> i128 {
        let elapsed = i128::from(now.as_nanos()) - i128::from(self.anchor.as_nanos());
        self.anchor_local + elapsed * (PPM + i128::from(self.drift_ppm)) / PPM
            - i128::from(now.as_nanos())
    }

    fn reanchor(&mut self, now: SimTime) {
        let elapsed = i128::from(now.as_nanos()) - i128::from(self.anchor.as_nanos());
        self.anchor_local += elapsed * (PPM + i128::from(self.drift_ppm)) / PPM;
        self.anchor = now;
        self.perfect = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_clock_reads_true_time() {
        let clock = Clock::PERFECT;
        assert_eq!(clock.local(SimTime::from_secs(5)), SimTime::from_secs(5));
        assert_eq!(
            clock.true_duration(SimDuration::from_millis(3)),
            SimDuration::from_millis(3)
        );
    }

    #[test]
    fn skew_shifts_the_reading_and_stays() {
        let mut clock = Clock::PERFECT;
        clock.skew(SimTime::from_secs(1), 2_000_000_000);
        assert_eq!(clock.local(SimTime::from_secs(1)), SimTime::from_secs(3));
        assert_eq!(clock.local(SimTime::from_secs(10)), SimTime::from_secs(12));
        assert_eq!(clock.offset_ns(SimTime::from_secs(10)), 2_000_000_000);
    }

    #[test]
    fn the_monotonic_clock_ignores_skew_but_follows_drift() {
        let mut clock = Clock::PERFECT;
        let at = SimTime::from_secs;
        // The wall clock jumps a minute ahead, back, and 3 s further back; the monotonic
        // clock reads true time throughout.
        clock.skew(at(10), 60_000_000_000);
        assert_eq!(clock.local(at(15)), at(75));
        assert_eq!(clock.monotonic(at(15)), at(15));
        clock.skew(at(20), -60_000_000_000);
        clock.skew(at(25), -3_000_000_000);
        assert_eq!(clock.local(at(30)), at(27));
        assert_eq!(clock.monotonic(at(30)), at(30));
        // +1000 ppm from 30 s: both clocks gain 1 ms per second from there.
        clock.set_drift(at(30), 1_000);
        assert_eq!(clock.monotonic(at(40)), SimTime::from_millis(40_010));
        assert_eq!(clock.local(at(40)), SimTime::from_millis(37_010));
    }

    #[test]
    fn negative_skew_never_reads_below_zero() {
        let mut clock = Clock::PERFECT;
        clock.skew(SimTime::ZERO, -5_000);
        assert_eq!(clock.local(SimTime::from_nanos(1_000)), SimTime::ZERO);
        assert_eq!(
            clock.local(SimTime::from_nanos(6_000)),
            SimTime::from_nanos(1_000)
        );
    }

    #[test]
    fn drift_accumulates_from_when_it_was_set() {
        let mut clock = Clock::PERFECT;
        // +1000 ppm: gains 1 ms per second.
        clock.set_drift(SimTime::from_secs(10), 1_000);
        assert_eq!(clock.local(SimTime::from_secs(10)), SimTime::from_secs(10));
        assert_eq!(
            clock.local(SimTime::from_secs(20)),
            SimTime::from_millis(20_010)
        );
        // Timers: 1 local second passes in slightly less than one true second.
        let true_wait = clock.true_duration(SimDuration::from_secs(1));
        assert_eq!(true_wait, SimDuration::from_nanos(999_001_000));
        // Changing the drift keeps the reading continuous.
        clock.set_drift(SimTime::from_secs(20), -1_000);
        assert_eq!(
            clock.local(SimTime::from_secs(20)),
            SimTime::from_millis(20_010)
        );
        assert_eq!(clock.local(SimTime::from_secs(30)), SimTime::from_secs(30));
    }

    #[test]
    fn timers_never_fire_before_their_local_deadline() {
        for drift in [-300_000, -7, 0, 13, 250_000] {
            let mut clock = Clock::PERFECT;
            clock.set_drift(SimTime::ZERO, drift);
            let start = SimTime::from_millis(3);
            let wait = SimDuration::from_nanos(1_234_567);
            let fire = start + clock.true_duration(wait);
            assert!(
                clock.local(fire) - clock.local(start) >= wait,
                "drift {drift}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "beyond")]
    fn absurd_drift_is_refused() {
        let mut clock = Clock::PERFECT;
        clock.set_drift(SimTime::ZERO, 2_000_000);
    }
}
