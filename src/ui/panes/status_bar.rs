//! The status bar: cluster and context, DRIVER or READ-ONLY, the health of every stream with
//! the age of its last event, and the keys that matter now (or a notice).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::event::{Stream, StreamStatus};
use crate::app::state::{Mode, State};
use crate::ui::common::age;
use crate::ui::theme::Theme;

/// Streams that have been failing for this many seconds make the data "stale". Only the
/// streams behind the panes count: a fleet's remote secrets or root CA failing to list show
/// as the fleet's problems (not seen yet), not as stale panes.
pub fn stale_for(state: &State) -> Option<i64> {
    state
        .session
        .streams
        .iter()
        .filter(|(stream, _)| Stream::ALL.contains(stream))
        .map(|(_, health)| health)
        .filter(|h| matches!(h.status, StreamStatus::Retrying(_)))
        .map(|h| {
            h.last_event
                .map_or(0, |t| (state.session.now - t).num_seconds().max(0))
        })
        .max()
}

/// The keys that matter now, as the keymap wrote them.
fn hints(state: &State) -> &str {
    if state.ui.editing_filter().is_some() {
        return state.ui.keys.filter_hints();
    }
    state.ui.keys.pane_hints(state.ui.focus)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let mut spans = vec![Span::styled(
        format!(" {} ", state.session.context),
        theme.status_bar,
    )];
    spans.push(match &state.session.mode {
        Mode::Driver => Span::styled(" DRIVER ", theme.driver),
        Mode::ReadOnly(_) => Span::styled(" READ-ONLY ", theme.read_only),
        Mode::Follower(holder) => {
            let drives = crate::mesh::records::drives_line(holder);
            Span::styled(format!(" READ-ONLY · {drives} "), theme.read_only)
        }
    });
    if state.session.dry_run {
        spans.push(Span::styled(" DRY RUN ", theme.warn));
    }
    let mut failing = Vec::new();
    for stream in Stream::ALL {
        match state.session.streams.get(&stream) {
            Some(h) if matches!(h.status, StreamStatus::Retrying(_)) => failing.push(stream.name()),
            None if stream != Stream::IstiodLogs => failing.push(stream.name()),
            _ => {}
        }
    }
    if let Some(stale) = stale_for(state) {
        spans.push(Span::styled(
            format!(" STALE {stale}s · reconnecting: {} ", failing.join(", ")),
            theme.error,
        ));
    } else if !failing.is_empty() {
        spans.push(Span::styled(
            format!(" connecting: {} ", failing.join(", ")),
            theme.warn,
        ));
    } else {
        let newest = state
            .session
            .streams
            .values()
            .filter_map(|h| h.last_event)
            .max();
        spans.push(Span::styled(
            format!(" live · last event {} ago ", age(newest, state.session.now)),
            theme.ok,
        ));
    }
    match &state.ui.notice {
        Some(notice) => spans.push(Span::styled(format!(" {notice} "), theme.warn)),
        None => spans.extend([
            Span::styled(" ", theme.dim),
            Span::styled(hints(state), theme.dim),
            Span::styled(" ", theme.dim),
        ]),
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::event::Event;
    use crate::app::update::update;

    #[test]
    fn only_the_panes_streams_make_the_data_stale() {
        let mut state = State::new("test", Mode::Driver, 10, chrono::Utc::now());
        let retrying = |stream| Event::Stream(stream, StreamStatus::Retrying("404".into()));
        update(&mut state, retrying(Stream::RemoteSecrets), |_, _| 10);
        assert_eq!(stale_for(&state), None);
        update(&mut state, retrying(Stream::Pods), |_, _| 10);
        assert_eq!(stale_for(&state), Some(0));
    }
}
