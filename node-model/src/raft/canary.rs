//! The canary: a Raft with a planted bug that the harness must catch, and its bug-free
//! twin that must pass the same seeds.
//!
//! The bug is in when a vote becomes durable. The correct replica syncs its vote (and
//! the term it adopted) before the reply leaves ([`VoteSync::BeforeReply`]). The buggy
//! twin ([`VoteSync::AfterReply`]) writes the vote but replies at once, leaving the
//! sync to whatever syncs next (usually the new leader's first append). A crash in
//! between loses the vote: the restarted replica is back in an older term with no
//! vote, and can vote again in the term it already voted in. A second candidate of
//! that term then wins too, and two leaders share one term: election safety fails.
//!
//! (The lost term does damage too: a replica that forgot it moved to a newer term can
//! help an older leader commit behind the back of a newer one, which leader
//! completeness reports when it happens first.)
//!
//! [`canary_run`] runs one seed of a small crash-heavy cluster with every Raft check
//! installed. The claim, tested in `node-model/tests/raft.rs`: over the seeds
//! `0..CANARY_SEEDS`, the buggy twin fails election safety on many seeds, the first
//! of them within the first few dozen, and the fixed twin passes every seed. (At the
//! time of writing: 28 of 200 seeds, the first at seed 0; the whole sweep of both
//! twins takes under a second.)

use serde::{Deserialize, Serialize};
use sim_core::{
    FaultGenerator, FaultWeights, Latency, LinkConfig, NetworkConfig, Outcome, SimConfig,
    SimDuration, SimRng, SimTime,
};

use super::checks;
use super::cluster::{cluster_with, replicas};
use super::config::RaftConfig;

/// When a replica makes its vote durable, relative to replying.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VoteSync {
    /// Sync the vote, then reply: correct Raft.
    #[default]
    BeforeReply,
    /// Reply, and leave the vote to the next sync: the planted bug.
    AfterReply,
}

/// The seeds a canary sweep runs: `0..CANARY_SEEDS`.
pub const CANARY_SEEDS: u64 = 200;

/// The replicas in a canary cluster.
pub const CANARY_REPLICAS: u32 = 3;

/// How long each canary run lasts in virtual time.
pub const CANARY_DURATION: SimDuration = SimDuration::from_secs(30);

/// The canary's faults: a fault every 80 ms on average, mostly crashes, each lasting
/// 20–400 ms, up to two of the three replicas out at once; a few pauses and
/// partitions silence a leader while the others elect another. Many elections, each
/// with a chance that a voter crashes before its vote is durable and is back before
/// the term is over.
pub fn canary_faults() -> FaultGenerator {
    FaultGenerator {
        start: SimTime::from_millis(500),
        end: SimTime::ZERO + CANARY_DURATION,
        mean_interval: SimDuration::from_millis(80),
        outage_min: SimDuration::from_millis(20),
        outage_max: SimDuration::from_millis(400),
        max_down: 2,
        clock_skew_max: SimDuration::ZERO,
        clock_drift_max_ppm: 0,
        unsynced_kept: sim_core::Chance::NEVER,
        tempo: sim_core::Tempo::Steady,
        weights: FaultWeights {
            crash: 6,
            pause: 1,
            partition: 1,
            isolate: 1,
            ..FaultWeights::NONE
        },
    }
}

/// The canary's network: links of 2–20 ms, so that a vote reply and the new leader's
/// first append take a while, which is the window in which the buggy twin's vote is
/// not yet durable.
pub fn canary_network() -> NetworkConfig {
    let latency = Latency::Uniform {
        min: SimDuration::from_millis(2),
        max: SimDuration::from_millis(20),
    };
    NetworkConfig {
        default_link: LinkConfig::with_latency(latency),
        ..NetworkConfig::default()
    }
}

/// Runs one canary seed: the buggy twin if `buggy`, else the fixed one, with every
/// Raft check installed and [`canary_faults`] drawn from the seed's `"faults"` stream.
pub fn canary_run(seed: u64, buggy: bool) -> Outcome {
    let config = RaftConfig {
        vote_sync: if buggy {
            VoteSync::AfterReply
        } else {
            VoteSync::BeforeReply
        },
        ..RaftConfig::default()
    };
    let sim_config = SimConfig {
        network: canary_network(),
        ..SimConfig::new(seed)
    };
    let mut sim = cluster_with(sim_config, CANARY_REPLICAS, &config);
    checks::install(&mut sim);
    let faults = canary_faults().generate(&replicas(&sim), &mut SimRng::new(seed, "faults"));
    sim.schedule_all(&faults);
    // A violation stops the run; the outcome says so.
    let _ = sim.run_for(CANARY_DURATION);
    sim.outcome()
}
