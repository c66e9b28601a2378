//! The `--plan FILE` TOML: parsed with every value's position, so an error names the file,
//! the line and the field; then completed from the derived plan for what it leaves out.
//!
//! ```toml
//! from = "1-24-0"
//! to = "1-25-0"
//! tags = ["stable", "default"]
//! tag_soak = "30m"
//! keep_old = "48h"
//! prometheus_service = "monitoring/prometheus"
//! wave_concurrency = 1
//! namespace_bake = "2m"
//! namespace_timeout = "10m"
//!
//! [[waves]]
//! name = "staging"
//! selector = "tier in (staging)"
//! soak = "10m"
//! wave_concurrency = 3
//!
//! [[waves]]
//! name = "payments"
//! namespaces = ["checkout", "billing"]
//! soak = "1h"
//! namespace_bake = "10m"
//!
//! [rollback]
//! p99_latency_increase = "50%"
//! p99_latency_for = "2m"
//! error_ratio = "1%"
//! error_ratio_for = "1m"
//! xds_rejects = 0
//! mtls_errors = 0
//! convergence_p99 = "5s"
//! convergence_p99_for = "1m"
//! auto_rollback = false
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use crate::k8s::selector::LabelSelector;

use super::model::{
    DEFAULT_KEEP_OLD, DEFAULT_TAG_SOAK, NamespaceSelector, Pacing, PacingOverride, Plan,
    Thresholds, Wave,
};

mod pacing;
mod values;
mod write;

pub use write::to_toml;

use values::{Doc, Value, in_file_order, is_dns_label};

/// A wave's soak when the file does not say.
pub const DEFAULT_WAVE_SOAK: Duration = Duration::from_secs(30 * 60);

const TOP_FIELDS: &str = "from, to, tags, tag_soak, keep_old, prometheus_service, \
                          wave_concurrency, namespace_bake, namespace_timeout, [[waves]], \
                          [rollback]";
const WAVE_FIELDS: &str = "name, namespaces, selector, soak, wave_concurrency, namespace_bake, \
                           namespace_timeout";
const ROLLBACK_FIELDS: &str = "p99_latency_increase, p99_latency_for, error_ratio, \
                               error_ratio_for, xds_rejects, mtls_errors, convergence_p99, \
                               convergence_p99_for, auto_rollback";

/// What is wrong with a plan, and where: `line` counts from 1 (0 when the problem has no
/// line, e.g. the file cannot be read); `field` is the setting's path, e.g. `waves[1].soak`
/// (empty for a TOML syntax error).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PlanError {}

/// A plan file as written: what it sets, and on which line, for errors found when it is
/// completed (`resolve`). Rollback thresholds it leaves out have their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanFile {
    pub file: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `Some(vec![])` when the file says `waves = []`: no waves, only tags.
    pub waves: Option<Vec<Wave>>,
    pub tags: Option<Vec<String>>,
    pub tag_soak: Option<Duration>,
    pub keep_old: Option<Duration>,
    pub prometheus_service: Option<String>,
    pub thresholds: Thresholds,
    /// The pacing keys the file sets at its top level.
    pub pacing: PacingOverride,
    /// The 1-based line of each top-level field the file sets.
    pub lines: BTreeMap<String, usize>,
}

/// Parses a plan file; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<PlanFile, PlanError> {
    let doc = Doc { text, file };
    let root = DeTable::parse(text).map_err(|e| doc.syntax(&e))?;
    let mut plan = PlanFile {
        file: file.to_string(),
        from: None,
        to: None,
        waves: None,
        tags: None,
        tag_soak: None,
        keep_old: None,
        prometheus_service: None,
        thresholds: Thresholds::default(),
        pacing: PacingOverride::default(),
        lines: BTreeMap::new(),
    };
    for (key, value) in in_file_order(root.get_ref()) {
        let name: &str = key.get_ref();
        match name {
            "from" => plan.from = Some(doc.revision(value, name)?),
            "to" => plan.to = Some(doc.revision(value, name)?),
            "tags" => plan.tags = Some(doc.tags(value)?),
            "tag_soak" => plan.tag_soak = Some(doc.duration(value, name)?),
            "keep_old" => plan.keep_old = Some(doc.duration(value, name)?),
            "prometheus_service" => plan.prometheus_service = Some(doc.service(value)?),
            "waves" => plan.waves = Some(doc.waves(value)?),
            "rollback" => plan.thresholds = doc.rollback(value)?,
            _ => {
                if !doc.pacing_key(name, value, name, &mut plan.pacing)? {
                    return Err(doc.unknown(key, "", TOP_FIELDS));
                }
            }
        }
        plan.lines.insert(name.to_string(), doc.line(key.span()));
    }
    Ok(plan)
}

