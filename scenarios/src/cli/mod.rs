//! The subcommands of `detsim`.

use std::path::PathBuf;

use scenarios::InputError;
use scenarios::discover::scenario_files;

pub(crate) mod bench;
pub(crate) mod repro;
pub(crate) mod run;
pub(crate) mod shrink;
pub(crate) mod vector;

/// `detsim list`: every scenario with its protocol, implementations, tags and description.
pub(crate) fn list(paths: &[PathBuf]) -> Result<u8, InputError> {
    for file in scenario_files(paths)? {
        let scenario = scenarios::load_scenario(&file)?;
        let implementations: Vec<&str> =
            scenario.implementations.iter().map(|i| i.name()).collect();
        let tags = if scenario.tags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", scenario.tags.join(", "))
        };
        println!(
            "{}  ({}: {}){tags}",
            scenario.name,
            scenario.protocol,
            implementations.join(", ")
        );
        println!("    {}", file.display());
        if !scenario.description.is_empty() {
            println!("    {}", scenario.description);
        }
    }
    Ok(0)
}
