//! From scenario file to validated [`Scenario`]: strict, located, and all-or-nothing.
//!
//! TOML syntax errors, wrong types and unknown fields are caught by the TOML reader;
//! everything else (units, ranges, node names, time order, exactly one action per fault,
//! fault kinds the protocol survives) is checked here, and the protocol's own tables by
//! its [`crate::Protocol::plan`]. Every error names the file, line and column, what is
//! wrong and what would be right. Nothing runs until the whole file is valid.

use std::ops::{Range, RangeInclusive};
use std::path::Path;
use std::sync::Arc;

use sim_core::{
    Chance, Latency, LinkConfig, LinkOverride, NetworkConfig, NodeId, SimDuration, SimTime,
    TieBreak, Window,
};

use crate::error::InputError;
use crate::file::{LatencyFile, LinkSettings, NameList, ScenarioFile, Spanned, Text};
use crate::model::{Heal, HealNodes, HealOthers, Scenario, WhileConnected};
use crate::protocol::FaultModel;
use crate::registry::{ErasedProtocol, Nesting};
use crate::units::{format_duration, parse_chance, parse_duration};

mod faults;

#[cfg(feature = "proptest")]
pub(crate) use faults::weights as faults_weights;

/// A scenario file being validated: makes errors that point into it, and reads the
/// units of scenario files. [`crate::Protocol::plan`] gets one with its tables.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    text: &'a str,
}