/// Reads and parses a plan file; an unreadable file is an error without a line.
pub fn load(path: &Path) -> Result<PlanFile, PlanError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PlanError {
        file: file.clone(),
        line: 0,
        field: String::new(),
        message: format!("cannot read the plan file: {e}"),
    })?;
    parse(&text, &file)
}

/// Completes a plan file from the derived plan: from, to, waves and tags the file leaves out
/// come from the cluster. Tags are only taken from the derived plan when it leaves the same
/// revision as the file; they would be another revision's tags otherwise.
pub fn resolve(file: PlanFile, derived: Option<Plan>) -> Result<Plan, PlanError> {
    let error = |field: &str, message: String| PlanError {
        file: file.file.clone(),
        line: file.lines.get(field).copied().unwrap_or(0),
        field: field.to_string(),
        message,
    };
    let underivable = "the cluster does not show two revisions to upgrade between \
                       (the oldest one still serving and a newer one)";
    let from = match (&file.from, &derived) {
        (Some(from), _) => from.clone(),
        (None, Some(d)) => d.from.clone(),
        (None, None) => {
            return Err(error(
                "from",
                format!("not set, and {underivable}; set from = \"<revision>\""),
            ));
        }
    };
    let to = match (&file.to, &derived) {
        (Some(to), _) => to.clone(),
        (None, Some(d)) => d.to.clone(),
        (None, None) => {
            return Err(error(
                "to",
                format!("not set, and {underivable}; set to = \"<revision>\""),
            ));
        }
    };
    if from == to {
        let field = if file.to.is_some() || file.from.is_none() {
            "to"
        } else {
            "from"
        };
        return Err(error(
            field,
            format!("`from` and `to` are both {to}: there is nothing to upgrade"),
        ));
    }
    let waves = match (&file.waves, &derived) {
        (Some(waves), _) => waves.clone(),
        (None, Some(d)) => d.waves.clone(),
        (None, None) => {
            return Err(error(
                "waves",
                format!(
                    "no [[waves]] in the file, and they cannot be derived: {underivable}; \
                     add [[waves]] tables, or waves = [] to only move tags"
                ),
            ));
        }
    };
    let tags = match (&file.tags, &derived) {
        (Some(tags), _) => tags.clone(),
        (None, Some(d)) if d.from == from => d.tags.clone(),
        (None, Some(d)) => {
            return Err(error(
                "tags",
                format!(
                    "not set, and the tags to move cannot be derived: the plan leaves {from} \
                     but the cluster upgrades from {}; list them, e.g. tags = [\"stable\", \"default\"], \
                     or tags = [] to move none",
                    d.from
                ),
            ));
        }
        (None, None) => {
            return Err(error(
                "tags",
                format!(
                    "not set, and they cannot be derived: {underivable}; list them, e.g. \
                     tags = [\"stable\", \"default\"], or tags = [] to move none"
                ),
            ));
        }
    };
    Ok(Plan {
        from,
        to,
        waves,
        tags,
        tag_soak: file.tag_soak.unwrap_or(DEFAULT_TAG_SOAK),
        keep_old: file.keep_old.unwrap_or(DEFAULT_KEEP_OLD),
        thresholds: file.thresholds,
        pacing: Pacing::default().with(&file.pacing),
        prometheus_service: file.prometheus_service,
        derived: false,
    })
}

