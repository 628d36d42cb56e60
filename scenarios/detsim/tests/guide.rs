//! Every TOML example in the user guide (`docs/*.md`) means what the guide says it means.
//!
//! The Rust examples of the guide run as doctests (`mod guide` in `src/lib.rs`); this
//! test covers the fenced ```toml blocks. The words after `toml` on the opening fence say
//! what a block is, and how it is checked:
//!
//! | fence | the block is | checked by |
//! |---|---|---|
//! | ```` ```toml ```` | a whole scenario file (it sets `protocol` or has a scenario table such as `[cluster]` or `[[faults]]`) | `detsim::registry()` accepts it, and a run at seed 1 against each of its implementations does not fail (skipped is fine) |
//! | ```` ```toml fails ```` | a whole scenario meant to fail | it parses, and some implementation fails at seed 1 |
//! | ```` ```toml invalid ```` | a scenario with a mistake in it | the registry rejects it |
//! | ```` ```toml chain ```` / ```` ```toml raft ```` | a fragment of a chain or Raft scenario | it parses below `protocol = "<chain or raft>"` and `duration = "60s"` |
//! | ```` ```toml repro ```` | a repro file | `scenarios::repro::Repro::parse` accepts it |
//! | ```` ```toml vector-meta ```` / ```` ```toml vector-expected ```` | a test vector's `meta.toml` / `expected.toml` | they deserialize as `vectors::Meta` / a table of `vectors::Expected` |
//! | ```` ```toml vector-meta DIR ```` / ```` ```toml vector-expected DIR ```` | the `meta.toml` / `expected.toml` of the checked-in vector `DIR` (from the repository root) | as above, and the block is that file, word for word (so it cannot go stale) |
//! | ```` ```toml preset ```` | a preset file | it deserializes as `detsim::presets::Preset` |
//!
//! A plain ```` ```toml ```` block that looks like no scenario at all (a `Cargo.toml`
//! excerpt, say) is left alone; any other word after `toml` fails the test, so that a
//! misspelt marker cannot switch a check off. A failing block fails the test with its
//! page and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use detsim::presets::Preset;
use scenarios::repro::Repro;
use scenarios::vectors::{Expected, Meta};
use scenarios::{InputError, Scenario, run_case};

/// Pages whose examples are another protocol's, checked by that protocol's own tests
/// (the counter protocol of scenarios/third-party/counter).
const OTHER_PROTOCOLS: [&str; 1] = ["testing-your-own-protocol.md"];

fn parse_scenario(text: &str) -> Result<Scenario, InputError> {
    detsim::registry().parse(text, None)
}

/// One fenced ```toml block.
#[derive(Clone, Debug)]
struct Block {
    /// `docs/<page>.md`.
    page: String,
    /// The line of the block's first line of text (1-based).
    line: usize,
    /// The words after `toml` on the opening fence.
    markers: Vec<String>,
    /// The block's text.
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
}

/// Top-level tables that only a scenario file has.
const SCENARIO_TABLES: [&str; 10] = [
    "[cluster",
    "[network",
    "[[network.links]]",
    "[[faults]]",
    "[random_faults]",
    "[workload]",
    "[checks",
    "[[checks.final]]",
    "[[checks.sometimes]]",
    "[heal]",
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docs_dir() -> PathBuf {
    repository().join("docs")
}

/// Every ```toml block of every page, in page order.
fn toml_blocks() -> Vec<Block> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(docs_dir())
        .expect("docs/ exists")
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            !OTHER_PROTOCOLS.contains(&name)
        })
        .collect();
    pages.sort();
    let mut blocks = Vec::new();
    for path in pages {
        let name = format!(
            "docs/{}",
            path.file_name().expect("a file").to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).expect("a readable page");
        blocks.extend(blocks_of(&name, &text));
    }
    blocks
}

/// The ```toml blocks of one page.
fn blocks_of(page: &str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(bool, Block)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let mut words = info.split_whitespace().map(str::to_string);
                    let is_toml = words.next().as_deref() == Some("toml");
                    let block = Block {
                        page: page.to_string(),
                        line: index + 2,
                        markers: words.collect(),
                        text: String::new(),
                    };
                    open = Some((is_toml, block));
                }
            }
            Some((is_toml, block)) => {
                if trimmed.starts_with("```") {
                    let (is_toml, block) = open.take().expect("a block is open");
                    if is_toml {
                        blocks.push(block);
                    }
                } else if *is_toml {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{page}: a code block is never closed");
    blocks
}

/// Does this unmarked block look like a scenario file?
fn looks_like_a_scenario(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("protocol") || SCENARIO_TABLES.iter().any(|t| line.starts_with(t))
    })
}

