//! A preview to confirm, or a message to read, over the panes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::app::drive::Dialog;
use crate::app::keymap::{KeyAction, Keymap};
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, dialog: &Dialog, keys: &Keymap, theme: &Theme) {
    let typing = match dialog {
        Dialog::TypeToConfirm {
            expected, typed, ..
        }
        | Dialog::OverrideWave {
            expected, typed, ..
        } => Some((expected, typed, "override")),
        Dialog::ContinueWave {
            expected, typed, ..
        } => Some((expected, typed, "go on")),
        _ => None,
    };
    let (title, lines, info) = match dialog {
        Dialog::Confirm { title, lines, .. }
        | Dialog::ConfirmAll { title, lines, .. }
        | Dialog::ConfirmWave { title, lines, .. }
        | Dialog::ContinueWave { title, lines, .. }
        | Dialog::ChooseTag { title, lines, .. }
        | Dialog::TypeToConfirm { title, lines, .. }
        | Dialog::OverrideWave { title, lines, .. } => (title, lines, false),
        Dialog::Info { title, lines } => (title, lines, true),
    };
    // A preview's last line says which keys apply and cancel it.
    let answers = match dialog {
        Dialog::Confirm { .. } | Dialog::ConfirmAll { .. } | Dialog::ConfirmWave { .. } => {
            lines.len().checked_sub(1)
        }
        _ => None,
    };
    let mut body: Vec<Line<'_>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let style = if l.starts_with("DRY RUN") || l.starts_with("CHANGED") {
                theme.warn
            } else if Some(i) == answers {
                theme.key
            } else {
                theme.base
            };
            Line::from(Span::styled(l.clone(), style))
        })
        .collect();
    if let Some((expected, typed, to_do)) = typing {
        body.push(Line::from(""));
        body.push(Line::from(vec![
            Span::styled(
                format!(
                    "type \"{expected}\" and {} to {to_do}, {} to cancel: ",
                    keys.key(KeyAction::SendTyped),
                    keys.key(KeyAction::CancelTyped)
                ),
                theme.key,
            ),
            Span::styled(format!("{typed}▏"), theme.filter),
        ]));
    }
    if info {
        body.push(Line::from(""));
        body.push(Line::from(Span::styled("any key closes this", theme.dim)));
    }
    let width = (lines.iter().map(|l| l.chars().count()).max().unwrap_or(20) as u16 + 4)
        .max(title.chars().count() as u16 + 6)
        .min(area.width.saturating_sub(4));
    let height = (body.len() as u16 + 2).min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(if info {
            theme.warn
        } else {
            theme.border_focused
        })
        .title(Span::styled(format!(" {title} "), theme.title));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim: false })
            .style(theme.base),
        popup,
    );
}
