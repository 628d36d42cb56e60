//! The extension point: what a protocol and its implementations tell detsim, written in
//! their own crate.
//!
//! A **protocol** ([`Protocol`]) is what scenario files name with `protocol = "…"`: its
//! own tables (`[cluster]`, `[workload]`, `[[checks.final]]`, `[[checks.sometimes]]`) as
//! serde types that reject unknown fields, what those tables mean once checked (its
//! [`Protocol::Plan`]), its node names, its invariants and the fault kinds it claims to
//! survive. An **implementation** ([`Implementation`]) runs a plan: it builds the cluster
//! of a case, schedules its workload, says what liveness means once the faults are healed,
//! and judges the final assertions. A protocol may have several implementations (your own
//! and a third-party library's, say); a scenario runs against all of them unless it names
//! some.
//!
//! Both are registered in a [`crate::Registry`], which the parser, the runner, the swarm,
//! repro files, shrinking, test vectors, the fuzz targets and the CLI consult. Nothing in
//! those tools knows any protocol by name: detsim's own chain and Raft are registered the
//! same way, from outside this crate.
//!
//! The driver that runs every case is the same for every protocol:
//!
//! 1. [`Implementation::build`] makes the simulation and installs the invariants;
//! 2. the scenario's fault timeline and random faults are scheduled, then
//!    [`Implementation::workload`] schedules the client load;
//! 3. the fault phase runs to the scenario's `duration`;
//! 4. the heal phase repairs the core of the cluster (`[heal] nodes`) and
//!    [`Implementation::liveness`] says what must follow; it must hold by the deadline;
//! 5. [`Implementation::finals`] judges the end state and [`Implementation::facts`]
//!    describes it for test vectors.
//!
//! docs/testing-your-own-protocol.md walks through a whole protocol, from an empty crate.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim_core::{FaultWeights, Node, NodeId, Sim, SimConfig, SimDuration, SimTime, World};
use toml::Spanned;

use crate::error::InputError;
use crate::model::{Scenario, WhileConnected};
use crate::parse::Source;

/// A scenario table of a protocol: read from TOML (reject unknown fields with
/// `#[serde(deny_unknown_fields)]`), written back for repro files and shrinking.
pub trait Table: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static> Table for T {}