/// Checks one block; `Ok(true)` if it was checked, `Ok(false)` if it was left alone.
fn check(block: &Block) -> Result<bool, String> {
    let markers: Vec<&str> = block.markers.iter().map(String::as_str).collect();
    match markers.as_slice() {
        [] if !looks_like_a_scenario(&block.text) => Ok(false),
        [] => check_scenario(block, false).map(|()| true),
        ["fails"] => check_scenario(block, true).map(|()| true),
        ["invalid"] => match parse_scenario(&block.text) {
            Ok(_) => Err("marked `invalid`, but parse_scenario accepts it".to_string()),
            Err(_) => Ok(true),
        },
        [protocol @ ("chain" | "raft")] => {
            let whole = format!(
                "protocol = \"{protocol}\"\nduration = \"60s\"\n{}",
                block.text
            );
            parse_scenario(&whole)
                .map(|_| true)
                .map_err(|e| format!("as a {protocol} fragment (2 lines added above): {e}"))
        }
        ["repro"] => Repro::parse(&detsim::registry(), &block.text, None)
            .map(|_| true)
            .map_err(|e| e.to_string()),
        ["vector-meta"] => toml::from_str::<Meta>(&block.text)
            .map(|_| true)
            .map_err(|e| e.to_string()),
        ["vector-expected"] => toml::from_str::<BTreeMap<String, Expected>>(&block.text)
            .map(|_| true)
            .map_err(|e| e.to_string()),
        [kind @ ("vector-meta" | "vector-expected"), dir] => {
            let file = if *kind == "vector-meta" {
                "meta.toml"
            } else {
                "expected.toml"
            };
            let path = repository().join(dir).join(file);
            let on_disk = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if on_disk.trim() == block.text.trim() {
                check(&Block {
                    markers: vec![(*kind).to_string()],
                    ..block.clone()
                })
            } else {
                Err(format!(
                    "differs from {}; copy the file into the page:\n{on_disk}",
                    path.display()
                ))
            }
        }
        ["preset"] => toml::from_str::<Preset>(&block.text)
            .map(|_| true)
            .map_err(|e| e.to_string()),
        other => Err(format!(
            "unknown marker {other:?} after ```toml; see scenarios/detsim/tests/guide.rs"
        )),
    }
}

/// A whole scenario: it parses, and its run at seed 1 fails exactly if it should.
fn check_scenario(block: &Block, should_fail: bool) -> Result<(), String> {
    let scenario = parse_scenario(&block.text).map_err(|e| e.to_string())?;
    let results: Vec<_> = scenario
        .implementations
        .iter()
        .map(|implementation| run_case(&scenario, implementation, 1))
        .collect();
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.verdict.is_failure())
        .map(|r| format!("{} at seed 1: {}", r.implementation, r.summary()))
        .collect();
    match (should_fail, failed.is_empty()) {
        (false, false) => Err(format!("the example fails: {}", failed.join("; "))),
        (true, true) => Err("marked `fails`, but it passes at seed 1".to_string()),
        _ => Ok(()),
    }
}

#[test]
fn every_toml_example_in_the_guide_is_checked_and_holds() {
    let blocks = toml_blocks();
    let mut checked = 0;
    let mut failures = Vec::new();
    for block in &blocks {
        match check(block) {
            Ok(true) => checked += 1,
            Ok(false) => eprintln!("{}: not a scenario; left alone", block.at()),
            Err(error) => failures.push(format!("{}: {error}", block.at())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} TOML examples are wrong:\n\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n\n")
    );
    assert!(
        checked >= 10,
        "only {checked} TOML examples were found in docs/: has the guide moved?"
    );
}

#[test]
fn a_wrong_example_is_reported_with_its_page_and_line() {
    let page = "intro\n\n```toml chain\n[[faults]]\nat = \"5s\"\ncrash = \"validator-9\"\n```\n";
    let blocks = blocks_of("docs/example.md", page);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].at(), "docs/example.md:4");
    let error = check(&blocks[0]).unwrap_err();
    assert!(error.contains("unknown node \"validator-9\""), "{error}");

    let misspelt = blocks_of("docs/example.md", "```toml invaild\nprotocol = 1\n```\n");
    let error = check(&misspelt[0]).unwrap_err();
    assert!(error.contains("unknown marker"), "{error}");
}
