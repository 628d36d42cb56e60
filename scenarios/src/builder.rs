//! The Rust builder: the same scenarios as the file format, from code.
//!
//! The builder fills in the file form and validates it exactly as a file is validated,
//! so a built scenario and a written one can never mean different things, and
//! [`ScenarioBuilder::to_toml`] prints the file that the builder describes.
//!
//! ```
//! use scenarios::{Fault, ScenarioBuilder};
//!
//! let scenario = ScenarioBuilder::chain("partition-heal")
//!     .describe("A two-two split stalls finality; healing restores it.")
//!     .validators(4)
//!     .duration("40s")
//!     .fault("10s", Fault::partition(&[&["validator-0", "validator-1"], &["validator-2", "validator-3"]]))
//!     .fault("30s", Fault::heal())
//!     .workload(5.0)
//!     .min_final_height(30)
//!     .build()
//!     .unwrap();
//! assert_eq!(scenario.faults.len(), 2);
//! let result = scenarios::run_case(&scenario, scenario.implementations[0], 7);
//! assert!(!result.verdict.is_failure(), "{}", result.summary());
//! ```

use toml::Spanned;

use crate::error::InputError;
use crate::file::{FaultFile, FinalFile, NameList, Names, ScenarioFile, Text, WorkloadFile};
use crate::model::Scenario;

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
}

impl ScenarioBuilder {
    /// A chain scenario called `name`.
    pub fn chain(name: &str) -> ScenarioBuilder {
        ScenarioBuilder::new(name, "chain")
    }

    /// A Raft scenario called `name`.
    pub fn raft(name: &str) -> ScenarioBuilder {
        ScenarioBuilder::new(name, "raft")
    }

    fn new(name: &str, protocol: &str) -> ScenarioBuilder {
        let file = ScenarioFile {
            name: Some(name.to_string()),
            protocol: Some(text(protocol)),
            duration: Some(text("60s")),
            ..ScenarioFile::default()
        };
        ScenarioBuilder { file }
    }

    /// Says what the scenario shows.
    pub fn describe(mut self, description: &str) -> ScenarioBuilder {
        self.file.description = Some(description.to_string());
        self
    }

    /// Builds on a preset (`"minimal"`, `"mainnet"`).
    pub fn preset(mut self, preset: &str) -> ScenarioBuilder {
        self.file.preset = Some(text(preset));
        self
    }

    /// The length of the fault phase (e.g. `"60s"`).
    pub fn duration(mut self, duration: &str) -> ScenarioBuilder {
        self.file.duration = Some(text(duration));
        self
    }

    /// Chain: the number of validators.
    pub fn validators(mut self, count: u32) -> ScenarioBuilder {
        self.file.cluster.validators = Some(Spanned::new(0..0, count));
        self
    }

    /// Chain: the number of observers.
    pub fn observers(mut self, count: u32) -> ScenarioBuilder {
        self.file.cluster.observers = Some(Spanned::new(0..0, count));
        self
    }

    /// Chain: the epoch length in blocks.
    pub fn epoch_length(mut self, blocks: u64) -> ScenarioBuilder {
        self.file.cluster.genesis.epoch_length = Some(Spanned::new(0..0, blocks));
        self
    }

    /// Raft: the number of replicas.
    pub fn replicas(mut self, count: u32) -> ScenarioBuilder {
        self.file.cluster.replicas = Some(Spanned::new(0..0, count));
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

    /// A steady client load of `rate` requests (transfers) per second.
    pub fn workload(mut self, rate: f64) -> ScenarioBuilder {
        let workload = WorkloadFile {
            rate: Some(Spanned::new(0..0, rate)),
            ..WorkloadFile::default()
        };
        self.file.workload = Some(workload);
        self
    }

    /// Chain: every running node must end at a final height of at least `height`.
    pub fn min_final_height(mut self, height: u64) -> ScenarioBuilder {
        let check = FinalFile {
            min_final_height: Some(height),
            ..FinalFile::default()
        };
        self.file.checks.finals.push(Spanned::new(0..0, check));
        self
    }

    /// Every running node must agree at the end.
    pub fn converged(mut self) -> ScenarioBuilder {
        let check = FinalFile {
            converged: Some(true),
            ..FinalFile::default()
        };
        self.file.checks.finals.push(Spanned::new(0..0, check));
        self
    }

    /// The file form, for code in this crate that fills in what the builder lacks.
    #[cfg(feature = "proptest")]
    pub(crate) fn into_file(self) -> ScenarioFile {
        self.file
    }

    /// The scenario as a file.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.file).expect("the file form serialises")
    }

    /// Validates and returns the scenario.
    pub fn build(self) -> Result<Scenario, InputError> {
        crate::parse::parse_scenario(&self.to_toml(), None)
    }
}