impl<'a> Source<'a> {
    /// The source `text`, which every span points into.
    pub fn new(text: &'a str) -> Source<'a> {
        Source { text }
    }

    /// The text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// An error at byte range `span` of the file, with its line and column.
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> InputError {
        InputError::at(self.text, span, message)
    }

    /// An error about a field that is missing: add `example`.
    pub fn missing(&self, field: &str, example: &str) -> InputError {
        InputError::new(format!("missing required field `{field}`"))
            .with_help(format!("add `{example}`"))
    }

    /// A duration (`"250ms"`, `"1m30s"`).
    pub fn duration(&self, text: &Text) -> Result<SimDuration, InputError> {
        parse_duration(text.get_ref()).map_err(|message| self.error(text.span(), message))
    }

    /// A time since the start of the run (`"10s"`).
    pub fn time(&self, text: &Text) -> Result<SimTime, InputError> {
        Ok(SimTime::ZERO + self.duration(text)?)
    }

    /// A probability (`"5%"`, `"1/200"`).
    pub fn chance(&self, text: &Text) -> Result<Chance, InputError> {
        parse_chance(text.get_ref()).map_err(|message| self.error(text.span(), message))
    }

    /// A signed duration in nanoseconds (`"-500ms"`).
    pub fn offset(&self, text: &Text) -> Result<i64, InputError> {
        let raw = text.get_ref().trim();
        let (sign, magnitude) = match raw.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let nanos =
            parse_duration(magnitude).map_err(|message| self.error(text.span(), message))?;
        i64::try_from(nanos.as_nanos())
            .map(|n| sign * n)
            .map_err(|_| self.error(text.span(), "clock offset too large"))
    }

    /// `value`, if it lies in `range`; otherwise an error that gives the range. `what`
    /// names the field.
    pub fn range<T: Copy + PartialOrd + std::fmt::Display>(
        &self,
        value: &Spanned<T>,
        range: RangeInclusive<T>,
        what: &str,
    ) -> Result<T, InputError> {
        let inner = *value.get_ref();
        if range.contains(&inner) {
            Ok(inner)
        } else {
            Err(self
                .error(value.span(), format!("{what} = {inner} is out of range"))
                .with_help(format!(
                    "use a value between {} and {}",
                    range.start(),
                    range.end()
                )))
        }
    }

    /// The node called `name` among `names` (by id); an unknown name lists the nodes.
    pub fn node(&self, names: &[String], name: &Text) -> Result<NodeId, InputError> {
        self.node_at(names, name.get_ref(), name.span())
    }

    /// The node called `name`, whose value spans `span`.
    pub fn node_at(
        &self,
        names: &[String],
        name: &str,
        span: Range<usize>,
    ) -> Result<NodeId, InputError> {
        match names.iter().position(|n| n == name) {
            Some(index) => Ok(NodeId(index as u32)),
            None => Err(self
                .error(span, format!("unknown node \"{name}\""))
                .with_help(node_listing(names))),
        }
    }

    /// The nodes a one-or-many value names.
    pub fn nodes(
        &self,
        names: &[String],
        list: &Spanned<NameList>,
    ) -> Result<Vec<NodeId>, InputError> {
        let span = list.span();
        list.get_ref()
            .to_vec()
            .into_iter()
            .map(|name| self.node_at(names, name, span.clone()))
            .collect()
    }
}

/// "this cluster's nodes are: …", for errors about node names.
pub fn node_listing(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    let more = if names.len() > 8 { ", ..." } else { "" };
    format!("this cluster's nodes are: {}{more}", shown.join(", "))
}

/// Validates `file`, read from `source` (where its spans point), as a scenario of
/// `protocol`. `path` names the scenario when it has no name.
pub(crate) fn validate(
    protocol: &Arc<dyn ErasedProtocol>,
    file: ScenarioFile,
    source: &str,
    nesting: Nesting,
    path: Option<&Path>,
) -> Result<Scenario, InputError> {
    let source_view = Source::new(source);
    let mut v = Validator {
        source: source_view,
        protocol: protocol.as_ref(),
        message_kinds: Vec::new(),
        events: Vec::new(),
        fault_model: FaultModel::new(protocol.fault_kinds()),
    };
    let preset = v.preset(&file)?;
    let duration_text = file
        .duration
        .as_ref()
        .ok_or_else(|| source_view.missing("duration", "duration = \"60s\""))?;
    let duration = source_view.duration(duration_text)?;
    if duration == SimDuration::ZERO {
        return Err(source_view.error(
            duration_text.span(),
            "the duration must be longer than zero",
        ));
    }
    let planned = protocol.plan(source, nesting, duration, preset.as_deref())?;
    let names = &planned.node_names;
    v.message_kinds.clone_from(&planned.message_kinds);
    v.events.clone_from(&planned.events);
    v.fault_model = planned.fault_model;
    let (network, tie_break) = v.network(&file, names)?;
    let faults = v.faults(&file, names, duration)?;
    let random_faults = v.random_faults(&file, names, duration, planned.quorum)?;
    let invariants = v.invariants(&file)?;
    let heal = v.heal(&file, names)?;
    let while_connected = v.while_connected(&file, names.len(), planned.quorum)?;
    let start_spread = v.start_spread(&file, duration)?;
    let implementations = v.implementations(&file)?;
    let name = v.name(&file, path)?;
    let max_steps = v.limits(&file, duration, &heal)?;
    let runner = planned
        .runner
        .clone()
        .unwrap_or_else(|| faults::runner(&faults, random_faults.as_ref()).to_string());
    Ok(Scenario {
        name,
        description: file.description.clone().unwrap_or_default(),
        tags: file.tags.clone(),
        path: path.map(Path::to_path_buf),
        implementations,
        preset,
        duration,
        node_names: planned.node_names,
        network,
        tie_break,
        faults,
        random_faults,
        invariants,
        heal,
        while_connected,
        start_spread,
        message_kinds: planned.message_kinds,
        events: planned.events,
        fault_model: planned.fault_model,
        runner,
        file,
        protocol: Arc::clone(protocol),
        plan: planned.plan,
        requests: planned.requests,
        max_steps,
    })
}

/// The default of `[limits] max_steps`: at a few million steps a second, a minute or so.
pub(crate) const DEFAULT_MAX_STEPS: u64 = 100_000_000;

/// The default of `[limits] max_duration`.
pub(crate) const DEFAULT_MAX_DURATION: SimDuration = SimDuration::from_secs(24 * 3_600);

/// `c`, or `_` if it may not be in a scenario's name.
fn plain_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
        c
    } else {
        '_'
    }
}

