//! # counter: a protocol of someone else's, tested with detsim
//!
//! A grow-only replicated counter with group commit ([`node`]), its invariants
//! ([`checks`]) and its scenario tables and runner ([`protocol`]), written against
//! detsim's public API only: `sim-core` for the nodes, `scenarios` for every tool above
//! the engine. It has a planted bug behind a switch (`ack = "before_sync"` in a
//! scenario's `[cluster]` table: a client's increment is acknowledged before it is
//! durable) and its fixed twin, and it is what docs/testing-your-own-protocol.md builds,
//! step by step.
//!
//! ```
//! let registry = counter::registry();
//! let scenario = registry
//!     .load(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/fixed.toml").as_ref())
//!     .unwrap();
//! scenarios::testing::check(&scenario, 0..10);
//! ```

#![deny(missing_docs)]

pub mod checks;
pub mod node;
pub mod protocol;

use scenarios::Registry;
use scenarios::fuzzing::FuzzSetup;

/// The protocols this crate brings: the counter, with its one implementation.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .protocol(protocol::Counter)
        .implementation(protocol::CounterImpl);
    registry
}

/// The buggy twin: increments acknowledged before they are durable.
pub const BUGGY: &str = include_str!("../scenarios/buggy.toml");
/// The fixed twin.
pub const FIXED: &str = include_str!("../scenarios/fixed.toml");

/// What this crate's fuzz targets work on: the buggy twin first (the focus of the
/// `fault_schedule` and `choices` targets), then the fixed one.
pub fn fuzz_setup() -> FuzzSetup {
    FuzzSetup::from_texts(
        registry(),
        &[("counter-buggy", BUGGY), ("counter-fixed", FIXED)],
    )
    .expect("the bundled scenarios parse")
}
