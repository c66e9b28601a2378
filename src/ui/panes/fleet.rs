//! The fleet pane: one row per cluster, on top when the cockpit watches several. The selected
//! row is the cluster the panes below show.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use crate::app::fleet::{Fleet, Member};
use crate::app::plan_flow;
use crate::app::state::Mode;
use crate::mesh::revisions::istiod_readiness;
use crate::ui::common::revision_style;
use crate::ui::panes::status_bar::stale_for;
use crate::ui::theme::Theme;

const HEADER: [&str; 7] = [
    "CLUSTER",
    "ROLE",
    "API",
    "MODE",
    "CONTROL PLANE",
    "PODS",
    "PHASE",
];

pub fn draw(frame: &mut Frame<'_>, area: Rect, fleet: &Fleet, theme: &Theme) {
    let rows = fleet
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| row(m, i == fleet.selected, theme));
    let header = Row::new(HEADER.map(|h| Cell::from(Span::styled(h, theme.header))));
    let key = fleet
        .selected()
        .state
        .ui
        .keys
        .key(crate::app::keymap::KeyAction::NextCluster);
    let title = Line::from(vec![
        Span::styled(" Fleet ", theme.title),
        Span::styled(
            format!("{} clusters · {key} next ", fleet.members.len()),
            theme.dim,
        ),
    ]);
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Fill(2),
        ],
    )
    .header(header)
    .block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(title),
    );
    frame.render_widget(table, area);
}

fn row<'a>(member: &'a Member, selected: bool, theme: &Theme) -> Row<'a> {
    let state = &member.state;
    let mesh = state.mesh();
    let role = state.fleet.as_ref().map_or("", |f| f.role.name());
    let (api, api_style) = match stale_for(state) {
        Some(s) => (format!("STALE {s}s"), theme.warn),
        None if state.session.streams.is_empty() => ("connecting".into(), theme.dim),
        None => ("ok".into(), theme.base),
    };
    let (mode, mode_style) = match &state.session.mode {
        Mode::Driver => ("DRIVER", theme.driver),
        Mode::Follower(_) => ("FOLLOWER", theme.read_only),
        Mode::ReadOnly(_) => ("READ-ONLY", theme.read_only),
    };
    let mut control = Vec::new();
    for revision in &mesh.revisions {
        let (ready, total) = istiod_readiness(&state.cluster, revision);
        let text = if total == 0 {
            format!("{revision} (no istiod) ")
        } else {
            format!("{revision} {ready}/{total} ")
        };
        control.push(Span::styled(text, revision_style(theme, &mesh, revision)));
    }
    let pods: Vec<Span<'_>> = state
        .cluster
        .pod_tally
        .served
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(rev, n)| Span::styled(format!("{rev}:{n} "), revision_style(theme, &mesh, rev)))
        .collect();
    let phase = match &state.drive.plan {
        Some(plan) => plan.phase_name(plan_flow::current_phase(state, plan)),
        None => "no plan yet".into(),
    };
    let marker = if selected { "▶ " } else { "  " };
    let row = Row::new(vec![
        Cell::from(format!("{marker}{}", member.name)),
        Cell::from(role),
        Cell::from(Span::styled(api, api_style)),
        Cell::from(Span::styled(mode, mode_style)),
        Cell::from(Line::from(control)),
        Cell::from(Line::from(pods)),
        Cell::from(phase),
    ]);
    if selected {
        row.style(theme.selected)
    } else {
        row
    }
}
