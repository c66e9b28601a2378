//! Pods of the selected namespace: revision from annotations, proxy version from the image,
//! and the skew flag. Columns drop out as the pane narrows, least important first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::app::state::{Pane, State};
use crate::app::view;
use crate::mesh::Mesh;
use crate::mesh::pod::PodInfo;
use crate::mesh::version::{Skew, Version};
use crate::ui::common::{age, pane_block, render_columns, revision_style};
use crate::ui::theme::Theme;

#[derive(Clone, Copy, PartialEq)]
enum Column {
    Name,
    Ready,
    Phase,
    Restarts,
    Age,
    Revision,
    Proxy,
    Skew,
}

fn columns(width: u16) -> Vec<(Column, &'static str, Constraint)> {
    let mut out = vec![
        (Column::Name, "NAME", Constraint::Min(20)),
        (Column::Ready, "READY", Constraint::Length(5)),
    ];
    if width >= 75 {
        out.push((Column::Phase, "PHASE", Constraint::Length(11)));
    }
    if width >= 100 {
        out.push((Column::Restarts, "RESTARTS", Constraint::Length(8)));
    }
    if width >= 75 {
        out.push((Column::Age, "AGE", Constraint::Length(4)));
    }
    out.push((Column::Revision, "REVISION", Constraint::Length(8)));
    out.push((Column::Proxy, "PROXY", Constraint::Length(7)));
    out.push((
        Column::Skew,
        "SKEW",
        Constraint::Length(if width >= 100 { 28 } else { 10 }),
    ));
    out
}

fn skew_text(skew: Skew, control: Version, proxy: Option<Version>, long: bool) -> String {
    let short = match skew {
        Skew::DataPlaneAhead => "⚠ ahead".to_string(),
        Skew::TooFarBehind(n) => format!("⚠ -{n} minors"),
        Skew::Supported => String::new(),
    };
    match (long, proxy) {
        (true, Some(p)) => format!("{short} ({p} vs istiod {control})"),
        _ => short,
    }
}

fn cell<'a>(
    column: Column,
    p: &PodInfo,
    state: &State,
    mesh: &Mesh,
    theme: &Theme,
    long: bool,
) -> Cell<'a> {
    match column {
        Column::Name => Cell::from(p.name.clone()),
        Column::Ready => Cell::from(format!("{}/{}", p.ready, p.containers))
            .style(if p.is_ready() { theme.ok } else { theme.warn }),
        Column::Phase => Cell::from(if p.terminating {
            "Terminating".to_string()
        } else {
            p.phase.clone()
        }),
        Column::Restarts => Cell::from(p.restarts.to_string()).style(if p.restarts > 0 {
            theme.warn
        } else {
            theme.dim
        }),
        Column::Age => Cell::from(age(p.created, state.session.now)).style(theme.dim),
        Column::Revision => match &p.revision {
            Some(r) => Cell::from(r.clone()).style(revision_style(theme, mesh, r)),
            None => Cell::from("-").style(theme.dim),
        },
        Column::Proxy => Cell::from(p.proxy.map_or("-".into(), |v| v.to_string())),
        Column::Skew => match mesh.pod_skew(p) {
            Some((skew, control)) => {
                Cell::from(skew_text(skew, control, p.proxy, long)).style(theme.warn)
            }
            None => Cell::from(""),
        },
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let pods = view::visible_pods(state);
    let scroll = state.ui.pods;
    let height = area.height.saturating_sub(3) as usize;
    let ns = state
        .ui
        .selected_namespace
        .clone()
        .unwrap_or_else(|| "no namespace selected".into());
    let block = pane_block(
        state,
        theme,
        Pane::Pods,
        vec![Span::styled(format!("{ns} · {} ", pods.len()), theme.dim)],
    );
    let columns = columns(area.width.saturating_sub(2));
    let long = area.width >= 102;
    let rows: Vec<Row<'_>> = pods
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, p)| {
            let row = Row::new(
                columns
                    .iter()
                    .map(|(c, _, _)| cell(*c, p, state, mesh, theme, long))
                    .collect::<Vec<_>>(),
            );
            let selected =
                i == scroll.selected && state.ui.selected_pod.as_deref() == Some(p.name.as_str());
            if selected && state.ui.focus == Pane::Pods {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    render_columns(frame, area, &columns, rows, block, theme);
}
