//! Pieces every pane uses: the pane frame, revision colours, ages.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Row, Table};

use super::theme::Theme;
use crate::app::state::{Pane, State};
use crate::mesh::Mesh;

/// The frame of a pane: its title, the filter being typed or applied, and focus.
pub fn pane_block<'a>(state: &State, theme: &Theme, pane: Pane, extra: Vec<Span<'a>>) -> Block<'a> {
    titled_block(state, theme, pane, pane.title(), extra)
}

/// `pane_block` with a title of its own, for a view that takes a pane's place.
pub fn titled_block<'a>(
    state: &State,
    theme: &Theme,
    pane: Pane,
    name: &str,
    extra: Vec<Span<'a>>,
) -> Block<'a> {
    let focused = state.ui.focus == pane;
    let border = if focused {
        theme.border_focused
    } else {
        theme.border
    };
    let mut title = vec![Span::styled(
        format!(" {name} "),
        if focused {
            theme.border_focused
        } else {
            theme.title
        },
    )];
    if let Some(filter) = state.ui.filters.get(&pane) {
        let cursor = if filter.editing { "▏" } else { "" };
        title.push(Span::styled(
            format!("/{}{cursor} ", filter.text),
            theme.filter,
        ));
    }
    title.extend(extra);
    // In a fleet, each pane says whose it is.
    if let Some(fleet) = &state.fleet {
        title.push(Span::styled(format!("· {} ", fleet.cluster), theme.title));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border)
        .title(Line::from(title))
}

pub fn revision_style(theme: &Theme, mesh: &Mesh, revision: &str) -> Style {
    if mesh.new.as_deref() == Some(revision) && mesh.old.as_deref() != Some(revision) {
        theme.new_revision
    } else if mesh.old.as_deref() == Some(revision) {
        theme.old_revision
    } else {
        theme.other_revision
    }
}

/// A compact age: `42s`, `7m`, `5h`, `12d`.
pub fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(t) = since else {
        return "?".into();
    };
    let s = (now - t).num_seconds().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Shortens `text` to `width` characters with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('…');
        s
    }
}

/// Draws a table whose columns were chosen for its width: `(column, header, width)`.
pub fn render_columns<C>(
    frame: &mut Frame<'_>,
    area: Rect,
    columns: &[(C, &str, Constraint)],
    rows: Vec<Row<'_>>,
    block: Block<'_>,
    theme: &Theme,
) {
    let header =
        Row::new(columns.iter().map(|(_, h, _)| *h).collect::<Vec<_>>()).style(theme.header);
    let widths: Vec<Constraint> = columns.iter().map(|(_, _, w)| *w).collect();
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .style(theme.base),
        area,
    );
}
