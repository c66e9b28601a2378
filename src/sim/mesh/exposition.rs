//! Prometheus text exposition (format 0.0.4): families with `# HELP` and `# TYPE`, their
//! samples kept together even when many pods contribute to one page.

use std::collections::HashMap;
use std::fmt::Write;

use super::histogram::Snapshot;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    body: String,
}

/// Label pairs, formatted as they appear between braces.
#[derive(Debug, Clone, Default)]
pub struct Labels(String);

impl Labels {
    pub fn new() -> Labels {
        Labels(String::new())
    }

    pub fn with(mut self, key: &str, value: &str) -> Labels {
        self.push(key, value);
        self
    }

    pub fn push(&mut self, key: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
        self.0.push_str(key);
        self.0.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => self.0.push_str("\\\\"),
                '"' => self.0.push_str("\\\""),
                '\n' => self.0.push_str("\\n"),
                c => self.0.push(c),
            }
        }
        self.0.push('"');
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One metrics page under construction.
#[derive(Default)]
pub struct Page {
    families: Vec<Family>,
    index: HashMap<&'static str, usize>,
    /// Labels put in front of every sample (the target labels of the combined page).
    extra: String,
}

impl Page {
    pub fn new() -> Page {
        Page::default()
    }

    /// Labels added to every sample written from now on.
    pub fn set_extra(&mut self, labels: &Labels) {
        self.extra = labels.0.clone();
    }

    fn body(&mut self, name: &'static str, help: &'static str, kind: Kind) -> &mut String {
        let i = *self.index.entry(name).or_insert_with(|| {
            self.families.push(Family {
                name,
                help,
                kind,
                body: String::new(),
            });
            self.families.len() - 1
        });
        &mut self.families[i].body
    }

    fn line(
        &mut self,
        family: (&'static str, &'static str, Kind),
        suffix: &str,
        labels: &str,
        le: Option<&str>,
        value: &dyn std::fmt::Display,
    ) {
        let extra = std::mem::take(&mut self.extra);
        let body = self.body(family.0, family.1, family.2);
        body.push_str(family.0);
        body.push_str(suffix);
        let mut first = true;
        for part in [extra.as_str(), labels] {
            if part.is_empty() {
                continue;
            }
            body.push(if first { '{' } else { ',' });
            body.push_str(part);
            first = false;
        }
        if let Some(le) = le {
            body.push(if first { '{' } else { ',' });
            body.push_str("le=\"");
            body.push_str(le);
            body.push('"');
            first = false;
        }
        if !first {
            body.push('}');
        }
        let _ = writeln!(body, " {value}");
        self.extra = extra;
    }

    pub fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &Labels,
        value: impl std::fmt::Display,
    ) {
        self.line(
            (name, help, Kind::Counter),
            "",
            labels.as_str(),
            None,
            &value,
        );
    }

    pub fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &Labels,
        value: impl std::fmt::Display,
    ) {
        self.line((name, help, Kind::Gauge), "", labels.as_str(), None, &value);
    }

    pub fn histogram<const N: usize>(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &Labels,
        bounds: &[f64; N],
        values: &Snapshot<N>,
    ) {
        let family = (name, help, Kind::Histogram);
        for (bound, count) in bounds.iter().zip(&values.buckets) {
            let le = format_bound(*bound);
            self.line(family, "_bucket", labels.as_str(), Some(&le), count);
        }
        self.line(
            family,
            "_bucket",
            labels.as_str(),
            Some("+Inf"),
            &values.count,
        );
        self.line(family, "_sum", labels.as_str(), None, &values.sum);
        self.line(family, "_count", labels.as_str(), None, &values.count);
    }

    pub fn render(self) -> String {
        let size = self.families.iter().map(|f| f.body.len() + 128).sum();
        let mut out = String::with_capacity(size);
        for f in &self.families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
            out.push_str(&f.body);
        }
        out
    }
}

fn format_bound(bound: f64) -> String {
    // Rust prints floats in the shortest form that reads back exactly, without exponents.
    format!("{bound}")
}

/// A strict reader of the pages above, for tests: every line is a comment or
/// `name{labels} value`, families are contiguous and typed once, histograms add up.
#[cfg(test)]
pub mod check {
    use std::collections::{BTreeMap, HashSet};

    #[derive(Debug, Clone)]
    pub struct Sample {
        pub name: String,
        pub labels: BTreeMap<String, String>,
        pub value: f64,
    }

    #[derive(Debug, Default)]
    pub struct Parsed {
        /// Family name -> type.
        pub families: BTreeMap<String, String>,
        pub samples: Vec<Sample>,
    }

