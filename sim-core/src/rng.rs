//! Seeded randomness: one algorithm, one stream per purpose, our own sampling.
//!
//! Every random choice in a run comes from a [`SimRng`], a ChaCha8 stream derived from
//! the run's `u64` seed and a *label* naming its purpose (`"network"`, `"faults"`,
//! `"node/3"`, `"workload"`). Streams with different labels are independent: adding a
//! node, a fault or a workload generator creates a new stream and leaves the draws of
//! every other stream unchanged, so an edited or shrunk scenario stays close to the run
//! it came from.
//!
//! The seed expansion (SplitMix64), the label hash (FNV-1a) and the sampling helpers
//! ([`SimRng::below`], [`SimRng::between`], [`SimRng::chance`], [`SimRng::pick`],
//! [`SimRng::shuffle`]) are written here rather than taken from `rand`, so that an
//! upstream change of algorithm can never silently change every recorded run. A test
//! pins the first outputs of a known seed.
//!
//! ```
//! use sim_core::SimRng;
//!
//! let mut network = SimRng::new(42, "network");
//! let mut again = SimRng::new(42, "network");
//! assert_eq!(network.next_u64(), again.next_u64());
//!
//! let latency_ms = network.between(1, 10);
//! assert!((1..=10).contains(&latency_ms));
//! ```
//!
//! # Choice mode
//!
//! A fuzzer learns which inputs reach new code; a seed hides that from it, since one
//! flipped bit of a seed changes every draw at once. In *choice mode* a run's streams
//! read their draws from a shared tape of bytes ([`Choices`]) instead, in the order the
//! run makes them, so each byte of the fuzzer's input is one decision (a latency, a
//! coin, a pick) and coverage guidance can steer the schedule a byte at a time. Once
//! the tape is used up the streams carry on from the seed as usual, so any tape, even an
//! empty one, gives a complete run. Small draws take few bytes: `below(n)` reads one
//! byte for `n <= 256`, two for `n <= 65,536`, eight otherwise.
//!
//! ```
//! use sim_core::{Choices, SimRng};
//!
//! let tape = Choices::new(vec![3, 0, 0, 0, 0, 0, 0, 0, 1]);
//! let mut rng = SimRng::new(42, "network").with_choices(Some(tape.clone()));
//! assert_eq!(rng.next_u64(), 3); // eight bytes, little-endian
//! assert_eq!(rng.below(6), 1); // one byte, reduced modulo 6
//! assert_eq!(tape.used(), 9);
//! let seeded = SimRng::new(42, "network").next_u64(); // the tape is used up:
//! assert_ne!(rng.next_u64(), 3); // back to the seeded stream
//! # let _ = seeded;
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A deterministic random stream: ChaCha8 keyed by the run's seed, one stream per label.
#[derive(Clone)]
pub struct SimRng {
    inner: ChaCha8Rng,
    stream: u64,
    /// The tape that decides draws first, in choice mode.
    choices: Option<Arc<Choices>>,
}

/// The tape of bytes that decides a run's draws in choice mode (see the
/// [module docs](self#choice-mode)). Every stream of a run shares one tape and one
/// position on it.
///
/// A tape is read once: a simulation built from a config with a tape reads its own
/// [rewound](Choices::rewound) copy, so that building the same config twice (as the
/// determinism check does) gives the same run.
#[derive(Debug, Default)]
pub struct Choices {
    bytes: Arc<[u8]>,
    /// How many bytes have been read. (Atomic only so that a tape can live in a
    /// `Send` config; a run reads it from one thread.)
    cursor: AtomicUsize,
}

