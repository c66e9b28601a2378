//! The findings of one or more clusters as text (a terminal), Markdown (a pull request or a
//! ticket) and JSON (CI), and the exit status a run ends with.

use std::fmt::Write;

use serde::Serialize;

use super::finding::{CheckId, Finding, Severity};

/// One cluster's findings, as `run` returned them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFindings {
    /// The context name the cluster was reached by.
    pub cluster: String,
    pub findings: Vec<Finding>,
}

/// Which severity makes a run fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Blocker,
    Warning,
}

/// Exit status when every check ran: 0 when nothing fails it, 2 when a blocker (or, with
/// `FailOn::Warning`, a warning) was found. (1 is for a run that could not check.)
pub fn exit_status(clusters: &[ClusterFindings], fail_on: FailOn) -> i32 {
    let fails = |f: &Finding| match fail_on {
        FailOn::Blocker => f.severity == Severity::Blocker,
        FailOn::Warning => f.severity <= Severity::Warning,
    };
    if clusters.iter().flat_map(|c| &c.findings).any(fails) {
        2
    } else {
        0
    }
}

/// Every finding with its cluster, in report order: severity, check, object, cluster.
fn ordered(clusters: &[ClusterFindings]) -> Vec<(&str, &Finding)> {
    let mut all: Vec<(&str, &Finding)> = clusters
        .iter()
        .flat_map(|c| c.findings.iter().map(move |f| (c.cluster.as_str(), f)))
        .collect();
    all.sort_by(|(ca, a), (cb, b)| {
        (a.severity, a.check, &a.object, ca).cmp(&(b.severity, b.check, &b.object, cb))
    });
    all
}

fn count(clusters: &[ClusterFindings], severity: Severity) -> usize {
    clusters
        .iter()
        .flat_map(|c| &c.findings)
        .filter(|f| f.severity == severity)
        .count()
}

/// Findings grouped by severity, then check: runs of equal (severity, check) in order.
fn groups<'a>(
    ordered: &'a [(&'a str, &'a Finding)],
) -> impl Iterator<Item = (Severity, CheckId, &'a [(&'a str, &'a Finding)])> + 'a {
    ordered
        .chunk_by(|(_, a), (_, b)| (a.severity, a.check) == (b.severity, b.check))
        .map(|run| (run[0].1.severity, run[0].1.check, run))
}

fn summary_line(clusters: &[ClusterFindings]) -> String {
    let names: Vec<&str> = clusters.iter().map(|c| c.cluster.as_str()).collect();
    format!(
        "{} blocker(s), {} warning(s), {} info on {}",
        count(clusters, Severity::Blocker),
        count(clusters, Severity::Warning),
        count(clusters, Severity::Info),
        names.join(", ")
    )
}

/// Plain text for a terminal.
pub fn text(clusters: &[ClusterFindings]) -> String {
    let ordered = ordered(clusters);
    let mut out = String::new();
    let mut severity = None;
    for (sev, check, run) in groups(&ordered) {
        if severity != Some(sev) {
            let heading = sev.as_str().to_uppercase();
            let _ = writeln!(out, "{heading}");
            severity = Some(sev);
        }
        let _ = writeln!(out, "  {check}");
        for (cluster, f) in run {
            let _ = writeln!(out, "    {cluster}: {}", f.object);
            let _ = writeln!(out, "      why: {}", f.message);
            let _ = writeln!(out, "      fix: {}", f.fix);
        }
    }
    if ordered.is_empty() {
        out.push_str("No findings.\n");
    }
    let _ = writeln!(out, "{}", summary_line(clusters));
    out
}

/// Markdown for a pull request or a ticket.
pub fn markdown(clusters: &[ClusterFindings]) -> String {
    let ordered = ordered(clusters);
    let mut out = String::from("# Precheck\n\n");
    let _ = writeln!(out, "{}\n", summary_line(clusters));
    let mut severity = None;
    for (sev, check, run) in groups(&ordered) {
        if severity != Some(sev) {
            let mut heading = sev.as_str().to_string();
            heading[..1].make_ascii_uppercase();
            let _ = writeln!(out, "## {heading}\n");
            severity = Some(sev);
        }
        let _ = writeln!(out, "### `{check}`\n");
        for (cluster, f) in run {
            let _ = writeln!(out, "- **{cluster}**: `{}`", f.object);
            let _ = writeln!(out, "  - Why: {}", f.message);
            let _ = writeln!(out, "  - Fix: `{}`", f.fix.replace('`', "'"));
        }
        out.push('\n');
    }
    if ordered.is_empty() {
        out.push_str("No findings.\n");
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary<'a>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    severity: Severity,
    check: CheckId,
    object: &'a str,
    cluster: &'a str,
    message: &'a str,
    fix: &'a str,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    blocker: usize,
    warning: usize,
    info: usize,
    clusters: Vec<&'a str>,
}

/// JSON for CI: `{"findings": [...], "summary": {"blocker", "warning", "info", "clusters"}}`.
pub fn json(clusters: &[ClusterFindings]) -> String {
    let report = JsonReport {
        findings: ordered(clusters)
            .into_iter()
            .map(|(cluster, f)| JsonFinding {
                severity: f.severity,
                check: f.check,
                object: &f.object,
                cluster,
                message: &f.message,
                fix: &f.fix,
            })
            .collect(),
        summary: JsonSummary {
            blocker: count(clusters, Severity::Blocker),
            warning: count(clusters, Severity::Warning),
            info: count(clusters, Severity::Info),
            clusters: clusters.iter().map(|c| c.cluster.as_str()).collect(),
        },
    };
    // Plain data of strings and numbers: serialising it cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

#[cfg(test)]
mod tests;
