//! The scenario file format, exactly as written: TOML tables that reject unknown fields,
//! with source spans on every value that can be wrong in a way TOML itself cannot see
//! (a misspelt node name, a time out of order). The tables every scenario has are typed
//! here; the protocol's own tables (`[cluster]`, `[workload]`, `[[checks.final]]`,
//! `[[checks.sometimes]]`) are kept as TOML, and read with the protocol's own types when
//! the scenario is validated. [`crate::Registry::parse`] turns this into a validated
//! [`crate::Scenario`]; shrinking edits it and writes it back.
//!
//! See `docs/scenarios.md` for the format with examples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
/// A value with its position in the file it was read from (toml's `Spanned`). Wrap the
/// fields of a protocol's own tables in it, so that [`crate::Source::error`] can point
/// at them; [`built`] makes one for a value built in code.
#[doc(no_inline)]
pub use toml::Spanned;

/// A text value with its position in the file.
pub type Text = Spanned<String>;

/// A value built in code rather than read from a file: it has no position.
pub fn built<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// A whole scenario file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The scenario's name (defaults to the file name without extension): letters,
    /// digits, `-`, `_` and `.`, as it names repro files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// What the scenario shows, in a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels for `detsim list` and filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The protocol, by its registered name (`"counter"`).
    pub protocol: Option<Text>,
    /// Which implementations to run it against (default: all of the protocol's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementations: Option<Spanned<Vec<Text>>>,
    /// A named configuration preset whose values the cluster table overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Text>,
    /// How long the fault phase lasts (e.g. `"60s"`).
    pub duration: Option<Text>,
    /// Nodes start at seeded times within this much of the beginning, not in lockstep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_spread: Option<Text>,
    /// Who runs: the protocol's `[cluster]` table, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<toml::Table>,
    /// How messages travel.
    #[serde(default)]
    pub network: NetworkFile,
    /// A timeline of faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Spanned<FaultFile>>,
    /// A seeded random fault generator (swarm testing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_faults: Option<RandomFaultsFile>,
    /// Client load: the protocol's `[workload]` table, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<toml::Table>,
    /// What must hold.
    #[serde(default)]
    pub checks: ChecksFile,
    /// The heal-and-converge phase after the faults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heal: Option<HealFile>,
    /// Bounds on a case, so that no case runs away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsFile>,
}

/// The `[limits]` table: how far a case may go. A case that reaches `max_steps` ends
/// as `limit`; a scenario longer than `max_duration` is refused when it is read.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// The most steps (events) a case may take (default 100,000,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<Spanned<u64>>,
    /// The longest virtual time a case may cover, fault phase plus heal phase
    /// (default `"24h"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<Text>,
}

/// A latency: `"5ms"`, `{ uniform = ["1ms", "10ms"] }` or
/// `{ pareto = { min = "1ms", max = "1s", shape = 1.5 } }`. (Plain strings inside: the
/// whole value carries the span.)
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum LatencyFile {
    /// Always the same.
    Constant(String),
    /// Uniform between two bounds.
    Uniform {
        /// `[min, max]`.
        uniform: [String; 2],
    },
    /// Long-tailed.
    Pareto {
        /// The distribution's parameters.
        pareto: ParetoFile,
    },
}

/// Pareto latency parameters.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ParetoFile {
    pub min: String,
    pub max: String,
    pub shape: f64,
}

/// Declares a table holding the link settings (shared by `[network]` and
/// `[[network.links]]`, which serde's `flatten` cannot do strictly).
macro_rules! link_settings_table {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
            /// The latency distribution.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub latency: Option<Spanned<LatencyFile>>,
            /// The chance a message is lost.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub loss: Option<Text>,
            /// The chance a message is delivered twice.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub duplicate: Option<Text>,
            /// The chance a message is held back.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub reorder: Option<Text>,
            /// How long a held-back message waits at most.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub reorder_delay_max: Option<Text>,
            /// Deliver in send order.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub fifo: Option<bool>,
            /// The most messages in flight on a link.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub queue_capacity: Option<Spanned<u32>>,
        }

        impl $name {
            /// The link settings of this table.
            pub fn settings(&self) -> LinkSettings<'_> {
                LinkSettings {
                    latency: self.latency.as_ref(),
                    loss: self.loss.as_ref(),
                    duplicate: self.duplicate.as_ref(),
                    reorder: self.reorder.as_ref(),
                    reorder_delay_max: self.reorder_delay_max.as_ref(),
                    fifo: self.fifo,
                    queue_capacity: self.queue_capacity.as_ref(),
                }
            }
        }
    };
}

/// The link settings of a `[network]` or `[[network.links]]` table.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct LinkSettings<'a> {
    pub latency: Option<&'a Spanned<LatencyFile>>,
    pub loss: Option<&'a Text>,
    pub duplicate: Option<&'a Text>,
    pub reorder: Option<&'a Text>,
    pub reorder_delay_max: Option<&'a Text>,
    pub fifo: Option<bool>,
    pub queue_capacity: Option<&'a Spanned<u32>>,
}

link_settings_table! {
    /// The network table: settings of every link, ordering, and per-link overrides.
    #[derive(Default)]
    pub struct NetworkFile {
        /// `"fifo"` (default) or `"random"` ordering of same-time events.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub tie_break: Option<Text>,
        /// Per-link settings.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub links: Vec<LinkFile>,
    }
}

link_settings_table! {
    /// Settings of one directed link.
    pub struct LinkFile {
        /// The sending node.
        pub from: Text,
        /// The receiving node.
        pub to: Text,
    }
}

