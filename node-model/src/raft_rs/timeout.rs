//! Seeded election timeouts: the one thing the adapter changes about how raft-rs runs,
//! and why it must.
//!
//! # The problem
//!
//! raft-rs 0.7 draws each randomized election timeout in
//! `Raft::reset_randomized_election_timeout` from `rand::thread_rng()`: randomness
//! seeded by the operating system, different in every process. That timeout decides
//! when a follower stands for election, so two runs of the same seed elect different
//! replicas at different ticks, send different messages, and diverge at the first
//! election. No seed could reproduce a failure, and the determinism check fails.
//!
//! # The fix, without changing raft-rs
//!
//! raft-rs redraws the timeout only in `Raft::reset`, which runs only from
//! `become_follower`, `become_candidate` and `become_leader` (and so once at
//! construction): whenever the pair (term, role) changes, except on becoming a
//! pre-candidate, which does not reset. After every call into the `RawNode` (tick,
//! step, propose, campaign, advance) the adapter calls [`SeededTimeouts::reseed`],
//! which notices such a change and overwrites the timeout, through raft-rs's public
//! `Raft::set_randomized_election_timeout`, with a draw in raft-rs's own range
//! `[min, max)` from the replica's seeded stream. Nothing reads the timeout between
//! raft-rs's draw and ours (raft-rs compares against it only in `tick_election`,
//! before anything in that call can reset it), so raft-rs behaves exactly as if its
//! draw had been ours. The OS draw still happens and is thrown away.
//!
//! One call can pass through several resets (a pre-candidate that wins its pre-vote
//! becomes a candidate, and in a one-replica cluster at once a leader); only the last
//! draw matters, and one seeded draw replaces it.
//!
//! As a guard against a raft-rs version that resets without changing (term, role),
//! the override also fires when the timeout is no longer the one it set. That guard
//! misses a reset whose OS draw happens to equal the old timeout, which would cost
//! determinism again; raft-rs 0.7 has no such reset.

use raft::{Raft, StateRole, Storage};
use sim_core::SimRng;

/// Keeps one replica's election timeouts drawn from its seeded stream. Build a new
/// one with every new `RawNode`.
#[derive(Debug)]
pub(super) struct SeededTimeouts {
    /// Off: leave raft-rs's OS-random timeouts alone (only to show what goes wrong).
    enabled: bool,
    /// raft-rs's range for the timeout, in ticks: `min..max`.
    min: usize,
    max: usize,
    /// (term, role) after the last call, `None` before the first.
    seen: Option<(u64, StateRole)>,
    /// The timeout this set last, in ticks.
    drawn: Option<usize>,
    /// How many timeouts this has drawn.
    draws: u64,
}

impl SeededTimeouts {
    /// Timeouts in raft-rs's range for `config`; `enabled: false` leaves them alone.
    pub(super) fn new(config: &raft::Config, enabled: bool) -> SeededTimeouts {
        let (min, max) = (config.min_election_tick(), config.max_election_tick());
        assert!(min < max, "raft-rs validated that min < max");
        SeededTimeouts {
            enabled,
            min,
            max,
            seen: None,
            drawn: None,
            draws: 0,
        }
    }

    /// Call after every call into the `RawNode`: if raft-rs redrew its election
    /// timeout, replaces it with one drawn from `rng`.
    pub(super) fn reseed<S: Storage>(&mut self, raft: &mut Raft<S>, rng: &mut SimRng) {
        let now = (raft.term, raft.state);
        let moved = self.seen != Some(now) && raft.state != StateRole::PreCandidate;
        self.seen = Some(now);
        if !self.enabled {
            return;
        }
        let replaced = self
            .drawn
            .is_some_and(|drawn| drawn != raft.randomized_election_timeout());
        if !moved && !replaced {
            return;
        }
        let span = u64::try_from(self.max - self.min).expect("a tick count fits in a u64");
        let offset = usize::try_from(rng.below(span)).expect("below a usize");
        let timeout = self.min + offset;
        raft.set_randomized_election_timeout(timeout);
        self.drawn = Some(timeout);
        self.draws += 1;
    }

    /// How many timeouts this has drawn.
    pub(super) fn draws(&self) -> u64 {
        self.draws
    }
}

#[cfg(test)]
mod tests {
    use raft::storage::MemStorage;

    use super::*;

    fn raft(config: &raft::Config) -> Raft<MemStorage> {
        let storage = super::super::storage::fresh([1, 2, 3]);
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        Raft::new(config, storage, &logger).unwrap()
    }

    fn config() -> raft::Config {
        raft::Config {
            id: 1,
            election_tick: 10,
            heartbeat_tick: 3,
            ..raft::Config::default()
        }
    }

    #[test]
    fn a_new_raft_gets_a_timeout_from_the_stream_and_keeps_it_while_term_and_role_stand() {
        let config = config();
        let mut timeouts = SeededTimeouts::new(&config, true);
        let (mut first, mut second) = (raft(&config), raft(&config));
        let mut rng = SimRng::new(9, "node/0");
        timeouts.reseed(&mut first, &mut rng);
        let drawn = first.randomized_election_timeout();
        assert!((10..20).contains(&drawn), "{drawn} is in raft-rs's range");
        timeouts.reseed(&mut first, &mut rng);
        assert_eq!(timeouts.draws(), 1, "nothing changed, nothing redrawn");

        let mut again = SeededTimeouts::new(&config, true);
        again.reseed(&mut second, &mut SimRng::new(9, "node/0"));
        assert_eq!(
            second.randomized_election_timeout(),
            drawn,
            "same seed, same timeout"
        );
    }

    #[test]
    fn becoming_a_candidate_redraws_and_becoming_a_pre_candidate_does_not() {
        let config = config();
        let mut timeouts = SeededTimeouts::new(&config, true);
        let mut raft = raft(&config);
        let mut rng = SimRng::new(3, "node/0");
        timeouts.reseed(&mut raft, &mut rng);
        raft.become_pre_candidate();
        timeouts.reseed(&mut raft, &mut rng);
        assert_eq!(
            timeouts.draws(),
            1,
            "a pre-candidate keeps its timeout in raft-rs"
        );
        raft.become_candidate();
        timeouts.reseed(&mut raft, &mut rng);
        assert_eq!(timeouts.draws(), 2, "a new term is a reset");
        assert!((10..20).contains(&raft.randomized_election_timeout()));
    }

    #[test]
    fn a_timeout_changed_behind_its_back_is_replaced() {
        let config = config();
        let mut timeouts = SeededTimeouts::new(&config, true);
        let mut raft = raft(&config);
        let mut rng = SimRng::new(5, "node/0");
        timeouts.reseed(&mut raft, &mut rng);
        let drawn = raft.randomized_election_timeout();
        raft.set_randomized_election_timeout(if drawn == 10 { 11 } else { 10 });
        timeouts.reseed(&mut raft, &mut rng);
        assert_eq!(timeouts.draws(), 2);
    }

    #[test]
    fn when_disabled_raft_rs_keeps_its_own_draws() {
        let config = config();
        let mut timeouts = SeededTimeouts::new(&config, false);
        let mut raft = raft(&config);
        raft.set_randomized_election_timeout(17);
        timeouts.reseed(&mut raft, &mut SimRng::new(5, "node/0"));
        assert_eq!(raft.randomized_election_timeout(), 17);
        assert_eq!(timeouts.draws(), 0);
    }
}
