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

use crate::app::fleet::Fleet;
use crate::app::keymap::KeyAction;
use crate::app::state::{BottomPane, Overlay, State};
use theme::Theme;

/// A cockpit on one cluster: its panes on the whole screen. On several: the fleet pane on
/// top, the selected cluster's panes below.
pub fn draw_fleet(frame: &mut Frame<'_>, fleet: &Fleet, theme: &Theme) {
    let state = &fleet.selected().state;
    if !fleet.is_fleet() {
        draw(frame, state, theme);
        return;
    }
    let size = frame.area();
    let top = Rect {
        height: fleet.pane_height().min(size.height),
        ..size
    };
    panes::fleet::draw(frame, top, fleet, theme);
    let below = Rect {
        y: size.y + top.height,
        height: size.height - top.height,
        ..size
    };
    draw_in(frame, below, state, theme);
}

pub fn draw(frame: &mut Frame<'_>, state: &State, theme: &Theme) {
    draw_in(frame, frame.area(), state, theme);
}

/// One cluster's panes in `size`.
fn draw_in(frame: &mut Frame<'_>, size: Rect, state: &State, theme: &Theme) {
    let mesh = state.mesh();
    let Some(areas) = layout::areas(size.width, size.height, &state.ui, mesh.revisions.len())
        .map(|a| a.moved_to(size.x, size.y))
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
            BottomPane::Checks => panes::checks::draw(frame, areas.logs, state, theme),
            BottomPane::Triage => panes::triage::draw(frame, areas.logs, state, theme),
            BottomPane::IstiodLogs => panes::logs::draw(frame, areas.logs, state, &mesh, theme),
        }
    }
    if let Some(area) = areas.cockpit_log {
        panes::cockpit_log::draw(frame, area, state, theme);
    }
    if state.ui.command_line.is_some() {
        panes::command_line::draw(frame, areas.status, state, theme);
    } else {
        panes::status_bar::draw(frame, areas.status, state, theme);
    }
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
