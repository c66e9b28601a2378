//! A reader of the Prometheus text exposition format (version 0.0.4), the pages istiod serves
//! on `:15014/metrics` and sidecars on `:15020/stats/prometheus`.
//!
//! Handled: `# HELP` (with `\\` and `\n` escapes) and `# TYPE` lines, other comments, blank
//! lines, samples `name{label="value",...} value [timestamp]` with escaped label values (`\\`,
//! `\"`, `\n`), a trailing comma in the label set, `+Inf`/`-Inf`/`NaN` values, and histogram
//! families (`_bucket` samples must carry a numeric `le`). Anything else is an error that names
//! its line: a page that is half understood must not produce half the numbers.
//!
//! Timestamps are checked and dropped: Istio does not write them, and the cockpit stamps each
//! scrape with the time it was taken.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::histogram_series::HistogramSeries;
use super::maths::Histogram;
use super::{Labels, parse_float};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

/// A family's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl MetricType {
    fn parse(text: &str) -> Option<MetricType> {
        Some(match text {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Untyped,
            _ => return None,
        })
    }
}

/// Why a page was refused, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// A parsed page: its samples in page order, and the `# TYPE` and `# HELP` of each family.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    pub samples: Vec<Sample>,
    pub families: Families,
}

impl Scrape {
    /// The family a sample name belongs to: `x_bucket`, `x_sum` and `x_count` belong to `x`
    /// when `x` is typed histogram (`x_sum`, `x_count` also for a summary).
    pub fn family_of<'a>(&self, name: &'a str) -> &'a str {
        self.families.family_of(name)
    }

    /// The declared type of the family `name` belongs to (`Untyped` when none was declared).
    pub fn type_of(&self, name: &str) -> MetricType {
        self.families.type_of(name)
    }

    /// The samples called exactly `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// Every series of the histogram `family` (`_bucket`, `_sum` and `_count` put together),
    /// keyed by its labels without `le`. Buckets come sorted by bound; a series without
    /// `_sum` or `_count` gets NaN there (the `+Inf` bucket carries the count anyway).
    pub fn histograms(&self, family: &str) -> BTreeMap<Labels, Histogram> {
        let mut series = HistogramSeries::default();
        for s in &self.samples {
            if let Some(suffix) = s.name.strip_prefix(family) {
                series.add(suffix, Cow::Borrowed(&s.labels), s.value);
            }
        }
        series.finish()
    }
}

/// Parses a whole page.
pub fn parse(text: &str) -> Result<Scrape, ParseError> {
    let mut samples = Vec::new();
    let families = visit(text, |sample| samples.push(sample.to_owned()))?;
    Ok(Scrape { samples, families })
}

/// The `# TYPE` and `# HELP` lines of a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Families {
    pub types: BTreeMap<String, MetricType>,
    pub help: BTreeMap<String, String>,
}

impl Families {
    pub fn family_of<'a>(&self, name: &'a str) -> &'a str {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                match self.types.get(base) {
                    Some(MetricType::Histogram) => return base,
                    Some(MetricType::Summary) if suffix != "_bucket" => return base,
                    _ => {}
                }
            }
        }
        name
    }

    pub fn type_of(&self, name: &str) -> MetricType {
        self.types
            .get(self.family_of(name))
            .copied()
            .unwrap_or(MetricType::Untyped)
    }
}

/// A sample line read in place: its labels borrow the page (copied only where they had
/// escapes), in page order.
#[derive(Debug)]
pub struct SampleRef<'a, 'b> {
    pub name: &'a str,
    pub labels: &'b [(&'a str, Cow<'a, str>)],
    pub value: f64,
}

impl SampleRef<'_, '_> {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
    }

    pub fn owned_labels(&self) -> Labels {
        self.labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn to_owned(&self) -> Sample {
        Sample {
            name: self.name.to_string(),
            labels: self.owned_labels(),
            value: self.value,
        }
    }
}