impl Choices {
    /// A tape holding `bytes`, read from the start.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Arc<Choices> {
        Arc::new(Choices {
            bytes: bytes.into(),
            cursor: AtomicUsize::new(0),
        })
    }

    /// A tape with the same bytes, read from the start.
    pub fn rewound(&self) -> Arc<Choices> {
        Arc::new(Choices {
            bytes: Arc::clone(&self.bytes),
            cursor: AtomicUsize::new(0),
        })
    }

    /// The whole tape.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bytes the run has read so far.
    pub fn used(&self) -> usize {
        self.cursor.load(Ordering::Relaxed)
    }

    /// The next `N` bytes, or `None` (reading nothing) if fewer are left.
    fn take<const N: usize>(&self) -> Option<[u8; N]> {
        let at = self.cursor.load(Ordering::Relaxed);
        let bytes = self.bytes.get(at..at + N)?;
        self.cursor.store(at + N, Ordering::Relaxed);
        bytes.try_into().ok()
    }

    fn next_u64(&self) -> Option<u64> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    /// A draw below `bound` from as few bytes as the bound needs.
    fn below(&self, bound: u64) -> Option<u64> {
        let value = if bound <= 1 << 8 {
            u64::from(self.take::<1>()?[0])
        } else if bound <= 1 << 16 {
            u64::from(u16::from_le_bytes(self.take::<2>()?))
        } else {
            self.next_u64()?
        };
        Some(value % bound)
    }
}

impl PartialEq for Choices {
    /// Two tapes are equal when they hold the same bytes, wherever they are read to.
    fn eq(&self, other: &Choices) -> bool {
        self.bytes == other.bytes
    }
}

impl fmt::Debug for SimRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRng")
            .field("stream", &format_args!("{:#018x}", self.stream))
            .field("word_pos", &self.inner.get_word_pos())
            .finish()
    }
}

/// FNV-1a over bytes: a stable, documented hash for labels.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// One step of SplitMix64: a strong 64-bit mixer, used to expand the seed into a key.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SimRng {
    /// The stream named `label` of the run seeded with `seed`.
    pub fn new(seed: u64, label: &str) -> SimRng {
        let mut state = seed;
        let mut key = [0_u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        SimRng::with_key(key, fnv1a(label.as_bytes()))
    }

    fn with_key(key: [u8; 32], stream: u64) -> SimRng {
        let mut inner = ChaCha8Rng::from_seed(key);
        inner.set_stream(stream);
        SimRng {
            inner,
            stream,
            choices: None,
        }
    }

    /// This stream in choice mode: draws come from `choices` while it lasts (`None`:
    /// from the seed only, as usual).
    pub fn with_choices(mut self, choices: Option<Arc<Choices>>) -> SimRng {
        self.choices = choices;
        self
    }

    /// A child stream of this one, named `label`, independent of this stream's draws so
    /// far and of every sibling with another label.
    pub fn fork(&self, label: &str) -> SimRng {
        let mut state = self.stream ^ fnv1a(label.as_bytes());
        SimRng::with_key(self.inner.get_seed(), splitmix64(&mut state))
            .with_choices(self.choices.clone())
    }

    /// A uniformly random `u64`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if self.choices.is_some() {
            return self.tape_u64();
        }
        self.inner.next_u64()
    }

    /// A uniformly random `u32`.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.choices.is_some() {
            return self.tape_u32();
        }
        self.inner.next_u32()
    }

    // Choice mode, out of line: the seeded draws above stay small enough to inline
    // into the engine's hot paths.

    #[inline(never)]
    fn tape_u64(&mut self) -> u64 {
        match self.choices.as_ref().and_then(|tape| tape.next_u64()) {
            Some(value) => value,
            None => self.inner.next_u64(),
        }
    }

    #[inline(never)]
    fn tape_u32(&mut self) -> u32 {
        match self.choices.as_ref().and_then(|tape| tape.take::<4>()) {
            Some(bytes) => u32::from_le_bytes(bytes),
            None => self.inner.next_u32(),
        }
    }

    #[inline(never)]
    fn tape_below(&mut self, bound: u64) -> Option<u64> {
        self.choices.as_ref().and_then(|tape| tape.below(bound))
    }

    /// Fills `bytes` with random bytes.
    pub fn fill_bytes(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    /// A uniform integer in `0..bound`, without modulo bias (Lemire's method).
    ///
    /// Panics if `bound` is zero: there is nothing to choose from.
    #[inline]
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0): empty range");
        if self.choices.is_some()
            && let Some(value) = self.tape_below(bound)
        {
            return value;
        }
        let mut product = u128::from(self.next_u64()) * u128::from(bound);
        if (product as u64) < bound {
            let threshold = bound.wrapping_neg() % bound;
            while (product as u64) < threshold {
                product = u128::from(self.next_u64()) * u128::from(bound);
            }
        }
        (product >> 64) as u64
    }

    /// A uniform integer in `min..=max`. Panics if `min > max`.
    #[inline]
    pub fn between(&mut self, min: u64, max: u64) -> u64 {
        assert!(min <= max, "between({min}, {max}): empty range");
        match (max - min).checked_add(1) {
            Some(span) => min + self.below(span),
            None => self.next_u64(),
        }
    }

    /// `true` with probability `numerator / denominator`, from integer arithmetic only.
    ///
    /// Draws nothing when the answer is certain (`numerator == 0` or
    /// `numerator >= denominator`), so enabling a zero-probability fault does not shift
    /// the stream.
    #[inline]
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        assert!(denominator > 0, "chance with a zero denominator");
        if numerator == 0 {
            return false;
        }
        if numerator >= denominator {
            return true;
        }
        self.below(denominator) < numerator
    }

    /// `true` with the probability `chance` describes.
    #[inline]
    pub fn sample(&mut self, chance: Chance) -> bool {
        self.chance(u64::from(chance.numerator), u64::from(chance.denominator))
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1_u64 << 53) as f64)
    }

    /// A uniformly chosen element of `items`, or `None` if it is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        Some(&items[self.below(items.len() as u64) as usize])
    }

    /// Shuffles `items` uniformly (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// Chooses an index with probability proportional to its weight. Returns `None`
    /// when all weights are zero.
    pub fn pick_weighted(&mut self, weights: &[u64]) -> Option<usize> {
        let total = weights.iter().try_fold(0_u64, |sum, &w| sum.checked_add(w));
        let total = total.expect("weights overflow u64");
        if total == 0 {
            return None;
        }
        let mut target = self.below(total);
        for (index, &weight) in weights.iter().enumerate() {
            if target < weight {
                return Some(index);
            }
            target -= weight;
        }
        unreachable!("target is below the total weight")
    }
}

