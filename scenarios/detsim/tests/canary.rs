//! The harness has teeth: the planted bug is found within the stated seeds, and its
//! fixed twin passes the very same seeds.

use std::path::PathBuf;

use scenarios::{Verdict, run_case};

const SEEDS: std::ops::Range<u64> = 0..200;

fn canary(name: &str) -> scenarios::Scenario {
    detsim::registry()
        .load(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../canary")
                .join(name),
        )
        .unwrap()
}

#[test]
fn the_buggy_canary_fails_election_safety_within_200_seeds() {
    let buggy = canary("buggy.toml");
    let implementation = &buggy.implementations[0];
    let caught = SEEDS
        .map(|seed| run_case(&buggy, implementation, seed))
        .find(|result| result.verdict == Verdict::Safety)
        .expect("the fault generator found the planted bug within 200 seeds");
    let check = caught.violation.map(|v| v.check).unwrap_or_default();
    assert!(check.starts_with("raft: "), "{check}");
}

#[test]
fn the_fixed_canary_passes_every_one_of_those_seeds() {
    let fixed = canary("fixed.toml");
    let implementation = &fixed.implementations[0];
    for seed in SEEDS {
        let result = run_case(&fixed, implementation, seed);
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "seed {seed}: {}",
            result.summary()
        );
    }
}
