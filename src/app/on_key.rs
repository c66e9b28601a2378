//! Keys: read through the keymap for what the screen is waiting for (a preview, a typed
//! name, a filter, the panes), and turned into changes of the state. The only place keys are
//! dispatched.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::drive::Dialog;
use super::effects::Effects;
use super::keymap::{Context, KeyAction};
use super::state::{BottomPane, Overlay, Pane, State};
use super::triage::{Triage, View};
use super::update::{Viewports, refit};
use super::view;

pub fn on_key(state: &mut State, effects: &mut Effects, key: KeyEvent, viewport: Viewports) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    state.ui.notice = None;
    let action = state.ui.keys.action(context(state), &key);
    if action == Some(KeyAction::QuitAnywhere) {
        effects.quit = true;
        return;
    }
    if super::drive::on_dialog_key(state, effects, action, key.code) {
        return;
    }
    if state.ui.command_line.is_some() {
        super::command_line::on_key(state, effects, action, key, viewport);
        return;
    }
    if let Some(pane) = state.ui.editing_filter() {
        edit_filter(state, pane, action, key, viewport);
        return;
    }
    if state.ui.overlay == Overlay::Help {
        // Any key closes the help; the quit key still quits.
        state.ui.overlay = Overlay::None;
        if action != Some(KeyAction::Quit) {
            return;
        }
    }
    if let Some(action) = action {
        act(state, effects, action, viewport);
    }
}

/// What the screen waits for, in the order keys go to it.
pub fn context(state: &State) -> Context {
    match &state.drive.dialog {
        Some(
            Dialog::ContinueWave { .. }
            | Dialog::TypeToConfirm { .. }
            | Dialog::OverrideWave { .. },
        ) => Context::Typed,
        Some(_) => Context::Preview,
        None if state.ui.command_line.is_some() => Context::Command,
        None if state.ui.editing_filter().is_some() => Context::Filter,
        None => Context::Panes,
    }
}

/// An action on the panes.
pub(crate) fn act(
    state: &mut State,
    effects: &mut Effects,
    action: KeyAction,
    viewport: Viewports,
) {
    use KeyAction as K;
    match action {
        K::Quit => effects.quit = true,
        K::Help => state.ui.overlay = Overlay::Help,
        // Focus and the cockpit log change the layout: selections are refitted to it.
        K::NextPane => {
            state.ui.focus = state.ui.focus.next();
            refit(state, viewport);
        }
        K::PreviousPane => {
            state.ui.focus = state.ui.focus.previous();
            refit(state, viewport);
        }
        K::Down => move_cursor(state, 1, viewport),
        K::Up => move_cursor(state, -1, viewport),
        K::PageDown => move_cursor(state, page(state, viewport), viewport),
        K::PageUp => move_cursor(state, -page(state, viewport), viewport),
        K::First => move_cursor(state, isize::MIN / 2, viewport),
        K::Last => move_cursor(state, isize::MAX / 2, viewport),
        K::Drill => drill(state, viewport),
        K::Filter => {
            let pane = state.ui.focus;
            state.ui.filters.entry(pane).or_default().editing = true;
        }
        K::NackOnly => {
            state.ui.nack_only = !state.ui.nack_only;
            state.ui.log_cursor = None;
            state.ui.follow = true;
        }
        K::Follow if state.ui.bottom == BottomPane::Triage => {
            if let Some(t) = state.triage.as_mut() {
                t.toggle_follow();
            }
        }
        K::Follow => {
            state.ui.follow = !state.ui.follow;
            if state.ui.follow {
                state.ui.log_cursor = None;
            } else {
                state.ui.log_cursor = view::visible_logs(state).last().map(|e| e.seq);
            }
        }
        K::CockpitLog => {
            state.ui.cockpit_log = !state.ui.cockpit_log;
            refit(state, viewport);
        }
        K::ClearFilter => {
            if state
                .ui
                .filters
                .get(&state.ui.focus)
                .is_some_and(|f| !f.text.is_empty())
            {
                state.ui.filters.remove(&state.ui.focus);
                refit(state, viewport);
            }
        }
        K::Migrate => super::drive::preview_migrate(state),
        K::Revert => super::drive::preview_revert(state),
        K::MoveTag => super::drive::preview_move_tag(state),
        K::TakeOver => super::drive::preview_take_over(state),
        K::Advance => super::plan_flow::preview_advance(state),
        K::MigrateWave => super::plan_flow::preview_wave(state),
        K::Rollback => super::rollback::preview(state),
        K::Journal => {
            state.ui.bottom = state.ui.bottom.toggled(BottomPane::Journal);
            refit(state, viewport);
        }
        K::Metrics => {
            state.ui.bottom = state.ui.bottom.toggled(BottomPane::Metrics);
            refit(state, viewport);
        }
        K::Checks => {
            state.ui.bottom = state.ui.bottom.toggled(BottomPane::Checks);
            refit(state, viewport);
        }
        K::PodEvents => triage(state, View::Events, viewport),
        K::ProxyLog => triage(state, View::ProxyLog, viewport),
        K::ProxyStatus => triage(state, View::ProxyStatus, viewport),
        K::PodYaml => triage(state, View::Yaml, viewport),
        K::CommandLine => state.ui.command_line = Some(Default::default()),
        K::CopyName => copy(state, effects, super::copy::What::Name),
        K::CopyCommand => copy(state, effects, super::copy::What::Command),
        // Keys of previews and of typing mean nothing on the panes; the fleet layer takes
        // the cluster key before a cluster's state sees it.
        K::NextCluster
        | K::QuitAnywhere
        | K::Apply
        | K::ApplyAndRestart
        | K::Cancel
        | K::Pick
        | K::KeepFilter
        | K::DropFilter
        | K::SendTyped
        | K::CancelTyped
        | K::Erase
        | K::Complete
        | K::RunCommand
        | K::CancelCommand => {}
    }
}

