//! Latency distributions for network links.
//!
//! Samples are integer nanoseconds drawn from the network's seeded stream. The
//! long-tailed [`Latency::Pareto`] needs a logarithm and an exponential; they are
//! computed here with only `+ - * /` on `f64`, which IEEE 754 defines exactly, instead of
//! the platform's `ln`/`exp`, whose last bit may differ between C libraries. That keeps
//! a seed's run identical on every machine.

use serde::{Deserialize, Serialize};

use crate::rng::SimRng;
use crate::time::SimDuration;

/// How long a message takes on a link.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Latency {
    /// Always the same delay.
    Constant(SimDuration),
    /// Uniform between `min` and `max`, inclusive.
    Uniform {
        /// The shortest delay.
        min: SimDuration,
        /// The longest delay.
        max: SimDuration,
    },
    /// Long-tailed: Pareto with scale `min` and the given `shape` (smaller shapes give
    /// heavier tails; 1.0 to 3.0 is typical), capped at `max`. Most messages arrive
    /// close to `min`; a few take much longer.
    Pareto {
        /// The shortest (and most common) delay.
        min: SimDuration,
        /// The cap on the tail.
        max: SimDuration,
        /// The tail index α (> 0).
        shape: f64,
    },
}

impl Latency {
    /// Checks the parameters, returning what is wrong in words.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Latency::Constant(_) => Ok(()),
            Latency::Uniform { min, max } | Latency::Pareto { min, max, .. } if min > max => {
                Err(format!("latency min ({min}) is greater than max ({max})"))
            }
            Latency::Pareto { shape, .. } if !(shape > 0.0 && shape.is_finite()) => Err(format!(
                "Pareto shape must be a positive number, got {shape}"
            )),
            _ => Ok(()),
        }
    }

    /// The smallest delay this distribution can produce.
    pub fn min(&self) -> SimDuration {
        match *self {
            Latency::Constant(delay) => delay,
            Latency::Uniform { min, .. } | Latency::Pareto { min, .. } => min,
        }
    }

    /// Draws one delay. Draws nothing from `rng` for a constant latency.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match *self {
            Latency::Constant(delay) => delay,
            Latency::Uniform { min, max } => {
                SimDuration::from_nanos(rng.between(min.as_nanos(), max.as_nanos()))
            }
            Latency::Pareto { min, max, shape } => sample_pareto(rng, min, max, shape),
        }
    }
}

#[inline(never)]
fn sample_pareto(rng: &mut SimRng, min: SimDuration, max: SimDuration, shape: f64) -> SimDuration {
    // Inverse CDF: x = min * u^(-1/shape) with u uniform in (0, 1].
    let u = 1.0 - rng.unit_f64();
    let factor = exp(-ln(u) / shape);
    let nanos = min.as_nanos() as f64 * factor;
    if nanos >= max.as_nanos() as f64 {
        max
    } else {
        SimDuration::from_nanos(nanos as u64)
    }
}

const LN_2: f64 = std::f64::consts::LN_2;

/// Natural logarithm of a positive finite `x`, from basic arithmetic only.
pub(crate) fn ln(x: f64) -> f64 {
    assert!(x > 0.0 && x.is_finite(), "ln of {x}");
    // x = m * 2^e with m in [1, 2), reading the exponent from the bits (normal numbers;
    // subnormals are scaled up first).
    let (x, bias) = if x < f64::MIN_POSITIVE {
        (x * (1_u64 << 54) as f64, -54)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023 + bias;
    let mantissa = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1) in [0, 1/3): the series converges fast.
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for k in 0..30 {
        sum += term / f64::from(2 * k + 1);
        term *= s2;
    }
    exponent as f64 * LN_2 + 2.0 * sum
}

/// `e^y` for finite `y`, from basic arithmetic only. Saturates to infinity or zero.
pub(crate) fn exp(y: f64) -> f64 {
    assert!(y.is_finite(), "exp of {y}");
    if y > 709.0 {
        return f64::INFINITY;
    }
    if y < -745.0 {
        return 0.0;
    }
    // y = k ln2 + r with |r| <= ln2 / 2; e^y = 2^k e^r.
    let k = (y / LN_2 + if y >= 0.0 { 0.5 } else { -0.5 }) as i64;
    let r = y - k as f64 * LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..25 {
        term *= r / f64::from(n);
        sum += term;
    }
    let mut result = sum;
    // Scale by 2^k in steps that stay within the normal range.
    let (step, mut remaining) = if k >= 0 { (2.0, k) } else { (0.5, -k) };
    while remaining > 0 {
        result *= step;
        remaining -= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_agree_with_the_platform_to_many_digits() {
        for &x in &[
            1e-300, 1e-9, 0.001, 0.5, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300,
        ] {
            let ours = ln(x);
            let platform = x.ln();
            assert!(
                (ours - platform).abs() <= 1e-12 * platform.abs().max(1.0),
                "ln({x})"
            );
        }
        for &y in &[-700.0, -20.0, -1.0, -0.1, 0.0, 0.3, 1.0, 5.5, 100.0, 700.0] {
            let ours = exp(y);
            let platform = y.exp();
            assert!((ours - platform).abs() <= 1e-12 * platform, "exp({y})");
        }
    }

    #[test]
    fn constant_latency_draws_nothing() {
        let mut rng = SimRng::new(1, "network");
        let untouched = rng.clone();
        let delay = Latency::Constant(SimDuration::from_millis(3)).sample(&mut rng);
        assert_eq!(delay, SimDuration::from_millis(3));
        assert_eq!(rng.next_u64(), untouched.clone().next_u64());
    }

    #[test]
    fn uniform_latency_stays_in_bounds_and_reaches_both_ends() {
        let mut rng = SimRng::new(1, "network");
        let latency = Latency::Uniform {
            min: SimDuration::from_nanos(10),
            max: SimDuration::from_nanos(12),
        };
        let samples: Vec<u64> = (0..300)
            .map(|_| latency.sample(&mut rng).as_nanos())
            .collect();
        assert!(samples.iter().all(|&s| (10..=12).contains(&s)));
        assert!(samples.contains(&10) && samples.contains(&12));
    }

    #[test]
    fn pareto_latency_has_a_long_capped_tail() {
        let mut rng = SimRng::new(2, "network");
        let (min, max) = (SimDuration::from_millis(1), SimDuration::from_millis(500));
        let latency = Latency::Pareto {
            min,
            max,
            shape: 1.5,
        };
        let mut samples: Vec<SimDuration> = (0..10_000).map(|_| latency.sample(&mut rng)).collect();
        samples.sort();
        assert!(samples.iter().all(|&s| s >= min && s <= max));
        let median = samples[5_000];
        let p99 = samples[9_900];
        // Pareto(1.5): median = min * 2^(1/1.5) ≈ 1.59 ms, p99 = min * 100^(1/1.5) ≈ 21.5 ms.
        assert!(median < SimDuration::from_millis(2), "median {median}");
        assert!(p99 > SimDuration::from_millis(15), "p99 {p99}");
    }

    #[test]
    fn invalid_parameters_are_explained() {
        let backwards = Latency::Uniform {
            min: SimDuration::from_millis(5),
            max: SimDuration::from_millis(1),
        };
        assert!(
            backwards
                .validate()
                .unwrap_err()
                .contains("greater than max")
        );
        let flat = Latency::Pareto {
            min: SimDuration::from_millis(1),
            max: SimDuration::from_millis(5),
            shape: 0.0,
        };
        assert!(flat.validate().unwrap_err().contains("shape"));
    }
}