/// A protocol, as scenario files see it. See the [module docs](self).
pub trait Protocol: Send + Sync + Sized + 'static {
    /// The `[cluster]` table: who runs, with which settings (its default: no table).
    type Cluster: Table + Default;
    /// The `[workload]` table: the client load.
    type Workload: Table;
    /// One `[[checks.final]]` entry: an assertion on the end state.
    type Final: Table;
    /// One `[[checks.sometimes]]` entry: a situation that must be reached. [`NoTable`]
    /// if the protocol has none.
    type Sometimes: Table;
    /// The validated scenario: what the tables mean, ready to build a cluster from.
    type Plan: fmt::Debug + Send + Sync + 'static;

    /// Its name: `protocol = "…"` in scenario files.
    fn name(&self) -> &str;

    /// Its safety invariants by name. A scenario runs all of them unless
    /// `[checks] invariants` picks some; [`Implementation::build`] installs them.
    fn invariants(&self) -> &[&str];

    /// The fault kinds it claims to survive. Scenario files may use only these, in the
    /// timeline and in `[random_faults]`, and the random generator draws only these by
    /// default. Unless the protocol says otherwise, what a crash-recovery protocol with a
    /// durable disk survives ([`FaultKinds::CRASH_RECOVERY`]): everything but disk wipes
    /// and a disk that loses or damages synced writes, which no such protocol survives
    /// without a way to rejoin or to detect the damage. Claim those
    /// ([`FaultKinds::ALL`]) when yours has one.
    fn fault_kinds(&self) -> FaultKinds {
        FaultKinds::CRASH_RECOVERY
    }

    /// What it claims to survive and on what time scale it runs, for `plan`: what the
    /// random fault generator draws unless the scenario says otherwise. By default its
    /// [`Protocol::fault_kinds`] on a time scale of a second, with enough nodes out at once
    /// to take a quorum away ([`FaultModel::new`]). Say at least the time scale: a generator
    /// timed in seconds never lands a fault inside a 150 ms election.
    fn fault_model(&self, plan: &Self::Plan) -> FaultModel {
        let _ = plan;
        FaultModel::new(self.fault_kinds())
    }

    /// The names `preset = "…"` accepts (the plan applies the preset).
    fn presets(&self) -> &[&str] {
        &[]
    }

    /// Checks the protocol's tables and returns what they mean. Errors point into the
    /// file through [`Tables::source`]: file, line, column, and what to write instead.
    fn plan(&self, tables: Tables<'_, Self>) -> Result<Self::Plan, InputError>;

    /// The names of the plan's nodes, by [`NodeId`] (`"node-0"`, …): how scenario
    /// files, traces and reports name them.
    fn node_names(&self, plan: &Self::Plan) -> Vec<String>;

    /// The kind of test a plan is, for test vectors (`<preset>/<protocol>/<runner>/…`),
    /// when the protocol knows better than the scenario's faults (`"smoke"`, `"faults"`,
    /// `"disk"`): `"adversary"` for byzantine nodes, say.
    fn runner(&self, plan: &Self::Plan) -> Option<&str> {
        let _ = plan;
        None
    }

    /// How many nodes make a quorum: how many must be up and linked to each other for the
    /// protocol to make progress. The default of `[checks.while_connected] quorum`; a
    /// strict majority of the plan's nodes unless the protocol says otherwise (a
    /// stake-weighted protocol counts the fewest nodes that always hold enough stake).
    fn quorum(&self, plan: &Self::Plan) -> u32 {
        let nodes = u32::try_from(self.node_names(plan).len()).unwrap_or(u32::MAX);
        nodes / 2 + 1
    }

    /// The kinds of message its implementations send, as their
    /// [`sim_core::Node::message_kind`] names them: the random generator's crash points
    /// strike right after a node sends one of these (a vote, a reply), and scenario
    /// files may name them in `crash_point` faults. None by default: crash points then
    /// count every effect alike.
    fn message_kinds(&self, plan: &Self::Plan) -> Vec<&'static str> {
        let _ = plan;
        Vec::new()
    }

    /// The protocol events its implementations emit with
    /// [`sim_core::NodeContext::event`] (`"voted"`, `"became leader"`): the random
    /// generator's crash points strike right after a node emits one of these too, and
    /// scenario files may name them in `crash_point` faults (`emits = "voted"`). Place
    /// events where a crash would hurt most: after a decision, before it is durable.
    /// None by default.
    fn events(&self, plan: &Self::Plan) -> Vec<&'static str> {
        let _ = plan;
        Vec::new()
    }

    /// How many client requests the plan's workload makes, for shrinking reports.
    fn requests(&self, plan: &Self::Plan) -> u64 {
        let _ = plan;
        0
    }

    /// Smaller versions of the cluster and workload tables, for `detsim shrink`: one node
    /// fewer, half the request rate. The shrinker tries each, keeps those that still fail
    /// the same way, and asks again. (Removing the workload and faults, and shortening the
    /// run, are tried for every protocol.)
    fn shrink(
        &self,
        cluster: &Self::Cluster,
        workload: Option<&Self::Workload>,
    ) -> Vec<Smaller<Self>> {
        let _ = (cluster, workload);
        Vec::new()
    }
}

/// A smaller version of a scenario's protocol tables (see [`Protocol::shrink`]).
pub struct Smaller<P: Protocol> {
    /// The `[cluster]` table.
    pub cluster: P::Cluster,
    /// The `[workload]` table, if any.
    pub workload: Option<P::Workload>,
}

/// A protocol's tables as read from one scenario file, with what [`Protocol::plan`] needs
/// to check them.
pub struct Tables<'a, P: Protocol> {
    /// The `[cluster]` table, if the file has one.
    pub cluster: Option<Spanned<P::Cluster>>,
    /// The `[workload]` table, if the file has one.
    pub workload: Option<Spanned<P::Workload>>,
    /// The `[[checks.final]]` entries.
    pub finals: Vec<Spanned<P::Final>>,
    /// The `[[checks.sometimes]]` entries.
    pub sometimes: Vec<Spanned<P::Sometimes>>,
    /// The preset the scenario builds on, one of [`Protocol::presets`].
    pub preset: Option<&'a str>,
    /// The length of the fault phase.
    pub duration: SimDuration,
    /// The file, to locate errors in it.
    pub source: Source<'a>,
}

