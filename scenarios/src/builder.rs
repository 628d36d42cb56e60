//! The Rust builder: the same scenarios as the file format, from code.
//!
//! The builder fills in the file form and validates it exactly as a file is validated,
//! so a built scenario and a written one can never mean different things, and
//! [`ScenarioBuilder::to_toml`] prints the file that the builder describes. The
//! protocol's own tables are given as values of the protocol's own types (anything that
//! serializes to a TOML table).
//!
//! ```
//! use scenarios::{Fault, ScenarioBuilder};
//!
//! let text = ScenarioBuilder::new("counter", "partition-heal")
//!     .describe("A split stalls progress; healing restores it.")
//!     .duration("40s")
//!     .fault("10s", Fault::partition(&[&["node-0"], &["node-1", "node-2"]]))
//!     .fault("30s", Fault::heal())
//!     .to_toml();
//! assert!(text.contains("protocol = \"counter\""), "{text}");
//! assert!(text.contains("heal = true"), "{text}");
//! ```
//!
//! [`ScenarioBuilder::build`] validates it with the protocols of a [`Registry`].

use toml::Spanned;

use serde::Serialize;

use crate::error::InputError;
use crate::file::{FaultFile, HealFile, NameList, Names, ScenarioFile, Text, built};
use crate::model::Scenario;
use crate::registry::Registry;

fn text(value: &str) -> Text {
    Spanned::new(0..0, value.to_string())
}

fn names(nodes: &[&str]) -> Names {
    Spanned::new(
        0..0,
        NameList::Many(nodes.iter().map(|n| n.to_string()).collect()),
    )
}

/// One fault for [`ScenarioBuilder::fault`].
#[derive(Clone, Debug, Default)]
pub struct Fault(FaultFile);

impl Fault {
    /// Crash these nodes.
    pub fn crash(nodes: &[&str]) -> Fault {
        Fault(FaultFile {
            crash: Some(names(nodes)),
            ..FaultFile::default()
        })
    }

    /// Restart these nodes from their disks.
    pub fn restart(nodes: &[&str]) -> Fault {
        Fault(FaultFile {
            restart: Some(names(nodes)),
            ..FaultFile::default()
        })
    }

    /// Wipe these nodes' data (crashing them first).
    pub fn reset_data(nodes: &[&str]) -> Fault {
        Fault(FaultFile {
            reset_data: Some(names(nodes)),
            ..FaultFile::default()
        })
    }

    /// Pause these nodes.
    pub fn pause(nodes: &[&str]) -> Fault {
        Fault(FaultFile {
            pause: Some(names(nodes)),
            ..FaultFile::default()
        })
    }

    /// Resume these nodes.
    pub fn resume(nodes: &[&str]) -> Fault {
        Fault(FaultFile {
            resume: Some(names(nodes)),
            ..FaultFile::default()
        })
    }

    /// Split the nodes into groups that cannot reach each other.
    pub fn partition(groups: &[&[&str]]) -> Fault {
        let groups = groups
            .iter()
            .map(|g| g.iter().map(|n| text(n)).collect())
            .collect();
        Fault(FaultFile {
            partition: Some(groups),
            ..FaultFile::default()
        })
    }

    /// Cut messages from `from` to `to` only.
    pub fn one_way(from: &[&str], to: &[&str]) -> Fault {
        let one_way = crate::file::FromToFile {
            from: names(from),
            to: names(to),
        };
        Fault(FaultFile {
            one_way: Some(one_way),
            ..FaultFile::default()
        })
    }

    /// Cut every link of these nodes.
    pub fn isolate(nodes: &[&str]) -> Fault {
        Fault(FaultFile {
            isolate: Some(names(nodes)),
            ..FaultFile::default()
        })
    }

    /// Heal every link.
    pub fn heal() -> Fault {
        Fault(FaultFile {
            heal: Some(true),
            ..FaultFile::default()
        })
    }

    /// Clog these nodes for `lasting` (e.g. `"5s"`).
    pub fn clog(nodes: &[&str], lasting: &str) -> Fault {
        Fault(FaultFile {
            clog: Some(names(nodes)),
            lasting: Some(text(lasting)),
            ..FaultFile::default()
        })
    }

    /// Jump a node's clock by `offset` (e.g. `"-2s"`).
    pub fn clock_skew(node: &str, offset: &str) -> Fault {
        let skew = crate::file::SkewFile {
            node: text(node),
            offset: text(offset),
        };
        Fault(FaultFile {
            clock_skew: Some(skew),
            ..FaultFile::default()
        })
    }
}

/// Builds a [`Scenario`] from code; see the module docs.
#[derive(Clone, Debug)]
pub struct ScenarioBuilder {
    file: ScenarioFile,
    /// A table that did not serialize as one, reported by [`ScenarioBuilder::build`].
    error: Option<String>,
}

