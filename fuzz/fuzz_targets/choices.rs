//! `cargo +nightly fuzz run choices`: see fuzz/README.md and scenarios::fuzzing.
#![no_main]

use std::sync::LazyLock;

use scenarios::fuzzing::{FuzzSetup, Target, fuzz};

/// detsim's protocols, the canary in focus; built once per process.
static SETUP: LazyLock<FuzzSetup> = LazyLock::new(detsim::fuzz_setup);

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz(&SETUP, Target::Choices, data));
