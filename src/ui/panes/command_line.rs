//! The `:` command line, in the status bar's row while it is open: the line with its cursor,
//! the candidates Tab goes through (the one it took highlighted), and its keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::command_line::{Names, names_of, shown};
use crate::app::state::State;
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let Some(line) = &state.ui.command_line else {
        return;
    };
    let (namespaces, clusters) = names_of(&state.cluster, &state.ui.clusters);
    let names = Names {
        namespaces: &namespaces,
        clusters: &clusters,
    };
    let (candidates, current) = line.shown_candidates(names);
    let prompt = format!(" :{}▏ ", line.text);
    let hints = format!("  {} ", state.ui.keys.command_hints());
    let width = |s: &str| s.chars().count();
    let mut room = (area.width as usize).saturating_sub(width(&prompt) + width(&hints));
    let mut spans = vec![Span::styled(prompt, theme.filter)];
    if candidates.is_empty() && !line.text.trim().is_empty() {
        spans.push(Span::styled(" no match ", theme.dim));
    }
    for (i, candidate) in candidates.iter().enumerate() {
        let word = format!(" {} ", shown(candidate));
        let left = candidates.len() - i;
        let more = format!(" +{left} ");
        // Room is kept for saying how many did not fit.
        let after = if left > 1 { width(&more) + 1 } else { 0 };
        if width(&word) + after > room {
            spans.push(Span::styled(more, theme.dim));
            break;
        }
        room -= width(&word);
        let style = if current == Some(i) {
            theme.selected
        } else {
            theme.key
        };
        spans.push(Span::styled(word, style));
    }
    spans.push(Span::styled(hints, theme.dim));
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar),
        area,
    );
}

#[cfg(test)]
mod tests {
    use crate::app::command_line::CommandLine;
    use crate::cockpit::headless::render_text;
    use crate::fixture;
    use crate::ui::theme::{Palette, Theme};

    fn bottom_line(text: &str, tabs: usize, width: u16) -> String {
        let mut state = fixture::state(width, 40, |_, _| 10);
        let mut line = CommandLine::default();
        text.chars().for_each(|c| line.push(c));
        let (namespaces, clusters) = super::names_of(&state.cluster, &state.ui.clusters);
        let names = super::Names {
            namespaces: &namespaces,
            clusters: &clusters,
        };
        for _ in 0..tabs {
            line.complete(names);
        }
        state.ui.command_line = Some(line);
        let theme = Theme::builtin("default", Palette::TrueColor).expect("theme");
        let screen = render_text(&state, &theme);
        screen
            .lines()
            .last()
            .unwrap_or_default()
            .trim_end()
            .to_string()
    }

    #[test]
    fn the_line_shows_in_the_status_bars_place_with_its_candidates_and_keys() {
        assert_eq!(
            bottom_line("ns s", 0, 120),
            " :ns s▏  search  staging-web   Tab complete · Enter run · Esc cancel"
        );
        assert_eq!(
            bottom_line("ns s", 2, 120),
            " :ns staging-web▏  search  staging-web   Tab complete · Enter run · Esc cancel"
        );
        assert_eq!(
            bottom_line("deploy", 0, 120),
            " :deploy▏  no match   Tab complete · Enter run · Esc cancel"
        );
    }

    #[test]
    fn candidates_that_do_not_fit_are_counted() {
        let line = bottom_line("ns ", 0, 80);
        assert!(line.contains(" checkout "), "{line}");
        assert!(line.contains(" +"), "{line}");
        assert!(line.ends_with("Esc cancel"), "{line}");
    }
}
