//! The fault timeline and the random fault generator.

use std::ops::Range;

use sim_core::{
    ClogTarget, DiskFaults, Fault, FaultGenerator, FaultSchedule, FaultWeights, NodeId, Partition,
    SimDuration, SimTime,
};
use toml::Spanned;

use super::{NodeNames, Parser, check_order};
use crate::error::InputError;
use crate::file::{FaultFile, Names, ScenarioFile};
use crate::model::{Protocol, RandomFaults};

/// The kinds the random generator draws, by name, in `FaultWeights` order.
pub(crate) const KINDS: [&str; 9] = [
    "crash",
    "reset_data",
    "pause",
    "partition",
    "one_way",
    "isolate",
    "clog",
    "clock_skew",
    "disk",
];

/// The weights with exactly the kinds in `enabled` (by [`KINDS`] index) set to 1.
pub(crate) fn weights(enabled: &[bool; 9]) -> FaultWeights {
    let w = |i: usize| u32::from(enabled[i]);
    FaultWeights {
        crash: w(0),
        reset_data: w(1),
        pause: w(2),
        partition: w(3),
        one_way: w(4),
        isolate: w(5),
        clog: w(6),
        clock_skew: w(7),
        disk: w(8),
    }
}

impl Parser<'_> {
    pub(crate) fn faults(
        &self,
        file: &ScenarioFile,
        names: &NodeNames<'_>,
        duration: SimDuration,
    ) -> Result<FaultSchedule, InputError> {
        let mut schedule = FaultSchedule::new();
        let mut times = Vec::new();
        for entry in &file.faults {
            let span = entry.span();
            let fault = entry.get_ref();
            let at_text = fault.at.as_ref().ok_or_else(|| {
                self.error(span.clone(), "this fault has no time")
                    .with_help("add `at = \"10s\"`")
            })?;
            let at = self.time(at_text)?;
            times.push((at, at_text.span()));
            for (offset, fault) in self.actions(fault, names, span)? {
                schedule.push(at + offset, fault);
            }
        }
        check_order(self, &schedule, &times, duration)?;
        Ok(schedule)
    }

    fn nodes(&self, names: &NodeNames<'_>, list: &Names) -> Result<Vec<NodeId>, InputError> {
        let span = list.span();
        list.get_ref()
            .to_vec()
            .into_iter()
            .map(|name| names.resolve_at(self, name, span.clone()))
            .collect()
    }

    /// The faults one timeline entry stands for, with offsets from its time.
    fn actions(
        &self,
        fault: &FaultFile,
        names: &NodeNames<'_>,
        span: Range<usize>,
    ) -> Result<Vec<(SimDuration, Fault)>, InputError> {
        let present = action_names(fault);
        match present.as_slice() {
            [] => {
                return Err(self
                    .error(span, "this fault has no action")
                    .with_help(format!("add one of: {}", ACTIONS.join(", "))));
            }
            [_] => {}
            [first, second, ..] => {
                return Err(self.error(span, format!("a fault takes exactly one action, but this one has `{first}` and `{second}`"))
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
        {
            return Err(self.error(text.span(), "`for` only applies to `clog` and `clog_link`"));
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

    fn network_actions(
        &self,
        fault: &FaultFile,
        names: &NodeNames<'_>,
        span: Range<usize>,
    ) -> Result<Vec<(SimDuration, Fault)>, InputError> {
        let now = |fault: Fault| Ok(vec![(SimDuration::ZERO, fault)]);
        if let Some(groups) = &fault.partition {
            let mut resolved = Vec::new();
            for group in groups {
                let ids: Result<Vec<NodeId>, InputError> =
                    group.iter().map(|n| names.resolve(self, n)).collect();
                resolved.push(ids?);
            }
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
                    .error(span, "`heal = false` does nothing")
                    .with_help("remove the entry, or write `heal = true`"));
            }
            return now(Fault::Heal);
        }
        if fault.unclog_all == Some(true) {
            return now(Fault::UnclogAll);
        }
        let lasting = match &fault.lasting {
            Some(text) => Some(self.duration(text)?),
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
                self.error(span.clone(), "a swizzle needs `every`")
                    .with_help("add `every = \"1s\"`")
            })?;
            let step = self.duration(every)?;
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
        names: &NodeNames<'_>,
    ) -> Result<Vec<(SimDuration, Fault)>, InputError> {
        let now = |fault: Fault| Ok(vec![(SimDuration::ZERO, fault)]);
        if let Some(skew) = &fault.clock_skew {
            let node = names.resolve(self, &skew.node)?;
            return now(Fault::ClockSkew {
                node,
                offset_ns: self.offset(&skew.offset)?,
            });
        }
        if let Some(drift) = &fault.clock_drift {
            let node = names.resolve(self, &drift.node)?;
            let bound = sim_core::clock::DRIFT_PPM_MAX;
            let ppm = self.range(&drift.ppm, -bound..=bound, "ppm")?;
            return now(Fault::ClockDrift { node, ppm });
        }
        if let Some(disk) = &fault.disk_faults {
            let node = names.resolve(self, &disk.node)?;
            let chance = |text: &Option<crate::file::Text>| {
                text.as_ref()
                    .map_or(Ok(sim_core::Chance::NEVER), |t| self.chance(t))
            };
            let faults = DiskFaults {
                lost_write: chance(&disk.lost_write)?,
                corrupt_write: chance(&disk.corrupt_write)?,
                read_error: chance(&disk.read_error)?,
            };
            return now(Fault::DiskFaults { node, faults });
        }
        unreachable!("action_names found exactly one action")
    }

    pub(crate) fn random_faults(
        &self,
        file: &ScenarioFile,
        protocol: Protocol,
        duration: SimDuration,
    ) -> Result<Option<RandomFaults>, InputError> {
        let Some(table) = &file.random_faults else {
            return Ok(None);
        };
        let end_of_phase = SimTime::ZERO + duration;
        let mut generator = FaultGenerator::new(SimTime::ZERO, end_of_phase);
        let time = |text: &Option<crate::file::Text>, default: SimTime| {
            text.as_ref().map_or(Ok(default), |t| self.time(t))
        };
        generator.start = time(&table.start, SimTime::ZERO)?;
        generator.end = time(&table.end, end_of_phase)?;
        if generator.end > end_of_phase {
            let span = table.end.as_ref().map_or(0..0, Spanned::span);
            return Err(self
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
        ] {
            if let Some(text) = text {
                *slot = self.duration(text)?;
            }
        }
        if let Some(max) = &table.max_down {
            generator.max_down = self.range(max, 0..=100, "max_down")?;
        }
        generator.weights = match (&table.kinds, &table.weights) {
            (Some(_), Some(weights)) => {
                return Err(
                    self.error(weights.span(), "give either `kinds` or `weights`, not both")
                );
            }
            (_, Some(weights)) => self.weights(weights, protocol)?,
            (kinds, None) => self.kinds(kinds.as_ref(), protocol)?,
        };
        generator
            .validate()
            .map_err(|m| InputError::new(format!("random_faults: {m}")))?;
        Ok(Some(RandomFaults {
            generator,
            swarm: table.swarm.unwrap_or(true),
        }))
    }

    fn weights(
        &self,
        weights: &Spanned<std::collections::BTreeMap<String, u32>>,
        protocol: Protocol,
    ) -> Result<FaultWeights, InputError> {
        let mut values = [0_u32; 9];
        for (kind, &weight) in weights.get_ref() {
            let Some(index) = KINDS.iter().position(|k| k == kind) else {
                return Err(self
                    .error(weights.span(), format!("unknown fault kind \"{kind}\""))
                    .with_help(format!("expected some of: {}", KINDS.join(", "))));
            };
            if protocol == Protocol::Raft
                && matches!(kind.as_str(), "disk" | "reset_data")
                && weight > 0
            {
                return Err(self.error(
                    weights.span(),
                    format!("{protocol} scenarios cannot draw \"{kind}\" faults"),
                ));
            }
            values[index] = weight;
        }
        let [
            crash,
            reset_data,
            pause,
            partition,
            one_way,
            isolate,
            clog,
            clock_skew,
            disk,
        ] = values;
        Ok(FaultWeights {
            crash,
            reset_data,
            pause,
            partition,
            one_way,
            isolate,
            clog,
            clock_skew,
            disk,
        })
    }

    fn kinds(
        &self,
        kinds: Option<&Vec<crate::file::Text>>,
        protocol: Protocol,
    ) -> Result<FaultWeights, InputError> {
        // Raft replicas have no checksums: disk faults and data resets are out of scope.
        let supported =
            |kind: &str| protocol == Protocol::Chain || !matches!(kind, "disk" | "reset_data");
        let mut enabled = [false; 9];
        match kinds {
            None => {
                for (i, kind) in KINDS.iter().enumerate() {
                    enabled[i] = supported(kind);
                }
            }
            Some(list) => {
                for kind in list {
                    let Some(index) = KINDS.iter().position(|k| k == kind.get_ref()) else {
                        return Err(self
                            .error(
                                kind.span(),
                                format!("unknown fault kind \"{}\"", kind.get_ref()),
                            )
                            .with_help(format!("expected one of: {}", KINDS.join(", "))));
                    };
                    if !supported(kind.get_ref()) {
                        return Err(self.error(
                            kind.span(),
                            format!(
                                "{protocol} scenarios cannot draw \"{}\" faults",
                                kind.get_ref()
                            ),
                        ));
                    }
                    enabled[index] = true;
                }
            }
        }
        Ok(weights(&enabled))
    }
}

/// The names of the actions a fault entry sets.
const ACTIONS: [&str; 19] = [
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
    "(and `for`, `every` as modifiers)",
];

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
    ];
    ACTIONS
        .iter()
        .zip(flags)
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect()
}
