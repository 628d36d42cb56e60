//! The fuzz targets on a stable toolchain: each of the three case targets, fed
//! deterministic pseudo-random inputs instead of a fuzzer's, breaks the canary (a Raft
//! replica that replies to a vote before the vote is durable), and its finding
//! replays exactly from the repro file `detsim repro --from-fuzz` would write.
//!
//! This is the floor, not the fuzzer: `cargo +nightly fuzz run <target>` adds coverage
//! guidance (see docs/fuzzing.md).

#![cfg(feature = "fuzzing")]

use std::sync::LazyLock;

use scenarios::fuzzing::{FuzzSetup, Target, case_of, is_finding, smoke_input};
use scenarios::repro::Repro;
use scenarios::run_case_with;

static SETUP: LazyLock<FuzzSetup> = LazyLock::new(detsim::fuzz_setup);

/// The first of `budget` inputs of `len` bytes that makes `target` find a bug, with
/// its index.
fn first_finding(target: Target, len: usize, budget: u64) -> Option<(u64, Vec<u8>)> {
    (0..budget).find_map(|index| {
        let input = smoke_input(index, len);
        let case = case_of(&SETUP, target, &input)?;
        is_finding(case.run().verdict).then_some((index, input))
    })
}

fn finds_the_canary(target: Target, len: usize, budget: u64) {
    let (index, input) = first_finding(target, len, budget)
        .unwrap_or_else(|| panic!("{target}: {budget} inputs never broke the canary"));
    println!("{target}: input #{index} broke the canary");
    let case = case_of(&SETUP, target, &input).unwrap();
    let result = case.run();
    assert!(
        result.summary().contains("raft:"),
        "{target}: {}",
        result.summary()
    );
    let repro = Repro::parse(SETUP.registry(), &case.repro(&result).to_toml(None), None).unwrap();
    let again = run_case_with(
        &repro.scenario,
        &repro.implementation,
        repro.seed,
        repro.run_options(false),
    )
    .0;
    assert!(repro.matches(&again), "{target}: {}", again.summary());
}

#[test]
fn scenario_seed_finds_the_canary() {
    finds_the_canary(Target::ScenarioSeed, 32, 2_000);
}

#[test]
fn fault_schedule_finds_the_canary() {
    finds_the_canary(Target::FaultSchedule, 2_048, 2_000);
}

#[test]
fn choices_finds_the_canary() {
    finds_the_canary(Target::Choices, 4_096, 2_000);
}
