//! The swarm's results depend on the cases alone: not on `--jobs`, not on `--shard`.

use std::path::PathBuf;

use scenarios::CaseResult;
use scenarios::swarm::{Shard, SwarmPlan, run_all};

fn suite(names: &[&str]) -> Vec<scenarios::Scenario> {
    let registry = detsim::registry();
    names
        .iter()
        .map(|name| {
            registry
                .load(
                    &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                        .join("../suite")
                        .join(name),
                )
                .unwrap()
        })
        .collect()
}

/// Everything but wall time, which is the one thing allowed to differ.
fn essence(results: &[CaseResult]) -> Vec<(String, String, u64, String, u64, u64)> {
    results
        .iter()
        .map(|r| {
            (
                r.scenario.clone(),
                r.implementation.to_string(),
                r.seed,
                r.verdict.to_string(),
                r.trace_hash,
                r.steps,
            )
        })
        .collect()
}

fn run(plan: &SwarmPlan, jobs: usize) -> Vec<CaseResult> {
    run_all(plan, jobs)
}

fn plan(shard: Shard) -> SwarmPlan {
    SwarmPlan {
        scenarios: suite(&["swarm-chain.toml", "swarm-raft.toml", "producer-crash.toml"]),
        seeds: 0..=5,
        shard,
        implementations: None,
    }
}

#[test]
fn one_job_and_two_jobs_give_identical_results() {
    let whole = plan(Shard::ALL);
    let (one, two) = (run(&whole, 1), run(&whole, 2));
    assert!(!one.is_empty());
    assert_eq!(essence(&one), essence(&two));
}

#[test]
fn shards_partition_the_cases_and_together_give_the_whole_run() {
    let whole = essence(&run(&plan(Shard::ALL), 2));
    let mut sharded = Vec::new();
    for index in 0..3 {
        sharded.extend(essence(&run(&plan(Shard { index, count: 3 }), 1)));
    }
    sharded.sort();
    let mut sorted = whole.clone();
    sorted.sort();
    assert_eq!(sharded, sorted);
}

#[test]
fn another_seed_takes_another_path() {
    let results = run(&plan(Shard::ALL), 2);
    let swarm_chain: Vec<u64> = results
        .iter()
        .filter(|r| r.scenario == "swarm-chain")
        .map(|r| r.trace_hash)
        .collect();
    let mut distinct = swarm_chain.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        swarm_chain.len(),
        "two seeds gave the same trace"
    );
}