impl ScenarioBuilder {
    /// A scenario of `protocol` (a registered name) called `name`, 60 s long.
    pub fn new(protocol: &str, name: &str) -> ScenarioBuilder {
        let file = ScenarioFile {
            name: Some(text(name)),
            protocol: Some(text(protocol)),
            duration: Some(text("60s")),
            ..ScenarioFile::default()
        };
        ScenarioBuilder { file, error: None }
    }

    /// A builder that starts from a file form (a parsed scenario's `file`, say).
    pub fn from_file(file: ScenarioFile) -> ScenarioBuilder {
        ScenarioBuilder { file, error: None }
    }

    /// Says what the scenario shows.
    pub fn describe(mut self, description: &str) -> ScenarioBuilder {
        self.file.description = Some(description.to_string());
        self
    }

    /// Labels for `detsim list` and reports.
    pub fn tags(mut self, tags: &[&str]) -> ScenarioBuilder {
        self.file.tags = tags.iter().map(|t| t.to_string()).collect();
        self
    }

    /// Runs it against these implementations only (default: all of the protocol's).
    pub fn implementations(mut self, names: &[&str]) -> ScenarioBuilder {
        self.file.implementations = Some(built(names.iter().map(|n| text(n)).collect()));
        self
    }

    /// Builds on one of the protocol's presets.
    pub fn preset(mut self, preset: &str) -> ScenarioBuilder {
        self.file.preset = Some(text(preset));
        self
    }

    /// The length of the fault phase (e.g. `"60s"`).
    pub fn duration(mut self, duration: &str) -> ScenarioBuilder {
        self.file.duration = Some(text(duration));
        self
    }

    /// The protocol's `[cluster]` table.
    pub fn cluster(mut self, table: &impl Serialize) -> ScenarioBuilder {
        self.file.cluster = self.table("cluster", table);
        self
    }

    /// The protocol's `[workload]` table.
    pub fn workload(mut self, table: &impl Serialize) -> ScenarioBuilder {
        self.file.workload = self.table("workload", table);
        self
    }

    /// Adds one of the protocol's `[[checks.final]]` assertions.
    pub fn final_check(mut self, table: &impl Serialize) -> ScenarioBuilder {
        if let Some(table) = self.table("checks.final", table) {
            self.file.checks.finals.push(table);
        }
        self
    }

    /// Adds one of the protocol's `[[checks.sometimes]]` entries.
    pub fn sometimes(mut self, table: &impl Serialize) -> ScenarioBuilder {
        if let Some(table) = self.table("checks.sometimes", table) {
            self.file.checks.sometimes.push(table);
        }
        self
    }

    /// Runs only these invariants (default: all of the protocol's).
    pub fn invariants(mut self, names: &[&str]) -> ScenarioBuilder {
        self.file.checks.invariants = Some(built(names.iter().map(|n| text(n)).collect()));
        self
    }

    /// Adds `fault` at time `at` (e.g. `"10s"`).
    pub fn fault(mut self, at: &str, fault: Fault) -> ScenarioBuilder {
        let entry = FaultFile {
            at: Some(text(at)),
            ..fault.0
        };
        self.file.faults.push(Spanned::new(0..0, entry));
        self
    }

    /// The heal phase: liveness must follow within `within` (e.g. `"30s"`), with
    /// `progress` in the protocol's terms.
    pub fn heal(mut self, within: &str, progress: u64) -> ScenarioBuilder {
        let heal = self.file.heal.get_or_insert_with(HealFile::default);
        heal.within = Some(text(within));
        heal.progress = Some(Spanned::new(0..0, progress));
        self
    }

    /// The heal phase repairs only these nodes (or `"majority"`); the others get
    /// `others` (`"crash"`, `"isolate"`, `"pause"` or `"as_left"`).
    pub fn heal_only(mut self, nodes: &[&str], others: &str) -> ScenarioBuilder {
        let heal = self.file.heal.get_or_insert_with(HealFile::default);
        heal.nodes = Some(match nodes {
            [one] => Spanned::new(0..0, NameList::One(one.to_string())),
            _ => names(nodes),
        });
        heal.others = Some(text(others));
        self
    }

    fn table(&mut self, what: &str, value: &impl Serialize) -> Option<toml::Table> {
        match toml::Table::try_from(value) {
            Ok(table) => Some(table),
            Err(error) => {
                self.error.get_or_insert_with(|| {
                    format!("the {what} table does not serialize as a TOML table: {error}")
                });
                None
            }
        }
    }

    /// The file form.
    pub fn file(&self) -> &ScenarioFile {
        &self.file
    }

    /// The file form, to edit what the builder has no method for.
    pub fn file_mut(&mut self) -> &mut ScenarioFile {
        &mut self.file
    }

    /// The scenario as a file.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.file).expect("the file form serialises")
    }

    /// Validates the scenario with the protocols of `registry`.
    pub fn build(&self, registry: &Registry) -> Result<Scenario, InputError> {
        if let Some(error) = &self.error {
            return Err(InputError::new(error.clone()));
        }
        registry.parse(&self.to_toml(), None)
    }
}