/// Reads a whole page, handing each sample to `on_sample` as it is read, with the same checks
/// as `parse`. A reader that keeps a few series of a large page pays only for those: the
/// others are never copied.
pub fn visit(
    text: &str,
    mut on_sample: impl FnMut(SampleRef<'_, '_>),
) -> Result<Families, ParseError> {
    let mut families = Families::default();
    let mut labels = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let fail = |message: String| ParseError {
            line: index + 1,
            message,
        };
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.trim_end_matches([' ', '\t']).is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            comment_line(comment, &mut families).map_err(fail)?;
            continue;
        }
        labels.clear();
        let (name, value) = sample_line(trimmed, &mut labels).map_err(fail)?;
        let sample = SampleRef {
            name,
            labels: &labels,
            value,
        };
        if name.ends_with("_bucket") && families.type_of(name) == MetricType::Histogram {
            match sample.label("le").map(parse_float) {
                Some(Some(_)) => {}
                Some(None) => {
                    return Err(fail(format!(
                        "bucket of {name} has a non-numeric le {:?}",
                        sample.label("le").unwrap_or_default()
                    )));
                }
                None => return Err(fail(format!("bucket of {name} has no le"))),
            }
        }
        on_sample(sample);
    }
    Ok(families)
}

fn comment_line(comment: &str, families: &mut Families) -> Result<(), String> {
    let comment = comment.trim_start_matches([' ', '\t']);
    let (keyword, rest) = comment.split_once([' ', '\t']).unwrap_or((comment, ""));
    if keyword != "HELP" && keyword != "TYPE" {
        return Ok(());
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let (name, tail) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    if !is_metric_name(name) {
        return Err(format!("{keyword} line with a bad metric name {name:?}"));
    }
    if keyword == "TYPE" {
        let kind = tail.trim_matches([' ', '\t']);
        let kind = MetricType::parse(kind).ok_or_else(|| format!("unknown type {kind:?}"))?;
        if families.types.insert(name.to_string(), kind).is_some() {
            return Err(format!("second TYPE line for {name}"));
        }
    } else {
        let help = unescape(tail, false)?.into_owned();
        if families.help.insert(name.to_string(), help).is_some() {
            return Err(format!("second HELP line for {name}"));
        }
    }
    Ok(())
}

/// Undoes `\\` and `\n` (and `\"` inside label values).
fn unescape(text: &str, quotes: bool) -> Result<Cow<'_, str>, String> {
    if !text.contains('\\') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quotes => out.push('"'),
            Some(other) => return Err(format!("invalid escape \\{other}")),
            None => return Err("escape at the end of the line".to_string()),
        }
    }
    Ok(Cow::Owned(out))
}

/// Names are ASCII: checking bytes turns any other character away just as checking chars does.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| is_name_byte(b) || b == b':')
}

fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(is_name_byte)
}

fn skip_blanks(s: &str) -> &str {
    let blanks = s.bytes().take_while(|&b| b == b' ' || b == b'\t').count();
    &s[blanks..]
}

/// Reads a sample line into its name and value, its labels into `labels`.
fn sample_line<'a>(
    line: &'a str,
    labels: &mut Vec<(&'a str, Cow<'a, str>)>,
) -> Result<(&'a str, f64), String> {
    let name_end = line
        .bytes()
        .position(|b| !(is_name_byte(b) || b == b':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("bad metric name at {:?}", preview(line)));
    }
    let mut rest = skip_blanks(&line[name_end..]);
    if let Some(after) = rest.strip_prefix('{') {
        rest = label_set(after, labels)?;
    }
    let rest = skip_blanks(rest);
    let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
    let value_text = fields
        .next()
        .ok_or_else(|| format!("{name} has no value"))?;
    let value =
        parse_float(value_text).ok_or_else(|| format!("{name} has a bad value {value_text:?}"))?;
    if let Some(ts) = fields.next()
        && ts.parse::<i64>().is_err()
    {
        return Err(format!("{name} has a bad timestamp {ts:?}"));
    }
    if let Some(extra) = fields.next() {
        return Err(format!("{name} has trailing text {extra:?}"));
    }
    Ok((name, value))
}

/// Reads `label="value",...}` and returns what follows the closing brace.
fn label_set<'a>(
    mut rest: &'a str,
    labels: &mut Vec<(&'a str, Cow<'a, str>)>,
) -> Result<&'a str, String> {
    let mut seen = 0u64;
    loop {
        rest = skip_blanks(rest);
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("label without '=' at {:?}", preview(rest)))?;
        let key = rest[..eq].trim_end_matches([' ', '\t']);
        if !is_label_name(key) {
            return Err(format!("bad label name {key:?}"));
        }
        rest = skip_blanks(&rest[eq + 1..]);
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("value of label {key} is not quoted"))?;
        let close =
            closing_quote(rest).ok_or_else(|| format!("value of label {key} is not closed"))?;
        let value = unescape(&rest[..close], true).map_err(|e| format!("label {key}: {e}"))?;
        // A line has a few dozen labels: a 64-bit filter on length and end bytes spares the
        // comparison with every earlier one unless a name could be a repeat.
        let bit = 1u64 << ((key.len() ^ usize::from(key.as_bytes()[key.len() - 1])) % 64);
        if seen & bit != 0 && labels.iter().any(|(k, _)| *k == key) {
            return Err(format!("label {key} appears twice"));
        }
        seen |= bit;
        labels.push((key, value));
        rest = skip_blanks(&rest[close + 1..]);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err(format!("expected ',' or '}}' after label {key}"));
        }
    }
}

