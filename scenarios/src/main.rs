//! `detsim`: run scenario swarms, replay and shrink failures, list scenarios.

fn main() {}