/// `y` / `Y`: the loop puts the text on the clipboard; the status bar says what.
fn copy(state: &mut State, effects: &mut Effects, what: super::copy::What) {
    match super::copy::text(state, what) {
        Some(text) => {
            state.ui.notice = Some(format!("copied: {text}"));
            effects.copy = Some(text);
        }
        None => state.ui.notice = Some("nothing selected to copy here".into()),
    }
}

/// Rows in a page of the focused pane.
fn page(state: &State, viewport: Viewports) -> isize {
    viewport(state, state.ui.focus).max(1) as isize
}

fn edit_filter(
    state: &mut State,
    pane: Pane,
    action: Option<KeyAction>,
    key: KeyEvent,
    viewport: Viewports,
) {
    let filter = state.ui.filters.entry(pane).or_default();
    match (action, key.code) {
        (Some(KeyAction::KeepFilter), _) => filter.editing = false,
        (Some(KeyAction::DropFilter), _) => {
            state.ui.filters.remove(&pane);
        }
        (Some(KeyAction::Erase), _) => {
            filter.text.pop();
        }
        (None, KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            filter.text.push(c);
        }
        _ => {}
    }
    match pane {
        Pane::Namespaces => state.ui.namespaces = Default::default(),
        Pane::Pods => state.ui.pods = Default::default(),
        Pane::Logs => state.ui.log_cursor = None,
        Pane::ControlPlanes => {}
    }
    if pane == Pane::Namespaces {
        state.ui.selected_namespace = None;
        state.ui.selected_pod = None;
    }
    if pane == Pane::Pods {
        state.ui.selected_pod = None;
    }
    refit(state, viewport);
}

fn move_cursor(state: &mut State, delta: isize, viewport: Viewports) {
    if state.ui.focus == Pane::Logs && state.ui.bottom == BottomPane::Triage {
        if let Some(t) = state.triage.as_mut() {
            t.scroll_by(delta);
        }
        return;
    }
    let height = viewport(state, state.ui.focus);
    match state.ui.focus {
        Pane::ControlPlanes => {
            let len = state.mesh().revisions.len();
            state.ui.control_planes.move_by(delta, len, height);
        }
        Pane::Namespaces => {
            let names: Vec<String> = view::visible_namespaces(state)
                .iter()
                .map(|n| n.name.clone())
                .collect();
            state.ui.namespaces.move_by(delta, names.len(), height);
            let selected = names.get(state.ui.namespaces.selected).cloned();
            if selected != state.ui.selected_namespace {
                state.ui.selected_namespace = selected;
                state.ui.selected_pod = None;
                state.ui.pods = Default::default();
                refit(state, viewport);
            }
        }
        Pane::Pods => {
            let pods: Vec<String> = view::visible_pods(state)
                .iter()
                .map(|p| p.name.clone())
                .collect();
            state.ui.pods.move_by(delta, pods.len(), height);
            state.ui.selected_pod = pods.get(state.ui.pods.selected).cloned();
            follow_selected_pod(state);
        }
        Pane::Logs => {
            let seqs: Vec<u64> = view::visible_logs(state).iter().map(|e| e.seq).collect();
            if seqs.is_empty() {
                return;
            }
            let current = state
                .ui
                .log_cursor
                .and_then(|c| seqs.iter().position(|s| *s >= c))
                .unwrap_or(seqs.len() - 1);
            let next = current.saturating_add_signed(delta).min(seqs.len() - 1);
            // Moving to the newest line resumes following; moving away pauses it.
            state.ui.follow = next == seqs.len() - 1 && delta > 0;
            state.ui.log_cursor = (!state.ui.follow).then(|| seqs[next]);
        }
    }
}

