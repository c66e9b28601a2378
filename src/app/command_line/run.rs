//! A command carried out: it selects, focuses or shows, as the keys would, and never writes.

use super::parse::{Command, View};
use crate::app::effects::Effects;
use crate::app::keymap::KeyAction;
use crate::app::on_key::act;
use crate::app::state::{BottomPane, Pane, State};
use crate::app::update::{Viewports, refit};

/// Why a command that read well did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("no namespace {name} in {context}")]
    NoNamespace { name: String, context: String },
    #[error("no cluster {name} in the fleet: {known}")]
    NoCluster { name: String, known: String },
    #[error("which cluster? {known}")]
    WhichCluster { known: String },
    #[error("there is only one cluster here: {0}")]
    OneCluster(String),
    #[error("no namespace selected: :pods <namespace>, or :ns <namespace> first")]
    NoNamespaceSelected,
}

pub fn run(
    state: &mut State,
    effects: &mut Effects,
    command: Command,
    viewport: Viewports,
) -> Result<(), RunError> {
    match command {
        Command::Namespace(None) => {
            state.ui.filters.remove(&Pane::Namespaces);
            state.ui.focus = Pane::Namespaces;
            refit(state, viewport);
        }
        Command::Namespace(Some(name)) => {
            select_namespace(state, name, viewport)?;
            state.ui.focus = Pane::Namespaces;
            refit(state, viewport);
        }
        Command::Pods(name) => {
            if let Some(name) = name {
                select_namespace(state, name, viewport)?;
            }
            if state.ui.selected_namespace.is_none() {
                return Err(RunError::NoNamespaceSelected);
            }
            state.ui.focus = Pane::Pods;
            refit(state, viewport);
        }
        Command::Cluster(name) => effects.select_cluster = Some(cluster(state, name)?),
        Command::Show(view) => show(state, effects, view, viewport),
        Command::Plan => state.ui.notice = Some(plan_line(state)),
        Command::Quit => act(state, effects, KeyAction::Quit, viewport),
    }
    Ok(())
}

/// Selects a namespace by name, clearing a filter that hides it.
fn select_namespace(state: &mut State, name: String, viewport: Viewports) -> Result<(), RunError> {
    if state.cluster.namespaces.get(&name).is_none() {
        return Err(RunError::NoNamespace {
            name,
            context: state.session.context.clone(),
        });
    }
    let hidden = !crate::app::view::visible_namespaces(state)
        .iter()
        .any(|n| n.name == name);
    if hidden {
        state.ui.filters.remove(&Pane::Namespaces);
    }
    if state.ui.selected_namespace.as_deref() != Some(name.as_str()) {
        state.ui.selected_namespace = Some(name);
        state.ui.selected_pod = None;
        state.ui.pods = Default::default();
    }
    refit(state, viewport);
    Ok(())
}

/// The fleet's cluster a `:ctx` names, for the fleet to show.
fn cluster(state: &State, name: Option<String>) -> Result<String, RunError> {
    let known = &state.ui.clusters;
    if known.is_empty() {
        return Err(RunError::OneCluster(state.session.context.clone()));
    }
    let list = || known.join(", ");
    match name {
        None => Err(RunError::WhichCluster { known: list() }),
        Some(name) if known.contains(&name) => Ok(name),
        Some(name) => Err(RunError::NoCluster {
            name,
            known: list(),
        }),
    }
}

/// Shows a view as its key would; one already shown stays (a command never hides).
fn show(state: &mut State, effects: &mut Effects, view: View, viewport: Viewports) {
    let bottom = |pane: BottomPane, key: KeyAction| (pane, Some(key));
    let (pane, key) = match view {
        View::Help => return act(state, effects, KeyAction::Help, viewport),
        View::CockpitLog => {
            if !state.ui.cockpit_log {
                act(state, effects, KeyAction::CockpitLog, viewport);
            }
            return;
        }
        View::Logs => (BottomPane::IstiodLogs, None),
        View::Journal => bottom(BottomPane::Journal, KeyAction::Journal),
        View::Metrics => bottom(BottomPane::Metrics, KeyAction::Metrics),
        View::Checks => bottom(BottomPane::Checks, KeyAction::Checks),
    };
    match key {
        Some(key) if state.ui.bottom != pane => act(state, effects, key, viewport),
        Some(_) => {}
        None => {
            state.ui.bottom = pane;
            state.ui.focus = Pane::Logs;
            refit(state, viewport);
        }
    }
}

/// Where the plan stands, in one line; or why there is none and how to load one.
fn plan_line(state: &State) -> String {
    let Some(plan) = &state.drive.plan else {
        let why = state
            .drive
            .plan_problem
            .as_deref()
            .unwrap_or("none yet: it is derived once the cluster is listed");
        return format!("no plan ({why}); --plan FILE loads one");
    };
    let phases = plan.phases();
    let phase = crate::app::plan_flow::current_phase(state, plan);
    let index = phases.iter().position(|p| *p == phase).unwrap_or(0) + 1;
    format!(
        "plan {} → {}: phase {index}/{} {}; the top bar follows it, :journal shows what was done",
        plan.from,
        plan.to,
        phases.len(),
        plan.phase_name(phase)
    )
}
