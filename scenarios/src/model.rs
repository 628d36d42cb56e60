//! A validated scenario: every name resolved, every unit converted, every value in
//! range, and the protocol's own tables turned into its plan. Built from a file by
//! [`crate::Registry::parse`] or in Rust by [`crate::ScenarioBuilder`]; run by
//! [`crate::run_case`].

use std::any::Any;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use sim_core::{
    FaultGenerator, FaultSchedule, Moment, NetworkConfig, NodeId, SimDuration, SimRng, SimTime,
    TieBreak, Window,
};

use crate::file::ScenarioFile;
use crate::protocol::{FaultKind, FaultModel, Protocol};
use crate::registry::ErasedProtocol;

/// The random fault generator of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomFaults {
    /// The generator; its weights mark which kinds are enabled (non-zero).
    pub generator: FaultGenerator,
    /// Draw the enabled kinds and their weights anew for every seed (swarm testing).
    pub swarm: bool,
    /// Which moments points may wait for.
    pub moments: DrawnMoments,
}

/// Which of the protocol's moments the generator's points may wait for
/// (`[random_faults] moments`): sending a kind of message, handling one, emitting an
/// event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawnMoments {
    /// Sending a message of a kind the protocol lists.
    pub sends: bool,
    /// Handling a message of a kind the protocol lists.
    pub handles: bool,
    /// Emitting an event the protocol lists.
    pub emits: bool,
}

impl DrawnMoments {
    /// Every moment.
    pub const ALL: DrawnMoments = DrawnMoments {
        sends: true,
        handles: true,
        emits: true,
    };

    /// The names of the drawn families, as files write them.
    pub fn names(self) -> Vec<&'static str> {
        [
            (self.sends, "sends"),
            (self.handles, "handles"),
            (self.emits, "emits"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

impl RandomFaults {
    /// The generator for `seed`: in swarm mode, [`FaultGenerator::swarmed`] from the
    /// seed's own `"swarm"` stream (which kinds, how likely, how fast).
    pub fn generator_for_seed(&self, seed: u64) -> FaultGenerator {
        if self.swarm {
            self.generator.swarmed(&mut SimRng::new(seed, "swarm"))
        } else {
            self.generator
        }
    }

    /// Does the generator draw `kind` at all?
    pub fn draws(&self, kind: FaultKind) -> bool {
        let mut weights = self.generator.weights;
        *kind.weight(&mut weights) > 0
    }
}

/// Which nodes the heal phase repairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealNodes {
    /// Every node (the default).
    All,
    /// A majority, drawn anew for every seed.
    Majority,
    /// These nodes.
    Named(Vec<NodeId>),
}

/// What happens to the nodes the heal phase leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealOthers {
    /// They are crashed (the default): liveness with a minority down.
    Crash,
    /// They are repaired like the core, then cut off from every other node: a
    /// partitioned minority that keeps running.
    Isolate,
    /// They are repaired like the core, then paused: a stalled minority.
    Pause,
    /// Their nodes are left as the fault phase left them (crashed, paused, their clocks
    /// and disks as they were); their links are healed like every other.
    AsLeft,
}

impl HealOthers {
    /// Its name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            HealOthers::Crash => "crash",
            HealOthers::Isolate => "isolate",
            HealOthers::Pause => "pause",
            HealOthers::AsLeft => "as_left",
        }
    }
}

/// The heal-and-converge phase: at the end of the fault phase the core of the cluster
/// is repaired, and liveness must follow within `within`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heal {
    /// The liveness bound after healing.
    pub within: SimDuration,
    /// How much progress liveness demands, in the protocol's own terms.
    pub progress: u64,
    /// The core that is repaired.
    pub nodes: HealNodes,
    /// What happens to the rest.
    pub others: HealOthers,
}

impl Default for Heal {
    fn default() -> Self {
        Heal {
            within: SimDuration::from_secs(30),
            progress: 3,
            nodes: HealNodes::All,
            others: HealOthers::Crash,
        }
    }
}

impl Heal {
    /// The core repaired in a case with `seed` on `node_count` nodes, in id order, and
    /// the rest.
    pub fn split(&self, node_count: u32, seed: u64) -> (Vec<NodeId>, Vec<NodeId>) {
        let all: Vec<NodeId> = (0..node_count).map(NodeId).collect();
        let core: Vec<NodeId> = match &self.nodes {
            HealNodes::All => all.clone(),
            HealNodes::Named(nodes) => {
                let mut nodes = nodes.clone();
                nodes.sort();
                nodes
            }
            HealNodes::Majority => {
                let mut shuffled = all.clone();
                SimRng::new(seed, "heal").shuffle(&mut shuffled);
                shuffled.truncate(node_count as usize / 2 + 1);
                shuffled.sort();
                shuffled
            }
        };
        let others = all.into_iter().filter(|n| !core.contains(n)).collect();
        (core, others)
    }
}

/// `[checks.while_connected]`: liveness while a quorum is up and connected, during the
/// fault phase as well as after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhileConnected {
    /// How many nodes must be up and linked to each other both ways.
    pub quorum: u32,
    /// How long they must have been, and how long progress may then be missing.
    pub window: Window,
}

impl WhileConnected {
    /// How long a quorum must have been connected before progress is owed, unless the
    /// scenario says.
    pub const AFTER: SimDuration = SimDuration::from_secs(2);
    /// How long progress may then be missing, unless the scenario says.
    pub const WITHIN: SimDuration = SimDuration::from_secs(5);
}

