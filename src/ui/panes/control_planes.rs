//! Control planes: one row per istiod revision, and the total while two run side by side.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use crate::app::state::{Pane, State};
use crate::mesh::Mesh;
use crate::mesh::rows;
use crate::ui::common::{pane_block, revision_style};
use crate::ui::theme::Theme;

fn cpu(m: u64) -> String {
    if m >= 1000 {
        format!("{:.1}", m as f64 / 1000.0)
    } else {
        format!("{m}m")
    }
}

fn memory(mib: u64) -> String {
    if mib >= 1024 {
        format!("{:.1}Gi", mib as f64 / 1024.0)
    } else {
        format!("{mib}Mi")
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let rows = rows::control_plane_rows(&state.cluster, mesh);
    let mut ambient: Vec<Span<'_>> = Vec::new();
    for ds in state.cluster.daemonsets.values() {
        let version = ds.version.map_or("?".to_string(), |v| v.to_string());
        ambient.push(Span::styled(
            format!(" {} {version} {}/{} ", ds.name, ds.ready, ds.desired),
            theme.dim,
        ));
    }
    let total_cpu: u64 = rows.iter().map(|r| r.cpu_millis).sum();
    let total_mem: u64 = rows.iter().map(|r| r.memory_mib).sum();
    let mut extra = Vec::new();
    if rows.len() > 1 {
        extra.push(Span::styled(
            format!(
                "side by side: {} CPU, {} requested ",
                cpu(total_cpu),
                memory(total_mem)
            ),
            theme.warn,
        ));
    }
    let block =
        pane_block(state, theme, Pane::ControlPlanes, extra).title_bottom(Line::from(ambient));
    let header = Row::new([
        "REVISION",
        "VERSION",
        "ISTIOD",
        "TAGS",
        "NAMESPACES",
        "PODS",
        "CPU",
        "MEMORY",
        "NACKS",
    ])
    .style(theme.header);
    let scroll = state.ui.control_planes;
    let height = area.height.saturating_sub(3) as usize;
    let focused = state.ui.focus == Pane::ControlPlanes;
    let body: Vec<Row<'_>> = rows
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, r)| {
            let rev_style = revision_style(theme, mesh, &r.revision);
            let istiod_style = if r.istiod_total > 0 && r.istiod_ready == r.istiod_total {
                theme.ok
            } else {
                theme.warn
            };
            let row = Row::new(vec![
                Cell::from(r.revision.clone()).style(rev_style),
                Cell::from(r.version.map_or("?".into(), |v| v.to_string())),
                Cell::from(istiod_cell(r)).style(istiod_style),
                Cell::from(if r.tags.is_empty() {
                    "-".into()
                } else {
                    r.tags.join(",")
                }),
                Cell::from(r.namespaces.to_string()),
                Cell::from(r.pods.to_string()),
                Cell::from(cpu(r.cpu_millis)),
                Cell::from(memory(r.memory_mib)),
                Cell::from(r.nacks.to_string()).style(if r.nacks > 0 {
                    theme.nack
                } else {
                    theme.dim
                }),
            ]);
            if focused && i == scroll.selected {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    // A remote's rows say whose istiod serves them; one cluster's keep the narrow column.
    let istiod_width = rows
        .iter()
        .filter(|r| r.served_by.is_some())
        .map(|r| istiod_cell(r).chars().count())
        .max()
        .unwrap_or(0)
        .max(6) as u16;
    let widths = [
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(istiod_width),
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
    ];
    frame.render_widget(
        Table::new(body, widths)
            .header(header)
            .block(block)
            .style(theme.base),
        area,
    );
}

/// `ready/total` of the revision's istiod pods, and for a remote the primary they run in.
fn istiod_cell(r: &rows::ControlPlaneRow) -> String {
    match &r.served_by {
        Some(primary) => format!("served by {primary} {}/{}", r.istiod_ready, r.istiod_total),
        None => format!("{}/{}", r.istiod_ready, r.istiod_total),
    }
}
