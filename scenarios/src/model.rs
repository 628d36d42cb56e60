//! A validated scenario: every name resolved, every unit converted, every value in
//! range. Built from a file by [`crate::parse`] or in Rust by [`crate::ScenarioBuilder`];
//! run by [`crate::run_case`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use node_model::chain::ChainConfig;
use node_model::raft::RaftConfig;
use sim_core::{FaultGenerator, FaultSchedule, NetworkConfig, NodeId, SimDuration, TieBreak};

use crate::file::ScenarioFile;

/// The protocol a scenario exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// The proof-of-stake chain.
    Chain,
    /// A replicated key-value store over Raft.
    Raft,
}

impl Protocol {
    /// Its name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Chain => "chain",
            Protocol::Raft => "raft",
        }
    }

    /// Every implementation of this protocol that detsim knows (built or not).
    pub fn implementations(self) -> &'static [Implementation] {
        match self {
            Protocol::Chain => &[Implementation::DetsimChain],
            Protocol::Raft => &[Implementation::DetsimRaft, Implementation::RaftRs],
        }
    }

    /// The name of node `index` in a cluster of this protocol.
    pub fn node_name(self, index: u32, validators: u32) -> String {
        match self {
            Protocol::Chain if index < validators => format!("validator-{index}"),
            Protocol::Chain => format!("observer-{}", index - validators),
            Protocol::Raft => format!("replica-{index}"),
        }
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(name: &str) -> Result<Protocol, String> {
        match name {
            "chain" => Ok(Protocol::Chain),
            "raft" => Ok(Protocol::Raft),
            _ => Err(format!(
                "unknown protocol \"{name}\"; expected \"chain\" or \"raft\""
            )),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An implementation a scenario runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Implementation {
    /// node-model's chain.
    DetsimChain,
    /// node-model's own Raft.
    DetsimRaft,
    /// The `raft` crate (tikv raft-rs) through node-model's adapter.
    RaftRs,
}

impl Implementation {
    /// Every implementation.
    pub const ALL: [Implementation; 3] = [
        Implementation::DetsimChain,
        Implementation::DetsimRaft,
        Implementation::RaftRs,
    ];

    /// Its name in scenario files, filters and reports.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::DetsimChain => "detsim-chain",
            Implementation::DetsimRaft => "detsim-raft",
            Implementation::RaftRs => "raft-rs",
        }
    }

    /// The protocol it implements.
    pub fn protocol(self) -> Protocol {
        match self {
            Implementation::DetsimChain => Protocol::Chain,
            Implementation::DetsimRaft | Implementation::RaftRs => Protocol::Raft,
        }
    }

    /// Whether this build can run it (raft-rs needs the `raft-rs` feature).
    pub fn is_built(self) -> bool {
        self != Implementation::RaftRs || cfg!(feature = "raft-rs")
    }

    /// Why this implementation cannot run `scenario`, if it cannot: it is not built, or
    /// the scenario needs a runner it does not support. Such cases are reported as
    /// skipped, never dropped silently.
    pub fn unsupported(self, scenario: &Scenario) -> Option<String> {
        if !self.is_built() {
            return Some(format!(
                "{} is not built into this detsim (rebuild with `--features raft-rs`)",
                self.name()
            ));
        }
        let runner = scenario.runner();
        if runner == Runner::Adversary && !cfg!(feature = "adversarial") {
            return Some(
                "the scenario asks for byzantine nodes, which this build refuses: rebuild detsim with \
                 `--features adversarial` to consent"
                    .to_string(),
            );
        }
        let supported = match self {
            Implementation::DetsimChain => true,
            Implementation::DetsimRaft | Implementation::RaftRs => {
                !matches!(runner, Runner::Disk | Runner::Adversary)
            }
        };
        (!supported).then(|| {
            format!(
                "{} does not support the {} runner",
                self.name(),
                runner.name()
            )
        })
    }
}

impl FromStr for Implementation {
    type Err = String;

    fn from_str(name: &str) -> Result<Implementation, String> {
        Implementation::ALL
            .into_iter()
            .find(|i| i.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Implementation::ALL.iter().map(|i| i.name()).collect();
                format!(
                    "unknown implementation \"{name}\"; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of test a scenario is, as test vectors group them: what an implementation
/// must support to run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runner {
    /// No faults at all.
    Smoke,
    /// Crashes, partitions, clogs, clocks: the faults every implementation survives.
    Faults,
    /// Disk faults or data resets.
    Disk,
    /// Byzantine nodes.
    Adversary,
}

impl Runner {
    /// Its name in test-vector paths and reports.
    pub fn name(self) -> &'static str {
        match self {
            Runner::Smoke => "smoke",
            Runner::Faults => "faults",
            Runner::Disk => "disk",
            Runner::Adversary => "adversary",
        }
    }
}

/// Who runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Cluster {
    /// A chain cluster.
    Chain(ChainConfig),
    /// A Raft cluster.
    Raft {
        /// The number of replicas.
        replicas: u32,
        /// Their settings.
        config: RaftConfig,
    },
}

impl Cluster {
    /// The number of nodes.
    pub fn node_count(&self) -> u32 {
        match self {
            Cluster::Chain(config) => config.node_count(),
            Cluster::Raft { replicas, .. } => *replicas,
        }
    }
}

/// The random fault generator of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomFaults {
    /// The generator; its weights mark which kinds are enabled (non-zero).
    pub generator: FaultGenerator,
    /// Draw the enabled kinds and their weights anew for every seed (swarm testing).
    pub swarm: bool,
}

/// Client load.
#[derive(Clone, Debug, PartialEq)]
pub enum Workload {
    /// Signed transfers between accounts.
    Chain {
        /// Transfers per second.
        rate: f64,
        /// First submission.
        start: SimDuration,
        /// Last submission.
        end: SimDuration,
        /// Who sends and receives.
        accounts: Vec<String>,
        /// The largest amount.
        amount_max: u64,
    },
    /// Puts and gets on a few keys.
    Raft {
        /// Requests per second.
        rate: f64,
        /// First request.
        start: SimDuration,
        /// Last request.
        end: SimDuration,
        /// Keys touched.
        keys: u32,
        /// Share of reads.
        reads_percent: u32,
        /// Clients.
        clients: u32,
    },
}

/// An assertion on the state at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalAssertion {
    /// Every running node's final height is at least this.
    MinFinalHeight(u64),
    /// Every running node agrees (same final block / same applied state).
    Converged,
    /// The account's balance at the final block, on every running node.
    Balance {
        /// The account.
        account: String,
        /// The expected balance.
        balance: u64,
    },
    /// The head epoch's validator set has this many members.
    Validators(usize),
    /// This node is not a validator of the head's epoch.
    KickedOut(NodeId),
    /// At least this many client requests completed.
    MinCompleted(u64),
}

