//! `update`: the only function that changes the state. Pure: no I/O, no clock, no terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::effects::Effects;
use super::event::{Event, LeaseStatus, Stream, StreamStatus, Watch};
use super::state::{BottomPane, Mode, Overlay, Pane, State, StreamHealth};
use super::view;
use crate::mesh::records;

/// Rows a table pane shows at the current size, for keeping selections in view.
pub type Viewports = fn(&State, Pane) -> usize;

/// Changes the state for one event, and returns what the loop must do besides: send writes,
/// draw a frame, quit.
pub fn update(state: &mut State, event: Event, viewport: Viewports) -> Effects {
    let mut effects = Effects::default();
    let changed = match event {
        Event::Key(key) => {
            on_key(state, &mut effects, key, viewport);
            true
        }
        Event::Resize(w, h) => {
            state.ui.width = w;
            state.ui.height = h;
            refit(state, viewport);
            true
        }
        Event::Tick(now) => {
            state.session.now = now;
            super::rollback::refresh(state, &mut effects);
            super::wave::step(state, &mut effects);
            true
        }
        Event::Namespaces(w) => {
            mark(state, Stream::Namespaces, &w);
            let listing = matches!(w, Watch::InitApply(_));
            let changed = state.cluster.namespaces.apply(w, |n| n.name.clone());
            if !listing {
                refit_namespaces(state, viewport);
                refit_pods(state, viewport);
            }
            changed
        }
        Event::Pods(w) => {
            mark(state, Stream::Pods, &w);
            // Only a change in the namespace on screen can move the pods selection; a
            // 50,000-pod list must not refit 50,000 times.
            let affects_selection = match &w {
                Watch::InitApply(_) | Watch::Init => false,
                Watch::InitDone => true,
                Watch::Apply(p) | Watch::Delete(p) => {
                    state.ui.selected_namespace.as_deref() == Some(p.namespace.as_str())
                }
            };
            let changed =
                crate::mesh::tally::apply(&mut state.cluster.pods, &mut state.cluster.pod_tally, w);
            if affects_selection {
                refit_pods(state, viewport);
            }
            changed
        }
        Event::Webhooks(w) => {
            mark(state, Stream::Webhooks, &w);
            let changed = state.cluster.webhooks.apply(w, |h| h.name.clone());
            refit_control_planes(state, viewport);
            changed
        }
        Event::DaemonSets(w) => {
            mark(state, Stream::DaemonSets, &w);
            state
                .cluster
                .daemonsets
                .apply(w, |d| (d.namespace.clone(), d.name.clone()))
        }
        Event::IstiodLog(line) => {
            touch(state, Stream::IstiodLogs);
            state
                .cluster
                .logs
                .push(&line.revision, &line.pod, &line.line);
            true
        }
        Event::Records(w) => {
            touch(state, Stream::Records);
            let changed = super::drive::apply_record(state, w);
            if changed && super::plan_flow::derived_plan_outdated(state) {
                // The upgrade record came after the plan was derived: follow the record.
                state.drive.plan = None;
                state.drive.plan_problem = None;
            }
            changed
        }
        Event::ActionDone { action, result } => {
            super::drive::on_result(state, &mut effects, action, result);
            true
        }
        Event::Metrics(m) => {
            // Twenty minutes of readings at one every five seconds.
            if state.metrics.readings.len() >= 240 {
                state.metrics.readings.pop_front();
            }
            super::rollback::observe(state, &mut effects, &m);
            state.metrics.readings.push_back(m);
            super::wave::step(state, &mut effects);
            true
        }
        Event::Lease(status) => on_lease(state, &mut effects, status),
        Event::Stream(stream, status) => {
            let now = state.session.now;
            let health = state.session.streams.entry(stream).or_insert(StreamHealth {
                status: status.clone(),
                last_event: None,
            });
            // A (re)established stream is fresh data; a failing one keeps its last good time.
            if status == StreamStatus::Connected {
                health.last_event = Some(now);
            }
            health.status = status;
            true
        }
    };
    if changed && !state.drive.activity.is_empty() {
        super::activity::settle_activity(state);
    }
    if changed && state.drive.plan.is_none() && state.drive.plan_problem.is_none() {
        settle_plan(state);
    }
    effects.redraw = changed;
    effects
}

