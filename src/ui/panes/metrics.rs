//! The metrics pane: where the numbers come from and whether it answers; per revision, pushes
//! and rejects per second, proxy convergence p99 with its trend and connected proxies by
//! version; in a fleet, the requests to other clusters (`cross_cluster_line`); then per
//! namespace the traffic table (`traffic`). What could not be read shows as
//! unknown, never as zero, and a source that stopped answering greys its last numbers.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::state::State;
use crate::mesh::Mesh;
use crate::ui::common::{age, revision_style};
use crate::ui::theme::Theme;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline of the last `width` values (None draws a gap).
pub fn sparkline(values: &[Option<f64>], width: usize) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown.iter().flatten().copied().fold(0.0_f64, f64::max);
    shown
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max <= 0.0 => BARS[0],
            Some(v) => {
                BARS[((v / max) * (BARS.len() - 1) as f64)
                    .round()
                    .clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

fn seconds(v: Option<f64>) -> String {
    match v {
        None => "?".into(),
        Some(s) if s < 1.0 => format!("{:.0}ms", s * 1000.0),
        Some(s) => format!("{s:.1}s"),
    }
}

/// A Prometheus source's name, and how its series are mapped to revisions when that is not
/// the revision label (`Reading::source` carries it after " · "); the title shows the name,
/// a line of the pane the mapping.
fn source_and_mapping(source: &str) -> (&str, Option<&str>) {
    match source.split_once(" · ") {
        Some((name, mapping)) => (name, Some(mapping)),
        None => (source, None),
    }
}

/// What the title says about the source: where from, how fresh, and whether it answers.
fn title(state: &State) -> (String, bool) {
    let close = state.ui.keys.key(crate::app::keymap::KeyAction::Metrics);
    let Some(latest) = state.metrics.readings.back() else {
        return (
            format!(" Metrics · waiting for the first numbers ({close} to close) "),
            false,
        );
    };
    let sampled: usize = latest
        .data_plane
        .values()
        .flat_map(|r| r.values())
        .filter_map(|t| t.sampled_pods)
        .sum();
    let sample = if sampled > 0 {
        format!(" · sidecars sampled: {sampled} pods")
    } else {
        String::new()
    };
    let down = latest.is_down();
    let state_word = if down { " · UNAVAILABLE" } else { "" };
    (
        format!(
            " Metrics · {}{sample}{state_word} · {} ago ({close} to close) ",
            source_and_mapping(&latest.source).0,
            age(Some(latest.at), state.session.now)
        ),
        down,
    )
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let (title, down) = title(state);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if down { theme.error } else { theme.border })
        .title(Span::styled(
            title,
            if down { theme.error } else { theme.title },
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // A source that answers nothing: its errors, then the last numbers it gave, greyed.
    let latest = state.metrics.readings.back();
    let shown = state.metrics.readings.iter().rev().find(|m| !m.is_down());
    let mut lines: Vec<Line<'_>> = Vec::new();
    if let Some(latest) = latest {
        if let (_, Some(mapping)) = source_and_mapping(&latest.source) {
            lines.push(Line::from(Span::styled(mapping.to_string(), theme.dim)));
        }
        for e in latest.errors.iter().take(2) {
            lines.push(Line::from(Span::styled(format!("error: {e}"), theme.error)));
        }
        if down {
            lines.push(Line::from(Span::styled(
                match shown {
                    Some(m) => format!(
                        "no current numbers: every trigger is unknown; the last numbers, {} old, are greyed below",
                        age(Some(m.at), state.session.now)
                    ),
                    None => "no numbers at all yet: every trigger is unknown".to_string(),
                },
                theme.warn,
            )));
        }
    } else {
        lines.push(Line::from(Span::styled(
            "no reading yet: rates need two rounds, 5 s apart",
            theme.dim,
        )));
    }
    let notes = (lines.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: notes,
            ..inner
        },
    );
    let Some(reading) = shown else {
        return;
    };
    let rest = Rect {
        y: inner.y + notes,
        height: inner.height - notes,
        ..inner
    };
    let cp_rows = control_plane_rows(state, mesh, reading, down, theme);
    let cp_height = (cp_rows.len() as u16 + 1).min(rest.height);
    frame.render_widget(
        Table::new(cp_rows, control_plane_widths())
            .header(control_plane_header(theme))
            .style(theme.base),
        Rect {
            height: cp_height,
            ..rest
        },
    );
    let mut gap = 1;
    if let Some(line) = super::cross_cluster_line::line(state, reading, down, theme)
        && rest.height > cp_height + 1
    {
        let at = Rect {
            y: rest.y + cp_height + 1,
            height: 1,
            ..rest
        };
        frame.render_widget(Paragraph::new(line), at);
        gap += 1;
    }
    let below = rest.height.saturating_sub(cp_height + gap);
    if below < 2 {
        return;
    }
    let traffic_area = Rect {
        y: rest.y + cp_height + gap,
        height: below,
        ..rest
    };
    let rows = super::traffic::rows(state, mesh, reading, down, below as usize - 1, theme);
    let table = if rows.is_empty() {
        Table::new(
            vec![Row::new(vec![Cell::from(Span::styled(
                "no data-plane numbers yet",
                theme.dim,
            ))])],
            [Constraint::Fill(1)],
        )
    } else {
        Table::new(rows, super::traffic::widths()).header(super::traffic::header(theme))
    };
    frame.render_widget(table.style(theme.base), traffic_area);
}

fn control_plane_header(theme: &Theme) -> Row<'static> {
    Row::new([
        "REVISION",
        "PROXIES",
        "PUSHES/S",
        "BY TYPE",
        "REJECTS/S",
        "CONV P99",
        "CPU",
        "MEMORY",
        "CONVERGENCE TREND",
    ])
    .style(theme.header)
}

const TREND: usize = 24;

fn control_plane_widths() -> [Constraint; 9] {
    [
        Constraint::Length(10),
        Constraint::Length(22),
        Constraint::Length(9),
        Constraint::Length(36),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(TREND as u16),
    ]
}

fn control_plane_rows<'a>(
    state: &State,
    mesh: &Mesh,
    reading: &crate::metrics::reading::Reading,
    stale: bool,
    theme: &Theme,
) -> Vec<Row<'a>> {
    let limit = state
        .drive
        .plan
        .as_ref()
        .map_or(5.0, |p| p.thresholds.convergence_p99_seconds);
    let mut rows = Vec::new();
    for rev in &mesh.revisions {
        let Some(r) = reading.control_plane.get(rev) else {
            rows.push(Row::new(vec![
                Cell::from(rev.clone()).style(revision_style(theme, mesh, rev)),
                Cell::from("unknown: no numbers").style(theme.warn),
            ]));
            continue;
        };
        let proxies = r
            .proxies
            .iter()
            .map(|(v, n)| format!("{v}×{n:.0}"))
            .collect::<Vec<_>>()
            .join(" ");
        let total: f64 = r.pushes_per_s.values().sum();
        let by_type = r
            .pushes_per_s
            .iter()
            .filter(|(_, v)| **v > 0.0)
            .map(|(t, v)| format!("{t} {v:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        // The sparkline shows only the newest TREND values.
        let history: Vec<Option<f64>> = state
            .metrics
            .readings
            .iter()
            .skip(state.metrics.readings.len().saturating_sub(TREND))
            .map(|m| m.control_plane.get(rev).and_then(|r| r.convergence_p99))
            .collect();
        let live = |s| if stale { theme.dim } else { s };
        rows.push(Row::new(vec![
            Cell::from(rev.clone()).style(revision_style(theme, mesh, rev)),
            Cell::from(if proxies.is_empty() {
                "0".into()
            } else {
                proxies
            }),
            Cell::from(format!("{total:.1}")),
            Cell::from(by_type).style(theme.dim),
            Cell::from(if r.rejects_per_s.is_nan() {
                "?".to_string()
            } else {
                format!("{:.2}", r.rejects_per_s)
            })
            .style(live(if r.rejects_per_s.is_nan() {
                theme.warn
            } else if r.rejects_per_s > 0.0 {
                theme.nack
            } else {
                theme.ok
            })),
            Cell::from(seconds(r.convergence_p99)).style(live(match r.convergence_p99 {
                None => theme.warn,
                Some(s) if s > limit => theme.error,
                Some(_) => theme.ok,
            })),
            Cell::from(r.cpu_cores.map_or("?".into(), |c| format!("{c:.2}"))),
            Cell::from(
                r.memory_bytes
                    .map_or("?".into(), |m| format!("{:.0}Mi", m / (1024.0 * 1024.0))),
            ),
            Cell::from(sparkline(&history, TREND)).style(theme.dim),
        ]));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest_value_and_keep_gaps() {
        assert_eq!(
            sparkline(&[Some(0.0), Some(1.0), None, Some(2.0)], 10),
            "▁▅ █"
        );
        assert_eq!(sparkline(&[Some(1.0); 5], 3), "███");
        assert_eq!(sparkline(&[], 3), "");
    }

    #[test]
    fn a_mapping_after_the_source_gets_its_own_line() {
        assert_eq!(
            source_and_mapping("Prometheus at http://p:9090/"),
            ("Prometheus at http://p:9090/", None)
        );
        assert_eq!(
            source_and_mapping(
                "Prometheus at http://p:9090/ · revisions: pods by namespace/pod via the pod watch"
            ),
            (
                "Prometheus at http://p:9090/",
                Some("revisions: pods by namespace/pod via the pod watch")
            )
        );
    }
}
