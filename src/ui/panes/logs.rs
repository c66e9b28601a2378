//! istiod logs: every istiod pod merged, each line marked with its revision; NACKs and errors
//! highlighted; NACK counters per revision and xDS type in the title.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::{Pane, State};
use crate::app::view;
use crate::mesh::Mesh;
use crate::mesh::istiod_log::Level;
use crate::mesh::logs::LogEntry;
use crate::ui::common::{pane_block, revision_style};
use crate::ui::theme::Theme;

fn counters<'a>(state: &State, theme: &Theme) -> Vec<Span<'a>> {
    let mut by_rev: Vec<(String, Vec<String>)> = Vec::new();
    for ((rev, ty), n) in &state.cluster.logs.nacks {
        match by_rev.last_mut() {
            Some((r, parts)) if r == rev => parts.push(format!("{ty} {n}")),
            _ => by_rev.push((rev.clone(), vec![format!("{ty} {n}")])),
        }
    }
    if by_rev.is_empty() {
        return vec![Span::styled("no NACKs ", theme.dim)];
    }
    let text = by_rev
        .iter()
        .map(|(rev, parts)| format!("{rev}: {}", parts.join(" ")))
        .collect::<Vec<_>>()
        .join(" · ");
    vec![Span::styled(format!("NACKs {text} "), theme.nack)]
}

fn line<'a>(entry: &LogEntry, mesh: &Mesh, theme: &Theme, selected: bool) -> Line<'a> {
    let time = entry
        .line
        .at
        .map_or("--:--:--".to_string(), |t| t.format("%H:%M:%S").to_string());
    let pod_suffix = entry.pod.rsplit('-').next().unwrap_or(&entry.pod);
    let style = if entry.line.nack.is_some() {
        theme.nack
    } else {
        match entry.line.level {
            Level::Error => theme.error,
            Level::Warn => theme.warn,
            _ if entry.line.is_alarming() => theme.warn,
            Level::Debug => theme.dim,
            _ => theme.base,
        }
    };
    let level = match entry.line.level {
        Level::Debug => "debug",
        Level::Info => "info ",
        Level::Warn => "warn ",
        Level::Error => "error",
        Level::Other => "     ",
    };
    // A NACK's connection id is long; the pod it names is what matters, then Envoy's reason.
    let message = match &entry.line.nack {
        Some(nack) => {
            let head = entry
                .line
                .message
                .split("ACK ERROR")
                .next()
                .unwrap_or_default();
            let proxy = nack
                .proxy
                .as_ref()
                .map_or("?".to_string(), |p| format!("{}/{}", p.namespace, p.pod));
            format!("{head}ACK ERROR {proxy} {}", nack.reason)
        }
        None => entry.line.message.clone(),
    };
    let mut spans = vec![
        Span::styled(format!("{time} "), theme.dim),
        Span::styled(
            format!("{}/{pod_suffix} ", entry.revision),
            revision_style(theme, mesh, &entry.revision),
        ),
        Span::styled(format!("{level} {:<5} ", entry.line.scope), theme.dim),
        Span::styled(message, style),
    ];
    if selected {
        for s in &mut spans {
            s.style = s.style.patch(theme.selected);
        }
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let entries = view::visible_logs(state);
    let height = area.height.saturating_sub(2) as usize;
    let mut extra = counters(state, theme);
    extra.push(Span::styled(
        if state.ui.follow {
            "[following] "
        } else {
            "[paused] "
        },
        if state.ui.follow {
            theme.ok
        } else {
            theme.warn
        },
    ));
    if state.ui.nack_only {
        extra.push(Span::styled("[NACK only] ", theme.nack));
    }
    let block = pane_block(state, theme, Pane::Logs, extra);
    let end = match state.ui.log_cursor {
        Some(seq) if !state.ui.follow => entries
            .iter()
            .position(|e| e.seq >= seq)
            .map_or(entries.len(), |i| i + 1),
        _ => entries.len(),
    };
    let start = end.saturating_sub(height);
    let focused = state.ui.focus == Pane::Logs;
    let lines: Vec<Line<'_>> = entries[start..end]
        .iter()
        .map(|e| {
            line(
                e,
                mesh,
                theme,
                focused && state.ui.log_cursor == Some(e.seq),
            )
        })
        .collect();
    let body = if lines.is_empty() {
        let why = match &state.cluster.served_by {
            // A remote runs no istiod: the lines about its proxies are in its primary's log.
            Some(primary) => format!(
                "no istiod here: {0}'s istiod serves this cluster, its lines are on {0}'s screen",
                primary.cluster
            ),
            None if state.ui.nack_only => "no NACKs so far".into(),
            None => "waiting for istiod log lines".into(),
        };
        vec![Line::from(Span::styled(why, theme.dim))]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(body).block(block).style(theme.base), area);
}
