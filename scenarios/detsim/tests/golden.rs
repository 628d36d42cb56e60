//! Golden trace hashes of the default suite at fixed seeds: any change in behaviour,
//! anywhere in the engine or the protocols, shows up here. Update them only on purpose:
//! `DETSIM_UPDATE_GOLDEN=1 cargo test -p detsim --all-features --test golden`, and
//! say why in the commit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use scenarios::discover::scenario_files;
use scenarios::run_case;

const SEEDS: [u64; 2] = [1, 2];

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden.toml")
}

/// `"scenario implementation seed" -> "verdict 0xhash"` for every runnable case.
fn compute() -> BTreeMap<String, String> {
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../suite");
    let registry = detsim::registry();
    let mut hashes = BTreeMap::new();
    for file in scenario_files(&[suite]).unwrap() {
        let scenario = registry.load(&file).unwrap();
        for implementation in &scenario.implementations {
            if scenario.unsupported(implementation).is_some() {
                continue; // not built here: the build with every feature pins it
            }
            for seed in SEEDS {
                let result = run_case(&scenario, implementation, seed);
                let key = format!("{} {} {seed}", scenario.name, implementation);
                hashes.insert(
                    key,
                    format!("{} 0x{:016x}", result.verdict, result.trace_hash),
                );
            }
        }
    }
    hashes
}

#[test]
fn the_suite_replays_its_golden_trace_hashes() {
    let actual = compute();
    if std::env::var("DETSIM_UPDATE_GOLDEN").is_ok() {
        let registry = detsim::registry();
        let suite = scenario_files(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../suite")]);
        let skipped = suite.unwrap().iter().any(|file| {
            let scenario = registry.load(file).unwrap();
            let implementations = scenario.implementations.clone();
            implementations
                .iter()
                .any(|i| scenario.unsupported(i).is_some())
        });
        assert!(
            !skipped,
            "update golden hashes from a build with every feature (--all-features)"
        );
        std::fs::write(golden_path(), toml::to_string(&actual).unwrap()).unwrap();
        return;
    }
    let text = std::fs::read_to_string(golden_path())
        .expect("golden hashes exist; create them with DETSIM_UPDATE_GOLDEN=1");
    let golden: BTreeMap<String, String> = toml::from_str(&text).unwrap();
    let mut differences = Vec::new();
    for (case, hash) in &actual {
        match golden.get(case) {
            Some(expected) if expected == hash => {}
            Some(expected) => differences.push(format!("{case}: {hash}, golden {expected}")),
            None => differences.push(format!("{case}: {hash}, not in the golden file")),
        }
    }
    assert!(
        differences.is_empty(),
        "trace hashes changed (if on purpose, rerun with DETSIM_UPDATE_GOLDEN=1 and say why):\n{}",
        differences.join("\n")
    );
}
