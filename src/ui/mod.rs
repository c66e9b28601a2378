//! Drawing: `draw` reads the state (and nothing else) and paints one frame.
//!
//! - `layout`: where each pane goes at each terminal size
//! - `panes`: one file per pane
//! - `theme`: styles, loaded from TOML presets or files
//! - `common`: pane frames, revision colours, ages

pub mod common;
pub mod layout;
pub mod panes;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::app::keymap::KeyAction;
use crate::app::state::{BottomPane, Overlay, State};
use theme::Theme;

pub fn draw(frame: &mut Frame<'_>, state: &State, theme: &Theme) {
    let size = frame.area();
    let mesh = state.mesh();
    let Some(areas) = layout::areas(size.width, size.height, &state.ui, mesh.revisions.len())
    else {
        let message = format!(
            "Terminal too small ({}x{}): istio-cockpit needs at least {}x{}. Enlarge it, or press {} to quit.",
            size.width,
            size.height,
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            state.ui.keys.key(KeyAction::Quit)
        );
        frame.render_widget(
            Paragraph::new(Line::from(message))
                .style(theme.warn)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            size,
        );
        return;
    };
    panes::phase_bar::draw(frame, areas.phase_bar, state, &mesh, theme);
    if let Some(area) = areas.banner {
        panes::banner::draw(frame, area, state, theme);
    }
    panes::control_planes::draw(frame, areas.control_planes, state, &mesh, theme);
    panes::namespaces::draw(frame, areas.namespaces, state, &mesh, theme);
    panes::pods::draw(frame, areas.pods, state, &mesh, theme);
    if areas.logs.height > 0 {
        match state.ui.bottom {
            BottomPane::Journal => panes::journal::draw(frame, areas.logs, state, theme),
            BottomPane::Metrics => panes::metrics::draw(frame, areas.logs, state, &mesh, theme),
            BottomPane::IstiodLogs => panes::logs::draw(frame, areas.logs, state, &mesh, theme),
        }
    }
    if let Some(area) = areas.cockpit_log {
        panes::cockpit_log::draw(frame, area, state, theme);
    }
    panes::status_bar::draw(frame, areas.status, state, theme);
    if let Some(dialog) = &state.drive.dialog {
        panes::dialog::draw(
            frame,
            Rect {
                height: size.height.saturating_sub(1),
                ..size
            },
            dialog,
            &state.ui.keys,
            theme,
        );
    }
    if state.ui.overlay == Overlay::Help {
        panes::help::draw(
            frame,
            Rect {
                height: size.height.saturating_sub(1),
                ..size
            },
            state,
            theme,
        );
    }
}
