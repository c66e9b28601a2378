//! The fleet pane: one row per cluster, on top when the cockpit watches several. The selected
//! row is the cluster the panes below show; what is wrong across the fleet is on its bottom
//! border, each problem naming its cluster.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use crate::app::fleet::{Fleet, Member};
use crate::app::keymap::KeyAction;
use crate::app::plan_flow;
use crate::app::state::Mode;
use crate::mesh::fleet::{ClusterSummary, ProblemKind};
use crate::ui::common::revision_style;
use crate::ui::panes::status_bar::stale_for;
use crate::ui::theme::Theme;

const HEADER: [&str; 13] = [
    "CLUSTER",
    "ROLE",
    "API",
    "MODE",
    "CONTROL PLANE",
    "PODS",
    "PROXIES",
    "TAGS",
    "EAST-WEST",
    "SECRETS",
    "ROOT CA",
    "NACKS",
    "PHASE",
];

pub fn draw(frame: &mut Frame<'_>, area: Rect, fleet: &Fleet, theme: &Theme) {
    let rows = fleet
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| row(&fleet.summary(i), m, i == fleet.selected, theme));
    let header = Row::new(HEADER.map(|h| Cell::from(Span::styled(h, theme.header))));
    let selected = &fleet.selected().state;
    let key = selected.ui.keys.key(KeyAction::NextCluster);
    let title = Line::from(vec![
        Span::styled(" Fleet ", theme.title),
        Span::styled(
            format!("{} clusters · {key} next cluster ", fleet.members.len()),
            theme.dim,
        ),
    ]);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title);
    if let Some(problems) = problems_line(fleet, theme) {
        block = block.title_bottom(problems);
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Fill(6),
            Constraint::Fill(3),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(11),
            Constraint::Length(7),
            Constraint::Length(12),
            Constraint::Length(5),
            Constraint::Fill(3),
        ],
    )
    .header(header)
    .block(block);
    frame.render_widget(table, area);
}

/// The fleet's problems, the same in every member's facts: the first, and how many more.
fn problems_line<'a>(fleet: &Fleet, theme: &Theme) -> Option<Line<'a>> {
    let facts = fleet.members.iter().find_map(|m| m.state.fleet.as_ref())?;
    let first = facts.problems.first()?;
    let blocker = matches!(first.kind, ProblemKind::RootCaMismatch);
    let mut text = format!(" {} {first}", if blocker { "BLOCKER:" } else { "!" });
    if facts.problems.len() > 1 {
        text.push_str(&format!(" (+{} more)", facts.problems.len() - 1));
    }
    text.push(' ');
    Some(Line::from(Span::styled(text, theme.warn)))
}

/// The first four bytes of a fingerprint (`ab:cd:ef:01`): enough to tell roots apart at a glance.
fn short(fingerprint: &str) -> &str {
    fingerprint.get(..11).unwrap_or(fingerprint)
}

fn row<'a>(s: &ClusterSummary, member: &'a Member, selected: bool, theme: &Theme) -> Row<'a> {
    let state = &member.state;
    let mesh = state.mesh();
    let facts = state.fleet.as_ref();
    let has_problem = |kind: ProblemKind| {
        facts.is_some_and(|f| f.problems_of(kind).any(|p| p.cluster == member.name))
    };
    let warn_if = |bad: bool| if bad { theme.warn } else { theme.base };
    let role = facts.map_or("", |f| f.role.name());
    let (api, api_style) = match stale_for(state) {
        Some(secs) => (format!("STALE {secs}s"), theme.warn),
        None if state.session.streams.is_empty() => ("connecting".into(), theme.dim),
        None => ("ok".into(), theme.base),
    };
    let (mode, mode_style) = match &state.session.mode {
        Mode::Driver => ("DRIVER", theme.driver),
        Mode::Follower(_) => ("FOLLOWER", theme.read_only),
        Mode::ReadOnly(_) => ("READ-ONLY", theme.read_only),
    };
    let style = |rev: &str| revision_style(theme, &mesh, rev);
    // A remote's control plane is its primary's: said once, before the revisions.
    let via = s.revisions.iter().find_map(|r| r.served_by.as_deref());
    let mut control: Vec<Span<'_>> = via
        .map(|primary| Span::styled(format!("via {primary} "), theme.dim))
        .into_iter()
        .collect();
    control.extend(s.revisions.iter().map(|r| {
        let text = format!("{} {}/{} ", r.revision, r.istiod_ready, r.istiod_total);
        Span::styled(text, style(&r.revision))
    }));
    let pods: Vec<Span<'_>> = s
        .revisions
        .iter()
        .filter(|r| r.pods > 0)
        .map(|r| Span::styled(format!("{}:{} ", r.revision, r.pods), style(&r.revision)))
        .collect();
    let mut proxies: Vec<Span<'_>> = s
        .proxies
        .iter()
        .map(|(version, n)| Span::raw(format!("{version}:{n} ")))
        .collect();
    if s.skewed > 0 {
        proxies.push(Span::styled(format!("skew {}", s.skewed), theme.warn));
    }
    let tags = s
        .tags
        .iter()
        .map(|(tag, rev)| format!("{tag}→{rev}"))
        .collect::<Vec<_>>()
        .join(" ");
    let eastwest = match &s.eastwest {
        Some(gw) => Span::styled(
            format!(
                "{} {}/{}",
                gw.version.map_or("?".to_string(), |v| v.to_string()),
                gw.ready,
                gw.total
            ),
            warn_if(gw.ready < gw.total || gw.total == 0),
        ),
        None => Span::styled("none", warn_if(has_problem(ProblemKind::EastWest))),
    };
    let secrets = Span::styled(
        s.remote_secrets.len().to_string(),
        warn_if(has_problem(ProblemKind::RemoteSecret)),
    );
    let mismatch = has_problem(ProblemKind::RootCaMismatch);
    let root_ca = Span::styled(
        match &s.root_ca {
            Some(fingerprint) if mismatch => format!("≠{}", short(fingerprint)),
            Some(fingerprint) => short(fingerprint).to_string(),
            None => "?".into(),
        },
        warn_if(mismatch || s.root_ca.is_none()),
    );
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
        Cell::from(Line::from(proxies)),
        Cell::from(tags),
        Cell::from(eastwest),
        Cell::from(secrets),
        Cell::from(root_ca),
        Cell::from(Span::styled(s.nacks.to_string(), warn_if(s.nacks > 0))),
        Cell::from(phase),
    ]);
    if selected {
        row.style(theme.selected)
    } else {
        row.style(Style::default())
    }
}
