//! Seeds that once failed, kept as regressions with the cause they found.

use std::path::PathBuf;

/// A regression's schedule, kept as a timeline: the random generator's draws for a seed
/// change whenever the generator does, so a seed alone does not keep a regression.
fn regression(name: &str) -> scenarios::Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(name);
    detsim::registry().load(&path).unwrap()
}

/// A validator that alone saw a block justified (its outgoing links were cut, so its own
/// vote never left) voted from that block, crashed and restarted. Replaying its blocks on
/// restart rewrote its one quorum record with lower blocks' quorums before it was read
/// back, so it came back with a source below its last vote's and could never vote again;
/// with three validators left, finality stopped for good. The quorum record is now read
/// before the replay.
#[test]
fn a_restarted_validator_keeps_the_quorum_only_it_saw() {
    for seed in [976, 2392] {
        let scenario = regression(&format!("swarm-chain-seed{seed}.toml"));
        let result = scenarios::run_case(&scenario, "detsim-chain", seed);
        assert_eq!(
            result.verdict,
            scenarios::Verdict::Pass,
            "seed {seed}: {}",
            result.summary()
        );
    }
}
