//! Showing what happened: the JSON-lines trace and a per-node summary for the terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use sim_core::{SimTime, StepKind, Trace};

use crate::error::InputError;
use crate::model::Scenario;
use crate::words::{fault_words, readable_time};

/// One line of the JSON-lines trace.
#[derive(Serialize)]
struct TraceLine<'a> {
    step: u64,
    time_ns: u64,
    kind: String,
    node: Option<&'a str>,
    source: Option<&'a str>,
    sent_at_ns: Option<u64>,
    message: &'a str,
    hash: String,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    events: &'a [String],
}

/// Writes `trace` as JSON lines, one per step, naming nodes as the scenario does.
pub fn write_json_lines(trace: &Trace, scenario: &Scenario, path: &Path) -> Result<(), InputError> {
    let file = std::fs::File::create(path)
        .map_err(|e| InputError::new(format!("cannot write {}: {e}", path.display())))?;
    let mut out = std::io::BufWriter::new(file);
    let name = |node: Option<sim_core::NodeId>| node.map(|n| scenario.node_name(n));
    for record in &trace.records {
        let line = TraceLine {
            step: record.step,
            time_ns: record.time.as_nanos(),
            kind: record.kind.to_string(),
            node: name(record.node),
            source: name(record.source),
            sent_at_ns: record.sent_at.map(|t| t.as_nanos()),
            message: &record.detail,
            hash: format!("0x{:016x}", record.hash),
            events: &record.events,
        };
        let text = serde_json::to_string(&line).expect("trace lines serialise");
        writeln!(out, "{text}")
            .map_err(|e| InputError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    out.flush()
        .map_err(|e| InputError::new(format!("cannot write {}: {e}", path.display())))
}

/// A per-node account of the run (what each node handled, the faults that hit it, in
/// scenario-file words) and the last steps before the end, for the terminal. `seed` is
/// the case's, for its fault schedule.
pub fn summarize(trace: &Trace, scenario: &Scenario, seed: u64, tail: usize) -> String {
    #[derive(Default)]
    struct Counts {
        delivered: u64,
        timers: u64,
        calls: u64,
        faults: Vec<String>,
    }
    let mut per_node: BTreeMap<u32, Counts> = BTreeMap::new();
    for record in &trace.records {
        let Some(node) = record.node else { continue };
        let counts = per_node.entry(node.0).or_default();
        match record.kind {
            StepKind::Deliver => counts.delivered += 1,
            StepKind::Timer => counts.timers += 1,
            StepKind::Call => counts.calls += 1,
            StepKind::Fault | StepKind::Start | StepKind::LinkChange => {}
        }
    }
    let end = trace.records.last().map_or(SimTime::ZERO, |r| r.time);
    // Every fault of the schedule in words, by its `Debug` text (what a fault step
    // records), for the fault steps of the tail.
    let mut said: BTreeMap<String, String> = BTreeMap::new();
    for timed in scenario.fault_schedule(seed).iter() {
        if timed.at > end {
            break; // the run stopped before it
        }
        let words = fault_words(&timed.fault, scenario);
        let line = format!("at {} {words}", readable_time(timed.at));
        for node in timed.fault.nodes() {
            per_node
                .entry(node.0)
                .or_default()
                .faults
                .push(line.clone());
        }
        said.insert(format!("{:?}", timed.fault), words);
    }
    let mut text = String::from("per node:\n");
    for (node, counts) in &per_node {
        let name = scenario.node_name(sim_core::NodeId(*node));
        let _ = writeln!(
            text,
            "  {name:<14} {:>7} messages {:>6} timers {:>5} calls",
            counts.delivered, counts.timers, counts.calls
        );
        let shown = counts.faults.len().saturating_sub(FAULTS_PER_NODE);
        if shown > 0 {
            let _ = writeln!(text, "      ({shown} earlier faults)");
        }
        for fault in &counts.faults[shown..] {
            let _ = writeln!(text, "      fault {fault}");
        }
    }
    let _ = writeln!(text, "last {} steps:", tail.min(trace.records.len()));
    for record in trace
        .records
        .iter()
        .rev()
        .take(tail)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let node = record.node.map_or("-", |n| scenario.node_name(n));
        let source = record
            .source
            .map(|s| format!("{} -> ", scenario.node_name(s)))
            .unwrap_or_default();
        let what = match said.get(&record.detail) {
            Some(words) if record.kind == StepKind::Fault => words.clone(),
            _ => short(&record.detail),
        };
        let _ = writeln!(
            text,
            "  #{:<8} {:>10} {:<7} {source}{node}: {what}",
            record.step,
            readable_time(record.time),
            record.kind.to_string(),
        );
    }
    text
}

/// How many of a node's faults the summary shows (the last ones).
const FAULTS_PER_NODE: usize = 6;

fn short(text: &str) -> String {
    const MAX: usize = 100;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}...")
}