/// Is `name` fit to name a scenario (and the repro files of its failures)?
fn name_is_plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The generic half of validation: everything but the protocol's own tables.
struct Validator<'a> {
    source: Source<'a>,
    protocol: &'a dyn ErasedProtocol,
    /// The kinds of message the plan's nodes send, once it is planned.
    message_kinds: Vec<&'static str>,
    /// The protocol events the plan's nodes emit, once it is planned.
    events: Vec<&'static str>,
    /// What the plan claims to survive, once it is planned.
    fault_model: FaultModel,
}

impl Validator<'_> {
    fn preset(&self, file: &ScenarioFile) -> Result<Option<String>, InputError> {
        let Some(name) = &file.preset else {
            return Ok(None);
        };
        let presets = self.protocol.presets();
        if presets.iter().any(|p| p == name.get_ref()) {
            return Ok(Some(name.get_ref().clone()));
        }
        let help = if presets.is_empty() {
            format!(
                "the {} protocol has no presets; remove `preset`",
                self.protocol.name()
            )
        } else {
            format!("expected one of: {}", presets.join(", "))
        };
        Err(self
            .source
            .error(
                name.span(),
                format!("unknown preset \"{}\"", name.get_ref()),
            )
            .with_help(help))
    }

    fn name(&self, file: &ScenarioFile, path: Option<&Path>) -> Result<String, InputError> {
        let Some(name) = &file.name else {
            // From the file name, made plain: it names repro files, which are read back
            // with the rule below.
            let stem: String = path
                .and_then(|p| p.file_stem())
                .map(|stem| stem.to_string_lossy().chars().map(plain_char).collect())
                .unwrap_or_default();
            let stem = stem.trim_start_matches('.');
            return Ok(if stem.is_empty() { "scenario" } else { stem }.to_string());
        };
        if !name_is_plain(name.get_ref()) {
            return Err(self
                .source
                .error(
                    name.span(),
                    format!("\"{}\" cannot name a scenario", name.get_ref()),
                )
                .with_help(
                    "a name is letters, digits, `-`, `_` and `.` (not first), like \"leader-crash\"; \
                     it names the repro files of the scenario's failures",
                ));
        }
        Ok(name.get_ref().clone())
    }

    /// The step limit, after checking that the whole run fits `max_duration`.
    fn limits(
        &self,
        file: &ScenarioFile,
        duration: SimDuration,
        heal: &Heal,
    ) -> Result<u64, InputError> {
        let limits = file.limits.clone().unwrap_or_default();
        let max_duration = match &limits.max_duration {
            Some(text) => self.source.duration(text)?,
            None => DEFAULT_MAX_DURATION,
        };
        let total = duration.saturating_add(heal.within);
        if total > max_duration {
            let span = file.duration.as_ref().map_or(0..0, Spanned::span);
            return Err(self
                .source
                .error(
                    span,
                    format!(
                        "this scenario runs for {} of virtual time (duration plus heal.within), \
                         more than the limit of {}",
                        format_duration(total),
                        format_duration(max_duration)
                    ),
                )
                .with_help(
                    "shorten it, or raise the limit if you mean it: [limits] max_duration = \"48h\"",
                ));
        }
        match &limits.max_steps {
            None => Ok(DEFAULT_MAX_STEPS),
            Some(steps) if *steps.get_ref() == 0 => Err(self
                .source
                .error(steps.span(), "a step limit of 0 stops every case at once")
                .with_help(format!(
                    "leave it out for the default of {DEFAULT_MAX_STEPS}"
                ))),
            Some(steps) => Ok(*steps.get_ref()),
        }
    }

    fn implementations(&self, file: &ScenarioFile) -> Result<Vec<String>, InputError> {
        let known = self.protocol.implementation_names();
        let Some(names) = &file.implementations else {
            return Ok(known);
        };
        let mut implementations = Vec::new();
        for name in names.get_ref() {
            if !known.contains(name.get_ref()) {
                return Err(self
                    .source
                    .error(
                        name.span(),
                        format!(
                            "the {} protocol has no implementation \"{}\"",
                            self.protocol.name(),
                            name.get_ref()
                        ),
                    )
                    .with_help(format!("expected some of: {}", known.join(", "))));
            }
            if !implementations.contains(name.get_ref()) {
                implementations.push(name.get_ref().clone());
            }
        }
        if implementations.is_empty() {
            return Err(self
                .source
                .error(
                    names.span(),
                    "`implementations` is empty: nothing would run",
                )
                .with_help(format!(
                    "list at least one of {}, or leave it out to run them all",
                    known.join(", ")
                )));
        }
        Ok(implementations)
    }

    fn invariants(&self, file: &ScenarioFile) -> Result<Vec<String>, InputError> {
        let known = self.protocol.invariants();
        let Some(list) = &file.checks.invariants else {
            return Ok(known);
        };
        if list.get_ref().is_empty() {
            return Err(self
                .source
                .error(
                    list.span(),
                    "`invariants` is empty: no safety property would be checked",
                )
                .with_help(format!(
                    "leave it out to check all of them, or list some of: {}",
                    known.join(", ")
                )));
        }
        let mut chosen = Vec::new();
        for name in list.get_ref() {
            if !known.contains(name.get_ref()) {
                return Err(self
                    .source
                    .error(
                        name.span(),
                        format!("unknown invariant \"{}\"", name.get_ref()),
                    )
                    .with_help(format!(
                        "{} invariants are: {}",
                        self.protocol.name(),
                        known.join(", ")
                    )));
            }
            chosen.push(name.get_ref().clone());
        }
        Ok(chosen)
    }

    fn network(
        &self,
        file: &ScenarioFile,
        names: &[String],
    ) -> Result<(NetworkConfig, TieBreak), InputError> {
        let network = &file.network;
        let default_link = self.link(network.settings(), LinkConfig::default())?;
        let mut links = Vec::new();
        for link in &network.links {
            let source = self.source.node(names, &link.from)?;
            let target = self.source.node(names, &link.to)?;
            if source == target {
                return Err(self
                    .source
                    .error(link.to.span(), "a link needs two different nodes"));
            }
            let config = self.link(link.settings(), default_link.clone())?;
            links.push(LinkOverride {
                source,
                target,
                config,
            });
        }
        let tie_break = match network
            .tie_break
            .as_ref()
            .map(|t| (t, t.get_ref().as_str()))
        {
            None | Some((_, "fifo")) => TieBreak::Fifo,
            Some((_, "random")) => TieBreak::Random,
            Some((text, other)) => {
                return Err(self
                    .source
                    .error(text.span(), format!("unknown tie_break \"{other}\""))
                    .with_help("use \"fifo\" or \"random\""));
            }
        };
        let config = NetworkConfig {
            default_link,
            links,
            ..NetworkConfig::default()
        };
        Ok((config, tie_break))
    }

    fn link(
        &self,
        settings: LinkSettings<'_>,
        mut link: LinkConfig,
    ) -> Result<LinkConfig, InputError> {
        if let Some(latency) = settings.latency {
            link.latency = self.latency(latency)?;
        }
        for (text, slot) in [
            (settings.loss, &mut link.loss),
            (settings.duplicate, &mut link.duplicate),
            (settings.reorder, &mut link.reorder),
        ] {
            if let Some(text) = text {
                *slot = self.source.chance(text)?;
            }
        }
        if let Some(delay) = settings.reorder_delay_max {
            link.reorder_delay_max = self.source.duration(delay)?;
        }
        if let Some(fifo) = settings.fifo {
            link.fifo = fifo;
        }
        if let Some(capacity) = settings.queue_capacity {
            link.queue_capacity = self
                .source
                .range(capacity, 1..=u32::MAX, "queue_capacity")?;
        }
        if let Err(message) = link.validate() {
            let span = settings
                .reorder
                .or(settings.loss)
                .map_or(0..0, Spanned::span);
            return Err(self.source.error(span, format!("network: {message}")));
        }
        Ok(link)
    }

    fn latency(&self, latency: &Spanned<LatencyFile>) -> Result<Latency, InputError> {
        let duration = |text: &str| {
            parse_duration(text).map_err(|message| self.source.error(latency.span(), message))
        };
        let parsed = match latency.get_ref() {
            LatencyFile::Constant(delay) => Latency::Constant(duration(delay)?),
            LatencyFile::Uniform {
                uniform: [min, max],
            } => Latency::Uniform {
                min: duration(min)?,
                max: duration(max)?,
            },
            LatencyFile::Pareto { pareto } => Latency::Pareto {
                min: duration(&pareto.min)?,
                max: duration(&pareto.max)?,
                shape: pareto.shape,
            },
        };
        parsed
            .validate()
            .map_err(|message| self.source.error(latency.span(), message))?;
        Ok(parsed)
    }

    /// `start_spread`, within the fault phase.
    fn start_spread(
        &self,
        file: &ScenarioFile,
        duration: SimDuration,
    ) -> Result<SimDuration, InputError> {
        let Some(text) = &file.start_spread else {
            return Ok(SimDuration::ZERO);
        };
        let spread = self.source.duration(text)?;
        if spread > duration {
            return Err(self
                .source
                .error(
                    text.span(),
                    format!("a start spread of {spread} is longer than the fault phase ({duration})"),
                )
                .with_help("nodes must start before the faults end; try a few timeouts, e.g. start_spread = \"300ms\""));
        }
        Ok(spread)
    }

    /// `[checks.while_connected]`, with the protocol's quorum as the default.
    fn while_connected(
        &self,
        file: &ScenarioFile,
        nodes: usize,
        quorum: u32,
    ) -> Result<Option<WhileConnected>, InputError> {
        let Some(table) = &file.checks.while_connected else {
            return Ok(None);
        };
        let nodes = u32::try_from(nodes).unwrap_or(u32::MAX);
        let quorum = match &table.quorum {
            Some(quorum) => self.source.range(quorum, 1..=nodes, "quorum")?,
            None => quorum.clamp(1, nodes.max(1)),
        };
        let mut window = Window::new(WhileConnected::AFTER, WhileConnected::WITHIN);
        if let Some(after) = &table.after {
            window.after = self.source.duration(after)?;
        }
        if let Some(within) = &table.within {
            window.within = self.source.duration(within)?;
            if window.within == SimDuration::ZERO {
                return Err(self
                    .source
                    .error(within.span(), "`within = \"0s\"` leaves no time to make progress")
                    .with_help(
                        "give the protocol the time it needs, e.g. a few election timeouts or block times: within = \"5s\"",
                    ));
            }
        }
        Ok(Some(WhileConnected { quorum, window }))
    }

    fn heal(&self, file: &ScenarioFile, names: &[String]) -> Result<Heal, InputError> {
        let mut heal = Heal::default();
        let Some(table) = &file.heal else {
            return Ok(heal);
        };
        if let Some(within) = &table.within {
            heal.within = self.source.duration(within)?;
            if heal.within == SimDuration::ZERO {
                return Err(self
                    .source
                    .error(within.span(), "a heal phase of 0s leaves no time to recover")
                    .with_help(
                        "give the protocol time to make progress after healing, e.g. within = \"30s\"",
                    ));
            }
        }
        if let Some(progress) = &table.progress {
            heal.progress = self.source.range(progress, 1..=1_000_000, "progress")?;
        }
        if let Some(nodes) = &table.nodes {
            heal.nodes = match nodes.get_ref() {
                NameList::One(word) if word == "all" => HealNodes::All,
                NameList::One(word) if word == "majority" => HealNodes::Majority,
                _ => {
                    let mut core = self.source.nodes(names, nodes)?;
                    if core.is_empty() {
                        return Err(self
                            .source
                            .error(nodes.span(), "the heal phase repairs no node at all")
                            .with_help(
                                "name at least one node, or write \"all\" or \"majority\"",
                            ));
                    }
                    core.sort();
                    core.dedup();
                    HealNodes::Named(core)
                }
            };
        }
        if let Some(others) = &table.others {
            heal.others = match others.get_ref().as_str() {
                "crash" => HealOthers::Crash,
                "isolate" => HealOthers::Isolate,
                "pause" => HealOthers::Pause,
                "as_left" => HealOthers::AsLeft,
                other => {
                    return Err(self
                        .source
                        .error(others.span(), format!("unknown value others = \"{other}\""))
                        .with_help(
                            "use \"crash\", \"isolate\", \"pause\" or \"as_left\" (what happens to the nodes `nodes` leaves out)",
                        ));
                }
            };
        }
        Ok(heal)
    }
}
