//! Finding scenario files: paths on the command line, directories walked recursively.

use std::path::{Path, PathBuf};

use crate::error::InputError;

/// Every `.toml` file under `paths` (files as given, directories recursively, in sorted
/// order), skipping test-vector directories' auxiliary files.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(
                InputError::new(format!("{}: no such file or directory", path.display()))
                    .with_help("pass scenario files (.toml) or directories holding them"),
            );
        }
    }
    if files.is_empty() {
        return Err(
            InputError::new("no scenario files found").with_help("scenario files end in .toml")
        );
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| InputError::new(format!("cannot read {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "toml") && is_scenario_name(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// Test-vector cases hold `meta.toml` and `expected.toml` beside their scenario.
fn is_scenario_name(path: &Path) -> bool {
    !matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("meta.toml" | "expected.toml")
    )
}
