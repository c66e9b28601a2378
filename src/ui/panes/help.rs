//! `?`: every key, in a box over the panes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use crate::ui::theme::Theme;

pub const KEYS: &[(&str, &str)] = &[
    (
        "↑ ↓  j k",
        "move the selection (PgUp PgDn, g G: page, ends)",
    ),
    ("Tab  Shift-Tab", "next / previous pane"),
    (
        "Enter",
        "drill in: a namespace to its pods, a NACK line to its pod",
    ),
    (
        "/",
        "filter the focused table (Enter keeps it, Esc clears it)",
    ),
    ("n", "istiod logs: NACK lines only, on/off"),
    ("f", "istiod logs: follow new lines, on/off"),
    ("L", "the cockpit's own log, on/off"),
    ("J", "the journal of actions, on/off"),
    ("P", "metrics: control plane, traffic, triggers, on/off"),
    ("m", "migrate the selected namespace (preview, then y)"),
    ("r", "revert the namespace; on control planes, the last tag"),
    ("M", "migrate the current wave, one namespace after another"),
    ("t", "move the next revision tag to the new revision"),
    (">", "advance to the next phase (gates, or type its name)"),
    ("X", "revert the namespaces a rollback trigger names"),
    ("D", "take over driving from another cockpit"),
    ("?", "this help (any key closes it)"),
    ("q  Ctrl-C", "quit"),
];

pub fn draw(frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let width = 80.min(area.width.saturating_sub(2));
    let height = (KEYS.len() as u16 + 4).min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let lines: Vec<Line<'_>> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>15}  "), theme.key),
                Span::styled(*what, theme.base),
            ])
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.border_focused)
        .title(Span::styled(" Keys ", theme.title));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.base), popup);
}
