//! Plan errors in the plan's words: every mistake names the file, the line and the field
//! (`waves[1].soak`), and a value that does not fit is quoted as the file writes it.

use std::ops::Range;

use crate::toml_file::{self, FileError, Kind, Mistake, Step};

use super::PlanError;

/// The text being read, to turn spans into lines.
pub(super) struct Doc<'a> {
    pub text: &'a str,
    pub file: &'a str,
}

impl Doc<'_> {
    pub fn error(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> PlanError {
        PlanError {
            file: self.file.to_owned(),
            line: toml_file::line_of(self.text, span.start),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A mistake serde or toml found while reading.
    pub fn read_error(&self, e: &FileError) -> PlanError {
        let message = match &e.mistake {
            Mistake::Syntax(message) => format!("not valid TOML: {message}"),
            Mistake::Unexpected { found, expected } => {
                format!(
                    "expected {expected}, got {}",
                    got(found, e.written(self.text))
                )
            }
            Mistake::UnknownKey { expected, .. } => {
                let top = e.path.len() == 1;
                let keys: Vec<&str> = expected.iter().map(|k| as_written(k, top)).collect();
                format!("unknown field; expected one of {}", keys.join(", "))
            }
            Mistake::Other(message) => message.clone(),
        };
        PlanError {
            file: self.file.to_owned(),
            line: e.line(self.text),
            field: field(&e.path),
            message,
        }
    }
}

/// `waves[1].namespaces[0]`.
pub(super) fn field(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A top-level key as a file writes it: the tables with their brackets.
fn as_written(key: &str, top: bool) -> &str {
    match key {
        "waves" if top => "[[waves]]",
        "clusters" if top => "[[clusters]]",
        "rollback" if top => "[rollback]",
        _ => key,
    }
}

/// A value as the file writes it, short; arrays and tables by their kind.
fn got(found: &str, written: &str) -> String {
    match toml_file::kind(found, written) {
        Kind::Array => "an array".into(),
        Kind::Table => "a table".into(),
        _ if written.is_empty() => found.to_owned(),
        _ if written.chars().count() > 40 => {
            let short: String = written.chars().take(37).collect();
            format!("{short}...")
        }
        _ => written.to_owned(),
    }
}