/// Enter: from a namespace to its pods, from a NACK line to the pod it names.
fn drill(state: &mut State, viewport: Viewports) {
    match state.ui.focus {
        Pane::ControlPlanes => {
            state.ui.focus = Pane::Namespaces;
            refit(state, viewport);
        }
        Pane::Namespaces => {
            if state.ui.selected_namespace.is_some() {
                state.ui.focus = Pane::Pods;
                refit(state, viewport);
            }
        }
        Pane::Pods => {}
        Pane::Logs => {
            let entries = view::visible_logs(state);
            let chosen = match state.ui.log_cursor {
                Some(seq) => entries.iter().find(|e| e.seq == seq),
                None => entries.last(),
            };
            let Some(proxy) = chosen
                .and_then(|e| e.line.nack.as_ref())
                .and_then(|n| n.proxy.clone())
            else {
                state.ui.notice = Some("Enter on a NACK line selects the pod it names".into());
                return;
            };
            if state
                .cluster
                .pods
                .get(&(proxy.namespace.clone(), proxy.pod.clone()))
                .is_none()
            {
                state.ui.notice = Some(format!(
                    "pod {}/{} no longer exists",
                    proxy.namespace, proxy.pod
                ));
                return;
            }
            state.ui.filters.remove(&Pane::Namespaces);
            state.ui.filters.remove(&Pane::Pods);
            state.ui.selected_namespace = Some(proxy.namespace);
            state.ui.selected_pod = Some(proxy.pod);
            state.ui.focus = Pane::Pods;
            refit(state, viewport);
        }
    }
}

/// Opens `view` of the pod the user points at (the pods pane's row, or the pod a NACK line
/// names), or closes it when it is already shown.
fn triage(state: &mut State, view: View, viewport: Viewports) {
    let Some((namespace, pod)) = pointed_pod(state, viewport) else {
        state.ui.notice = Some(
            "select a pod first: Enter on a namespace, then a pod, or Enter on a NACK line".into(),
        );
        return;
    };
    let shown = state.ui.bottom == BottomPane::Triage
        && state.triage.as_ref().is_some_and(|t| {
            t.request.view == view && t.request.namespace == namespace && t.request.pod == pod
        });
    if shown {
        state.ui.bottom = BottomPane::IstiodLogs;
        state.triage = None;
    } else {
        state.triage_serial += 1;
        state.triage = Some(Triage::open(state.triage_serial, &namespace, &pod, view));
        state.ui.bottom = BottomPane::Triage;
    }
    refit(state, viewport);
}

/// The pod a triage key is about: on the logs pane, the pod of the NACK line (selected as
/// Enter would); elsewhere the pod selected in the pods pane.
fn pointed_pod(state: &mut State, viewport: Viewports) -> Option<(String, String)> {
    if state.ui.focus == Pane::Logs && state.ui.bottom == BottomPane::IstiodLogs {
        drill(state, viewport);
        if state.ui.focus != Pane::Pods {
            return None;
        }
    }
    let namespace = state.ui.selected_namespace.clone()?;
    let pod = match &state.ui.selected_pod {
        Some(pod) => pod.clone(),
        None if state.ui.focus == Pane::Pods => view::visible_pods(state)
            .get(state.ui.pods.selected)
            .map(|p| p.name.clone())?,
        None => return None,
    };
    Some((namespace, pod))
}

/// The triage pane, while shown, follows the pods pane's selection with the same view.
fn follow_selected_pod(state: &mut State) {
    let (Some(namespace), Some(pod)) = (&state.ui.selected_namespace, &state.ui.selected_pod)
    else {
        return;
    };
    let Some(t) = state.triage.as_ref() else {
        return;
    };
    let moved = t.request.namespace != *namespace || t.request.pod != *pod;
    if state.ui.bottom == BottomPane::Triage && moved {
        state.triage_serial += 1;
        state.triage = Some(Triage::open(
            state.triage_serial,
            namespace,
            pod,
            t.request.view,
        ));
    }
}