impl<P: Protocol> Tables<'_, P> {
    /// The `[cluster]` table, or the protocol's default if the file has none.
    pub fn cluster(&self) -> P::Cluster {
        self.cluster
            .as_ref()
            .map_or_else(P::Cluster::default, |c| c.get_ref().clone())
    }

    /// An error about the whole `[cluster]` table (at its header, if it has one).
    pub fn cluster_error(&self, message: impl Into<String>) -> InputError {
        match &self.cluster {
            Some(cluster) => self.source.error(cluster.span(), message),
            None => InputError::new(message),
        }
    }
}

/// A scenario table for a protocol that has no such table: any entry is refused with a
/// plain message. Use it as [`Protocol::Sometimes`] (or `Final`, `Workload`) when the
/// protocol has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTable {}

impl<'de> Deserialize<'de> for NoTable {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<NoTable, D::Error> {
        Err(serde::de::Error::custom(
            "this protocol has no such table; remove the entry",
        ))
    }
}

impl Serialize for NoTable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

/// One case of a plan: what every [`Implementation`] hook is told about it.
pub struct Case<'a, P: Protocol> {
    /// The protocol's plan.
    pub plan: &'a P::Plan,
    /// The whole scenario (its name, nodes, network, faults, invariants, heal phase).
    pub scenario: &'a Scenario,
    /// The case's seed.
    pub seed: u64,
}

impl<P: Protocol> Case<'_, P> {
    /// The invariants this case runs, by name (a subset of [`Protocol::invariants`]).
    pub fn invariants(&self) -> impl Iterator<Item = &str> {
        self.scenario.invariants.iter().map(String::as_str)
    }

    /// Does this case run the invariant called `name`?
    pub fn checks(&self, name: &str) -> bool {
        self.scenario.invariants.iter().any(|i| i == name)
    }
}

/// An implementation of protocol `P`. See the [module docs](self) for when each hook runs.
pub trait Implementation<P: Protocol>: Send + Sync + 'static {
    /// The nodes it runs.
    type Node: Node;
    /// What a case keeps beside its simulation from `build` to the final checks (a
    /// client history, a shared genesis); `()` if nothing.
    type State: 'static;

    /// Its name in scenario files, filters and reports (`"my-node"`).
    fn name(&self) -> &str;

    /// What it is, for reports: a crate and its release (`"my-node 1.2.0"`), a commit.
    fn version(&self) -> Option<String> {
        None
    }

    /// Why it cannot run `plan`, if it cannot (a feature this build lacks, a kind of test
    /// it does not support). Such cases are reported as skipped, with this reason.
    fn unsupported(&self, plan: &P::Plan) -> Option<String> {
        let _ = plan;
        None
    }

    /// The simulation of one case, built with `config` (its seed, network, tie-break,
    /// limits, trace and choice settings: pass it to [`Sim::new`] unchanged), with its
    /// nodes added and the case's invariants ([`Case::invariants`]) installed, and
    /// whatever state the later hooks need.
    fn build(&self, case: &Case<'_, P>, config: SimConfig) -> (Sim<Self::Node>, Self::State);

    /// Schedules the client load (after the fault timeline, so that a request and a fault
    /// at the same instant happen fault first). Nothing by default.
    fn workload(&self, case: &Case<'_, P>, sim: &mut Sim<Self::Node>, state: &mut Self::State) {
        let _ = (case, sim, state);
    }

    /// What must follow once the core of the cluster is healed: called at the start of
    /// the heal phase (repairs applied) to set up any probes and return the property that
    /// must hold no later than `heal.deadline`. `None`: no liveness check.
    fn liveness(
        &self,
        case: &Case<'_, P>,
        heal: &HealPhase,
        sim: &mut Sim<Self::Node>,
        state: &mut Self::State,
    ) -> Option<Liveness<Self::Node>>;

    /// What must keep holding whenever a quorum of nodes has been up and linked both ways
    /// for a while, when the scenario asks for it (`[checks.while_connected]`): the
    /// protocol's own notion of progress ("a node linked to a quorum leads", "the
    /// finalized height grew in the last few seconds"). Called once, after
    /// [`Implementation::workload`]; the driver hands the property to
    /// [`Sim::whenever`] with [`sim_core::QuorumConnected`] as its condition, so it is
    /// judged during the fault phase as well as after healing. `connected` says how many
    /// nodes make the quorum and the window. `None` (the default): no such check.
    fn while_connected(
        &self,
        case: &Case<'_, P>,
        connected: &WhileConnected,
        sim: &mut Sim<Self::Node>,
        state: &mut Self::State,
    ) -> Option<Liveness<Self::Node>> {
        let _ = (case, connected, sim, state);
        None
    }

    /// Judges the plan's final assertions on the end state.
    fn finals(
        &self,
        case: &Case<'_, P>,
        world: &World<'_, Self::Node>,
        state: &Self::State,
    ) -> Vec<FinalCheck> {
        let _ = (case, world, state);
        Vec::new()
    }

    /// Facts about the end state (`"final_height" = "57"`), in words people read, that
    /// test vectors pin besides the trace hash.
    fn facts(
        &self,
        case: &Case<'_, P>,
        world: &World<'_, Self::Node>,
        state: &Self::State,
    ) -> Facts {
        let _ = (case, world, state);
        Facts::new()
    }
}

