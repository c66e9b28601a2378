//! The phase bar: the upgrade (from -> to), its phase as recorded in the cluster, who drives,
//! and the namespaces moving right now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::drive;
use crate::app::state::State;
use crate::app::view::Mesh;
use crate::ui::common::{age, revision_style};
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let mut spans = vec![Span::styled(" Upgrade ", theme.title)];
    match (&mesh.old, &mesh.new) {
        (Some(old), Some(new)) if old != new => {
            spans.push(Span::styled(old.clone(), revision_style(theme, mesh, old)));
            spans.push(Span::styled(" → ", theme.dim));
            spans.push(Span::styled(new.clone(), revision_style(theme, mesh, new)));
        }
        _ => spans.push(Span::styled("nothing to upgrade: one revision", theme.dim)),
    }
    let phase = state
        .records
        .upgrade
        .as_ref()
        .map(|u| u.phase.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "not started".into());
    spans.push(Span::styled(format!(" · phase: {phase}"), theme.base));
    if let Some(d) = &state.records.driver {
        let style = if d.expired(state.now) {
            theme.dim
        } else {
            theme.base
        };
        let gone = if d.expired(state.now) {
            " (lease expired)"
        } else {
            ""
        };
        spans.push(Span::styled(
            format!(
                " · driver: {} for {}{gone}",
                d.holder,
                age(d.since, state.now)
            ),
            style,
        ));
    }
    for p in drive::progress(state) {
        spans.push(Span::styled(format!(" · {p}"), theme.warn));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.base), area);
}
