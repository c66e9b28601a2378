//! The journal of actions: who did what, when, exactly which change, and how it ended. Shared
//! by every cockpit on the cluster through a ConfigMap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::state::State;
use crate::ui::common::fit;
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let height = area.height.saturating_sub(2) as usize;
    let entries = &state.cluster.records.journal;
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line<'_>> = entries
        .iter()
        .skip(entries.len().saturating_sub(height))
        .map(|e| {
            let ok = e.result == "ok";
            let change = e.change.to_string();
            let head = format!(
                "{} {} {} {}{} ",
                e.at.format("%H:%M:%S"),
                e.who,
                e.action,
                e.target,
                if e.dry_run { " [dry run]" } else { "" }
            );
            let rest = width.saturating_sub(head.chars().count() + e.result.chars().count() + 3);
            Line::from(vec![
                Span::styled(head, theme.base),
                Span::styled(e.result.clone(), if ok { theme.ok } else { theme.error }),
                Span::styled(format!("  {}", fit(&change, rest)), theme.dim),
            ])
        })
        .collect();
    let body = if lines.is_empty() {
        vec![Line::from(Span::styled("no actions yet", theme.dim))]
    } else {
        lines
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" Journal · {} entries (J to close) ", entries.len()),
            theme.title,
        ));
    frame.render_widget(Paragraph::new(body).block(block).style(theme.base), area);
}