/// A validated scenario, ready to run for any seed.
#[derive(Clone)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Labels.
    pub tags: Vec<String>,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// The implementations to run it against, by name.
    pub implementations: Vec<String>,
    /// The preset it builds on, if any.
    pub preset: Option<String>,
    /// The length of the fault phase.
    pub duration: SimDuration,
    /// Node names by id.
    pub node_names: Vec<String>,
    /// How messages travel.
    pub network: NetworkConfig,
    /// How same-time events are ordered.
    pub tie_break: TieBreak,
    /// The fault timeline.
    pub faults: FaultSchedule,
    /// The random fault generator.
    pub random_faults: Option<RandomFaults>,
    /// The safety invariants to run, by name.
    pub invariants: Vec<String>,
    /// The heal-and-converge phase.
    pub heal: Heal,
    /// Liveness during the fault phase, if the scenario asks for it.
    pub while_connected: Option<WhileConnected>,
    /// Nodes start at seeded times within this much of the beginning
    /// ([`sim_core::SimConfig::start_spread`]).
    pub start_spread: SimDuration,
    /// The kinds of message the protocol's nodes send ([`Protocol::message_kinds`]).
    pub message_kinds: Vec<&'static str>,
    /// The protocol events the nodes emit ([`Protocol::events`]).
    pub events: Vec<&'static str>,
    /// What the protocol claims to survive for this scenario's plan
    /// ([`Protocol::fault_model`]).
    pub fault_model: FaultModel,
    /// The kind of test it is, for test vectors: `smoke`, `faults`, `disk`, or what the
    /// protocol says.
    pub runner: String,
    /// The file form, kept to write repro files and to shrink.
    pub file: ScenarioFile,
    pub(crate) protocol: Arc<dyn ErasedProtocol>,
    pub(crate) plan: Arc<dyn Any + Send + Sync>,
    pub(crate) requests: u64,
    /// The most steps a case may take (`[limits] max_steps`).
    pub max_steps: u64,
}

// A scenario never changes once validated: its protocol entry and plan are shared
// read-only, so a panic in a case (which the runner catches) cannot leave it half-changed.
impl std::panic::UnwindSafe for Scenario {}
impl std::panic::RefUnwindSafe for Scenario {}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("protocol", &self.protocol.name())
            .field("implementations", &self.implementations)
            .field("duration", &self.duration)
            .field("node_names", &self.node_names)
            .field("faults", &self.faults.len())
            .field("random_faults", &self.random_faults)
            .field("invariants", &self.invariants)
            .field("heal", &self.heal)
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// The protocol's name.
    pub fn protocol(&self) -> &str {
        self.protocol.name()
    }

    /// The protocol's plan, if the scenario is of protocol `P`.
    pub fn plan<P: Protocol>(&self) -> Option<&P::Plan> {
        self.plan.downcast_ref()
    }

    /// The name of `node`.
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.node_names[node.index()]
    }

    /// The number of nodes.
    pub fn node_count(&self) -> u32 {
        self.node_names.len() as u32
    }

    /// The end of the whole run: fault phase plus heal phase.
    pub fn total_duration(&self) -> SimDuration {
        self.duration + self.heal.within
    }

    /// The time the heal phase starts.
    pub fn heal_time(&self) -> SimTime {
        SimTime::ZERO + self.duration
    }

    /// How many client requests the workload makes (as the protocol counts them).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The moments the generator's points may wait for: sending and handling each kind
    /// of message, and emitting each protocol event, as `[random_faults] moments` allows.
    pub fn moments(&self) -> Vec<Moment> {
        let drawn = self
            .random_faults
            .as_ref()
            .map_or(DrawnMoments::ALL, |random| random.moments);
        let text = |name: &&str| (*name).to_string();
        let mut moments = Vec::new();
        if drawn.sends {
            moments.extend(self.message_kinds.iter().map(text).map(Moment::Sends));
        }
        if drawn.handles {
            moments.extend(self.message_kinds.iter().map(text).map(Moment::Handles));
        }
        if drawn.emits {
            moments.extend(self.events.iter().map(text).map(Moment::Emits));
        }
        moments
    }

    /// The whole fault schedule of a case: the timeline plus the random faults of `seed`.
    pub fn fault_schedule(&self, seed: u64) -> FaultSchedule {
        let mut schedule = self.faults.clone();
        if let Some(random) = &self.random_faults {
            let nodes: Vec<NodeId> = (0..self.node_count()).map(NodeId).collect();
            let generated = random.generator_for_seed(seed).generate_at(
                &nodes,
                &self.moments(),
                &mut SimRng::new(seed, "faults"),
            );
            schedule = schedule.merged(&generated);
        }
        schedule
    }

    /// Why `implementation` cannot run this scenario, if it cannot: it is not built into
    /// this program, or it does not support this kind of test. Such cases are reported
    /// as skipped, never dropped silently. Panics if the protocol has no such
    /// implementation.
    pub fn unsupported(&self, implementation: &str) -> Option<String> {
        self.assert_implementation(implementation);
        self.protocol.unsupported(self, implementation)
    }

    /// What `implementation` is (a crate and its release), if it says. Panics if the
    /// protocol has no such implementation.
    pub fn implementation_version(&self, implementation: &str) -> Option<String> {
        self.assert_implementation(implementation);
        self.protocol.version(implementation)
    }

    /// Panics unless `implementation` is one of the protocol's implementations.
    pub(crate) fn assert_implementation(&self, implementation: &str) {
        let known = self.protocol.implementation_names();
        assert!(
            known.iter().any(|name| name == implementation),
            "the {} protocol has no implementation \"{implementation}\"; it has: {}",
            self.protocol(),
            known.join(", ")
        );
    }
}
