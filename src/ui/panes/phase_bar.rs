//! The phase bar: the upgrade (from -> to), its phase as recorded in the cluster, who drives,
//! and the namespaces moving right now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::State;
use crate::app::{activity, plan_flow};
use crate::mesh::Mesh;
use crate::plan::gates::GateStatus;
use crate::ui::common::{age, revision_style};
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, mesh: &Mesh, theme: &Theme) {
    let mut spans = vec![Span::styled(" Upgrade ", theme.title)];
    let (from, to) = match &state.drive.plan {
        Some(plan) => (Some(plan.from.clone()), Some(plan.to.clone())),
        None => (mesh.old.clone(), mesh.new.clone()),
    };
    match (&from, &to) {
        (Some(old), Some(new)) if old != new => {
            spans.push(Span::styled(old.clone(), revision_style(theme, mesh, old)));
            spans.push(Span::styled(" → ", theme.dim));
            spans.push(Span::styled(new.clone(), revision_style(theme, mesh, new)));
        }
        _ => spans.push(Span::styled("nothing to upgrade: one revision", theme.dim)),
    }
    // A record the plan does not follow is a problem to see, not to use silently.
    if state.drive.plan.is_some()
        && let Some(problem) =
            crate::plan::derive::record_problem(&state.cluster, state.drive.plan.as_ref())
    {
        spans.push(Span::styled(format!(" · {problem}"), theme.error));
    }
    // What is moving right now comes first: it is what the driver watches.
    if let Some(run) = &state.drive.wave {
        let style = if run.stopped.is_some() {
            theme.error
        } else {
            theme.warn
        };
        spans.push(Span::styled(
            format!(" · {}", run.describe(state.session.now)),
            style,
        ));
    }
    for p in activity::progress(state) {
        spans.push(Span::styled(format!(" · {p}"), theme.warn));
    }
    match (&state.drive.plan, plan_flow::current_gates(state)) {
        (Some(plan), Some((phase, gates))) => {
            let phases = plan.phases();
            let index = phases.iter().position(|p| *p == phase).unwrap_or(0) + 1;
            let started = plan_flow::started(state, plan, phase).is_some();
            let name = plan.phase_name(phase);
            let shown = if started {
                name
            } else {
                format!("{name} (not started)")
            };
            spans.push(Span::styled(
                format!(" · phase {index}/{}: {shown}", phases.len()),
                theme.title,
            ));
            for gate in gates {
                let (mark, style) = match gate.status {
                    GateStatus::Pass => ("✓", theme.ok),
                    GateStatus::Fail(_) => ("✗", theme.error),
                    GateStatus::Unknown(_) => ("?", theme.warn),
                };
                spans.push(Span::styled(format!(" {mark} {}", gate.name), style));
            }
        }
        _ => {
            let why = state
                .drive
                .plan_problem
                .clone()
                .unwrap_or_else(|| "plan: waiting for the cluster's state".into());
            spans.push(Span::styled(format!(" · {why}"), theme.dim));
        }
    }
    if let Some(d) = &state.cluster.records.driver {
        let style = if d.expired(state.session.now) {
            theme.dim
        } else {
            theme.base
        };
        let gone = if d.expired(state.session.now) {
            " (lease expired)"
        } else {
            ""
        };
        spans.push(Span::styled(
            format!(
                " · driver: {} for {}{gone}",
                crate::mesh::records::display_holder(&d.holder),
                age(d.since, state.session.now)
            ),
            style,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.base), area);
}
