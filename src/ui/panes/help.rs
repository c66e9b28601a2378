//! `?`: every key, from the keymap in force, in a box over the panes. Two columns of
//! sections; keys this cockpit cannot use now (a write while read-only) are dimmed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use crate::app::keymap::{HelpSection, Who};
use crate::app::state::{Mode, State};
use crate::ui::common::fit;
use crate::ui::theme::Theme;

/// Between a key and what it does, and between the two columns.
const SPACE: u16 = 2;
const GAP: u16 = 2;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let every = state.ui.keys.help();
    let one_cluster;
    let sections = if state.fleet.is_some() {
        every
    } else {
        one_cluster = without_fleet_keys(every);
        &one_cluster
    };
    let (left, right) = sections.split_at(split(sections));
    let (left_keys, left_about) = widths(left);
    let (right_keys, right_about) = widths(right);
    let natural = left_keys + left_about + right_keys + right_about + 2 * SPACE + GAP;
    // A border and a space of padding on each side.
    let width = (natural + 4).min(area.width);
    // Centred in the area; taller than it, it takes all of it (the top bar included).
    let height = (rows(left).max(rows(right)) + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.border_focused)
        .title(Span::styled(" Keys ", theme.title));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block.style(theme.base), popup);
    // What does not fit comes off the descriptions, in proportion to each column's.
    let room = inner
        .width
        .saturating_sub(2 + 2 * SPACE + GAP + left_keys + right_keys);
    let left_room = room * left_about / (left_about + right_about).max(1);
    let columns = [
        (left, left_keys, left_room),
        (right, right_keys, room - left_room),
    ];
    let mut x = inner.x + 1;
    for (sections, keys, about) in columns {
        let column = Rect {
            x,
            width: keys + SPACE + about,
            ..inner
        };
        let lines = column_lines(sections, keys, about, &state.session.mode, theme);
        frame.render_widget(Paragraph::new(lines).style(theme.base), column);
        x += column.width + GAP;
    }
}

/// The help of a cockpit on one cluster: no keys that only a fleet has.
fn without_fleet_keys(sections: &[HelpSection]) -> Vec<HelpSection> {
    sections
        .iter()
        .map(|s| HelpSection {
            title: s.title,
            rows: s
                .rows
                .iter()
                .filter(|r| r.who != Who::Fleet)
                .cloned()
                .collect(),
        })
        .collect()
}

/// Where the second column starts: the split that makes the columns most even.
fn split(sections: &[HelpSection]) -> usize {
    (1..sections.len())
        .min_by_key(|&at| {
            let (left, right) = sections.split_at(at);
            rows(left).max(rows(right))
        })
        .unwrap_or(sections.len())
}

/// A title row per section, and its keys.
fn rows(sections: &[HelpSection]) -> u16 {
    sections.iter().map(|s| 1 + s.rows.len() as u16).sum()
}

/// The widest keys and the widest description of a column, wide enough for its titles.
fn widths(sections: &[HelpSection]) -> (u16, u16) {
    let rows = sections.iter().flat_map(|s| &s.rows);
    let keys = rows.clone().map(|r| r.keys.chars().count()).max();
    let about = rows.map(|r| r.about.chars().count()).max();
    let (keys, about) = (keys.unwrap_or(0) as u16, about.unwrap_or(0) as u16);
    let title = sections.iter().map(|s| s.title.chars().count()).max();
    let title = title.unwrap_or(0) as u16;
    (keys, about.max(title.saturating_sub(keys + SPACE)))
}

fn column_lines<'a>(
    sections: &'a [HelpSection],
    keys: u16,
    about: u16,
    mode: &Mode,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let (keys, about) = (keys as usize, about as usize);
    let mut lines = Vec::new();
    for section in sections {
        lines.push(Line::from(Span::styled(section.title, theme.header)));
        for row in &section.rows {
            let usable = match row.who {
                Who::Anyone => true,
                Who::Driver => *mode == Mode::Driver,
                Who::Follower => matches!(mode, Mode::Follower(_)),
                Who::Fleet => true,
            };
            let (key_style, about_style) = if usable {
                (theme.key, theme.base)
            } else {
                (theme.dim, theme.dim)
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{:>keys$}  ", row.keys), key_style),
                Span::styled(fit(row.about, about), about_style),
            ]));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use crate::app::state::Overlay;
    use crate::cockpit::headless::render_text;
    use crate::fixture;
    use crate::mesh::fleet::FleetFacts;
    use crate::ui::theme::{Palette, Theme};

    fn help_text(in_fleet: bool) -> String {
        let mut state = fixture::state(120, 40, |_, _| 10);
        state.ui.overlay = Overlay::Help;
        if in_fleet {
            state.fleet = Some(FleetFacts::default());
        }
        let theme = Theme::builtin("default", Palette::TrueColor).expect("theme");
        render_text(&state, &theme)
    }

    #[test]
    fn the_cluster_key_is_listed_only_in_a_fleet() {
        assert!(help_text(true).contains("next cluster of the fleet"));
        assert!(!help_text(false).contains("next cluster"));
    }
}
