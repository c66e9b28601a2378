//! The rollback banner: while a trigger is breached, one line under the phase bar names what,
//! where, by how much against which limit, and the key that reverts it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::KeyAction;
use crate::app::rollback;
use crate::app::state::{Mode, State};
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let breaches: Vec<String> = rollback::breaches(state).map(ToString::to_string).collect();
    if breaches.is_empty() {
        return;
    }
    let mut spans = vec![Span::styled(" ROLLBACK TRIGGER ", theme.error.reversed())];
    spans.push(Span::styled(format!(" {}", breaches[0]), theme.error));
    if breaches.len() > 1 {
        spans.push(Span::styled(
            format!(
                " · and {} more ({}: metrics)",
                breaches.len() - 1,
                state.ui.keys.key(KeyAction::Metrics)
            ),
            theme.error,
        ));
    }
    let affected = rollback::affected(state);
    let auto = state
        .drive
        .plan
        .as_ref()
        .is_some_and(|p| p.thresholds.auto_rollback);
    let reverting: Vec<&str> = state
        .drive
        .activity
        .iter()
        .filter(|(_, a)| a.reverting)
        .map(|(ns, _)| ns.as_str())
        .collect();
    let action = if !affected.is_empty() {
        match &state.session.mode {
            Mode::Driver if auto => "auto rollback pending".to_string(),
            Mode::Driver => format!(
                "{} revert {}",
                state.ui.keys.key(KeyAction::Rollback),
                affected.join(", ")
            ),
            Mode::Follower(holder) => format!(
                "{}: {} to take over",
                crate::mesh::records::drives_line(holder),
                state.ui.keys.key(KeyAction::TakeOver)
            ),
            Mode::ReadOnly(_) => "read-only: tell the driver".into(),
        }
    } else if !reverting.is_empty() {
        format!("reverting {}", reverting.join(", "))
    } else {
        "nothing the cockpit migrated to revert: act by hand".into()
    };
    spans.push(Span::styled(format!(" · {action}"), theme.key));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.base), area);
}