/// Facts about the state at the end of a case, by name.
pub type Facts = BTreeMap<String, String>;

/// The heal phase of a case, as [`Implementation::liveness`] sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealPhase {
    /// When it started: the end of the fault phase.
    pub at: SimTime,
    /// When liveness must hold by.
    pub deadline: SimTime,
    /// How much progress the scenario demands (`[heal] progress`), in the protocol's
    /// own terms: heights, requests.
    pub progress: u64,
    /// The nodes that were repaired, in id order: judge liveness on them.
    pub core: Vec<NodeId>,
    /// The nodes left failed or as they were (`[heal] others`).
    pub others: Vec<NodeId>,
}

/// A predicate on the world, checked after every step.
pub(crate) type Predicate<N> = Box<dyn FnMut(&World<'_, N>) -> bool>;

/// A liveness property: must hold after some step before the heal phase's deadline.
pub struct Liveness<N: Node> {
    pub(crate) name: String,
    pub(crate) property: Predicate<N>,
}

impl<N: Node> Liveness<N> {
    /// The property `name` (`"liveness: requests complete after healing"`).
    pub fn new(
        name: impl Into<String>,
        property: impl FnMut(&World<'_, N>) -> bool + 'static,
    ) -> Liveness<N> {
        Liveness {
            name: name.into(),
            property: Box::new(property),
        }
    }
}

impl<N: Node> fmt::Debug for Liveness<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Liveness")
            .field("name", &self.name)
            .finish()
    }
}

/// The judgement of one final assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalCheck {
    /// The assertion, as people read it (`"final height >= 50"`).
    pub check: String,
    /// What held, or why it did not.
    pub outcome: Result<String, String>,
    /// A failure is a liveness failure (too little progress), not a safety failure.
    pub liveness: bool,
}

impl FinalCheck {
    /// An assertion about correctness: a failure is a safety failure.
    pub fn safety(check: impl Into<String>, outcome: Result<String, String>) -> FinalCheck {
        FinalCheck {
            check: check.into(),
            outcome,
            liveness: false,
        }
    }

    /// An assertion about progress: a failure is a liveness failure.
    pub fn liveness(check: impl Into<String>, outcome: Result<String, String>) -> FinalCheck {
        FinalCheck {
            check: check.into(),
            outcome,
            liveness: true,
        }
    }
}