/// A probability as an exact integer ratio, so that sampling never touches floats.
///
/// ```
/// use sim_core::Chance;
///
/// assert_eq!(Chance::percent(5), Chance::new(5, 100));
/// assert!(Chance::NEVER.is_never());
/// assert_eq!(Chance::new(1, 4).to_string(), "1/4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chance {
    /// How many outcomes out of `denominator` are "yes".
    pub numerator: u32,
    /// The number of equally likely outcomes; never zero.
    pub denominator: u32,
}

impl Chance {
    /// Never happens.
    pub const NEVER: Chance = Chance {
        numerator: 0,
        denominator: 1,
    };
    /// Always happens.
    pub const ALWAYS: Chance = Chance {
        numerator: 1,
        denominator: 1,
    };

    /// `numerator` in `denominator`. Panics unless `0 <= numerator <= denominator` and
    /// `denominator > 0`.
    pub const fn new(numerator: u32, denominator: u32) -> Chance {
        assert!(denominator > 0, "a chance needs a non-zero denominator");
        assert!(numerator <= denominator, "a chance is at most 1");
        Chance {
            numerator,
            denominator,
        }
    }

    /// `percent` in 100.
    pub const fn percent(percent: u32) -> Chance {
        Chance::new(percent, 100)
    }

    /// `true` if this chance can never come up.
    pub const fn is_never(self) -> bool {
        self.numerator == 0
    }

    /// `true` if this chance always comes up.
    pub const fn is_always(self) -> bool {
        self.numerator == self.denominator
    }

