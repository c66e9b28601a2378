//! Namespaces: labels as set, the revision they resolve to, pods per revision, sidecar
//! versions, migration state and warnings. Columns drop out as the pane narrows.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use crate::app::state::{Pane, State};
use crate::app::view;
use crate::mesh::Mesh;
use crate::mesh::rows::{self, Migration, NO_SIDECAR, NamespaceRow};
use crate::ui::common::{fit, pane_block, render_columns, revision_style};
use crate::ui::theme::Theme;

#[derive(Clone, Copy, PartialEq)]
enum Column {
    Name,
    Tier,
    Labels,
    Injects,
    ByRevision,
    Versions,
    Ready,
    State,
    Warnings,
}

fn columns(width: u16) -> Vec<(Column, &'static str, Constraint)> {
    let mut out = vec![(
        Column::Name,
        "NAMESPACE",
        Constraint::Length(if width >= 110 { 18 } else { 16 }),
    )];
    if width >= 110 {
        out.push((Column::Tier, "TIER", Constraint::Length(12)));
    }
    if width >= 150 {
        out.push((Column::Labels, "LABELS", Constraint::Length(30)));
    }
    out.push((Column::Injects, "INJECTS", Constraint::Length(17)));
    out.push((
        Column::ByRevision,
        "PODS BY REVISION",
        Constraint::Length(22),
    ));
    if width >= 150 {
        out.push((Column::Versions, "VERSIONS", Constraint::Length(16)));
    }
    if width >= 110 {
        out.push((Column::Ready, "READY", Constraint::Length(6)));
    }
    out.push((Column::State, "STATE", Constraint::Length(9)));
    out.push((Column::Warnings, "WARNINGS", Constraint::Min(8)));
    out
}

fn by_revision<'a>(row: &NamespaceRow, mesh: &Mesh, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (rev, n)) in row.by_revision.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim));
        }
        let style = if rev == NO_SIDECAR {
            theme.dim
        } else {
            revision_style(theme, mesh, rev)
        };
        let name = if rev == NO_SIDECAR {
            "no sidecar".to_string()
        } else {
            rev.clone()
        };
        spans.push(Span::styled(format!("{name} {n}"), style));
    }
    Line::from(spans)
}

fn injects(row: &NamespaceRow) -> String {
    match (&row.resolution.revision, &row.resolution.via_tag) {
        (Some(rev), Some(tag)) => format!("{rev} ({tag})"),
        (Some(rev), None) => rev.clone(),
        (None, _) => "-".into(),
    }
}

fn cell<'a>(column: Column, row: &NamespaceRow, mesh: &Mesh, theme: &Theme) -> Cell<'a> {
    match column {
        Column::Name => Cell::from(row.name.clone()),
        Column::Tier => Cell::from(row.tier.clone().unwrap_or_default()).style(theme.dim),
        Column::Labels => Cell::from(fit(&row.labels, 30)),
        Column::Injects => {
            let style = row
                .resolution
                .revision
                .as_deref()
                .map_or(theme.dim, |r| revision_style(theme, mesh, r));
            Cell::from(injects(row)).style(style)
        }
        Column::ByRevision => Cell::from(by_revision(row, mesh, theme)),
        Column::Versions => Cell::from(
            row.versions
                .iter()
                .map(|(v, n)| format!("{v}×{n}"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Column::Ready => {
            Cell::from(format!("{}/{}", row.ready, row.pods)).style(if row.ready == row.pods {
                theme.ok
            } else {
                theme.warn
            })
        }
        Column::State => {
            let style = match row.migration {
                Migration::OnNew => theme.new_revision,
                Migration::OnOld => theme.old_revision,
                Migration::Migrating | Migration::Mixed => theme.warn,
                _ => theme.dim,
            };
            Cell::from(row.migration.label()).style(style)
        }
        Column::Warnings => Cell::from(row.warnings.join("; ")).style(theme.warn),
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let all = view::visible_namespaces(state);
    let scroll = state.ui.namespaces;
    let height = area.height.saturating_sub(3) as usize;
    let block = pane_block(
        state,
        theme,
        Pane::Namespaces,
        vec![Span::styled(format!("{} ", all.len()), theme.dim)],
    );
    let columns = columns(area.width.saturating_sub(2));
    let rows: Vec<Row<'_>> = all
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, ns)| {
            let row = rows::namespace_row(&state.cluster, mesh, ns);
            let r = Row::new(
                columns
                    .iter()
                    .map(|(c, _, _)| cell(*c, &row, mesh, theme))
                    .collect::<Vec<_>>(),
            );
            let selected = i == scroll.selected
                && state.ui.selected_namespace.as_deref() == Some(ns.name.as_str());
            match (selected, state.ui.focus == Pane::Namespaces) {
                (true, true) => r.style(theme.selected),
                (true, false) => r.style(theme.title),
                _ => r,
            }
        })
        .collect();
    render_columns(frame, area, &columns, rows, block, theme);
}
