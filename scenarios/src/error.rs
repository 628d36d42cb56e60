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
        let start = span.start.min(source.len());
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

    /// Converts a TOML error (syntax, wrong type, unknown field) into a located error.
    pub fn from_toml(source: &str, error: &toml::de::Error) -> InputError {
        let message = error.message().trim().to_string();
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
        write!(f, "error: {}", self.message)?;
        if let (Some(snippet), Some((line, column))) = (&self.snippet, self.position) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n {line} | {snippet}\n {:gutter$} | {:>column$}",
                "", "^"
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
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
}
