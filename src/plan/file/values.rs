//! Reading TOML values with their positions: every failure becomes a `PlanError` that
//! names the file, the line and the field.

use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::PlanError;
use crate::plan::duration;

const DURATION: &str = "a duration like \"30m\", \"2h\" or \"90s\"";

pub(super) type Entry<'a, 'i> = (&'a Spanned<Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

/// A table's entries in the order the file writes them, so the first error reported is the
/// first one in the file.
pub(super) fn in_file_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The text being parsed, to turn spans into lines and values into errors.
pub(super) struct Doc<'a> {
    pub(super) text: &'a str,
    pub(super) file: &'a str,
}

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

impl Doc<'_> {
    pub(super) fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    }

    pub(super) fn error(
        &self,
        span: Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> PlanError {
        PlanError {
            file: self.file.to_string(),
            line: self.line(span),
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub(super) fn syntax(&self, error: &toml::de::Error) -> PlanError {
        let line = error.span().map_or(0, |span| self.line(span));
        PlanError {
            file: self.file.to_string(),
            line,
            field: String::new(),
            message: format!("not valid TOML: {}", error.message()),
        }
    }

    /// A value as the file writes it, for "got ..." in messages.
    pub(super) fn got(&self, value: &Value<'_>) -> String {
        match value.get_ref() {
            DeValue::Array(_) => "an array".into(),
            DeValue::Table(_) => "a table".into(),
            _ => {
                let written = self.text.get(value.span()).unwrap_or("").trim();
                if written.chars().count() > 40 {
                    let short: String = written.chars().take(37).collect();
                    format!("{short}...")
                } else {
                    written.to_string()
                }
            }
        }
    }

    pub(super) fn expected(&self, value: &Value<'_>, field: &str, what: &str) -> PlanError {
        self.error(
            value.span(),
            field,
            format!("expected {what}, got {}", self.got(value)),
        )
    }

    pub(super) fn unknown(
        &self,
        key: &Spanned<Cow<'_, str>>,
        prefix: &str,
        known: &str,
    ) -> PlanError {
        let name: &str = key.get_ref();
        self.error(
            key.span(),
            &format!("{prefix}{name}"),
            format!("unknown field; expected one of {known}"),
        )
    }

    pub(super) fn string(
        &self,
        value: &Value<'_>,
        field: &str,
        what: &str,
    ) -> Result<String, PlanError> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            _ => Err(self.expected(value, field, what)),
        }
    }

    /// A revision, tag or namespace name: a DNS-1123 label.
    pub(super) fn dns_label(
        &self,
        value: &Value<'_>,
        field: &str,
        what: &str,
    ) -> Result<String, PlanError> {
        let text = self.string(value, field, what)?;
        if is_dns_label(&text) {
            Ok(text)
        } else {
            Err(self.expected(
                value,
                field,
                &format!("{what} (lowercase letters, digits and '-')"),
            ))
        }
    }

    pub(super) fn array<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        field: &str,
        what: &str,
    ) -> Result<&'v [Value<'i>], PlanError> {
        match value.get_ref() {
            DeValue::Array(items) => Ok(items),
            _ => Err(self.expected(value, field, what)),
        }
    }

    pub(super) fn duration(&self, value: &Value<'_>, field: &str) -> Result<Duration, PlanError> {
        match value.get_ref() {
            DeValue::String(s) => {
                duration::parse(s).ok_or_else(|| self.expected(value, field, DURATION))
            }
            _ => Err(self.expected(value, field, DURATION)),
        }
    }

    /// A share written `"50%"` or `0.5`; `max` caps it (1.0 for a ratio of requests).
    pub(super) fn ratio(
        &self,
        value: &Value<'_>,
        field: &str,
        example: (&str, &str),
        max: Option<f64>,
    ) -> Result<f64, PlanError> {
        let what = format!(
            "a percentage like \"{}\" or a ratio like {}",
            example.0, example.1
        );
        let ratio = match value.get_ref() {
            DeValue::String(s) => s
                .trim()
                .strip_suffix('%')
                .map(|n| n.trim().trim_start_matches('+'))
                .and_then(|n| n.parse::<f64>().ok())
                .map(|percent| percent / 100.0),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i)
                if i.as_str()
                    .trim_start_matches(['-', '+'])
                    .chars()
                    .all(|c| c == '0') =>
            {
                Some(0.0)
            }
            DeValue::Integer(_) => {
                return Err(self.expected(
                    value,
                    field,
                    &format!("{what} (a whole number is ambiguous)"),
                ));
            }
            _ => None,
        };
        let Some(ratio) = ratio.filter(|r| r.is_finite()) else {
            return Err(self.expected(value, field, &what));
        };
        if ratio < 0.0 {
            return Err(self.error(
                value.span(),
                field,
                format!("must not be negative, got {}", self.got(value)),
            ));
        }
        if let Some(max) = max
            && ratio > max
        {
            return Err(self.error(
                value.span(),
                field,
                format!("cannot exceed {}%, got {}", max * 100.0, self.got(value)),
            ));
        }
        Ok(ratio)
    }

    pub(super) fn count(&self, value: &Value<'_>, field: &str) -> Result<u64, PlanError> {
        match value.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        }
        .ok_or_else(|| self.expected(value, field, "a whole number, 0 or more"))
    }

    pub(super) fn table<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        field: &str,
        what: &str,
    ) -> Result<&'v DeTable<'i>, PlanError> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            _ => Err(self.expected(value, field, what)),
        }
    }
}

/// Lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit.
pub(super) fn is_dns_label(s: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    s.len() <= 63
        && edge(s.chars().next())
        && edge(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