/// The byte index of the first unescaped `"`. Bytes rather than chars: neither `"` nor `\\`
/// can be part of a longer UTF-8 sequence.
fn closing_quote(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

fn preview(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slice of a real istiod 1.24 page, in the order istiod writes it.
    const ISTIOD: &str = r#"# HELP pilot_proxy_convergence_time Delay in seconds between config change and a proxy receiving all required configuration.
# TYPE pilot_proxy_convergence_time histogram
pilot_proxy_convergence_time_bucket{le="0.1"} 40
pilot_proxy_convergence_time_bucket{le="0.5"} 70
pilot_proxy_convergence_time_bucket{le="1"} 90
pilot_proxy_convergence_time_bucket{le="3"} 96
pilot_proxy_convergence_time_bucket{le="5"} 98
pilot_proxy_convergence_time_bucket{le="10"} 100
pilot_proxy_convergence_time_bucket{le="20"} 100
pilot_proxy_convergence_time_bucket{le="30"} 100
pilot_proxy_convergence_time_bucket{le="+Inf"} 100
pilot_proxy_convergence_time_sum 41.5
pilot_proxy_convergence_time_count 100
# HELP pilot_xds Number of endpoints connected to this pilot using XDS.
# TYPE pilot_xds gauge
pilot_xds{version="1.24.0"} 41
pilot_xds{version="1.22.4"} 1
# HELP pilot_xds_pushes Pilot build and send errors for lds, rds, cds and eds.
# TYPE pilot_xds_pushes counter
pilot_xds_pushes{type="cds"} 1200
pilot_xds_pushes{type="eds"} 5400
pilot_xds_pushes{type="cds_senderr"} 3
# HELP pilot_total_xds_rejects Total number of XDS responses from pilot rejected by proxy.
# TYPE pilot_total_xds_rejects counter
pilot_total_xds_rejects{type="lds"} 2
# HELP istio_build Istio component build info
# TYPE istio_build gauge
istio_build{component="pilot",tag="1.24.0"} 1
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.7301234e+09
"#;

    #[test]
    fn istiod_families_and_types() {
        let scrape = parse(ISTIOD).unwrap();
        assert_eq!(scrape.samples.len(), 19);
        assert_eq!(
            scrape.families.types["pilot_proxy_convergence_time"],
            MetricType::Histogram
        );
        assert_eq!(
            scrape.families.types["pilot_xds_pushes"],
            MetricType::Counter
        );
        assert_eq!(
            scrape.type_of("pilot_proxy_convergence_time_bucket"),
            MetricType::Histogram
        );
        assert_eq!(scrape.type_of("something_else"), MetricType::Untyped);
        assert_eq!(
            scrape.families.help["pilot_xds"],
            "Number of endpoints connected to this pilot using XDS."
        );
        let versions: Vec<(&str, f64)> = scrape
            .named("pilot_xds")
            .map(|s| (s.labels["version"].as_str(), s.value))
            .collect();
        assert_eq!(versions, vec![("1.24.0", 41.0), ("1.22.4", 1.0)]);
        let senderr = scrape
            .named("pilot_xds_pushes")
            .find(|s| s.labels["type"].ends_with("_senderr"))
            .unwrap();
        assert_eq!(senderr.value, 3.0);
        let start = scrape.named("process_start_time_seconds").next().unwrap();
        assert_eq!(start.value, 1_730_123_400.0);
        assert!(start.labels.is_empty());
    }

    #[test]
    fn histograms_are_put_together() {
        let scrape = parse(ISTIOD).unwrap();
        let all = scrape.histograms("pilot_proxy_convergence_time");
        assert_eq!(all.len(), 1);
        let h = &all[&Labels::new()];
        assert_eq!(h.buckets.len(), 9);
        assert_eq!(h.buckets[0], (0.1, 40.0));
        assert_eq!(h.buckets[8], (f64::INFINITY, 100.0));
        assert_eq!(h.count, 100.0);
        assert_eq!(h.sum, 41.5);
        // `pilot_xds` is not `pilot_xds_pushes`' family, nor the other way round.
        assert!(scrape.histograms("pilot_xds").is_empty());
    }

    #[test]
    fn sidecar_labels_with_commas_quotes_and_newlines() {
        let page = concat!(
            "# HELP istio_requests_total Total requests.\n",
            "# TYPE istio_requests_total counter\n",
            "istio_requests_total{reporter=\"source\",response_code=\"503\",",
            "response_flags=\"UF,URX\",path=\"a \\\"b\\\" \\\\c\\nd}\",} 7 1700000000000\n",
        );
        let scrape = parse(page).unwrap();
        let s = &scrape.samples[0];
        assert_eq!(s.labels["response_flags"], "UF,URX");
        assert_eq!(s.labels["path"], "a \"b\" \\c\nd}");
        assert_eq!(s.labels.len(), 4);
        assert_eq!(s.value, 7.0);
    }

    #[test]
    fn values_beyond_ascii_next_to_escapes() {
        let page = "x{a=\"ü\\\"ß\",b=\"\\\\日本\"} 1\n";
        let s = &parse(page).unwrap().samples[0];
        assert_eq!(s.labels["a"], "ü\"ß");
        assert_eq!(s.labels["b"], "\\日本");
        let err = parse("x{a=\"\\é\"} 1\n").unwrap_err();
        assert!(err.message.contains("invalid escape \\é"), "{err}");
        let err = parse("ok 1\nµs 1\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("bad metric name"), "{err}");
        let err = parse("x{größe=\"1\"} 1\n").unwrap_err();
        assert!(err.message.contains("bad label name \"größe\""), "{err}");
        assert!(parse("x:y_z{a_1=\"1\"}  \t 1\n").is_ok());
    }

    #[test]
    fn special_values_blanks_and_comments() {
        let page =
            "# just a comment\n\n  up  NaN\r\nx{a=\"1\"}\t+Inf\ny -Inf\n#TYPE z gauge\nz 1e-3\n";
        let scrape = parse(page).unwrap();
        assert!(scrape.samples[0].value.is_nan());
        assert_eq!(scrape.samples[1].value, f64::INFINITY);
        assert_eq!(scrape.samples[2].value, f64::NEG_INFINITY);
        assert_eq!(scrape.families.types["z"], MetricType::Gauge);
        assert_eq!(scrape.samples[3].value, 0.001);
        assert_eq!(parse("").unwrap(), Scrape::default());
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("ok 1\nbroken{a=\"1\" 2\n", 2, "expected ','"),
            ("a 1\nb\n", 2, "has no value"),
            ("a one\n", 1, "bad value"),
            ("a{b=\"x\\q\"} 1\n", 1, "invalid escape"),
            ("a{b=\"x} 1\n", 1, "not closed"),
            ("a{b=x} 1\n", 1, "not quoted"),
            ("a{b=\"1\",b=\"2\"} 1\n", 1, "twice"),
            ("a{1b=\"1\"} 1\n", 1, "bad label name"),
            ("a 1 soon\n", 1, "bad timestamp"),
            ("a 1 2 3\n", 1, "trailing text"),
            ("# TYPE a meter\n", 1, "unknown type"),
            ("# TYPE a gauge\n# TYPE a gauge\n", 2, "second TYPE"),
            ("\n\n{a=\"1\"} 1\n", 3, "bad metric name"),
            (
                "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
                2,
                "non-numeric le",
            ),
            ("# TYPE h histogram\nh_sum 1\nh_bucket 1\n", 3, "has no le"),
        ];
        for (page, line, words) in cases {
            let err = parse(page).unwrap_err();
            assert_eq!(err.line, line, "{page:?}: {err}");
            assert!(err.message.contains(words), "{page:?}: {err}");
            assert!(err.to_string().starts_with(&format!("line {line}: ")));
        }
    }

    #[test]
    fn summaries_claim_sum_and_count_but_not_buckets() {
        let page = "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\ns_count 2\ns_bucket 9\n";
        let scrape = parse(page).unwrap();
        assert_eq!(scrape.family_of("s_sum"), "s");
        assert_eq!(scrape.family_of("s_count"), "s");
        assert_eq!(scrape.family_of("s_bucket"), "s_bucket");
    }
}