impl FinalAssertion {
    /// `true` for assertions about progress (a failure is a liveness failure), `false`
    /// for assertions about correctness (a failure is a safety failure).
    pub fn is_liveness(&self) -> bool {
        matches!(
            self,
            FinalAssertion::MinFinalHeight(_)
                | FinalAssertion::Converged
                | FinalAssertion::MinCompleted(_)
        )
    }
}

impl fmt::Display for FinalAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FinalAssertion::MinFinalHeight(height) => write!(f, "final height >= {height}"),
            FinalAssertion::Converged => f.write_str("converged"),
            FinalAssertion::Balance { account, balance } => {
                write!(f, "{account}'s balance = {balance}")
            }
            FinalAssertion::Validators(count) => write!(f, "{count} validators"),
            FinalAssertion::KickedOut(node) => write!(f, "{node} kicked out"),
            FinalAssertion::MinCompleted(count) => write!(f, "completed requests >= {count}"),
        }
    }
}

/// A situation that must be reached at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sometimes {
    /// An adversary carried out this attack.
    Attack(String),
    /// A node rejected something for this reason.
    Rejected(String),
}

impl fmt::Display for Sometimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sometimes::Attack(kind) => write!(f, "attack {kind}"),
            Sometimes::Rejected(reason) => write!(f, "rejected: {reason}"),
        }
    }
}

/// What must hold.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Checks {
    /// The safety invariants to run, by name.
    pub invariants: Vec<String>,
    /// Assertions at the end.
    pub finals: Vec<FinalAssertion>,
    /// Situations that must be reached.
    pub sometimes: Vec<Sometimes>,
}

/// The heal-and-converge phase: at the end of the fault phase every fault is repaired,
/// and liveness must follow within `within`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heal {
    /// The liveness bound after healing.
    pub within: SimDuration,
    /// Chain: final heights to advance; Raft: requests to complete.
    pub progress: u64,
}

impl Default for Heal {
    fn default() -> Self {
        Heal {
            within: SimDuration::from_secs(30),
            progress: 3,
        }
    }
}

/// A validated scenario, ready to run for any seed.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Labels.
    pub tags: Vec<String>,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// The protocol.
    pub protocol: Protocol,
    /// The implementations to run it against.
    pub implementations: Vec<Implementation>,
    /// The preset it builds on, if any.
    pub preset: Option<String>,
    /// The length of the fault phase.
    pub duration: SimDuration,
    /// Node names by id.
    pub node_names: Vec<String>,
    /// Who runs.
    pub cluster: Cluster,
    /// How messages travel.
    pub network: NetworkConfig,
    /// How same-time events are ordered.
    pub tie_break: TieBreak,
    /// The fault timeline.
    pub faults: FaultSchedule,
    /// The random fault generator.
    pub random_faults: Option<RandomFaults>,
    /// Client load.
    pub workload: Option<Workload>,
    /// What must hold.
    pub checks: Checks,
    /// The heal-and-converge phase.
    pub heal: Heal,
    /// The file form, kept to write repro files and to shrink.
    pub file: ScenarioFile,
}

impl Scenario {
    /// The kind of test this is, for test vectors and implementation support.
    pub fn runner(&self) -> Runner {
        let adversary = match &self.cluster {
            Cluster::Chain(config) => config.overrides.values().any(|o| o.adversary.is_some()),
            Cluster::Raft { .. } => false,
        };
        if adversary {
            return Runner::Adversary;
        }
        let disk_fault = |fault: &sim_core::Fault| {
            matches!(
                fault,
                sim_core::Fault::ResetData(_) | sim_core::Fault::DiskFaults { .. }
            )
        };
        let random_disk = self
            .random_faults
            .as_ref()
            .is_some_and(|r| r.generator.weights.disk > 0 || r.generator.weights.reset_data > 0);
        if random_disk || self.faults.iter().any(|timed| disk_fault(&timed.fault)) {
            return Runner::Disk;
        }
        if self.faults.is_empty() && self.random_faults.is_none() {
            Runner::Smoke
        } else {
            Runner::Faults
        }
    }

    /// The name of `node`.
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.node_names[node.index()]
    }

    /// The end of the whole run: fault phase plus heal phase.
    pub fn total_duration(&self) -> SimDuration {
        self.duration + self.heal.within
    }
}
