//! The data-plane half of the metrics pane: per namespace, split by the revision its pods run,
//! requests/s, 5xx ratio and p99 latency, against the baseline captured before the move, with
//! the trend of p99 and the namespace's triggers. Breached namespaces come first.

use std::collections::{BTreeMap, BTreeSet};

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::metrics::sparkline;
use crate::app::state::State;
use crate::mesh::Mesh;
use crate::metrics::maths::TriggerState;
use crate::metrics::reading::{Reading, Traffic};
use crate::plan::triggers::{self, Finding, Scope};
use crate::ui::common::revision_style;
use crate::ui::theme::Theme;

pub const TREND: usize = 24;

pub fn header(theme: &Theme) -> Row<'static> {
    Row::new([
        "NAMESPACE",
        "REVISION",
        "REQ/S",
        "5XX",
        "P99",
        "BASELINE",
        "CHANGE",
        "TRIGGERS",
        "P99 TREND",
    ])
    .style(theme.header)
}

pub fn widths() -> [Constraint; 9] {
    [
        Constraint::Length(22),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(30),
        Constraint::Length(TREND as u16),
    ]
}

/// How urgent a namespace's findings are: breached, over the threshold, unknown, fine.
fn rank(findings: &[&Finding]) -> u8 {
    if findings.iter().any(|f| f.is_breached()) {
        0
    } else if findings
        .iter()
        .any(|f| matches!(f.state, TriggerState::Pending { .. }))
    {
        1
    } else if findings.iter().any(|f| f.is_unknown()) {
        2
    } else if findings.is_empty() {
        4
    } else {
        3
    }
}

fn trigger_cell<'a>(findings: &[&Finding], theme: &Theme) -> Cell<'a> {
    if findings.is_empty() {
        return Cell::from("");
    }
    let worst = rank(findings);
    let (text, style) = match worst {
        0 | 1 => {
            let over: Vec<&str> = findings
                .iter()
                .filter(|f| {
                    matches!(
                        f.state,
                        TriggerState::Breached { .. } | TriggerState::Pending { .. }
                    )
                })
                .map(|f| f.metric.name())
                .collect();
            let word = if worst == 0 { "BREACHED" } else { "over" };
            (format!("{word}: {}", over.join(", ")), theme.error)
        }
        2 => {
            let unknown: Vec<&str> = findings
                .iter()
                .filter(|f| f.is_unknown())
                .map(|f| f.metric.name())
                .collect();
            (format!("unknown: {}", unknown.join(", ")), theme.warn)
        }
        _ => ("all within limits".to_string(), theme.ok),
    };
    Cell::from(Span::styled(text, style))
}

/// The rows, most urgent first, at most `limit`.
pub fn rows<'a>(
    state: &State,
    mesh: &Mesh,
    latest: &Reading,
    stale: bool,
    limit: usize,
    theme: &Theme,
) -> Vec<Row<'a>> {
    let mut by_ns: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &state.metrics.findings {
        if let Scope::Namespace(ns) = &f.scope {
            by_ns.entry(ns.as_str()).or_default().push(f);
        }
    }
    let selected = state.ui.selected_namespace.as_deref();
    let wave = current_wave(state);
    let mut names: Vec<&str> = latest
        .data_plane
        .keys()
        .map(String::as_str)
        .chain(by_ns.keys().copied())
        .collect();
    let wave: BTreeSet<&str> = wave.iter().map(String::as_str).collect();
    // Each key once: a wave can list thousands of namespaces.
    names.sort_by_cached_key(|ns| {
        let busy = latest
            .data_plane
            .get(*ns)
            .map_or(0.0, |r| r.values().map(|t| t.requests_per_s).sum::<f64>());
        (
            rank(by_ns.get(ns).map_or(&[][..], Vec::as_slice)),
            Some(*ns) != selected,
            !wave.contains(ns),
            std::cmp::Reverse((busy * 1000.0) as u64),
            ns.to_string(),
        )
    });
    names.dedup();
    let to = state.drive.plan.as_ref().map(|p| p.to.as_str());
    let mut rows = Vec::new();
    for ns in names {
        let findings = by_ns.get(ns).map_or(&[][..], Vec::as_slice);
        let revisions = latest.data_plane.get(ns);
        let baseline = state.metrics.guard.baseline(ns);
        let mut first = true;
        let empty = BTreeMap::new();
        let per_rev = revisions.unwrap_or(&empty);
        if per_rev.is_empty() {
            rows.push(Row::new(vec![
                Cell::from(ns.to_string()),
                Cell::from(""),
                Cell::from(Span::styled("no numbers", theme.warn)),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                trigger_cell(findings, theme),
            ]));
        }
        for (rev, traffic) in per_rev {
            let on_new = Some(rev.as_str()) == to;
            let base = if on_new {
                baseline.as_ref().and_then(|b| b.p99_ms)
            } else {
                None
            };
            let history: Vec<Option<f64>> = state
                .metrics
                .readings
                .iter()
                .skip(state.metrics.readings.len().saturating_sub(TREND))
                .map(|m| m.traffic(ns, rev).and_then(|t| t.p99_ms))
                .collect();
            let style = |s: Style| if stale { theme.dim } else { s };
            let limits = state.drive.plan.as_ref().map(|p| &p.thresholds);
            let ratio_style = match (traffic.error_ratio, limits) {
                (None, _) => theme.warn,
                (Some(r), Some(t)) if r > t.error_ratio => theme.error,
                _ => theme.ok,
            };
            let change = match (traffic.p99_ms, base) {
                (Some(p), Some(b)) if b > 0.0 => Some(p / b - 1.0),
                _ => None,
            };
            let change_style = match (change, limits) {
                (Some(c), Some(t)) if c > t.p99_latency_increase => theme.error,
                (Some(_), _) => theme.ok,
                _ => theme.dim,
            };
            rows.push(Row::new(vec![
                Cell::from(if first { ns.to_string() } else { String::new() }),
                Cell::from(Span::styled(rev.clone(), revision_style(theme, mesh, rev))),
                Cell::from(rps(traffic)),
                Cell::from(Span::styled(
                    traffic.error_ratio.map_or("?".into(), triggers::percent),
                    style(ratio_style),
                )),
                Cell::from(traffic.p99_ms.map_or("?".into(), triggers::ms)),
                Cell::from(base.map_or(String::new(), triggers::ms)).style(theme.dim),
                Cell::from(Span::styled(
                    change.map_or(String::new(), |c| format!("{:+.0}%", c * 100.0)),
                    style(change_style),
                )),
                if first {
                    trigger_cell(findings, theme)
                } else {
                    Cell::from("")
                },
                Cell::from(sparkline(&history, TREND)).style(theme.dim),
            ]));
            first = false;
        }
        if rows.len() >= limit {
            break;
        }
    }
    rows.truncate(limit);
    rows
}

/// The namespaces of the wave under way, which the driver watches most.
fn current_wave(state: &State) -> Vec<String> {
    let Some(plan) = state.drive.plan.as_ref() else {
        return Vec::new();
    };
    match crate::app::plan_flow::current_phase(state, plan) {
        crate::plan::model::Phase::Wave(i) => state.namespace_facts().wave(i).to_vec(),
        _ => Vec::new(),
    }
}

fn rps(t: &Traffic) -> String {
    if t.requests_per_s >= 100.0 {
        format!("{:.0}", t.requests_per_s)
    } else {
        format!("{:.1}", t.requests_per_s)
    }
}