/// Two sets of nodes, for one-way cuts and link-level faults.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FromToFile {
    /// The sending side.
    pub from: Names,
    /// The receiving side.
    pub to: Names,
}

/// One node name or a list of them, with the span of the whole value.
pub type Names = Spanned<NameList>;

/// One node name or a list of them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum NameList {
    /// A single node.
    One(String),
    /// Several nodes.
    Many(Vec<String>),
}

impl NameList {
    /// The names, one or many.
    pub fn to_vec(&self) -> Vec<&str> {
        match self {
            NameList::One(name) => vec![name.as_str()],
            NameList::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

/// A clock jump of one node.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SkewFile {
    /// The node.
    pub node: Text,
    /// The jump, e.g. `"2s"` or `"-500ms"`.
    pub offset: Text,
}

/// A clock rate error of one node.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DriftFile {
    /// The node.
    pub node: Text,
    /// Parts per million (positive runs fast).
    pub ppm: Spanned<i64>,
}

/// Disk fault probabilities of one node.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DiskFaultsFile {
    pub node: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_write: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrupt_write: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_error: Option<Text>,
    /// The chance each unsynced write survives a crash all the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsynced_kept: Option<Text>,
}

/// One entry of the fault timeline: `at` plus exactly one action.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FaultFile {
    pub at: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_data: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<Names>,
    /// Groups that cannot reach each other.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<Vec<Vec<Text>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_way: Option<FromToFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolate: Option<Names>,
    /// `true` to heal every link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heal: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heal_node: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clog: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clog_link: Option<FromToFile>,
    /// How long a clog lasts (until an unclog otherwise).
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub lasting: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unclog: Option<Names>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unclog_all: Option<bool>,
    /// Clog these nodes one after another and unclog them in reverse order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swizzle: Option<Names>,
    /// The gap between swizzle steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_skew: Option<SkewFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_drift: Option<DriftFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_faults: Option<DiskFaultsFile>,
    /// Crash these nodes right after one of their next effects (a send, an observation,
    /// a sync): the `after + 1`-th.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash_point: Option<Names>,
    /// Like `crash_point`, but pause these nodes once the handler is done (for `for`,
    /// or until a `resume`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_point: Option<Names>,
    /// Like `crash_point`, but cut every link of these nodes once the handler is done
    /// (for `for`, or until a heal): what they just sent is lost in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolate_point: Option<Names>,
    /// With a point: how many effects each node still makes before the one after
    /// which it dies (default 0: right after the next).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Spanned<u32>>,
    /// With a point: count only messages of this kind sent (`"Vote"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text>,
    /// With a point: count only messages of this kind handled (`"RequestVote"`); the
    /// handler runs to its end, then the point strikes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handles: Option<Text>,
    /// With a point: count only this protocol event emitted (`"voted"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emits: Option<Text>,
}

/// The random fault generator. With `swarm = true` (the default) each seed also draws
/// which fault kinds are enabled and how likely each is, so that a swarm explores
/// different mixes instead of one average.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RandomFaultsFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_interval: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_min: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_max: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_down: Option<Spanned<u32>>,
    /// The protocol's time scale, which sets the defaults of `mean_interval`,
    /// `outage_min`, `outage_max` and `clock_skew_max` (default: the protocol's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_scale: Option<Text>,
    /// Which moments points may wait for: some of `"sends"`, `"handles"`, `"emits"`
    /// (default: all three).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moments: Option<Spanned<Vec<Text>>>,
    /// `"varied"` (the default: episodes of bursts and calm around `mean_interval`) or
    /// `"steady"` (one pace for the whole run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tempo: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_skew_max: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_drift_max_ppm: Option<Spanned<u32>>,
    /// The chance that a crash keeps each unsynced write (`"50%"`; `"0%"` to lose
    /// them all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsynced_kept: Option<Text>,
    /// The fault kinds that may be drawn (default: all the protocol supports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Spanned<Vec<Text>>>,
    /// Relative weights by kind (`{ crash = 6, pause = 1 }`), instead of `kinds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Spanned<BTreeMap<String, u32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm: Option<bool>,
}

/// What must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    /// Which safety invariants to run (default: all of the protocol's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invariants: Option<Spanned<Vec<Text>>>,
    /// Assertions on the state at the end: the protocol's `[[checks.final]]` entries.
    #[serde(default, rename = "final", skip_serializing_if = "Vec::is_empty")]
    pub finals: Vec<toml::Table>,
    /// Situations that must be reached at least once (or the run fails): the protocol's
    /// `[[checks.sometimes]]` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sometimes: Vec<toml::Table>,
    /// Liveness during the fault phase: `[checks.while_connected]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub while_connected: Option<WhileConnectedFile>,
}

/// `[checks.while_connected]`: whenever `quorum` nodes have been up and linked both ways
/// for `after`, the protocol's progress may not be missing for longer than `within`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WhileConnectedFile {
    /// How many nodes (default: the protocol's quorum, a majority unless it says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum: Option<Spanned<u32>>,
    /// How long they must have been connected before progress is owed (default 2s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Text>,
    /// How long progress may then be missing (default 5s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<Text>,
}

/// The heal-and-converge phase.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealFile {
    /// How long after healing liveness must be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<Text>,
    /// How much progress liveness demands, in the protocol's terms (heights, requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Spanned<u64>>,
    /// Which nodes are repaired: `"all"` (default), `"majority"`, or a list of names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Names>,
    /// What happens to the rest: `"crash"` (default), `"isolate"`, `"pause"` or
    /// `"as_left"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub others: Option<Text>,
}