    /// The probability as a float, for display and reports only.
    pub fn as_f64(self) -> f64 {
        f64::from(self.numerator) / f64::from(self.denominator)
    }
}

impl Default for Chance {
    fn default() -> Self {
        Chance::NEVER
    }
}

impl fmt::Display for Chance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the algorithm: if this changes, every recorded run and golden hash changes.
    #[test]
    fn first_outputs_of_a_known_seed_are_pinned() {
        let mut rng = SimRng::new(1, "network");
        let first: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [
                0x_33b4_a34d_f486_95c3,
                0x_f38d_7cac_283a_50e1,
                0x_bdfb_2e7c_b0c0_8650,
                0x_74c1_fbc1_ff57_65ba
            ]
        );
        let mut node = SimRng::new(1, "node/0");
        assert_eq!(node.below(1_000_000), 205_986);
    }

    #[test]
    fn same_seed_and_label_give_the_same_stream() {
        let mut a = SimRng::new(7, "faults");
        let mut b = SimRng::new(7, "faults");
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn labels_and_seeds_separate_streams() {
        let draw = |seed, label| SimRng::new(seed, label).next_u64();
        assert_ne!(draw(7, "faults"), draw(7, "network"));
        assert_ne!(draw(7, "node/1"), draw(7, "node/2"));
        assert_ne!(draw(7, "faults"), draw(8, "faults"));
    }

    #[test]
    fn forks_do_not_depend_on_the_parents_position() {
        let parent = SimRng::new(3, "workload");
        let mut advanced = parent.clone();
        advanced.next_u64();
        assert_eq!(
            parent.fork("client/1").next_u64(),
            advanced.fork("client/1").next_u64()
        );
        assert_ne!(
            parent.fork("client/1").next_u64(),
            parent.fork("client/2").next_u64()
        );
    }

    #[test]
    fn below_covers_the_whole_range_uniformly() {
        let mut rng = SimRng::new(5, "test");
        let mut counts = [0_u32; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "skewed counts {counts:?}");
        }
    }

    #[test]
    fn between_is_inclusive_and_handles_the_full_range() {
        let mut rng = SimRng::new(5, "test");
        let mut seen = [false; 3];
        for _ in 0..200 {
            let value = rng.between(10, 12);
            seen[(value - 10) as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(rng.between(4, 4), 4);
        rng.between(0, u64::MAX);
    }

    #[test]
    fn certain_chances_draw_nothing() {
        let mut rng = SimRng::new(9, "test");
        let untouched = rng.clone();
        assert!(!rng.chance(0, 10));
        assert!(rng.sample(Chance::ALWAYS));
        assert_eq!(rng.next_u64(), untouched.clone().next_u64());
    }

    #[test]
    fn chance_matches_its_ratio() {
        let mut rng = SimRng::new(11, "test");
        let hits = (0..100_000).filter(|_| rng.chance(1, 4)).count();
        assert!((24_000..26_000).contains(&hits), "hits {hits}");
    }

    #[test]
    fn shuffle_is_a_permutation_and_pick_stays_inside() {
        let mut rng = SimRng::new(13, "test");
        let mut items: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut items);
        assert_ne!(items, (0..50).collect::<Vec<_>>());
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert!(items.contains(rng.pick(&items).unwrap()));
        assert_eq!(rng.pick::<u32>(&[]), None);
    }

    #[test]
    fn weighted_pick_never_chooses_zero_weights() {
        let mut rng = SimRng::new(17, "test");
        for _ in 0..1_000 {
            let index = rng.pick_weighted(&[0, 3, 0, 1]).unwrap();
            assert!(index == 1 || index == 3);
        }
        assert_eq!(rng.pick_weighted(&[0, 0]), None);
    }

    #[test]
    fn unit_floats_stay_in_the_unit_interval() {
        let mut rng = SimRng::new(19, "test");
        for _ in 0..10_000 {
            let x = rng.unit_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
