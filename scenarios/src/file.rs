//! The scenario file format, exactly as written: TOML tables that reject unknown fields,
//! with source spans on every value that can be wrong in a way TOML itself cannot see
//! (a misspelt node name, a time out of order). [`crate::parse_scenario`] turns this into a
//! validated [`crate::Scenario`]; shrinking edits it and writes it back.
//!
//! See `docs/scenarios.md` for the format with examples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A text value with its position in the file.
pub type Text = Spanned<String>;

/// A whole scenario file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The scenario's name (defaults to the file name without extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the scenario shows, in a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels for `detsim list` and filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `"chain"` or `"raft"`.
    pub protocol: Option<Text>,
    /// Which implementations to run it against (default: all of the protocol's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementations: Option<Vec<Text>>,
    /// A named configuration preset whose values the cluster table overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Text>,
    /// How long the fault phase lasts (e.g. `"60s"`).
    pub duration: Option<Text>,
    /// Who runs.
    #[serde(default)]
    pub cluster: ClusterFile,
    /// How messages travel.
    #[serde(default)]
    pub network: NetworkFile,
    /// A timeline of faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Spanned<FaultFile>>,
    /// A seeded random fault generator (swarm testing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_faults: Option<RandomFaultsFile>,
    /// Client load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadFile>,
    /// What must hold.
    #[serde(default)]
    pub checks: ChecksFile,
    /// The heal-and-converge phase after the faults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heal: Option<HealFile>,
}

/// Who runs, and with which settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Chain: block producers with stake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validators: Option<Spanned<u32>>,
    /// Chain: nodes that follow without voting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observers: Option<Spanned<u32>>,
    /// Chain: shards the accounts are split into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<Spanned<u32>>,
    /// Raft: the number of replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Spanned<u32>>,
    /// Chain: genesis overrides.
    #[serde(default, skip_serializing_if = "GenesisFile::is_empty")]
    pub genesis: GenesisFile,
    /// Raft: protocol settings.
    #[serde(default, skip_serializing_if = "RaftFile::is_empty")]
    pub raft: RaftFile,
    /// Per-node overrides, by node name (`[cluster.nodes."validator-2"]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub nodes: BTreeMap<String, Spanned<NodeFile>>,
}

/// Chain genesis overrides; every field optional (preset, then defaults, fill in).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct GenesisFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch_length: Option<Spanned<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kickout_threshold_percent: Option<Spanned<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_time: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stakes: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_stake: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_balance: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_txs_per_chunk: Option<Spanned<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_clock_drift: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_validators: Option<Spanned<u32>>,
}

impl GenesisFile {
    fn is_empty(&self) -> bool {
        toml::to_string(self).is_ok_and(|text| text.trim().is_empty())
    }
}

/// Raft settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RaftFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election_timeout_min: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election_timeout_max: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval: Option<Text>,
    /// `"before_reply"` (correct) or `"after_reply"` (the canary's planted bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote_sync: Option<Text>,
}

impl RaftFile {
    fn is_empty(&self) -> bool {
        self.election_timeout_min.is_none()
            && self.election_timeout_max.is_none()
            && self.heartbeat_interval.is_none()
            && self.vote_sync.is_none()
    }
}

/// Settings of one node (chain).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NodeFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produce_delay: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorse: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_batch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mempool_capacity: Option<usize>,
    /// A byzantine behaviour by name (needs a build with `--features adversarial`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adversary: Option<Text>,
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
    /// The fault kinds that may be drawn (default: all the protocol supports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<Text>>,
    /// Relative weights by kind (`{ crash = 6, pause = 1 }`), instead of `kinds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Spanned<BTreeMap<String, u32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm: Option<bool>,
}

/// Client load.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct WorkloadFile {
    /// Requests (chain: transfers) per second.
    pub rate: Option<Spanned<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Text>,
    /// Chain: who sends and receives (default: every genesis account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<Text>>,
    /// Chain: the largest amount of one transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_max: Option<u64>,
    /// Raft: how many keys clients touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Spanned<u32>>,
    /// Raft: the share of reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads_percent: Option<Spanned<u32>>,
    /// Raft: how many clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Spanned<u32>>,
}

/// What must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    /// Which safety invariants to run (default: all of the protocol's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invariants: Option<Vec<Text>>,
    /// Assertions on the state at the end.
    #[serde(default, rename = "final", skip_serializing_if = "Vec::is_empty")]
    pub finals: Vec<Spanned<FinalFile>>,
    /// Situations that must be reached at least once (or the run fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sometimes: Vec<Spanned<SometimesFile>>,
}

/// An assertion on the final state: exactly one of the fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FinalFile {
    /// Chain: every running node's final height is at least this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_final_height: Option<u64>,
    /// Every running node agrees (chain: same final block; Raft: same applied state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// Chain: this account's balance at the final block, on every running node...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Text>,
    /// ...equals this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<u64>,
    /// Chain: the validator set of the head's epoch has this many members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validators: Option<usize>,
    /// Chain: this node is no longer a validator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kicked_out: Option<Text>,
    /// Raft: at least this many client requests completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_completed: Option<u64>,
}

/// A situation that must be reached at least once: exactly one of the fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SometimesFile {
    /// Chain: an adversary carried out this attack (its name, e.g. `"equivocate"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack: Option<Text>,
    /// Chain: a node rejected something for this reason (e.g. `"wrong producer"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Text>,
}

/// The heal-and-converge phase.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealFile {
    /// How long after healing liveness must be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<Text>,
    /// Chain: how many heights finality must advance; Raft: how many requests must
    /// complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Spanned<u64>>,
}
