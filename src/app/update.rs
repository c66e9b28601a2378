//! `update`: the only function that changes the state. Pure: no I/O, no clock, no terminal.

use super::effects::Effects;
use super::event::{Event, LeaseStatus, Stream, StreamStatus, Watch};
use super::state::{Mode, Pane, State, StreamHealth};
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
            super::on_key::on_key(state, &mut effects, key, viewport);
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
            super::checks::refresh(state);
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
        Event::RemoteSecrets(w) => {
            mark(state, Stream::RemoteSecrets, &w);
            state.cluster.remote_secrets.apply(w, |s| s.name.clone())
        }
        Event::RootCa(w) => {
            mark(state, Stream::RootCa, &w);
            state.cluster.root_ca.apply(w, |ca| ca.namespace.clone())
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
        Event::Inventory(change) => {
            touch(state, Stream::Objects);
            // Seen on screen once the checks run again, on a tick.
            super::checks::apply(state, change);
            false
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
        Event::Triage(answer) => state.triage.as_mut().is_some_and(|t| t.take(answer)),
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
    // The first run as soon as everything is listed rather than on a tick: the first wave's
    // gate waits for it.
    let first_checks = state.checks.findings.is_none() && super::checks::refresh(state);
    effects.redraw = changed || first_checks;
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
pub(super) fn refit(state: &mut State, viewport: Viewports) {
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

#[cfg(test)]
mod tests;