/// What a protocol claims to survive, and how fast it runs: the defaults of a
/// scenario's `[random_faults]` ([`Protocol::fault_model`]). A scenario may narrow or
/// widen each (`kinds`, `time_scale`, `max_down`, `clock_skew_max`,
/// `clock_drift_max_ppm`); the kinds it may only narrow.
///
/// ```
/// use scenarios::{FaultKinds, FaultModel};
/// use sim_core::SimDuration;
///
/// // A consensus protocol with 150 ms election timeouts that survives crashes, cuts and
/// // clocks within 50 ms of each other, but no disk that lies.
/// let model = FaultModel {
///     time_scale: SimDuration::from_millis(150),
///     clock_skew_max: Some(SimDuration::from_millis(50)),
///     ..FaultModel::new(FaultKinds::CRASH_RECOVERY)
/// };
/// assert_eq!(model.max_down, None); // enough to take a quorum away
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultModel {
    /// The kinds of fault it survives.
    pub kinds: FaultKinds,
    /// Its shortest timeout that matters (an election timeout, a slot, a gossip round).
    /// The generator draws faults about five of these apart, each lasting from a tenth of
    /// it to a hundred times it ([`sim_core::FaultGenerator::scaled`]).
    pub time_scale: SimDuration,
    /// How many nodes may be crashed, paused or isolated at once; `None` for one more
    /// than it tolerates (the nodes less a [`Protocol::quorum`], plus one): enough to
    /// take a quorum away, which safety must survive, while liveness is judged only
    /// with a quorum connected or after healing.
    pub max_down: Option<u32>,
    /// The largest clock jump it survives; `None` for ten time scales.
    pub clock_skew_max: Option<SimDuration>,
    /// The largest clock drift it survives, in parts per million (fast or slow).
    pub clock_drift_max_ppm: u32,
    /// Whether a crash may keep some of the writes not yet synced, in no order, as a
    /// real file system that had flushed some of its pages does; the generator then
    /// keeps each with chance 1/2 on the crashes it draws. Surviving this takes storage
    /// that recovers from any subset: a log kept under one key per entry must cope with
    /// a later entry kept and an earlier one lost (checksums and a torn-tail cut do).
    pub unsynced_kept: bool,
}

impl FaultModel {
    /// A crash-recovery protocol surviving `kinds` on a time scale of a second: enough
    /// nodes out at once to take a quorum away, clocks within ten seconds, drift up to 10%, and crashes
    /// that lose every unsynced write.
    pub fn new(kinds: FaultKinds) -> FaultModel {
        FaultModel {
            kinds,
            time_scale: SimDuration::from_secs(1),
            max_down: None,
            clock_skew_max: None,
            clock_drift_max_ppm: 100_000,
            unsynced_kept: false,
        }
    }
}

/// A kind of fault, as scenario files name it in `[random_faults] kinds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Crash and restart.
    Crash,
    /// Wipe a node's disk.
    ResetData,
    /// Pause and resume.
    Pause,
    /// Split the nodes into groups.
    Partition,
    /// Cut one direction only.
    OneWay,
    /// Cut every link of a node.
    Isolate,
    /// Hold messages (clogs, swizzles).
    Clog,
    /// Clock jumps.
    ClockSkew,
    /// Lost, corrupted and failed disk operations.
    Disk,
    /// Crash in the middle of a handler, right after a send, an observation or a sync
    /// ([`sim_core::Fault::CrashPoint`]), and restart.
    CrashPoint,
    /// Cut one directed link.
    Link,
    /// Clocks that run fast or slow.
    ClockDrift,
    /// Repair every fault in force at once (in `[random_faults]`; the timeline's
    /// `heal` is a repair, which every protocol allows).
    Heal,
    /// Pause a node right after a moment ([`sim_core::Strike::Pause`]), and resume it.
    PausePoint,
    /// Cut a node off right after a moment ([`sim_core::Strike::Isolate`]), and heal it.
    IsolatePoint,
}

impl FaultKind {
    /// Every kind, in the order of [`sim_core::FaultWeights`]' fields.
    pub const ALL: [FaultKind; 15] = [
        FaultKind::Crash,
        FaultKind::ResetData,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::OneWay,
        FaultKind::Isolate,
        FaultKind::Clog,
        FaultKind::ClockSkew,
        FaultKind::Disk,
        FaultKind::CrashPoint,
        FaultKind::Link,
        FaultKind::ClockDrift,
        FaultKind::Heal,
        FaultKind::PausePoint,
        FaultKind::IsolatePoint,
    ];

