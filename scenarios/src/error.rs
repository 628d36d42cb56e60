//! Errors in what a user gave us (a scenario file, a repro file, a flag): where, what is
//! wrong, and what would be right. They never panic and stop before anything runs.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A mistake in user input, located as precisely as we can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file, if the input came from one.
    pub file: Option<PathBuf>,
    /// 1-based line and column, if known.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
    /// What would be right (or how to find out).
    pub help: Option<String>,
    /// The offending line, for display.
    pub snippet: Option<String>,
}

impl std::error::Error for InputError {}

impl InputError {
    /// An error with no location (a bad flag, a missing file).
    pub fn new(message: impl Into<String>) -> InputError {
        InputError {
            file: None,
            position: None,
            message: message.into(),
            help: None,
            snippet: None,
        }
    }

    /// An error at byte range `span` of `source`.
    pub fn at(source: &str, span: Range<usize>, message: impl Into<String>) -> InputError {
        let mut start = span.start.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        InputError {
            file: None,
            position: Some((line, column)),
            message: message.into(),
            help: None,
            snippet: Some(source[line_start..line_end].to_string()),
        }
    }

    /// Adds what would be right.
    pub fn with_help(mut self, help: impl Into<String>) -> InputError {
        self.help = Some(help.into());
        self
    }

    /// Names the file the error is in.
    pub fn in_file(mut self, file: &Path) -> InputError {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Converts a TOML error (syntax, wrong type, unknown field) into a located error,
    /// in plain words rather than Rust's.
    pub fn from_toml(source: &str, error: &toml::de::Error) -> InputError {
        let mut message = plain_words(error.message().trim());
        if message == "duplicate key"
            && let Some(span) = error.span()
        {
            let key = source.get(span).unwrap_or("").trim();
            message = format!("`{key}` is set twice; keep one of them");
        }
        let mut located = match error.span() {
            Some(span) => InputError::at(source, span, message),
            None => InputError::new(message),
        };
        if located.message.contains("unknown field") {
            located.help = Some(
                "check the spelling; the fields this table accepts are listed above".to_string(),
            );
        }
        located
    }
}

/// Rust's names for number types, as a scenario file's author reads them.
fn plain_words(message: &str) -> String {
    let mut text = message.to_string();
    for (rust, plain) in [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number from 0 to 18446744073709551615"),
        ("usize", "a whole number of 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("i128", "a whole number"),
        ("f64", "a number"),
        ("a sequence", "a list `[...]`"),
        ("a map", "a table"),
        ("a string", "a quoted string"),
        ("a boolean", "true or false"),
    ] {
        for (before, after) in [
            (format!("expected {rust}"), format!("expected {plain}")),
            (format!("as {rust}"), format!("as {plain}")),
        ] {
            if let Some(at) = text.find(&before) {
                let end = at + before.len();
                let whole_word = text[end..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphanumeric());
                if whole_word {
                    text.replace_range(at..end, &after);
                }
            }
        }
    }
    text
}

/// The most characters of a line (or a message) an error shows.
const SHOWN: usize = 160;

/// `text` cut to about `SHOWN` characters around character `column` (1-based), and the
/// column within the cut.
fn window(text: &str, column: usize) -> (String, usize) {
    let length = text.chars().count();
    if length <= SHOWN {
        return (text.to_string(), column);
    }
    let from = column.saturating_sub(SHOWN / 2).min(length - SHOWN);
    let mut cut: String = text.chars().skip(from).take(SHOWN).collect();
    let mut column = column - from;
    if from > 0 {
        cut.insert(0, '…');
        column += 1;
    }
    if from + SHOWN < length {
        cut.push('…');
    }
    (cut, column)
}

/// `text` cut to `SHOWN * 2` characters, saying how much was left out.
fn shortened(text: &str) -> String {
    let length = text.chars().count();
    if length <= SHOWN * 2 {
        return text.to_string();
    }
    let kept: String = text.chars().take(SHOWN * 2).collect();
    format!("{kept}… ({} more characters)", length - SHOWN * 2)
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.position) {
            (Some(file), Some((line, column))) => {
                write!(f, "{}:{line}:{column}: ", file.display())?
            }
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some((line, column))) => write!(f, "line {line}, column {column}: ")?,
            (None, None) => {}
        }
        write!(f, "error: {}", shortened(&self.message))?;
        if let (Some(snippet), Some((line, column))) = (&self.snippet, self.position) {
            let (snippet, column) = window(snippet, column);
            let gutter = line.to_string().len();
            write!(
                f,
                "\n {line} | {snippet}\n {:gutter$} | {:>column$}",
                "", "^"
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", shortened(help))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_line_and_column() {
        let source = "name = \"x\"\nduration = \"ten\"\n";
        let start = source.find("\"ten\"").unwrap();
        let error = InputError::at(source, start..start + 5, "bad duration")
            .with_help("write \"10s\"")
            .in_file(Path::new("s.toml"));
        assert_eq!(error.position, Some((2, 12)));
        let text = error.to_string();
        assert!(
            text.starts_with("s.toml:2:12: error: bad duration"),
            "{text}"
        );
        assert!(text.contains("duration = \"ten\""), "{text}");
        assert!(text.contains("help: write \"10s\""), "{text}");
    }

    #[test]
    fn a_huge_line_is_shown_around_the_error_only() {
        let source = format!(
            "description = \"{}\"\nx = 1\nduration = \"{}ten\"\n",
            "y".repeat(200_000),
            "9".repeat(100_000)
        );
        let start = source.find("ten").unwrap();
        let error = InputError::at(
            &source,
            start..start + 3,
            format!("bad duration {}", "9".repeat(100_000)),
        );
        let text = error.to_string();
        assert!(text.len() < 1_000, "{} bytes", text.len());
        assert!(
            text.contains("ten\"") && text.contains("more characters"),
            "{text}"
        );
        let caret_line = text.lines().find(|l| l.trim_end().ends_with('^')).unwrap();
        let snippet_line = text.lines().find(|l| l.contains("ten\"")).unwrap();
        let caret = caret_line.chars().count() - 1;
        assert_eq!(snippet_line.chars().nth(caret), Some('t'), "{text}");
    }

    #[test]
    fn toml_errors_speak_of_numbers_and_name_a_doubled_key() {
        let source = "replicas = -3\n";
        let error = toml::from_str::<std::collections::BTreeMap<String, u32>>(source).unwrap_err();
        let located = InputError::from_toml(source, &error).to_string();
        assert!(
            located.contains("a whole number from 0 to 4294967295"),
            "{located}"
        );
        assert!(!located.contains("u32"), "{located}");
        let source = "duration = \"5s\"\nduration = \"6s\"\n";
        let error = toml::from_str::<toml::Table>(source).unwrap_err();
        let located = InputError::from_toml(source, &error).to_string();
        assert!(located.contains("`duration` is set twice"), "{located}");
        assert!(located.starts_with("line 2"), "{located}");
    }
}