    fn valid_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn parse_labels(text: &str) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (key, after) = rest
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad labels {text}"));
            assert!(valid_name(key), "bad label name {key:?} in {text}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars
                    .next()
                    .unwrap_or_else(|| panic!("unterminated value in {text}"));
                match c {
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c @ ('\\' | '"')) => value.push(c),
                        other => panic!("bad escape {other:?} in {text}"),
                    },
                    '"' => break i,
                    c => value.push(c),
                }
            };
            assert!(
                labels.insert(key.to_string(), value).is_none(),
                "duplicate label {key} in {text}"
            );
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
        labels
    }

    fn family_of<'a>(name: &'a str, families: &BTreeMap<String, String>) -> &'a str {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix)
                && families.get(base).is_some_and(|t| t == "histogram")
            {
                return base;
            }
        }
        name
    }

    pub fn parse(text: &str) -> Parsed {
        let mut parsed = Parsed::default();
        let mut done: HashSet<String> = HashSet::new();
        let mut current = String::new();
        for line in text.lines() {
            assert!(!line.is_empty(), "empty line in page");
            if let Some(comment) = line.strip_prefix("# ") {
                let mut parts = comment.splitn(3, ' ');
                let (kind, name, rest) = (
                    parts.next().unwrap(),
                    parts.next().unwrap(),
                    parts.next().unwrap_or(""),
                );
                assert!(valid_name(name), "bad name in {line}");
                if kind == "TYPE" {
                    assert!(
                        matches!(rest, "counter" | "gauge" | "histogram"),
                        "bad type in {line}"
                    );
                    assert!(
                        parsed
                            .families
                            .insert(name.to_string(), rest.to_string())
                            .is_none(),
                        "second TYPE for {name}"
                    );
                }
                continue;
            }
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {line}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value: {line}"));
            assert!(value.is_finite() && value >= 0.0, "bad value: {line}");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (
                    name,
                    parse_labels(
                        rest.strip_suffix('}')
                            .unwrap_or_else(|| panic!("bad labels: {line}")),
                    ),
                ),
                None => (series, BTreeMap::new()),
            };
            assert!(valid_name(name), "bad metric name: {line}");
            let family = family_of(name, &parsed.families).to_string();
            assert!(
                parsed.families.contains_key(&family),
                "sample before its TYPE: {line}"
            );
            if family != current {
                assert!(!done.contains(&family), "family {family} is split in two");
                done.insert(std::mem::replace(&mut current, family.clone()));
            }
            parsed.samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        parsed
    }

    /// Every histogram series: buckets non-decreasing, the last one `+Inf` and equal to `_count`,
    /// and a `_sum`.
    pub fn histograms_are_consistent(parsed: &Parsed) {
        for (family, kind) in &parsed.families {
            if kind != "histogram" {
                continue;
            }
            let mut series: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
            let mut counts: BTreeMap<String, f64> = BTreeMap::new();
            let mut sums: HashSet<String> = HashSet::new();
            for s in parsed
                .samples
                .iter()
                .filter(|s| s.name.starts_with(family.as_str()))
            {
                let mut labels = s.labels.clone();
                let le = labels.remove("le");
                let key = format!("{labels:?}");
                match s.name.strip_prefix(family.as_str()) {
                    Some("_bucket") => series
                        .entry(key)
                        .or_default()
                        .push((le.expect("le"), s.value)),
                    Some("_count") => {
                        counts.insert(key, s.value);
                    }
                    Some("_sum") => {
                        sums.insert(key);
                    }
                    _ => {}
                }
            }
            assert!(!series.is_empty(), "histogram {family} has no buckets");
            for (key, buckets) in &series {
                let mut last_bound = f64::NEG_INFINITY;
                let mut last_value = 0.0;
                for (le, value) in buckets {
                    let bound: f64 = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().expect("numeric le")
                    };
                    assert!(bound > last_bound, "{family}{key}: bounds out of order");
                    assert!(
                        *value >= last_value,
                        "{family}{key}: bucket le={le} below the one before"
                    );
                    last_bound = bound;
                    last_value = *value;
                }
                assert_eq!(
                    buckets.last().map(|b| b.0.as_str()),
                    Some("+Inf"),
                    "{family}{key}"
                );
                assert_eq!(
                    counts.get(key),
                    Some(&last_value),
                    "{family}{key}: +Inf differs from _count"
                );
                assert!(sums.contains(key), "{family}{key}: no _sum");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::mesh::histogram::{LogNormal, REQUEST_MS, Snapshot};

    #[test]
    fn families_stay_together_and_values_are_escaped() {
        let mut page = Page::new();
        for pod in ["a", "b"] {
            page.set_extra(&Labels::new().with("pod", pod));
            page.counter(
                "x_total",
                "X.",
                &Labels::new().with("path", "say \"hi\"\\\n"),
                3,
            );
            page.gauge("y", "Y.", &Labels::new(), 1.5);
            page.histogram(
                "z",
                "Z.",
                &Labels::new(),
                &REQUEST_MS,
                &Snapshot::of(100, &LogNormal::new(30.0, 0.5), &REQUEST_MS),
            );
        }
        let text = page.render();
        let parsed = check::parse(&text);
        assert_eq!(parsed.families.len(), 3);
        let x: Vec<_> = parsed
            .samples
            .iter()
            .filter(|s| s.name == "x_total")
            .collect();
        assert_eq!(x.len(), 2);
        assert_eq!(x[0].labels["path"], "say \"hi\"\\\n");
        assert_eq!(x[1].labels["pod"], "b");
        check::histograms_are_consistent(&parsed);
        assert!(text.contains("z_bucket{pod=\"a\",le=\"0.5\"}"));
        assert!(text.contains("z_bucket{pod=\"b\",le=\"3600000\"}"));
    }
}