/// This cockpit's hold on the lease changed. Losing it drops every queued write and closes
/// confirm dialogs before anything else can be sent.
fn on_lease(state: &mut State, effects: &mut Effects, status: LeaseStatus) -> bool {
    if matches!(state.session.mode, Mode::ReadOnly(_)) {
        return false;
    }
    let holder = match status {
        LeaseStatus::Held => {
            if state.session.mode != Mode::Driver {
                super::drive::on_lease_regained(state);
            }
            state.session.mode = Mode::Driver;
            return true;
        }
        LeaseStatus::HeldBy(holder) => holder,
        LeaseStatus::Expired => records::LEASE_EXPIRED.to_string(),
    };
    if state.session.mode == Mode::Driver {
        super::drive::on_lease_lost(state, effects, &records::drives_line(&holder));
    }
    state.session.mode = Mode::Follower(holder);
    true
}

/// Once the live state is complete, the plan is derived (or the `--plan` file completed).
fn settle_plan(state: &mut State) {
    let complete = state.cluster.namespaces.synced
        && state.cluster.pods.synced
        && state.cluster.webhooks.synced;
    if !complete {
        return;
    }
    match state.drive.plan_file.take() {
        Some(file) => {
            let derived = if file.from.is_some() || file.to.is_some() {
                crate::plan::derive::derive_live(&state.cluster)
            } else {
                crate::plan::derive::derive(&state.cluster)
            };
            match crate::plan::file::resolve(file, derived) {
                Ok(plan) => state.drive.plan = Some(plan),
                Err(e) => state.drive.plan_problem = Some(format!("the plan cannot be used: {e}")),
            }
        }
        None => match crate::plan::derive::derive(&state.cluster) {
            Some(plan) => state.drive.plan = Some(plan),
            None => {
                state.drive.plan_problem = Some(crate::plan::derive::nothing_to_upgrade(
                    &state.cluster,
                    None,
                ));
            }
        },
    }
}

fn mark<T>(state: &mut State, stream: Stream, event: &Watch<T>) {
    if !matches!(event, Watch::InitApply(_)) {
        touch(state, stream);
    }
}

fn touch(state: &mut State, stream: Stream) {
    let now = state.session.now;
    let health = state.session.streams.entry(stream).or_insert(StreamHealth {
        status: StreamStatus::Connected,
        last_event: None,
    });
    health.status = StreamStatus::Connected;
    health.last_event = Some(now);
}

/// Keeps every selection valid and visible after the rows or the layout changed.
fn refit(state: &mut State, viewport: Viewports) {
    refit_namespaces(state, viewport);
    refit_pods(state, viewport);
    refit_control_planes(state, viewport);
}

fn refit_namespaces(state: &mut State, viewport: Viewports) {
    // Borrowed, not cloned: every namespace event comes through here.
    let names = view::visible_namespaces(state);
    let len = names.len();
    let position = state
        .ui
        .selected_namespace
        .as_ref()
        .and_then(|s| names.iter().position(|n| n.name == *s));
    let fallback = match position {
        Some(_) => None,
        None => names
            .get(state.ui.namespaces.selected.min(len.saturating_sub(1)))
            .map(|n| n.name.clone()),
    };
    let height = viewport(state, Pane::Namespaces);
    match position {
        Some(i) => state.ui.namespaces.selected = i,
        None => state.ui.selected_namespace = fallback,
    }
    state.ui.namespaces.fit(len, height);
}

fn refit_pods(state: &mut State, viewport: Viewports) {
    let pods: Vec<String> = view::visible_pods(state)
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let height = viewport(state, Pane::Pods);
    match state
        .ui
        .selected_pod
        .as_ref()
        .and_then(|s| pods.iter().position(|n| n == s))
    {
        Some(i) => state.ui.pods.selected = i,
        None => {
            state.ui.selected_pod = pods
                .get(state.ui.pods.selected.min(pods.len().saturating_sub(1)))
                .cloned();
        }
    }
    state.ui.pods.fit(pods.len(), height);
}

