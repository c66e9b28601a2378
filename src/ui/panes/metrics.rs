//! Control-plane metrics per revision: pushes and rejects per second, proxy convergence p99
//! with its trend, connected proxies by version, and where the numbers come from. What could
//! not be read shows as unknown, never as zero.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::state::State;
use crate::app::view::Mesh;
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

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let latest = state.metrics.back();
    let title = match latest {
        Some(m) => format!(
            " Control-plane metrics · {} · {} ago (P to close) ",
            m.source,
            age(Some(m.at), state.now)
        ),
        None => {
            " Control-plane metrics · waiting for two scrapes, 5 s apart (P to close) ".to_string()
        }
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    let Some(latest) = latest else {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled("no reading yet", theme.dim))).block(block),
            area,
        );
        return;
    };
    let header = Row::new([
        "REVISION",
        "PROXIES",
        "PUSHES/S",
        "BY TYPE",
        "REJECTS/S",
        "CONVERGENCE P99",
        "TREND",
    ])
    .style(theme.header);
    let trend_width = 30;
    let mut rows: Vec<Row<'_>> = Vec::new();
    for rev in &mesh.revisions {
        let Some(r) = latest.control_plane.get(rev) else {
            rows.push(Row::new(vec![
                Cell::from(rev.clone()).style(revision_style(theme, mesh, rev)),
                Cell::from("unknown: not scraped").style(theme.warn),
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
            .map(|(t, v)| format!("{t} {v:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        let history: Vec<Option<f64>> = state
            .metrics
            .iter()
            .map(|m| m.control_plane.get(rev).and_then(|r| r.convergence_p99))
            .collect();
        rows.push(Row::new(vec![
            Cell::from(rev.clone()).style(revision_style(theme, mesh, rev)),
            Cell::from(if proxies.is_empty() {
                "0".into()
            } else {
                proxies
            }),
            Cell::from(format!("{total:.1}")),
            Cell::from(by_type).style(theme.dim),
            Cell::from(format!("{:.2}", r.rejects_per_s)).style(if r.rejects_per_s > 0.0 {
                theme.nack
            } else {
                theme.ok
            }),
            Cell::from(seconds(r.convergence_p99)).style(match r.convergence_p99 {
                None => theme.warn,
                Some(s) if s > 5.0 => theme.error,
                Some(_) => theme.ok,
            }),
            Cell::from(sparkline(&history, trend_width)).style(theme.dim),
        ]));
    }
    for e in latest.errors.iter().take(2) {
        rows.push(Row::new(vec![
            Cell::from("error").style(theme.error),
            Cell::from(e.clone()).style(theme.error),
        ]));
    }
    let widths = [
        Constraint::Length(10),
        Constraint::Length(22),
        Constraint::Length(9),
        Constraint::Length(36),
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Length(trend_width as u16),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .style(theme.base),
        area,
    );
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
}
