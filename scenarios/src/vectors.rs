//! Test vectors: failures and curated cases saved as portable, versioned regression
//! tests, in the hierarchy of cross-client test suites:
//!
//! ```text
//! vectors/<preset>/<protocol>/<runner>/<suite>/<case>/
//!     scenario.toml   the scenario
//!     meta.toml       the seed, the detsim version, a description
//!     expected.toml   per implementation: verdict, trace hash, post-state facts
//! ```
//!
//! Replaying a vector runs its scenario at its seed against every implementation it
//! names (by default, all of its protocol's) and compares with `expected.toml`. An implementation that does not support
//! the vector's runner is reported as skipped, never dropped silently; one with no
//! recorded expectation is reported as a mismatch, so a new implementation must be
//! recorded on purpose.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::case::{CaseResult, Verdict, run_case};
use crate::error::InputError;
use crate::model::Scenario;
use crate::protocol::Facts;
use crate::registry::Registry;

/// `meta.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// The seed.
    pub seed: u64,
    /// The detsim version that recorded the vector.
    pub detsim_version: String,
    /// What the vector checks.
    #[serde(default)]
    pub description: String,
}

/// One implementation's recorded outcome.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The verdict.
    pub verdict: String,
    /// The trace hash, `0x` and 16 hex digits.
    pub trace_hash: String,
    /// Chosen facts about the end state.
    #[serde(default)]
    pub facts: Facts,
}

/// A test vector on disk.
#[derive(Clone, Debug)]
pub struct Vector {
    /// Its directory.
    pub dir: PathBuf,
    /// The scenario.
    pub scenario: Scenario,
    /// The meta file.
    pub meta: Meta,
    /// The recorded outcomes, by implementation name.
    pub expected: BTreeMap<String, Expected>,
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, InputError> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&source).map_err(|e| InputError::from_toml(&source, &e).in_file(path))
}

impl Vector {
    /// Loads the vector in `dir`, with the protocols of `registry`.
    pub fn load(registry: &Registry, dir: &Path) -> Result<Vector, InputError> {
        let scenario = registry.load(&dir.join("scenario.toml"))?;
        let meta: Meta = read_toml(&dir.join("meta.toml"))?;
        let expected = read_toml(&dir.join("expected.toml"))?;
        Ok(Vector {
            dir: dir.to_path_buf(),
            scenario,
            meta,
            expected,
        })
    }

    /// The vector's name: its path below the vectors root.
    pub fn name(&self) -> String {
        self.dir.display().to_string()
    }

    /// Runs the vector against every implementation it names and compares.
    pub fn replay(&self) -> Vec<CaseResult> {
        self.scenario
            .implementations
            .iter()
            .map(|implementation| self.replay_one(implementation))
            .collect()
    }

    fn replay_one(&self, implementation: &str) -> CaseResult {
        let mut result = run_case(&self.scenario, implementation, self.meta.seed);
        if result.verdict == Verdict::Skipped {
            return result;
        }
        let Some(expected) = self.expected.get(implementation) else {
            result.message = Some(format!(
                "no recorded outcome for {implementation}; record it with `detsim save-vector`"
            ));
            result.verdict = Verdict::Mismatch;
            return result;
        };
        let actual_hash = format!("0x{:016x}", result.trace_hash);
        let mut differences = Vec::new();
        if expected.verdict != result.verdict.name() {
            differences.push(format!(
                "verdict {} (recorded {})",
                result.verdict, expected.verdict
            ));
        }
        if expected.trace_hash != actual_hash {
            differences.push(format!(
                "trace hash {actual_hash} (recorded {})",
                expected.trace_hash
            ));
        }
        for (fact, value) in &expected.facts {
            let actual = result.facts.get(fact).map_or("(missing)", String::as_str);
            if actual != value {
                differences.push(format!("{fact} = {actual} (recorded {value})"));
            }
        }
        if !differences.is_empty() {
            result.message = Some(format!(
                "differs from the vector: {}",
                differences.join("; ")
            ));
            result.verdict = Verdict::Mismatch;
            result.violation = None;
        } else if result.verdict != Verdict::Pass {
            // A recorded failure that fails again, identically, is the vector passing.
            result.message = Some(format!(
                "reproduced the recorded {}: {}",
                result.verdict,
                result.summary()
            ));
            result.verdict = Verdict::Pass;
            result.violation = None;
        }
        result
    }
}

/// Every vector directory (one holding `meta.toml`) under `root`, in sorted order.
pub fn find_vectors(root: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join("meta.toml").is_file() {
            found.push(dir);
            continue;
        }
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| InputError::new(format!("cannot read {}: {e}", dir.display())))?;
        stack.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir()),
        );
    }
    found.sort();
    Ok(found)
}

/// Records `scenario` at `seed` as a vector under `root`, in
/// `<preset>/<protocol>/<runner>/<suite>/<case>`; returns its directory.
pub fn save_vector(
    root: &Path,
    scenario: &Scenario,
    seed: u64,
    suite: &str,
    case: &str,
    source: &str,
) -> Result<PathBuf, InputError> {
    let preset = scenario.preset.as_deref().unwrap_or("default");
    let dir = root
        .join(preset)
        .join(scenario.protocol())
        .join(&scenario.runner)
        .join(suite)
        .join(case);
    std::fs::create_dir_all(&dir)
        .map_err(|e| InputError::new(format!("cannot create {}: {e}", dir.display())))?;
    let mut expected = BTreeMap::new();
    for implementation in &scenario.implementations {
        let result = run_case(scenario, implementation, seed);
        if result.verdict == Verdict::Skipped {
            continue;
        }
        let recorded = Expected {
            verdict: result.verdict.name().to_string(),
            trace_hash: format!("0x{:016x}", result.trace_hash),
            facts: result.facts,
        };
        expected.insert(implementation.clone(), recorded);
    }
    let meta = Meta {
        seed,
        detsim_version: env!("CARGO_PKG_VERSION").to_string(),
        description: scenario.description.clone(),
    };
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| InputError::new(format!("cannot write {}: {e}", path.display())))
    };
    write("scenario.toml", source.to_string())?;
    write(
        "meta.toml",
        toml::to_string(&meta).expect("meta serialises"),
    )?;
    write(
        "expected.toml",
        toml::to_string(&expected).expect("expectations serialise"),
    )?;
    Ok(dir)
}
