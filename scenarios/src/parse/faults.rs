//! The fault timeline and the random fault generator.

use std::ops::Range;

use sim_core::{
    ClogTarget, DiskFaults, Fault, FaultGenerator, FaultSchedule, FaultWeights, Moment, NodeId,
    Partition, SimDuration, SimTime, Strike, Tempo,
};
use toml::Spanned;

use super::Validator;
use crate::error::InputError;
use crate::file::{FaultFile, Names, ScenarioFile};
use crate::model::RandomFaults;
use crate::protocol::{FaultKind, FaultKinds};

/// The generator weights of `kinds`, each its default weight.
pub(crate) fn weights(kinds: FaultKinds) -> FaultWeights {
    let mut defaults = FaultWeights::default();
    let mut weights = FaultWeights::NONE;
    for kind in kinds.iter() {
        *kind.weight(&mut weights) = *kind.weight(&mut defaults);
    }
    weights
}

/// The kind of test a fault timeline and generator make, for test vectors: `smoke` (no
/// faults), `disk` (disk faults or wipes) or `faults`.
pub(crate) fn runner(faults: &FaultSchedule, random: Option<&RandomFaults>) -> &'static str {
    let disk_fault = |fault: &Fault| match fault {
        Fault::ResetData(_) => true,
        Fault::DiskFaults { faults, .. } => {
            !(faults.lost_write.is_never()
                && faults.corrupt_write.is_never()
                && faults.read_error.is_never())
        }
        _ => false,
    };
    let random_disk =
        random.is_some_and(|r| r.draws(FaultKind::Disk) || r.draws(FaultKind::ResetData));
    if random_disk || faults.iter().any(|timed| disk_fault(&timed.fault)) {
        "disk"
    } else if faults.is_empty() && random.is_none() {
        "smoke"
    } else {
        "faults"
    }
}

/// The fault kind a timeline action belongs to; `None` for repairs, which every
/// protocol allows.
fn action_kind(action: &str) -> Option<FaultKind> {
    Some(match action {
        "crash" => FaultKind::Crash,
        "reset_data" => FaultKind::ResetData,
        "pause" => FaultKind::Pause,
        "partition" => FaultKind::Partition,
        "one_way" => FaultKind::OneWay,
        "isolate" => FaultKind::Isolate,
        "clog" | "clog_link" | "swizzle" => FaultKind::Clog,
        "clock_skew" => FaultKind::ClockSkew,
        "clock_drift" => FaultKind::ClockDrift,
        "disk_faults" => FaultKind::Disk,
        "crash_point" => FaultKind::CrashPoint,
        "pause_point" => FaultKind::PausePoint,
        "isolate_point" => FaultKind::IsolatePoint,
        _ => return None,
    })
}

/// Does a `disk_faults` entry make the disk lose, damage or fail anything? One that only
/// sets `unsynced_kept`, or sets the others to `"0%"` (turns faults off), does not: a
/// protocol need not claim `disk` to take it. (A chance that does not parse counts as
/// damage; its own error comes when the entry is read.)
fn damages_disk(fault: &FaultFile) -> bool {
    let damages = |chance: &Option<crate::file::Text>| {
        chance.as_ref().is_some_and(|text| {
            crate::units::parse_chance(text.get_ref()).map_or(true, |c| !c.is_never())
        })
    };
    fault.disk_faults.as_ref().is_some_and(|disk| {
        damages(&disk.lost_write) || damages(&disk.corrupt_write) || damages(&disk.read_error)
    })
}