fn refit_control_planes(state: &mut State, viewport: Viewports) {
    let revisions = state.mesh().revisions.len();
    let height = viewport(state, Pane::ControlPlanes);
    state.ui.control_planes.fit(revisions, height);
}

fn on_key(state: &mut State, effects: &mut Effects, key: KeyEvent, viewport: Viewports) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    state.ui.notice = None;
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        effects.quit = true;
        return;
    }
    if super::drive::on_dialog_key(state, effects, key) {
        return;
    }
    if let Some(pane) = state.ui.editing_filter() {
        edit_filter(state, pane, key, viewport);
        return;
    }
    if state.ui.overlay == Overlay::Help {
        // Any key closes the help; `q` still quits.
        state.ui.overlay = Overlay::None;
        if key.code != KeyCode::Char('q') {
            return;
        }
    }
    let page = viewport(state, state.ui.focus).max(1) as isize;
    match key.code {
        KeyCode::Char('q') => effects.quit = true,
        KeyCode::Char('?') => state.ui.overlay = Overlay::Help,
        // Focus and the cockpit log change the layout: selections are refitted to it.
        KeyCode::Tab => {
            state.ui.focus = state.ui.focus.next();
            refit(state, viewport);
        }
        KeyCode::BackTab => {
            state.ui.focus = state.ui.focus.previous();
            refit(state, viewport);
        }
        KeyCode::Down | KeyCode::Char('j') => move_cursor(state, 1, viewport),
        KeyCode::Up | KeyCode::Char('k') => move_cursor(state, -1, viewport),
        KeyCode::PageDown => move_cursor(state, page, viewport),
        KeyCode::PageUp => move_cursor(state, -page, viewport),
        KeyCode::Home | KeyCode::Char('g') => move_cursor(state, isize::MIN / 2, viewport),
        KeyCode::End | KeyCode::Char('G') => move_cursor(state, isize::MAX / 2, viewport),
        KeyCode::Enter => drill(state, viewport),
        KeyCode::Char('/') => {
            let pane = state.ui.focus;
            state.ui.filters.entry(pane).or_default().editing = true;
        }
        KeyCode::Char('n') => {
            state.ui.nack_only = !state.ui.nack_only;
            state.ui.log_cursor = None;
            state.ui.follow = true;
        }
        KeyCode::Char('f') => {
            state.ui.follow = !state.ui.follow;
            if state.ui.follow {
                state.ui.log_cursor = None;
            } else {
                state.ui.log_cursor = view::visible_logs(state).last().map(|e| e.seq);
            }
        }
        KeyCode::Char('L') => {
            state.ui.cockpit_log = !state.ui.cockpit_log;
            refit(state, viewport);
        }
        KeyCode::Esc
            if state
                .ui
                .filters
                .get(&state.ui.focus)
                .is_some_and(|f| !f.text.is_empty()) =>
        {
            state.ui.filters.remove(&state.ui.focus);
            refit(state, viewport);
        }
        KeyCode::Char('m') => super::drive::preview_migrate(state),
        KeyCode::Char('r') => super::drive::preview_revert(state),
        KeyCode::Char('t') => super::drive::preview_move_tag(state),
        KeyCode::Char('D') => super::drive::preview_take_over(state),
        KeyCode::Char('>') => super::plan_flow::preview_advance(state),
        KeyCode::Char('M') => super::plan_flow::preview_wave(state),
        KeyCode::Char('X') => super::rollback::preview(state),
        KeyCode::Char('J') => {
            state.ui.bottom = state.ui.bottom.toggled(BottomPane::Journal);
            refit(state, viewport);
        }
        KeyCode::Char('P') => {
            state.ui.bottom = state.ui.bottom.toggled(BottomPane::Metrics);
            refit(state, viewport);
        }
        _ => {}
    }
}

fn edit_filter(state: &mut State, pane: Pane, key: KeyEvent, viewport: Viewports) {
    let filter = state.ui.filters.entry(pane).or_default();
    match key.code {
        KeyCode::Enter => filter.editing = false,
        KeyCode::Esc => {
            state.ui.filters.remove(&pane);
        }
        KeyCode::Backspace => {
            filter.text.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => filter.text.push(c),
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

#[cfg(test)]
mod tests;
