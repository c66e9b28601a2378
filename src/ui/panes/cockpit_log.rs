//! The cockpit's own log (what it connected to, retried, failed), toggled with `L` (or the
//! key the keymap gives `cockpit_log`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use tui_logger::TuiLoggerWidget;

use crate::app::keymap::KeyAction;
use crate::app::state::State;
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let title = Line::from(vec![
        Span::styled(" Cockpit log (", theme.title),
        Span::styled(state.ui.keys.key(KeyAction::CockpitLog), theme.title),
        Span::styled(" to close) ", theme.title),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title);
    let widget = TuiLoggerWidget::default()
        .block(block)
        .style(theme.base)
        .style_error(theme.error)
        .style_warn(theme.warn)
        .style_info(theme.base)
        .style_debug(theme.dim)
        .style_trace(theme.dim)
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".to_string()))
        .output_target(false)
        .output_file(false)
        .output_line(false);
    frame.render_widget(widget, area);
}