impl Validator<'_> {
    pub(super) fn faults(
        &self,
        file: &ScenarioFile,
        names: &[String],
        duration: SimDuration,
    ) -> Result<FaultSchedule, InputError> {
        let mut schedule = FaultSchedule::new();
        let mut times = Vec::new();
        for entry in &file.faults {
            let span = entry.span();
            let fault = entry.get_ref();
            let at_text = fault.at.as_ref().ok_or_else(|| {
                self.source
                    .error(span.clone(), "this fault has no time")
                    .with_help("add `at = \"10s\"`")
            })?;
            let at = self.source.time(at_text)?;
            times.push((at, at_text.span()));
            for (offset, fault) in self.actions(fault, names, span)? {
                schedule.push(at + offset, fault);
            }
        }
        self.check_order(&times, duration)?;
        Ok(schedule)
    }

    /// Makes sure timeline entries are in time order and within the fault phase.
    fn check_order(
        &self,
        times: &[(SimTime, Range<usize>)],
        duration: SimDuration,
    ) -> Result<(), InputError> {
        let end = SimTime::ZERO + duration;
        for pair in times.windows(2) {
            if pair[1].0 < pair[0].0 {
                return Err(self
                    .source
                    .error(
                        pair[1].1.clone(),
                        format!(
                            "this fault at {} comes before the previous one at {}",
                            pair[1].0, pair[0].0
                        ),
                    )
                    .with_help("list faults in time order"));
            }
        }
        if let Some((at, span)) = times.iter().find(|(at, _)| *at > end) {
            return Err(self
                .source
                .error(
                    span.clone(),
                    format!("this fault at {at} is after the end of the fault phase ({end})"),
                )
                .with_help("make `duration` longer, or move the fault earlier"));
        }
        Ok(())
    }

    fn nodes(&self, names: &[String], list: &Names) -> Result<Vec<NodeId>, InputError> {
        self.source.nodes(names, list)
    }

    /// The faults one timeline entry stands for, with offsets from its time.
    fn actions(
        &self,
        fault: &FaultFile,
        names: &[String],
        span: Range<usize>,
    ) -> Result<Vec<(SimDuration, Fault)>, InputError> {
        let present = action_names(fault);
        match present.as_slice() {
            [] => {
                return Err(self
                    .source
                    .error(span, "this fault has no action")
                    .with_help(format!("add one of: {}", ACTIONS.join(", "))));
            }
            [action] => {
                let supported = self.fault_model.kinds;
                if let Some(kind) = action_kind(action)
                    && !supported.contains(kind)
                    && (kind != FaultKind::Disk || damages_disk(fault))
                {
                    return Err(self
                        .source
                        .error(
                            span,
                            format!(
                                "the {} protocol does not claim to survive `{action}` faults",
                                self.protocol.name()
                            ),
                        )
                        .with_help(format!("its fault kinds are: {}", supported.names())));
                }
            }
            [first, second, ..] => {
                return Err(self.source.error(span, format!("a fault takes exactly one action, but this one has `{first}` and `{second}`"))
                    .with_help("split it into two [[faults]] entries with the same `at`"));
            }
        }
        let now = |faults: Vec<Fault>| faults.into_iter().map(|f| (SimDuration::ZERO, f)).collect();
        let each = |list: &Names,
                    make: fn(NodeId) -> Fault|
         -> Result<Vec<(SimDuration, Fault)>, InputError> {
            Ok(now(self
                .nodes(names, list)?
                .into_iter()
                .map(make)
                .collect()))
        };
        if let Some(text) = &fault.lasting
            && fault.clog.is_none()
            && fault.clog_link.is_none()
            && point_of(fault).is_none()
        {
            return Err(self.source.error(
                text.span(),
                "`for` only applies to `clog`, `clog_link`, `crash_point`, `pause_point` and `isolate_point`",
            ));
        }
        if let Some(faults) = self.crash_points(fault, names)? {
            return Ok(now(faults));
        }
        if let Some(list) = &fault.crash {
            return each(list, Fault::Crash);
        }
        if let Some(list) = &fault.restart {
            return each(list, Fault::Restart);
        }
        if let Some(list) = &fault.reset_data {
            return each(list, Fault::ResetData);
        }
        if let Some(list) = &fault.pause {
            return each(list, Fault::Pause);
        }
        if let Some(list) = &fault.resume {
            return each(list, Fault::Resume);
        }
        if let Some(list) = &fault.heal_node {
            return each(list, Fault::HealNode);
        }
        if let Some(list) = &fault.isolate {
            return each(list, |n| Fault::Partition(Partition::Isolate(n)));
        }
        if let Some(list) = &fault.unclog {
            return each(list, |n| Fault::Unclog(ClogTarget::Node(n)));
        }
        self.network_actions(fault, names, span)
    }

    /// A `crash_point`, `pause_point` or `isolate_point` entry's faults, or `None` if
    /// the entry is something else (then `after`, `kind`, `handles` and `emits` are
    /// refused).
    fn crash_points(
        &self,
        fault: &FaultFile,
        names: &[String],
    ) -> Result<Option<Vec<Fault>>, InputError> {
        let moments = [
            ("kind", &fault.kind),
            ("handles", &fault.handles),
            ("emits", &fault.emits),
        ];
        let Some((list, strike)) = point_of(fault) else {
            let modifier = fault.after.as_ref().map(|a| ("after", a.span()));
            let mut given = moments
                .iter()
                .filter_map(|(name, t)| Some((*name, t.as_ref()?.span())));
            if let Some((name, span)) = modifier.or(given.next()) {
                return Err(self.source.error(
                    span,
                    format!(
                        "`{name}` only applies to `crash_point`, `pause_point` and `isolate_point`"
                    ),
                ));
            }
            return Ok(None);
        };
        let after = fault.after.as_ref().map_or(0, |a| *a.get_ref());
        let on = match moments {
            [(_, Some(kind)), (_, None), (_, None)] => {
                Some(Moment::Sends(self.message_kind(kind)?))
            }
            [(_, None), (_, Some(kind)), (_, None)] => {
                Some(Moment::Handles(self.message_kind(kind)?))
            }
            [(_, None), (_, None), (_, Some(event))] => Some(Moment::Emits(self.event(event)?)),
            [(_, None), (_, None), (_, None)] => None,
            _ => {
                let second = moments.iter().filter_map(|(_, t)| t.as_ref()).nth(1);
                let span = second.map_or(0..0, Spanned::span);
                return Err(self.source.error(
                    span,
                    format!(
                        "a {} waits for one moment: give one of `kind`, `handles` and `emits`",
                        strike.point_name()
                    ),
                ));
            }
        };
        let down_for = match &fault.lasting {
            Some(text) => Some(self.source.duration(text)?),
            None => None,
        };
        let nodes = self.nodes(names, list)?;
        Ok(Some(
            nodes
                .into_iter()
                .map(|node| Fault::CrashPoint {
                    node,
                    after,
                    on: on.clone(),
                    down_for,
                    strike,
                    until: None,
                })
                .collect(),
        ))
    }

    /// A kind of message the protocol's nodes send, for a `crash_point`.
    fn message_kind(&self, kind: &crate::file::Text) -> Result<String, InputError> {
        // A protocol that names no kinds sends only `Node::message_kind`'s default.
        let known: &[&str] = if self.message_kinds.is_empty() {
            &["message"]
        } else {
            &self.message_kinds
        };
        if known.contains(&kind.get_ref().as_str()) {
            return Ok(kind.get_ref().clone());
        }
        Err(self
            .source
            .error(
                kind.span(),
                format!(
                    "the {} protocol sends no message of kind \"{}\"",
                    self.protocol.name(),
                    kind.get_ref()
                ),
            )
            .with_help(format!(
                "its kinds are: {} (a protocol lists them in Protocol::message_kinds)",
                known.join(", ")
            )))
    }

    /// A protocol event its nodes emit, for a `crash_point`'s `emits`.
    fn event(&self, event: &crate::file::Text) -> Result<String, InputError> {
        if self.events.contains(&event.get_ref().as_str()) {
            return Ok(event.get_ref().clone());
        }
        let help = if self.events.is_empty() {
            format!(
                "the {} protocol names no events (a protocol lists the events its nodes emit with ctx.event in Protocol::events)",
                self.protocol.name()
            )
        } else {
            format!("its events are: {}", self.events.join(", "))
        };
        Err(self
            .source
            .error(
                event.span(),
                format!(
                    "the {} protocol emits no event \"{}\"",
                    self.protocol.name(),
                    event.get_ref()
                ),
            )
            .with_help(help))
    }

    /// Refuses random faults that would do nothing: outages of 0s, no kind to draw.
    fn check_does_something(
        &self,
        table: &crate::file::RandomFaultsFile,
        generator: &FaultGenerator,
    ) -> Result<(), InputError> {
        let span_of = |text: &Option<crate::file::Text>| text.as_ref().map_or(0..0, Spanned::span);
        if generator.outage_max == SimDuration::ZERO {
            return Err(self
                .source
                .error(
                    span_of(&table.outage_max),
                    "outage_max = 0s: every fault would be repaired the moment it strikes",
                )
                .with_help("outages are drawn up to outage_max; write e.g. outage_max = \"2s\""));
        }
        if generator.weights == sim_core::FaultWeights::NONE {
            let span = table
                .weights
                .as_ref()
                .map(Spanned::span)
                .or_else(|| table.kinds.as_ref().map(Spanned::span))
                .unwrap_or(0..0);
            return Err(self
                .source
                .error(
                    span,
                    "no fault kind is left to draw: [random_faults] would do nothing",
                )
                .with_help(format!(
                    "give some kind a weight, or list kinds; {} survives: {}",
                    self.protocol.name(),
                    self.fault_model.kinds.names()
                )));
        }
        Ok(())
    }

    /// A duration that must be longer than zero (`what` says what zero would mean).
    fn positive(
        &self,
        text: &crate::file::Text,
        what: &str,
        example: &str,
    ) -> Result<SimDuration, InputError> {
        let duration = self.source.duration(text)?;
        if duration == SimDuration::ZERO {
            return Err(self
                .source
                .error(text.span(), format!("{what} does nothing"))
                .with_help(format!("give it a length, e.g. {example}")));
        }
        Ok(duration)
    }

    /// The groups of a `partition`, each node in one group at most.
    fn partition_groups(
        &self,
        groups: &[Vec<crate::file::Text>],
        names: &[String],
    ) -> Result<Vec<Vec<NodeId>>, InputError> {
        let mut resolved: Vec<Vec<NodeId>> = Vec::new();
        for group in groups {
            let mut ids = Vec::new();
            for name in group {
                let id = self.source.node(names, name)?;
                if resolved.iter().chain([&ids]).any(|g| g.contains(&id)) {
                    return Err(self
                        .source
                        .error(
                            name.span(),
                            format!("{} is in two partition groups", name.get_ref()),
                        )
                        .with_help("each node belongs to one group at most"));
                }
                ids.push(id);
            }
            resolved.push(ids);
        }
        Ok(resolved)
    }

    fn network_actions(
        &self,
        fault: &FaultFile,
        names: &[String],
        span: Range<usize>,
    ) -> Result<Vec<(SimDuration, Fault)>, InputError> {
        let now = |fault: Fault| Ok(vec![(SimDuration::ZERO, fault)]);
        if let Some(groups) = &fault.partition {
            let resolved = self.partition_groups(groups, names)?;
            return now(Fault::Partition(Partition::Groups(resolved)));
        }
        if let Some(one_way) = &fault.one_way {
            let (from, to) = (
                self.nodes(names, &one_way.from)?,
                self.nodes(names, &one_way.to)?,
            );
            return now(Fault::Partition(Partition::OneWay { from, to }));
        }
        if let Some(heal) = fault.heal {
            if !heal {
                return Err(self
                    .source
                    .error(span, "`heal = false` does nothing")
                    .with_help("remove the entry, or write `heal = true`"));
            }
            return now(Fault::Heal);
        }
        if fault.unclog_all == Some(true) {
            return now(Fault::UnclogAll);
        }
        let lasting = match &fault.lasting {
            Some(text) => Some(self.positive(text, "a clog `for` 0s", "for = \"500ms\"")?),
            None => None,
        };
        if let Some(list) = &fault.clog {
            let clogs = self.nodes(names, list)?.into_iter().map(|n| Fault::Clog {
                target: ClogTarget::Node(n),
                duration: lasting,
            });
            return Ok(clogs.map(|f| (SimDuration::ZERO, f)).collect());
        }
        if let Some(link) = &fault.clog_link {
            let mut faults = Vec::new();
            for source in self.nodes(names, &link.from)? {
                for target in self.nodes(names, &link.to)? {
                    faults.push((
                        SimDuration::ZERO,
                        Fault::Clog {
                            target: ClogTarget::Link { source, target },
                            duration: lasting,
                        },
                    ));
                }
            }
            return Ok(faults);
        }
        if let Some(list) = &fault.swizzle {
            let every = fault.every.as_ref().ok_or_else(|| {
                self.source
                    .error(span.clone(), "a swizzle needs `every`")
                    .with_help("add `every = \"1s\"`")
            })?;
            let step = self.positive(every, "a swizzle `every` 0s", "every = \"100ms\"")?;
            let swizzle =
                sim_core::FaultSchedule::swizzle(SimTime::ZERO, step, &self.nodes(names, list)?);
            return Ok(swizzle
                .faults
                .into_iter()
                .map(|t| (t.at - SimTime::ZERO, t.fault))
                .collect());
        }
        self.node_actions(fault, names)
    }

    fn node_actions(
        &self,
        fault: &FaultFile,
        names: &[String],
    ) -> Result<Vec<(SimDuration, Fault)>, InputError> {
        let now = |fault: Fault| Ok(vec![(SimDuration::ZERO, fault)]);
        if let Some(skew) = &fault.clock_skew {
            let node = self.source.node(names, &skew.node)?;
            return now(Fault::ClockSkew {
                node,
                offset_ns: self.source.offset(&skew.offset)?,
            });
        }
        if let Some(drift) = &fault.clock_drift {
            let node = self.source.node(names, &drift.node)?;
            let bound = sim_core::clock::DRIFT_PPM_MAX;
            let ppm = self.source.range(&drift.ppm, -bound..=bound, "ppm")?;
            return now(Fault::ClockDrift { node, ppm });
        }
        if let Some(disk) = &fault.disk_faults {
            let node = self.source.node(names, &disk.node)?;
            let chance = |text: &Option<crate::file::Text>| {
                text.as_ref()
                    .map_or(Ok(sim_core::Chance::NEVER), |t| self.source.chance(t))
            };
            let faults = DiskFaults {
                lost_write: chance(&disk.lost_write)?,
                corrupt_write: chance(&disk.corrupt_write)?,
                read_error: chance(&disk.read_error)?,
                unsynced_kept: chance(&disk.unsynced_kept)?,
            };
            return now(Fault::DiskFaults { node, faults });
        }
        unreachable!("action_names found exactly one action")
    }

    pub(super) fn random_faults(
        &self,
        file: &ScenarioFile,
        names: &[String],
        duration: SimDuration,
        quorum: u32,
    ) -> Result<Option<RandomFaults>, InputError> {
        let Some(table) = &file.random_faults else {
            return Ok(None);
        };
        let end_of_phase = SimTime::ZERO + duration;
        let mut generator = self.modelled_generator(table, end_of_phase, names.len(), quorum)?;
        let time = |text: &Option<crate::file::Text>, default: SimTime| {
            text.as_ref().map_or(Ok(default), |t| self.source.time(t))
        };
        generator.start = time(&table.start, SimTime::ZERO)?;
        generator.end = time(&table.end, end_of_phase)?;
        if generator.end > end_of_phase {
            let span = table.end.as_ref().map_or(0..0, Spanned::span);
            return Err(self
                .source
                .error(
                    span,
                    format!(
                        "random faults end at {} but the fault phase ends at {end_of_phase}",
                        generator.end
                    ),
                )
                .with_help("faults must be healed by the end of `duration`"));
        }
        for (text, slot) in [
            (&table.mean_interval, &mut generator.mean_interval),
            (&table.outage_min, &mut generator.outage_min),
            (&table.outage_max, &mut generator.outage_max),
            (&table.clock_skew_max, &mut generator.clock_skew_max),
        ] {
            if let Some(text) = text {
                *slot = self.source.duration(text)?;
            }
        }
        if let Some(max) = &table.max_down {
            generator.max_down = self.source.range(max, 0..=100, "max_down")?;
        }
        if let Some(ppm) = &table.clock_drift_max_ppm {
            let bound = sim_core::clock::DRIFT_PPM_MAX as u32;
            generator.clock_drift_max_ppm =
                self.source.range(ppm, 0..=bound, "clock_drift_max_ppm")?;
        }
        if let Some(text) = &table.unsynced_kept {
            generator.unsynced_kept = self.source.chance(text)?;
        }
        if let Some(text) = &table.tempo {
            generator.tempo = self.tempo(text)?;
        }
        generator.weights = match (&table.kinds, &table.weights) {
            (Some(_), Some(weights)) => {
                return Err(self
                    .source
                    .error(weights.span(), "give either `kinds` or `weights`, not both"));
            }
            (_, Some(weights)) => self.weights(weights)?,
            (kinds, None) => self.kinds(kinds.as_ref().map(Spanned::get_ref))?,
        };
        self.check_generator(table, &generator, names)?;
        generator
            .validate()
            .map_err(|m| InputError::new(format!("random_faults: {m}")))?;
        Ok(Some(RandomFaults {
            generator,
            swarm: table.swarm.unwrap_or(true),
            moments: self.drawn_moments(table.moments.as_ref())?,
        }))
    }

    /// `moments = ["sends", "handles", "emits"]` (the default: all three).
    fn drawn_moments(
        &self,
        list: Option<&Spanned<Vec<crate::file::Text>>>,
    ) -> Result<crate::model::DrawnMoments, InputError> {
        let Some(list) = list else {
            return Ok(crate::model::DrawnMoments::ALL);
        };
        let mut drawn = crate::model::DrawnMoments {
            sends: false,
            handles: false,
            emits: false,
        };
        for name in list.get_ref() {
            let slot = match name.get_ref().as_str() {
                "sends" => &mut drawn.sends,
                "handles" => &mut drawn.handles,
                "emits" => &mut drawn.emits,
                other => {
                    return Err(self
                        .source
                        .error(name.span(), format!("unknown moment \"{other}\""))
                        .with_help("expected some of: sends, handles, emits"));
                }
            };
            *slot = true;
        }
        Ok(drawn)
    }

    /// `tempo = "steady" | "varied"`.
    fn tempo(&self, text: &crate::file::Text) -> Result<Tempo, InputError> {
        match text.get_ref().as_str() {
            "steady" => Ok(Tempo::Steady),
            "varied" => Ok(Tempo::Varied),
            other => Err(self
                .source
                .error(text.span(), format!("unknown tempo \"{other}\""))
                .with_help("expected one of: varied (bursts and calm), steady (one pace)")),
        }
    }

    /// The generator the protocol's fault model asks for, timed by the file's
    /// `time_scale` if it gives one.
    fn modelled_generator(
        &self,
        table: &crate::file::RandomFaultsFile,
        end_of_phase: SimTime,
        nodes: usize,
        quorum: u32,
    ) -> Result<FaultGenerator, InputError> {
        let model = &self.fault_model;
        let time_scale =
            match &table.time_scale {
                Some(text) => {
                    let scale = self.source.duration(text)?;
                    if scale == SimDuration::ZERO {
                        return Err(self
                        .source
                        .error(text.span(), "a time scale of 0 would draw faults without end")
                        .with_help(
                            "write the protocol's shortest timeout, e.g. time_scale = \"150ms\"",
                        ));
                    }
                    scale
                }
                None => model.time_scale,
            };
        let mut generator = FaultGenerator::scaled(SimTime::ZERO, end_of_phase, time_scale);
        let nodes = u32::try_from(nodes).unwrap_or(u32::MAX);
        // One more than it tolerates: enough to take a quorum away, which its safety
        // must survive (liveness is judged only while a quorum is connected, or after
        // healing).
        generator.max_down = model
            .max_down
            .unwrap_or((nodes + 1).saturating_sub(quorum))
            .clamp(1, nodes.max(1));
        if let Some(skew) = model.clock_skew_max {
            generator.clock_skew_max = skew;
        }
        generator.clock_drift_max_ppm = model.clock_drift_max_ppm;
        if model.unsynced_kept {
            generator.unsynced_kept = sim_core::Chance::percent(50);
        }
        Ok(generator)
    }

    /// The checks that span fields of `[random_faults]`, each at the field to change.
    fn check_generator(
        &self,
        table: &crate::file::RandomFaultsFile,
        generator: &FaultGenerator,
        names: &[String],
    ) -> Result<(), InputError> {
        let span_of = |text: &Option<crate::file::Text>| text.as_ref().map_or(0..0, Spanned::span);
        if generator.start > generator.end {
            return Err(self
                .source
                .error(
                    span_of(if table.start.is_some() {
                        &table.start
                    } else {
                        &table.end
                    }),
                    format!(
                        "random faults start at {} but end at {}",
                        generator.start, generator.end
                    ),
                )
                .with_help("`start` must come before `end`"));
        }
        if generator.mean_interval == SimDuration::ZERO {
            return Err(self
                .source
                .error(
                    span_of(&table.mean_interval),
                    "a mean interval of 0 would draw faults without end",
                )
                .with_help("write the mean time between faults, e.g. mean_interval = \"5s\""));
        }
        if generator.outage_min > generator.outage_max {
            return Err(self
                .source
                .error(
                    span_of(if table.outage_min.is_some() {
                        &table.outage_min
                    } else {
                        &table.outage_max
                    }),
                    format!(
                        "outage_min ({}) is longer than outage_max ({})",
                        crate::units::format_duration(generator.outage_min),
                        crate::units::format_duration(generator.outage_max)
                    ),
                )
                .with_help("outages are drawn between outage_min and outage_max"));
        }
        self.check_does_something(table, generator)?;
        if let Some(max) = &table.max_down
            && *max.get_ref() as usize > names.len()
        {
            return Err(self
                .source
                .error(
                    max.span(),
                    format!(
                        "max_down = {} but the cluster has {} nodes",
                        max.get_ref(),
                        names.len()
                    ),
                )
                .with_help("at most every node can be down at once"));
        }
        Ok(())
    }

    fn weights(
        &self,
        weights: &Spanned<std::collections::BTreeMap<String, u32>>,
    ) -> Result<FaultWeights, InputError> {
        let supported = self.fault_model.kinds;
        let mut values = FaultWeights::NONE;
        for (name, &weight) in weights.get_ref() {
            let kind = self.kind(name, weights.span(), supported)?;
            *kind.weight(&mut values) = weight;
        }
        Ok(values)
    }

    fn kinds(&self, kinds: Option<&Vec<crate::file::Text>>) -> Result<FaultWeights, InputError> {
        let supported = self.fault_model.kinds;
        let Some(list) = kinds else {
            return Ok(weights(supported));
        };
        let mut chosen = FaultKinds::NONE;
        for name in list {
            chosen = chosen.with(self.kind(name.get_ref(), name.span(), supported)?);
        }
        Ok(weights(chosen))
    }

    /// The fault kind `name`, if the protocol survives it.
    fn kind(
        &self,
        name: &str,
        span: Range<usize>,
        supported: FaultKinds,
    ) -> Result<FaultKind, InputError> {
        let Some(kind) = FaultKind::named(name) else {
            return Err(self
                .source
                .error(span, format!("unknown fault kind \"{name}\""))
                .with_help(format!("expected some of: {}", FaultKinds::ALL.names())));
        };
        if !supported.contains(kind) {
            return Err(self
                .source
                .error(
                    span,
                    format!(
                        "the {} protocol does not claim to survive \"{name}\" faults",
                        self.protocol.name()
                    ),
                )
                .with_help(format!("its fault kinds are: {}", supported.names())));
        }
        Ok(kind)
    }
}

