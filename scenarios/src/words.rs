//! Faults and times in the words of scenario files, for people: what `detsim repro`
//! prints, so that a fault reads as one would write it (`partition [validator-0,
//! validator-1] | [validator-2, validator-3] at 9.5s`), not as Rust's `Debug`.

use sim_core::{ClogTarget, Fault, NodeId, Partition, SimDuration, SimTime};

use crate::model::Scenario;
use crate::units::format_chance;

/// A time for people: seconds with at most three decimals (`9.5s`, `14.507s`), or
/// milliseconds and microseconds below a second (`250ms`, `12.5us`). Exact values
/// belong in files (see [`crate::units::format_duration`]); this is for reading.
pub fn readable_duration(duration: SimDuration) -> String {
    let nanos = duration.as_nanos();
    let trimmed = |whole: u64, fraction: u64, digits: usize, unit: &str| {
        let fraction = format!("{fraction:0digits$}");
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{whole}{unit}")
        } else {
            format!("{whole}.{fraction}{unit}")
        }
    };
    if nanos >= 1_000_000_000 {
        let millis = (nanos + 500_000) / 1_000_000;
        trimmed(millis / 1_000, millis % 1_000, 3, "s")
    } else if nanos >= 1_000_000 {
        let micros = (nanos + 500) / 1_000;
        trimmed(micros / 1_000, micros % 1_000, 3, "ms")
    } else if nanos >= 1_000 {
        trimmed(nanos / 1_000, nanos % 1_000, 3, "us")
    } else {
        format!("{nanos}ns")
    }
}

/// A moment of a run, for people: `at 9.5s`.
pub fn readable_time(time: SimTime) -> String {
    readable_duration(time.duration_since(SimTime::ZERO))
}

/// `fault` as a scenario file would say it, naming nodes as `scenario` does.
pub fn fault_words(fault: &Fault, scenario: &Scenario) -> String {
    let name = |node: &NodeId| scenario.node_name(*node).to_string();
    let list = |nodes: &[NodeId]| {
        let names: Vec<String> = nodes.iter().map(name).collect();
        format!("[{}]", names.join(", "))
    };
    match fault {
        Fault::Crash(node) => format!("crash {}", name(node)),
        Fault::Restart(node) => format!("restart {}", name(node)),
        Fault::ResetData(node) => format!("reset_data {}", name(node)),
        Fault::Pause(node) => format!("pause {}", name(node)),
        Fault::Resume(node) => format!("resume {}", name(node)),
        Fault::Partition(Partition::Groups(groups)) => {
            let groups: Vec<String> = groups.iter().map(|g| list(g)).collect();
            format!("partition {}", groups.join(" | "))
        }
        Fault::Partition(Partition::OneWay { from, to }) => {
            format!("one_way {} -> {}", list(from), list(to))
        }
        Fault::Partition(Partition::Isolate(node)) => format!("isolate {}", name(node)),
        Fault::Partition(Partition::Link { source, target }) => {
            format!("cut link {} -> {}", name(source), name(target))
        }
        Fault::Heal => "heal every link".to_string(),
        Fault::HealNode(node) => format!("heal_node {}", name(node)),
        Fault::Clog { target, duration } => {
            let lasting = duration.map_or_else(String::new, |d| {
                format!(" lasting {}", readable_duration(d))
            });
            match target {
                ClogTarget::Node(node) => format!("clog {}{lasting}", name(node)),
                ClogTarget::Link { source, target } => {
                    format!("clog_link {} -> {}{lasting}", name(source), name(target))
                }
            }
        }
        Fault::Unclog(ClogTarget::Node(node)) => format!("unclog {}", name(node)),
        Fault::Unclog(ClogTarget::Link { source, target }) => {
            format!("unclog link {} -> {}", name(source), name(target))
        }
        Fault::UnclogAll => "unclog_all".to_string(),
        Fault::ClockSkew { node, offset_ns } => {
            let magnitude = readable_duration(SimDuration::from_nanos(offset_ns.unsigned_abs()));
            let sign = if *offset_ns < 0 { "-" } else { "+" };
            format!("clock_skew {} {sign}{magnitude}", name(node))
        }
        Fault::ClockDrift { node, ppm } => format!("clock_drift {} {ppm:+}ppm", name(node)),
        Fault::DiskFaults { node, faults } => {
            let mut parts = Vec::new();
            for (what, chance) in [
                ("lost_write", faults.lost_write),
                ("corrupt_write", faults.corrupt_write),
                ("read_error", faults.read_error),
                ("unsynced_kept", faults.unsynced_kept),
            ] {
                if !chance.is_never() {
                    parts.push(format!("{what} {}", format_chance(chance)));
                }
            }
            if parts.is_empty() {
                format!("disk_faults {} off", name(node))
            } else {
                format!("disk_faults {} {}", name(node), parts.join(", "))
            }
        }
        Fault::SetLink { source, target, .. } => {
            format!("set link {} -> {}", name(source), name(target))
        }
        Fault::CrashPoint {
            node,
            after,
            on,
            down_for,
            strike,
            ..
        } => point_words(*strike, &name(node), *after, on.as_ref(), *down_for),
    }
}

/// A point in words: `crash_point node-2 sends Vote after 1 for 30ms`.
fn point_words(
    strike: sim_core::Strike,
    node: &str,
    after: u32,
    on: Option<&sim_core::Moment>,
    down_for: Option<SimDuration>,
) -> String {
    let kind = on.map_or_else(String::new, |on| format!(" {}", on.describe()));
    let after = if after == 0 {
        String::new()
    } else {
        format!(" after {after}")
    };
    let down = down_for.map_or_else(String::new, |d| {
        format!(" for {}", crate::units::format_duration(d))
    });
    format!("{} {node}{kind}{after}{down}", strike.point_name())
}

/// The faults of a case up to `end` (where it stopped) in scenario-file words, one
/// line each: the last `limit` of them, the ones nearest a failure, for the terminal.
pub fn schedule_words(scenario: &Scenario, seed: u64, end: SimTime, limit: usize) -> String {
    let schedule = scenario.fault_schedule(seed);
    let happened: Vec<_> = schedule.iter().filter(|t| t.at <= end).collect();
    let mut text = format!(
        "faults: {} of {} scheduled, up to {}",
        happened.len(),
        schedule.len(),
        readable_time(end)
    );
    if happened.len() > limit {
        text.push_str(&format!(
            " (the last {limit}; the file's timeline and seed give them all)"
        ));
    }
    text.push('\n');
    for timed in &happened[happened.len().saturating_sub(limit)..] {
        text.push_str(&format!(
            "  at {:>9}  {}\n",
            readable_time(timed.at),
            fault_words(&timed.fault, scenario)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_write_them() {
        let d = SimDuration::from_nanos;
        assert_eq!(readable_duration(d(14_507_463_114)), "14.507s");
        assert_eq!(readable_duration(d(9_500_000_000)), "9.5s");
        assert_eq!(readable_duration(d(60_000_000_000)), "60s");
        assert_eq!(readable_duration(d(250_000_000)), "250ms");
        assert_eq!(readable_duration(d(12_500)), "12.5us");
        assert_eq!(readable_duration(d(7)), "7ns");
    }
}
