//! `cargo +nightly fuzz run scenario_seed`: see fuzz/README.md and scenarios::fuzzing.
#![no_main]

use scenarios::fuzzing::{Target, fuzz};

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz(Target::ScenarioSeed, data));