/// The names of the actions a fault entry sets.
const ACTIONS: [&str; 22] = [
    "crash",
    "restart",
    "reset_data",
    "pause",
    "resume",
    "partition",
    "one_way",
    "isolate",
    "heal",
    "heal_node",
    "clog",
    "clog_link",
    "unclog",
    "unclog_all",
    "swizzle",
    "clock_skew",
    "clock_drift",
    "disk_faults",
    "crash_point",
    "pause_point",
    "isolate_point",
    "(and `for`, `every`, `after` as modifiers)",
];

/// The nodes of a point entry and how its point strikes, if the entry is one.
fn point_of(fault: &FaultFile) -> Option<(&Names, Strike)> {
    [
        (&fault.crash_point, Strike::Crash),
        (&fault.pause_point, Strike::Pause),
        (&fault.isolate_point, Strike::Isolate),
    ]
    .into_iter()
    .find_map(|(names, strike)| Some((names.as_ref()?, strike)))
}

fn action_names(fault: &FaultFile) -> Vec<&'static str> {
    let flags = [
        fault.crash.is_some(),
        fault.restart.is_some(),
        fault.reset_data.is_some(),
        fault.pause.is_some(),
        fault.resume.is_some(),
        fault.partition.is_some(),
        fault.one_way.is_some(),
        fault.isolate.is_some(),
        fault.heal.is_some(),
        fault.heal_node.is_some(),
        fault.clog.is_some(),
        fault.clog_link.is_some(),
        fault.unclog.is_some(),
        fault.unclog_all.is_some(),
        fault.swizzle.is_some(),
        fault.clock_skew.is_some(),
        fault.clock_drift.is_some(),
        fault.disk_faults.is_some(),
        fault.crash_point.is_some(),
        fault.pause_point.is_some(),
        fault.isolate_point.is_some(),
    ];
    ACTIONS
        .iter()
        .zip(flags)
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect()
}