    /// Its name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::ResetData => "reset_data",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::OneWay => "one_way",
            FaultKind::Isolate => "isolate",
            FaultKind::Clog => "clog",
            FaultKind::ClockSkew => "clock_skew",
            FaultKind::Disk => "disk",
            FaultKind::CrashPoint => "crash_point",
            FaultKind::Link => "link",
            FaultKind::ClockDrift => "clock_drift",
            FaultKind::Heal => "heal",
            FaultKind::PausePoint => "pause_point",
            FaultKind::IsolatePoint => "isolate_point",
        }
    }

    /// Its weight in the random generator's `weights`.
    pub fn weight(self, weights: &mut FaultWeights) -> &mut u32 {
        match self {
            FaultKind::Crash => &mut weights.crash,
            FaultKind::ResetData => &mut weights.reset_data,
            FaultKind::Pause => &mut weights.pause,
            FaultKind::Partition => &mut weights.partition,
            FaultKind::OneWay => &mut weights.one_way,
            FaultKind::Isolate => &mut weights.isolate,
            FaultKind::Clog => &mut weights.clog,
            FaultKind::ClockSkew => &mut weights.clock_skew,
            FaultKind::Disk => &mut weights.disk,
            FaultKind::CrashPoint => &mut weights.crash_point,
            FaultKind::Link => &mut weights.link,
            FaultKind::ClockDrift => &mut weights.clock_drift,
            FaultKind::Heal => &mut weights.heal,
            FaultKind::PausePoint => &mut weights.pause_point,
            FaultKind::IsolatePoint => &mut weights.isolate_point,
        }
    }

    /// The kind called `name`.
    pub fn named(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of fault kinds: what a protocol claims to survive.
///
/// ```
/// use scenarios::{FaultKind, FaultKinds};
///
/// // A protocol whose nodes keep no checksums survives no disk damage or wipe.
/// let kinds = FaultKinds::ALL.without(FaultKind::Disk).without(FaultKind::ResetData);
/// assert!(kinds.contains(FaultKind::Crash));
/// assert!(!kinds.contains(FaultKind::Disk));
/// // Without pauses, no pause points either.
/// assert!(!kinds.without(FaultKind::Pause).contains(FaultKind::PausePoint));
/// assert_eq!(kinds.iter().count(), 13);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultKinds(u16);

impl FaultKinds {
    /// Every kind.
    pub const ALL: FaultKinds = FaultKinds((1 << FaultKind::ALL.len()) - 1);
    /// No kind at all.
    pub const NONE: FaultKinds = FaultKinds(0);
    /// Every kind but [`FaultKind::ResetData`] and [`FaultKind::Disk`]: what a protocol
    /// that keeps its state on a disk that never lies survives, and the default claim.
    pub const CRASH_RECOVERY: FaultKinds = FaultKinds(
        FaultKinds::ALL.0 & !(1 << FaultKind::ResetData as u16) & !(1 << FaultKind::Disk as u16),
    );

    /// This set and `kind`.
    #[must_use]
    pub fn with(self, kind: FaultKind) -> FaultKinds {
        FaultKinds(self.0 | kind.bit())
    }

    /// This set without `kind`.
    #[must_use]
    pub fn without(self, kind: FaultKind) -> FaultKinds {
        FaultKinds(self.0 & !kind.bit())
    }

    /// Is `kind` in the set? A pause point needs pauses as well, and an isolate point
    /// isolation: a protocol that leaves out a kind leaves out its aimed form too.
    pub fn contains(self, kind: FaultKind) -> bool {
        let needs = match kind {
            FaultKind::PausePoint => FaultKind::Pause.bit(),
            FaultKind::IsolatePoint => FaultKind::Isolate.bit(),
            _ => 0,
        };
        self.0 & (kind.bit() | needs) == kind.bit() | needs
    }

    /// The kinds in the set, in [`FaultKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = FaultKind> {
        FaultKind::ALL
            .into_iter()
            .filter(move |&kind| self.contains(kind))
    }

    /// The names of the kinds, for messages.
    pub fn names(self) -> String {
        self.iter()
            .map(FaultKind::name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Debug for FaultKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<FaultKind> for FaultKinds {
    fn from_iter<I: IntoIterator<Item = FaultKind>>(kinds: I) -> FaultKinds {
        kinds.into_iter().fold(FaultKinds::NONE, FaultKinds::with)
    }
}

impl<P: Protocol> fmt::Debug for Smaller<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smaller")
            .field("cluster", &self.cluster)
            .field("workload", &self.workload)
            .finish()
    }
}

impl<P: Protocol> fmt::Debug for Tables<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tables")
            .field("cluster", &self.cluster)
            .field("workload", &self.workload)
            .field("finals", &self.finals)
            .field("sometimes", &self.sometimes)
            .field("preset", &self.preset)
            .field("duration", &self.duration)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> fmt::Debug for Case<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("plan", self.plan)
            .field("scenario", &self.scenario.name)
            .field("seed", &self.seed)
            .finish()
    }
}
