//! docs/testing-your-own-protocol.md shows this crate as it is: every Rust listing is an
//! excerpt of the file its first line names, every `# file` TOML listing is that file,
//! and every other scenario listing parses and passes at seed 1.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn page() -> (PathBuf, String) {
    let path = crate_dir().join("../../../docs/testing-your-own-protocol.md");
    let text = std::fs::read_to_string(&path).expect("the guide page exists");
    (path, text)
}

/// `(line, language, text)` of every fenced block.
fn blocks(page: &str) -> Vec<(usize, String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (index, line) in page.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some((index + 2, info.trim().to_string(), String::new()));
                }
            }
            Some((_, _, text)) => {
                if trimmed.starts_with("```") {
                    blocks.push(open.take().expect("open"));
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    blocks
}

/// `text` with the common indentation of its lines removed.
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn file(relative: &str) -> String {
    std::fs::read_to_string(crate_dir().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn every_listing_on_the_page_is_the_crate_as_it_is() {
    let (path, text) = page();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (line, language, body) in blocks(&text) {
        let body = dedent(&body);
        let (first, rest) = body.split_once('\n').unwrap_or((&body, ""));
        let at = format!("{}:{line}", path.display());
        match language.as_str() {
            "rust" => {
                let Some(name) = first.strip_prefix("// ") else {
                    wrong.push(format!("{at}: a Rust listing must start with `// <file>`"));
                    continue;
                };
                let source = file(name);
                // Listings may be indented differently from the file: compare the lines
                // without their indentation.
                let lines: Vec<&str> = rest.lines().map(str::trim).collect();
                let found = source
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .windows(lines.len())
                    .any(|window| window == lines.as_slice());
                if !found {
                    wrong.push(format!("{at}: not an excerpt of {name}:\n{rest}"));
                }
                checked += 1;
            }
            "toml" => {
                if let Some(name) = first.strip_prefix("# ").filter(|n| n.ends_with(".toml")) {
                    if file(name).trim() != rest.trim() {
                        wrong.push(format!("{at}: differs from {name}"));
                    }
                } else if first.starts_with("protocol") {
                    match counter::registry().parse(&body, None) {
                        Ok(scenario) => {
                            let result = scenarios::run_case(&scenario, "counter", 1);
                            if result.verdict.is_failure() {
                                wrong.push(format!("{at}: fails at seed 1: {}", result.summary()));
                            }
                        }
                        Err(error) => wrong.push(format!("{at}: {error}")),
                    }
                }
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    assert!(
        checked >= 10,
        "only {checked} listings: has the page moved?"
    );
}

#[test]
fn the_page_is_linked_from_the_guide() {
    let index = std::fs::read_to_string(crate_dir().join("../../../docs/README.md")).unwrap();
    assert!(index.contains("testing-your-own-protocol.md"));
    assert!(Path::new(&crate_dir().join("src/main.rs")).is_file());
}
