//! detsim's fuzz setup: its scenarios parse, the parser targets survive arbitrary bytes,
//! and fuzz cases round-trip through repro files.

#![cfg(feature = "fuzzing")]

use std::sync::LazyLock;

use scenarios::fuzzing::{FuzzSetup, Target, case_of, fuzz, smoke_input};
use scenarios::repro::Repro;
use scenarios::run_case_with;

static SETUP: LazyLock<FuzzSetup> = LazyLock::new(detsim::fuzz_setup);

#[test]
fn the_setup_focuses_on_the_canary_and_holds_each_protocol() {
    assert_eq!(SETUP.focus().name, "canary-buggy");
    let protocols: Vec<&str> = SETUP.scenarios().iter().map(|s| s.protocol()).collect();
    assert!(
        protocols.contains(&"chain") && protocols.contains(&"raft"),
        "{protocols:?}"
    );
}

#[test]
fn target_names_round_trip() {
    for target in Target::ALL {
        assert_eq!(target.name().parse::<Target>(), Ok(target));
    }
    assert!("nope".parse::<Target>().unwrap_err().contains("choices"));
}

#[test]
fn the_parsers_survive_arbitrary_bytes() {
    for index in 0..300 {
        let bytes = smoke_input(index, (index % 200) as usize);
        fuzz(&SETUP, Target::ParseScenario, &bytes);
        fuzz(&SETUP, Target::ParseRepro, &bytes);
        // Text that is nearly valid reaches deeper: a suite file with one byte
        // overwritten.
        let mut text = detsim::CANARY.as_bytes().to_vec();
        let at = (index as usize * 7919) % text.len();
        text[at] = bytes.first().copied().unwrap_or(b'=');
        fuzz(&SETUP, Target::ParseScenario, &text);
    }
}

#[test]
fn a_fuzz_case_round_trips_through_its_repro_file() {
    let case = case_of(&SETUP, Target::Choices, &smoke_input(3, 64)).unwrap();
    let result = case.run();
    let text = case.repro(&result).to_toml(None);
    let repro = Repro::parse(SETUP.registry(), &text, None).unwrap();
    assert_eq!(repro.choices, case.choices);
    let options = repro.run_options(false);
    let again = run_case_with(&repro.scenario, &repro.implementation, repro.seed, options).0;
    assert!(repro.matches(&again), "{}", again.summary());
}

#[test]
fn scenario_seed_and_fault_inputs_build_runnable_cases() {
    let mut built = 0;
    for index in 0..40 {
        for target in [Target::ScenarioSeed, Target::FaultSchedule] {
            if let Some(case) = case_of(&SETUP, target, &smoke_input(index, 96)) {
                built += 1;
                assert!(case.run().steps > 0);
            }
        }
    }
    assert!(built >= 60, "only {built} of 80 inputs built a case");
}
