//! `detsim merge`: the reports of `run --shard K/N` jobs, merged into the report one
//! unsharded run would have written (and its JUnit XML).

use std::path::PathBuf;

use clap::Args;

use super::Session;
use super::out::say;
use crate::error::InputError;
use crate::report::{ReadReport, ReportWriter};

/// Arguments of `detsim merge`.
#[derive(Debug, Args)]
pub(super) struct MergeArgs {
    /// The JSON reports of the shards (`run --shard K/N --report FILE`).
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, short)]
    output: PathBuf,
    /// Write the merged JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
}

pub(super) fn merge(_: &Session<'_>, args: MergeArgs) -> Result<u8, InputError> {
    let reports: Vec<ReadReport> = args
        .reports
        .iter()
        .map(|path| ReadReport::read(path))
        .collect::<Result<_, _>>()?;
    let (count, present) = check_shards(&reports)?;
    let first = &reports[0];
    let missing: Vec<String> = (0..count)
        .filter(|k| !present.contains(k))
        .map(|k| format!("{}/{count}", k + 1))
        .collect();
    let unfinished: Vec<String> = reports
        .iter()
        .filter(|r| r.summary.as_ref().is_none_or(|s| !s.complete))
        .map(|r| r.path.display().to_string())
        .collect();
    // Why the first unfinished shard stopped (a killed one wrote no summary).
    let why_unfinished = reports
        .iter()
        .find_map(|r| match &r.summary {
            None => Some("interrupted".to_string()),
            Some(s) if !s.complete => s.stopped.clone(),
            Some(_) => None,
        })
        .unwrap_or_else(|| "interrupted".to_string());
    let mut header = first.header.clone();
    header.shard = if missing.is_empty() {
        "1/1".to_string()
    } else {
        let present: Vec<String> = present.iter().map(|k| (k + 1).to_string()).collect();
        format!("{}/{count}", present.join(","))
    };
    header.started_at = reports
        .iter()
        .map(|r| r.header.started_at.clone())
        .min()
        .unwrap_or_default();
    let mut cases: Vec<_> = reports
        .iter()
        .flat_map(|r| r.cases.iter().cloned())
        .collect();
    cases.sort_by_key(|c| (c.suite, c.seed));
    let wall: f64 = reports
        .iter()
        .filter_map(|r| r.summary.as_ref().map(|s| s.wall_time_s))
        .sum();
    let mut writer = ReportWriter::create(header, Some(&args.output), args.junit.as_deref())?;
    for case in cases {
        writer.record(case)?;
    }
    writer.set_wall_time(wall);
    let stopped = if !missing.is_empty() {
        say!(
            "missing shards: {} (the merged report is partial)",
            missing.join(", ")
        );
        Some("missing_shards")
    } else if !unfinished.is_empty() {
        say!(
            "unfinished shards: {} (the merged report is partial)",
            unfinished.join(", ")
        );
        Some(why_unfinished.as_str())
    } else {
        None
    };
    let partial = stopped.is_some_and(|why| why != "fail_fast");
    let finished = writer.finish(stopped)?;
    say!("{}", finished.text);
    say!(
        "merged {} reports into {}",
        reports.len(),
        args.output.display()
    );
    if partial {
        // Not all the cases: exit as a run that was interrupted does.
        return Ok(super::run::INTERRUPTED.max(finished.summary.tally.exit_code()));
    }
    Ok(finished.summary.tally.exit_code())
}

/// Checks that `reports` are distinct shards of one run; returns the shard count and
/// the shards present (0-based, in order).
fn check_shards(reports: &[ReadReport]) -> Result<(u64, Vec<u64>), InputError> {
    let first = &reports[0];
    let count = shard_of(first)?.1;
    let mut seen: Vec<(u64, &ReadReport)> = Vec::new();
    for report in reports {
        let (index, n) = shard_of(report)?;
        let differs = |what: &str| {
            InputError::new(format!(
                "{} and {} are reports of different runs: their {what} differ",
                first.path.display(),
                report.path.display()
            ))
            .with_help("merge the shards of one run: the same files, seeds and shard count")
        };
        if report.header.seeds != first.header.seeds {
            return Err(differs("seeds"));
        }
        if report.header.suites != first.header.suites {
            return Err(differs("scenarios, implementations or versions"));
        }
        if n != count {
            return Err(differs("shard counts"));
        }
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == index) {
            return Err(InputError::new(format!(
                "{} and {} are both shard {}/{count}",
                other.path.display(),
                report.path.display(),
                index + 1
            ))
            .with_help("pass each shard's report once"));
        }
        seen.push((index, report));
    }
    let mut present: Vec<u64> = seen.into_iter().map(|(k, _)| k).collect();
    present.sort_unstable();
    Ok((count, present))
}

/// The shard a report ran, 0-based, and the shard count.
fn shard_of(report: &ReadReport) -> Result<(u64, u64), InputError> {
    let shard = &report.header.shard;
    shard
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
        .filter(|(k, n)| (1..=*n).contains(k))
        .map(|(k, n)| (k - 1, n))
        .ok_or_else(|| {
            InputError::new(format!(
                "{}: the shard \"{shard}\" is not K/N (is it a merged report already?)",
                report.path.display()
            ))
            .with_help("merge the reports the shards wrote")
        })
}
