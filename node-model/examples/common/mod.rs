//! What the chain examples share: times, a stopwatch, and the table of epochs.
//! (Each example includes this file with `mod common;`.)

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::rc::Rc;

use node_model::chain::{self, ChainConfig, ChainNode, ChainSetup, ValidatorId};
use sim_core::{Latency, LinkConfig, Sim, SimConfig, SimDuration, SimTime};

/// A block every ten seconds.
pub(crate) const BLOCK_TIME: SimDuration = SimDuration::from_secs(10);

/// Seven validators on a wide-area network (20–80 ms links), 10 s blocks, epochs of
/// 180 blocks (half an hour), every chain invariant checked.
pub(crate) fn wan_chain(seed: u64) -> (Sim<ChainNode>, Rc<ChainSetup>) {
    let mut config = ChainConfig {
        validators: 7,
        ..ChainConfig::default()
    };
    config.genesis.block_time = BLOCK_TIME;
    config.genesis.epoch_length = 180;
    let mut sim_config = SimConfig::new(seed);
    sim_config.network.default_link = LinkConfig::with_latency(Latency::Uniform {
        min: SimDuration::from_millis(20),
        max: SimDuration::from_millis(80),
    });
    let (mut sim, setup) = chain::cluster(config, sim_config).expect("a valid config");
    chain::checks::install(&mut sim, &setup);
    (sim, setup)
}

pub(crate) fn at(hours: u64, minutes: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_hours(hours) + SimDuration::from_minutes(minutes)
}

/// A stopwatch on the wall clock, only to report how long the run took: the
/// simulation itself never reads it.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
pub(crate) fn stopwatch() -> impl FnOnce() -> std::time::Duration {
    let start = std::time::Instant::now();
    move || start.elapsed()
}

/// `h:mm:ss` of virtual time, rounded down to the second.
pub(crate) fn clock(time: SimTime) -> String {
    let seconds = time.as_nanos() / 1_000_000_000;
    format!(
        "{}:{:02}:{:02}",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// What the final chain shows of one epoch.
pub(crate) struct EpochRow {
    started: SimTime,
    heights: (u64, u64),
    validators: Vec<ValidatorId>,
    /// Blocks produced, by validator index.
    produced: [u64; 7],
}

/// One line per epoch of the node's final chain: when it started, its heights, and how
/// many blocks each validator produced in it (`-` if not in its validator set).
pub(crate) fn print_epochs(node: &ChainNode) {
    let mut rows: BTreeMap<u64, EpochRow> = BTreeMap::new();
    for height in 1..=node.status().final_height {
        let Some(block) = node.block_at(height) else {
            continue; // skipped: no block of this height was finalized
        };
        let state = node
            .state_of(block.hash)
            .expect("final blocks keep their state");
        let row = rows.entry(state.epoch()).or_insert_with(|| EpochRow {
            started: block.timestamp,
            heights: (height, height),
            validators: state.validators().collect(),
            produced: [0; 7],
        });
        row.heights.1 = height;
        row.produced[block.producer.0 as usize] += 1;
    }
    println!("\nepoch  started  heights    blocks by validator 0 .. 6 (- = not in the set)");
    for (epoch, row) in rows {
        let cells: Vec<String> = (0..7_u32)
            .map(|v| {
                if row.validators.contains(&ValidatorId(v)) {
                    format!("{:>3}", row.produced[v as usize])
                } else {
                    "  -".to_string()
                }
            })
            .collect();
        let (first, last) = row.heights;
        println!(
            "{epoch:>5}  {}  {first:>4}-{last:<4}  {}",
            clock(row.started),
            cells.join(" ")
        );
    }
}
