//! Every checked-in test vector replays as recorded.

use std::path::PathBuf;

use scenarios::Verdict;
use scenarios::vectors::{Vector, find_vectors};

#[test]
fn every_checked_in_vector_replays_as_recorded() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors");
    let registry = detsim::registry();
    let dirs = find_vectors(&root).unwrap();
    assert!(dirs.len() >= 4, "the curated vectors are missing");
    let mut failures = Vec::new();
    for dir in dirs {
        let vector = Vector::load(&registry, &dir).unwrap();
        for result in vector.replay() {
            match result.verdict {
                Verdict::Skipped => eprintln!(
                    "{}: {} skipped: {}",
                    vector.name(),
                    result.implementation,
                    result.message.unwrap_or_default()
                ),
                Verdict::Mismatch => failures.push(format!(
                    "{} {}: {}",
                    vector.name(),
                    result.implementation,
                    result.summary()
                )),
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
