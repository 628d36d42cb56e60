//! Finding what to run: scenario files and test-vector directories, from the paths on the
//! command line, directories walked recursively.
//!
//! A walk takes what is detsim's and leaves the rest: a `.toml` file is a scenario when
//! it names a `protocol` at its top level (so `Cargo.toml`, `clippy.toml` and a
//! repro file are passed over), a directory holding `meta.toml` is a test vector, and
//! hidden directories and `target/` are not entered. A file named on the command line is
//! taken as given, so that a mistake in it is reported rather than skipped.

use std::path::{Path, PathBuf};

use crate::error::InputError;

/// What a TOML file is, going by its top-level keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A scenario file (it names a `protocol`).
    Scenario,
    /// Not TOML at all (or not readable): a walk takes it as a scenario, so that
    /// loading it reports what is wrong.
    Broken,
    /// A repro file (`detsim_version` and a `[scenario]` table).
    Repro,
    /// Something else (`Cargo.toml`, a preset, a vector's `meta.toml`).
    Other,
}

/// The `protocol` a scenario file names, if it is TOML and names one.
pub fn protocol_of(path: &Path) -> Option<String> {
    let table = std::fs::read_to_string(path)
        .ok()?
        .parse::<toml::Table>()
        .ok()?;
    table.get("protocol")?.as_str().map(str::to_string)
}

impl FileKind {
    /// The kind of the TOML text `source`.
    pub fn of(source: &str) -> FileKind {
        let Ok(table) = source.parse::<toml::Table>() else {
            return FileKind::Broken;
        };
        if table.contains_key("detsim_version") && table.contains_key("scenario") {
            FileKind::Repro
        } else if table.contains_key("protocol") {
            FileKind::Scenario
        } else {
            FileKind::Other
        }
    }

    /// The kind of the file at `path` (a file that cannot be read counts as a scenario,
    /// so that loading it says why).
    pub fn of_file(path: &Path) -> FileKind {
        std::fs::read_to_string(path).map_or(FileKind::Broken, |s| FileKind::of(&s))
    }
}

/// What a set of paths holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Scenario files, in sorted order within each directory.
    pub scenarios: Vec<PathBuf>,
    /// Those of them named on the command line (the rest were found by a walk).
    pub given: Vec<PathBuf>,
    /// Test-vector directories.
    pub vectors: Vec<PathBuf>,
}

/// Every scenario file and test vector under `paths` (files as given, directories
/// recursively, in sorted order).
pub fn discover(paths: &[PathBuf]) -> Result<Found, InputError> {
    let mut found = Found::default();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found)?;
        } else if path.is_file() {
            found.scenarios.push(path.clone());
            found.given.push(path.clone());
        } else {
            return Err(
                InputError::new(format!("{}: no such file or directory", path.display()))
                    .with_help("pass scenario files (.toml) or directories holding them"),
            );
        }
    }
    Ok(found)
}

/// Every scenario file under `paths` (test vectors aside); at least one.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let found = discover(paths)?;
    if found.scenarios.is_empty() {
        return Err(no_scenarios(paths));
    }
    Ok(found.scenarios)
}

/// The error for paths that hold nothing to run.
pub(crate) fn no_scenarios(paths: &[PathBuf]) -> InputError {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    InputError::new(format!("no scenario files found in {}", shown.join(", "))).with_help(
        "a scenario file ends in .toml and names its `protocol` at the top; \
         see docs/scenarios.md",
    )
}

fn walk(dir: &Path, found: &mut Found) -> Result<(), InputError> {
    if dir.join("meta.toml").is_file() {
        found.vectors.push(dir.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| InputError::new(format!("cannot read {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&path, found)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml")
            && matches!(
                FileKind::of_file(&path),
                FileKind::Scenario | FileKind::Broken
            )
        {
            found.scenarios.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_their_top_level_keys() {
        assert_eq!(
            FileKind::of("protocol = \"raft\"\n[cluster]\n"),
            FileKind::Scenario
        );
        assert_eq!(FileKind::of("[package]\nname = \"x\"\n"), FileKind::Other);
        assert_eq!(
            FileKind::of("detsim_version = \"0.1.0\"\n[scenario]\nprotocol = \"raft\"\n"),
            FileKind::Repro
        );
        assert_eq!(FileKind::of("this is = = not toml"), FileKind::Broken);
    }
}