impl Doc<'_> {
    fn revision(&self, value: &Value<'_>, field: &str) -> Result<String, PlanError> {
        self.dns_label(value, field, "a revision name like \"1-25-0\"")
    }

    fn tags(&self, value: &Value<'_>) -> Result<Vec<String>, PlanError> {
        let what = "a list of tag names like [\"stable\", \"default\"]";
        let mut tags = Vec::new();
        for (i, item) in self.array(value, "tags", what)?.iter().enumerate() {
            let tag = self.dns_label(item, &format!("tags[{i}]"), "a tag name like \"stable\"")?;
            if tags.contains(&tag) {
                return Err(self.error(
                    item.span(),
                    &format!("tags[{i}]"),
                    format!("`{tag}` is listed twice"),
                ));
            }
            tags.push(tag);
        }
        Ok(tags)
    }

    fn service(&self, value: &Value<'_>) -> Result<String, PlanError> {
        let what = "\"namespace/name\" of a Service, like \"monitoring/prometheus\"";
        let text = self.string(value, "prometheus_service", what)?;
        match text.split_once('/') {
            Some((ns, name)) if is_dns_label(ns) && is_dns_label(name) => Ok(text),
            _ => Err(self.expected(value, "prometheus_service", what)),
        }
    }

    fn waves(&self, value: &Value<'_>) -> Result<Vec<Wave>, PlanError> {
        let what = "[[waves]] tables, one per wave";
        let mut waves: Vec<Wave> = Vec::new();
        // Namespace name -> the wave that lists it.
        let mut listed: BTreeMap<String, String> = BTreeMap::new();
        for (i, item) in self.array(value, "waves", what)?.iter().enumerate() {
            let prefix = format!("waves[{i}]");
            let table = self.table(item, &prefix, what)?;
            let wave = self.wave(item.span(), table, &prefix, &mut listed)?;
            if let Some(other) = waves.iter().position(|w| w.name == wave.name) {
                let name_span = table.get("name").map_or(item.span(), |v| v.span());
                return Err(self.error(
                    name_span,
                    &format!("{prefix}.name"),
                    format!("waves[{other}] is already named `{}`", wave.name),
                ));
            }
            waves.push(wave);
        }
        Ok(waves)
    }

    fn wave(
        &self,
        header: Range<usize>,
        table: &DeTable<'_>,
        prefix: &str,
        listed: &mut BTreeMap<String, String>,
    ) -> Result<Wave, PlanError> {
        let (mut name, mut soak) = (None, None);
        let mut selector = None;
        let mut pacing = PacingOverride::default();
        let mut names_seen: Vec<(String, Range<usize>, String)> = Vec::new();
        for (key, value) in in_file_order(table) {
            let key_name: &str = key.get_ref();
            let field = format!("{prefix}.{key_name}");
            match key_name {
                "name" => {
                    let text =
                        self.string(value, &field, "a name for the wave, like \"staging\"")?;
                    if text.trim().is_empty() {
                        return Err(self.error(value.span(), &field, "must not be empty"));
                    }
                    name = Some(text);
                }
                "soak" => soak = Some(self.duration(value, &field)?),
                "namespaces" | "selector" => {
                    if selector.is_some() {
                        return Err(self.error(
                            key.span(),
                            &field,
                            "set `namespaces` or `selector`, not both",
                        ));
                    }
                    selector = Some(if key_name == "namespaces" {
                        let what = "a list of namespace names like [\"checkout\", \"billing\"]";
                        let items = self.array(value, &field, what)?;
                        if items.is_empty() {
                            return Err(self.error(
                                value.span(),
                                &field,
                                "a wave needs at least one namespace",
                            ));
                        }
                        let mut names = Vec::new();
                        for (j, item) in items.iter().enumerate() {
                            let item_field = format!("{field}[{j}]");
                            let ns = self.dns_label(
                                item,
                                &item_field,
                                "a namespace name like \"checkout\"",
                            )?;
                            names_seen.push((ns.clone(), item.span(), item_field));
                            names.push(ns);
                        }
                        NamespaceSelector::Names(names)
                    } else {
                        let what = "a label selector like \"tier in (staging)\"";
                        let text = self.string(value, &field, what)?;
                        LabelSelector::parse(&text)
                            .map_err(|e| self.error(value.span(), &field, e))?;
                        NamespaceSelector::Labels(text)
                    });
                }
                _ => {
                    if !self.pacing_key(key_name, value, &field, &mut pacing)? {
                        return Err(self.unknown(key, &format!("{prefix}."), WAVE_FIELDS));
                    }
                }
            }
        }
        let Some(name) = name else {
            return Err(self.error(
                header,
                &format!("{prefix}.name"),
                "every wave needs a name, e.g. name = \"staging\"",
            ));
        };
        let Some(selector) = selector else {
            return Err(self.error(
                header,
                prefix,
                "a wave needs namespaces = [\"...\"] or selector = \"...\"",
            ));
        };
        for (ns, span, field) in names_seen {
            if let Some(other) = listed.get(&ns) {
                let message = if *other == name {
                    format!("`{ns}` is listed twice")
                } else {
                    format!("`{ns}` is already in wave `{other}`")
                };
                return Err(self.error(span, &field, message));
            }
            listed.insert(ns, name.clone());
        }
        Ok(Wave {
            name,
            selector,
            soak: soak.unwrap_or(DEFAULT_WAVE_SOAK),
            pacing,
        })
    }

    fn rollback(&self, value: &Value<'_>) -> Result<Thresholds, PlanError> {
        let table = self.table(value, "rollback", "a [rollback] table")?;
        let mut t = Thresholds::default();
        for (key, value) in in_file_order(table) {
            let key_name: &str = key.get_ref();
            let field = format!("rollback.{key_name}");
            let f = field.as_str();
            match key_name {
                "p99_latency_increase" => {
                    t.p99_latency_increase = self.ratio(value, f, ("50%", "0.5"), None)?
                }
                "p99_latency_for" => t.p99_latency_for = self.duration(value, f)?,
                "error_ratio" => t.error_ratio = self.ratio(value, f, ("1%", "0.01"), Some(1.0))?,
                "error_ratio_for" => t.error_ratio_for = self.duration(value, f)?,
                "xds_rejects" => t.xds_rejects = self.count(value, f)?,
                "mtls_errors" => t.mtls_errors = self.count(value, f)?,
                "convergence_p99" => {
                    let limit = self.duration(value, f)?;
                    if limit.is_zero() {
                        return Err(self.error(value.span(), f, "must be more than 0s"));
                    }
                    t.convergence_p99_seconds = limit.as_secs_f64();
                }
                "convergence_p99_for" => t.convergence_p99_for = self.duration(value, f)?,
                "auto_rollback" => match value.get_ref() {
                    DeValue::Boolean(b) => t.auto_rollback = *b,
                    _ => return Err(self.expected(value, f, "true or false")),
                },
                _ => return Err(self.unknown(key, "rollback.", ROLLBACK_FIELDS)),
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::demo;
    use crate::plan::derive::derive;

    const FULL: &str = r#"# the payments upgrade
from = "1-24-0"
to = "1-25-0"
tags = ["stable", "default"]
tag_soak = "45m"
keep_old = "48h"
prometheus_service = "monitoring/prometheus"
wave_concurrency = 2
namespace_bake = "5m"

[[waves]]
name = "staging"
selector = "tier in (staging)"
soak = "10m"
namespace_bake = "30s"
namespace_timeout = "3m"

[[waves]]
name = "payments"
namespaces = ["checkout", "billing"]
soak = "1h30m"
wave_concurrency = 1

[[waves]]
name = "rest"
namespaces = ["search"]

[rollback]
p99_latency_increase = "+25%"
p99_latency_for = "90s"
error_ratio = 0.02
error_ratio_for = "5m"
xds_rejects = 3
mtls_errors = 1
convergence_p99 = "2500ms"
convergence_p99_for = "30s"
auto_rollback = true
"#;

    fn minutes(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    /// The error a plan text gives, as (line, field, message).
    fn error(text: &str) -> (usize, String, String) {
        let e = parse(text, "plan.toml").expect_err(text);
        assert_eq!(e.file, "plan.toml");
        (e.line, e.field, e.message)
    }

    fn assert_error(text: &str, line: usize, field: &str, message: &str) {
        let (l, f, m) = error(text);
        assert_eq!((l, f.as_str()), (line, field), "{text}\n-> {m}");
        assert!(m.contains(message), "{text}\n-> {m}\nwanted: {message}");
    }

    #[test]
    fn a_complete_file_sets_everything() {
        let file = parse(FULL, "plan.toml").unwrap();
        let plan = resolve(file, None).unwrap();
        assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
        assert_eq!(plan.tags, ["stable", "default"]);
        assert_eq!(
            (plan.tag_soak, plan.keep_old),
            (minutes(45), minutes(48 * 60))
        );
        assert_eq!(
            plan.prometheus_service.as_deref(),
            Some("monitoring/prometheus")
        );
        assert_eq!(
            plan.waves,
            [
                Wave {
                    name: "staging".into(),
                    selector: NamespaceSelector::Labels("tier in (staging)".into()),
                    soak: minutes(10),
                    pacing: PacingOverride {
                        concurrency: None,
                        bake: Some(Duration::from_secs(30)),
                        timeout: Some(minutes(3)),
                    },
                },
                Wave {
                    name: "payments".into(),
                    selector: NamespaceSelector::Names(vec!["checkout".into(), "billing".into()]),
                    soak: minutes(90),
                    pacing: PacingOverride {
                        concurrency: Some(1),
                        ..PacingOverride::default()
                    },
                },
                Wave {
                    name: "rest".into(),
                    selector: NamespaceSelector::Names(vec!["search".into()]),
                    soak: DEFAULT_WAVE_SOAK,
                    pacing: PacingOverride::default(),
                },
            ]
        );
        assert_eq!(
            plan.thresholds,
            Thresholds {
                p99_latency_increase: 0.25,
                p99_latency_for: Duration::from_secs(90),
                error_ratio: 0.02,
                error_ratio_for: minutes(5),
                xds_rejects: 3,
                mtls_errors: 1,
                convergence_p99_seconds: 2.5,
                convergence_p99_for: Duration::from_secs(30),
                auto_rollback: true,
            }
        );
        assert!(!plan.derived);
        assert_eq!(
            plan.pacing,
            Pacing {
                concurrency: 2,
                bake: minutes(5),
                timeout: minutes(10),
            }
        );
        let staging = plan.wave_pacing(0);
        assert_eq!(
            (staging.concurrency, staging.bake, staging.timeout),
            (2, Duration::from_secs(30), minutes(3))
        );
        assert_eq!(plan.wave_pacing(1).concurrency, 1);
        assert_eq!(plan.wave_pacing(2), plan.pacing);
    }

    #[test]
    fn bad_pacing_values_name_their_line_and_field() {
        assert_error(
            "wave_concurrency = 0\n",
            1,
            "wave_concurrency",
            "must be 1 or more",
        );
        assert_error(
            "from = \"1-24-0\"\nnamespace_bake = \"soon\"\n",
            2,
            "namespace_bake",
            "expected a duration",
        );
        assert_error(
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nnamespace_timeout = \"0s\"\n",
            4,
            "waves[0].namespace_timeout",
            "must be more than 0s",
        );
        assert_error(
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nwave_concurrency = \"two\"\n",
            4,
            "waves[0].wave_concurrency",
            "a whole number",
        );
        let plan = resolve(parse("", "plan.toml").unwrap(), derive(&demo().state)).unwrap();
        assert_eq!(plan.pacing, Pacing::default());
    }

    #[test]
    fn an_empty_file_is_the_derived_plan() {
        let derived = derive(&demo().state).unwrap();
        let plan = resolve(parse("", "plan.toml").unwrap(), Some(derived.clone())).unwrap();
        assert_eq!(
            plan,
            Plan {
                derived: false,
                ..derived
            }
        );
    }

    #[test]
    fn what_the_file_leaves_out_comes_from_the_cluster() {
        let derived = derive(&demo().state).unwrap();
        let text = "keep_old = \"36h\"\n[rollback]\nerror_ratio = \"0.5%\"\n";
        let plan = resolve(parse(text, "plan.toml").unwrap(), Some(derived.clone())).unwrap();
        assert_eq!(plan.waves, derived.waves);
        assert_eq!(plan.tags, ["stable", "default"]);
        assert_eq!(plan.keep_old, minutes(36 * 60));
        assert_eq!(plan.tag_soak, DEFAULT_TAG_SOAK);
        assert_eq!(plan.thresholds.error_ratio, 0.005);
        assert_eq!(plan.thresholds.p99_latency_increase, 0.5);
        // A file that only names the waves keeps the derived revisions and tags.
        let text = "[[waves]]\nname = \"all\"\nselector = \"\"\n";
        let plan = resolve(parse(text, "plan.toml").unwrap(), Some(derived)).unwrap();
        assert_eq!((plan.from.as_str(), plan.tags.len()), ("1-24-0", 2));
        assert_eq!(plan.waves.len(), 1);
    }

    #[test]
    fn resolving_refuses_what_cannot_be_known() {
        let resolve_text = |text: &str, derived: Option<Plan>| {
            resolve(parse(text, "plan.toml").unwrap(), derived).unwrap_err()
        };
        let e = resolve_text("", None);
        assert_eq!((e.line, e.field.as_str()), (0, "from"));
        assert!(e.message.contains("does not show two revisions"), "{e}");
        let e = resolve_text("from = \"1-24-0\"\n", None);
        assert_eq!((e.line, e.field.as_str()), (0, "to"));
        let e = resolve_text("from = \"1-24-0\"\nto = \"1-24-0\"\n", None);
        assert_eq!((e.line, e.field.as_str()), (2, "to"));
        assert_eq!(
            e.to_string(),
            "plan.toml:2: field `to`: `from` and `to` are both 1-24-0: there is nothing to upgrade"
        );
        let derived = derive(&demo().state).unwrap();
        let e = resolve_text("\n\nto = \"1-24-0\"\n", Some(derived.clone()));
        assert_eq!((e.line, e.field.as_str()), (3, "to"));
        let e = resolve_text("from = \"1-24-0\"\nto = \"1-25-0\"\n", None);
        assert_eq!((e.line, e.field.as_str()), (0, "waves"));
        let e = resolve_text("from = \"1-24-0\"\nto = \"1-25-0\"\nwaves = []\n", None);
        assert_eq!((e.line, e.field.as_str()), (0, "tags"));
        // Leaving another revision than the cluster's: its tags are not the derived ones.
        let e = resolve_text("from = \"1-23-0\"\n", Some(derived.clone()));
        assert_eq!(e.field, "tags");
        assert!(
            e.message
                .contains("leaves 1-23-0 but the cluster upgrades from 1-24-0"),
            "{e}"
        );
        let plan = resolve(
            parse("from = \"1-23-0\"\ntags = []\n", "plan.toml").unwrap(),
            Some(derived),
        )
        .unwrap();
        assert!(plan.tags.is_empty());
        // Waves and tags explicitly empty: a plan that only moves nothing but is valid.
        let only = "from = \"1-24-0\"\nto = \"1-25-0\"\nwaves = []\ntags = [\"default\"]\n";
        let plan = resolve(parse(only, "plan.toml").unwrap(), None).unwrap();
        assert!(plan.waves.is_empty());
    }

    #[test]
    fn syntax_errors_name_their_line() {
        assert_error("from = \"1-24-0\"\nto = \n", 2, "", "not valid TOML");
        assert_error("from = \"a\"\nfrom = \"b\"\n", 2, "", "duplicate key");
        let e = parse("x = [1\n", "plan.toml").unwrap_err();
        assert!(
            e.to_string().starts_with("plan.toml:1: not valid TOML: "),
            "{e}"
        );
    }

    #[test]
    fn unknown_fields_are_refused_wherever_they_are() {
        assert_error(
            "from = \"1-24-0\"\nform = \"x\"\n",
            2,
            "form",
            "unknown field; expected one of from, to",
        );
        assert_error(
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nsoaks = \"1m\"\n",
            4,
            "waves[0].soaks",
            "expected one of name, namespaces, selector, soak",
        );
        assert_error(
            "[rollback]\nlatency = 1\n",
            2,
            "rollback.latency",
            "p99_latency_increase",
        );
    }

    #[test]
    fn wrong_types_and_values_name_the_field() {
        let soon = "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n\n[[waves]]\nname = \"b\"\nsoak = \"soon\"\nnamespaces = [\"y\"]\n";
        let e = parse(soon, "plan.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "plan.toml:7: field `waves[1].soak`: expected a duration like \"30m\", \"2h\" or \"90s\", got \"soon\""
        );
        let cases: &[(&str, usize, &str, &str)] = &[
            (
                "from = 124\n",
                1,
                "from",
                "expected a revision name like \"1-25-0\", got 124",
            ),
            (
                "to = \"1.25.0\"\n",
                1,
                "to",
                "lowercase letters, digits and '-'",
            ),
            (
                "tags = \"stable\"\n",
                1,
                "tags",
                "expected a list of tag names",
            ),
            (
                "tags = [\"stable\", \"Prod\"]\n",
                1,
                "tags[1]",
                "got \"Prod\"",
            ),
            (
                "tags = [\"stable\",\n  \"stable\"]\n",
                2,
                "tags[1]",
                "`stable` is listed twice",
            ),
            (
                "tag_soak = 30\n",
                1,
                "tag_soak",
                "expected a duration like \"30m\", \"2h\" or \"90s\", got 30",
            ),
            ("keep_old = \"1.5d\"\n", 1, "keep_old", "got \"1.5d\""),
            (
                "prometheus_service = \"prometheus\"\n",
                1,
                "prometheus_service",
                "\"namespace/name\"",
            ),
            ("waves = \"all\"\n", 1, "waves", "expected [[waves]] tables"),
            ("[waves]\nname = \"a\"\n", 1, "waves", "got a table"),
            ("waves = [1]\n", 1, "waves[0]", "got 1"),
            (
                "[rollback]\np99_latency_increase = \"lots\"\n",
                2,
                "rollback.p99_latency_increase",
                "\"50%\" or a ratio like 0.5, got \"lots\"",
            ),
            (
                "[rollback]\np99_latency_increase = 50\n",
                2,
                "rollback.p99_latency_increase",
                "ambiguous",
            ),
            (
                "[rollback]\np99_latency_increase = \"-5%\"\n",
                2,
                "rollback.p99_latency_increase",
                "must not be negative",
            ),
            (
                "[rollback]\nerror_ratio = \"150%\"\n",
                2,
                "rollback.error_ratio",
                "cannot exceed 100%",
            ),
            (
                "[rollback]\nerror_ratio = nan\n",
                2,
                "rollback.error_ratio",
                "got nan",
            ),
            (
                "[rollback]\nerror_ratio_for = \"a minute\"\n",
                2,
                "rollback.error_ratio_for",
                "a duration",
            ),
            (
                "[rollback]\nxds_rejects = -1\n",
                2,
                "rollback.xds_rejects",
                "a whole number, 0 or more, got -1",
            ),
            (
                "[rollback]\nmtls_errors = 0.5\n",
                2,
                "rollback.mtls_errors",
                "got 0.5",
            ),
            (
                "[rollback]\nconvergence_p99 = \"0s\"\n",
                2,
                "rollback.convergence_p99",
                "more than 0s",
            ),
            (
                "[rollback]\nauto_rollback = \"yes\"\n",
                2,
                "rollback.auto_rollback",
                "true or false, got \"yes\"",
            ),
            ("rollback = 1\n", 1, "rollback", "a [rollback] table"),
        ];
        for (text, line, field, message) in cases {
            assert_error(text, *line, field, message);
        }
        // Zero as a whole number is no ambiguity.
        let zero = parse("[rollback]\nerror_ratio = 0\n", "plan.toml").unwrap();
        assert_eq!(zero.thresholds.error_ratio, 0.0);
    }

    #[test]
    fn every_wave_needs_a_name_and_exactly_one_way_to_pick_namespaces() {
        let cases: &[(&str, usize, &str, &str)] = &[
            (
                "[[waves]]\nnamespaces = [\"a\"]\n",
                1,
                "waves[0].name",
                "every wave needs a name",
            ),
            (
                "[[waves]]\nname = \"\"\nnamespaces = [\"a\"]\n",
                2,
                "waves[0].name",
                "must not be empty",
            ),
            (
                "\n[[waves]]\nname = \"a\"\n",
                2,
                "waves[0]",
                "a wave needs namespaces",
            ),
            (
                "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nselector = \"tier=a\"\n",
                4,
                "waves[0].selector",
                "set `namespaces` or `selector`, not both",
            ),
            (
                "[[waves]]\nname = \"a\"\nnamespaces = []\n",
                3,
                "waves[0].namespaces",
                "at least one namespace",
            ),
            (
                "[[waves]]\nname = \"a\"\nnamespaces = [\"Shop\"]\n",
                3,
                "waves[0].namespaces[0]",
                "a namespace name",
            ),
            (
                "[[waves]]\nname = \"a\"\nselector = \"tier in staging\"\n",
                3,
                "waves[0].selector",
                "invalid label selector 'tier in staging'",
            ),
            (
                "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n[[waves]]\nname = \"a\"\nnamespaces = [\"y\"]\n",
                5,
                "waves[1].name",
                "waves[0] is already named `a`",
            ),
            (
                "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n[[waves]]\nname = \"b\"\nnamespaces = [\"y\",\n \"x\"]\n",
                7,
                "waves[1].namespaces[1]",
                "`x` is already in wave `a`",
            ),
            (
                "[[waves]]\nname = \"a\"\nnamespaces = [\"x\", \"x\"]\n",
                3,
                "waves[0].namespaces[1]",
                "listed twice",
            ),
        ];
        for (text, line, field, message) in cases {
            assert_error(text, *line, field, message);
        }
        // Inline tables are tables too.
        let inline = parse(
            "waves = [{ name = \"a\", namespaces = [\"x\"], soak = \"5m\" }]\n",
            "p",
        )
        .unwrap();
        assert_eq!(inline.waves.unwrap()[0].soak, minutes(5));
    }

    #[test]
    fn the_first_error_in_the_file_is_the_one_reported() {
        let text = "zzz = 1\nfrom = 2\n";
        assert_error(text, 1, "zzz", "unknown field");
        let text = "from = 2\nzzz = 1\n";
        assert_error(text, 1, "from", "expected a revision");
    }

    #[test]
    fn a_written_plan_reads_back_the_same() {
        let mut derived = derive(&demo().state).unwrap();
        derived.prometheus_service = Some("monitoring/prometheus".into());
        derived.thresholds.error_ratio = 0.07;
        derived.thresholds.convergence_p99_seconds = 0.25;
        let text = to_toml(&derived);
        let back = resolve(parse(&text, "state").unwrap(), None).unwrap();
        assert_eq!(
            back,
            Plan {
                derived: false,
                ..derived
            }
        );
        let from_file = resolve(parse(FULL, "plan.toml").unwrap(), None).unwrap();
        let back = resolve(parse(&to_toml(&from_file), "state").unwrap(), None).unwrap();
        assert_eq!(back, from_file);
        let bare = Plan {
            waves: Vec::new(),
            tags: Vec::new(),
            ..from_file
        };
        let back = resolve(parse(&to_toml(&bare), "state").unwrap(), None).unwrap();
        assert_eq!(back, bare);
    }

    #[test]
    fn an_unreadable_file_has_no_line() {
        let e = load(Path::new("/nonexistent/plan.toml")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (0, ""));
        assert!(
            e.to_string()
                .starts_with("/nonexistent/plan.toml: cannot read the plan file: "),
            "{e}"
        );
    }
}
