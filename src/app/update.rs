//! `update`: the only function that changes the state. Pure: no I/O, no clock, no terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::event::{Event, LeaseStatus, Stream, StreamStatus, Watch};
use super::state::{Mode, Pane, State, StreamHealth};
use super::view;
use crate::mesh::records;

/// Rows a table pane shows at the current size, for keeping selections in view.
pub type Viewports = fn(&State, Pane) -> usize;

pub fn update(state: &mut State, event: Event, viewport: Viewports) {
    let changed = match event {
        Event::Key(key) => {
            on_key(state, key, viewport);
            true
        }
        Event::Resize(w, h) => {
            state.ui.width = w;
            state.ui.height = h;
            refit(state, viewport);
            true
        }
        Event::Tick(now) => {
            state.now = now;
            super::rollback::refresh(state);
            super::wave::step(state);
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
                state.plan = None;
                state.plan_problem = None;
            }
            changed
        }
        Event::ActionDone { action, result } => {
            super::drive::on_result(state, action, result);
            true
        }
        Event::Metrics(m) => {
            // Twenty minutes of readings at one every five seconds.
            if state.metrics.len() >= 240 {
                state.metrics.pop_front();
            }
            super::rollback::observe(state, &m);
            state.metrics.push_back(m);
            super::wave::step(state);
            true
        }
        Event::Lease(status) => on_lease(state, status),
        Event::Stream(stream, status) => {
            let now = state.now;
            let health = state.streams.entry(stream).or_insert(StreamHealth {
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
    if changed && !state.activity.is_empty() {
        super::activity::settle_activity(state);
    }
    if changed && state.plan.is_none() && state.plan_problem.is_none() {
        settle_plan(state);
    }
    state.dirty |= changed;
}

/// This cockpit's hold on the lease changed. Losing it drops every queued write and closes
/// confirm dialogs before anything else can be sent.
fn on_lease(state: &mut State, status: LeaseStatus) -> bool {
    if matches!(state.mode, Mode::ReadOnly(_)) {
        return false;
    }
    let holder = match status {
        LeaseStatus::Held => {
            if state.mode != Mode::Driver {
                super::drive::on_lease_regained(state);
            }
            state.mode = Mode::Driver;
            return true;
        }
        LeaseStatus::HeldBy(holder) => holder,
        LeaseStatus::Expired => records::LEASE_EXPIRED.to_string(),
    };
    if state.mode == Mode::Driver {
        super::drive::on_lease_lost(state, &records::drives_line(&holder));
    }
    state.mode = Mode::Follower(holder);
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
    match state.plan_file.take() {
        Some(file) => {
            let derived = if file.from.is_some() || file.to.is_some() {
                crate::plan::derive::derive_live(&state.cluster)
            } else {
                crate::plan::derive::derive(&state.cluster)
            };
            match crate::plan::file::resolve(file, derived) {
                Ok(plan) => state.plan = Some(plan),
                Err(e) => state.plan_problem = Some(format!("the plan cannot be used: {e}")),
            }
        }
        None => match crate::plan::derive::derive(&state.cluster) {
            Some(plan) => state.plan = Some(plan),
            None => {
                state.plan_problem = Some(crate::plan::derive::nothing_to_upgrade(
                    &state.cluster,
                    None,
                ))
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
    let now = state.now;
    let health = state.streams.entry(stream).or_insert(StreamHealth {
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
                .cloned()
        }
    }
    state.ui.pods.fit(pods.len(), height);
}

fn refit_control_planes(state: &mut State, viewport: Viewports) {
    let revisions = state.mesh().revisions.len();
    let height = viewport(state, Pane::ControlPlanes);
    state.ui.control_planes.fit(revisions, height);
}

fn on_key(state: &mut State, key: KeyEvent, viewport: Viewports) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    state.ui.notice = None;
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        state.quit = true;
        return;
    }
    if super::drive::on_dialog_key(state, key) {
        return;
    }
    if let Some(pane) = state.ui.editing_filter() {
        edit_filter(state, pane, key, viewport);
        return;
    }
    if state.ui.show_help {
        // Any key closes the help; `q` still quits.
        state.ui.show_help = false;
        if key.code != KeyCode::Char('q') {
            return;
        }
    }
    let page = viewport(state, state.ui.focus).max(1) as isize;
    match key.code {
        KeyCode::Char('q') => state.quit = true,
        KeyCode::Char('?') => state.ui.show_help = true,
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
            state.ui.show_cockpit_log = !state.ui.show_cockpit_log;
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
            state.ui.show_journal = !state.ui.show_journal;
            state.ui.show_metrics = false;
            refit(state, viewport);
        }
        KeyCode::Char('P') => {
            state.ui.show_metrics = !state.ui.show_metrics;
            state.ui.show_journal = false;
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
mod tests {
    use std::collections::BTreeMap;

    use chrono::Utc;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::app::event::IstiodLogLine;
    use crate::app::state::Mode;
    use crate::mesh::resources::NamespaceInfo;

    #[test]
    fn losing_the_lease_drops_every_queued_write_and_open_confirmation() {
        use crate::app::actions::Action;
        use crate::app::drive::{Command, Dialog};
        let restart = |ns: &str| {
            Command::new(
                Action::Restart {
                    namespace: ns.into(),
                },
                BTreeMap::new(),
            )
        };
        for (status, shown) in [
            (LeaseStatus::HeldBy("bob@jump".into()), "bob@jump drives"),
            (LeaseStatus::Expired, "the driver lease expired"),
        ] {
            let mut s = State::new("ctx", Mode::Driver, 10, Utc::now());
            s.commands.push(restart("a"));
            s.wave = Some(crate::app::wave::WaveRun::new(
                "wave 1: staging".into(),
                "1-25-0".into(),
                Default::default(),
                vec![restart("b")],
            ));
            s.dialog = Some(Dialog::Confirm {
                title: "Migrate c?".into(),
                lines: Vec::new(),
                command: restart("c"),
                restart_with: Vec::new(),
            });
            update(&mut s, Event::Lease(status), rows);
            assert!(s.commands.is_empty() && s.wave.is_none());
            let Some(Dialog::Info { lines, .. }) = &s.dialog else {
                panic!("the confirmation stayed open: {:?}", s.dialog)
            };
            assert!(lines[0].starts_with(shown), "{lines:?}");
            assert!(matches!(s.mode, Mode::Follower(_)));
            // `y` now has nothing to confirm.
            key(&mut s, KeyCode::Char('y'));
            assert!(s.commands.is_empty());
        }
        // Taking it back makes the cockpit drive again; read-only stays read-only.
        let mut s = State::new("ctx", Mode::Follower("bob@jump".into()), 10, Utc::now());
        s.dialog = Some(Dialog::Info {
            title: crate::app::drive::LEASE_LOST.into(),
            lines: Vec::new(),
        });
        update(&mut s, Event::Lease(LeaseStatus::Held), rows);
        assert_eq!(s.mode, Mode::Driver);
        assert!(
            s.dialog.is_none(),
            "the 'no longer driving' dialog is out of date"
        );
        assert!(s.ui.notice.as_deref().unwrap().contains("drives again"));
        let mut r = State::new("ctx", Mode::ReadOnly("--read-only".into()), 10, Utc::now());
        update(&mut r, Event::Lease(LeaseStatus::Held), rows);
        assert!(matches!(r.mode, Mode::ReadOnly(_)));
    }

    fn rows(_: &State, pane: Pane) -> usize {
        if pane == Pane::Namespaces { 5 } else { 3 }
    }

    fn key(s: &mut State, code: KeyCode) {
        update(s, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), rows);
    }

    fn with_namespaces(n: usize) -> State {
        let mut s = State::new("ctx", Mode::Driver, 10, Utc::now());
        update(&mut s, Event::Namespaces(Watch::Init), rows);
        for i in 0..n {
            let ns = NamespaceInfo {
                name: format!("ns-{i:02}"),
                labels: BTreeMap::new(),
                annotations: BTreeMap::new(),
                created: None,
            };
            update(&mut s, Event::Namespaces(Watch::InitApply(ns)), rows);
        }
        update(&mut s, Event::Namespaces(Watch::InitDone), rows);
        s
    }

    #[test]
    fn the_selection_stays_in_view_and_survives_updates() {
        let mut s = with_namespaces(20);
        for _ in 0..12 {
            key(&mut s, KeyCode::Down);
        }
        assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-12"));
        assert!(s.ui.namespaces.offset <= 12 && 12 < s.ui.namespaces.offset + 5);
        // A namespace added before it keeps the same namespace selected.
        let early = NamespaceInfo {
            name: "aaa".into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            created: None,
        };
        update(&mut s, Event::Namespaces(Watch::Apply(early)), rows);
        assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-12"));
        assert_eq!(s.ui.namespaces.selected, 13);
        key(&mut s, KeyCode::End);
        assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-19"));
        key(&mut s, KeyCode::Home);
        assert_eq!(s.ui.selected_namespace.as_deref(), Some("aaa"));
    }

    #[test]
    fn filters_keep_on_enter_and_clear_on_escape() {
        let mut s = with_namespaces(20);
        key(&mut s, KeyCode::Char('/'));
        for c in "ns-1".chars() {
            key(&mut s, KeyCode::Char(c));
        }
        // While typing, q is text, not quit.
        key(&mut s, KeyCode::Char('q'));
        assert!(!s.quit);
        key(&mut s, KeyCode::Backspace);
        key(&mut s, KeyCode::Enter);
        assert_eq!(s.ui.filter(Pane::Namespaces), "ns-1");
        assert_eq!(crate::app::view::visible_namespaces(&s).len(), 10);
        assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-10"));
        key(&mut s, KeyCode::Esc);
        assert_eq!(s.ui.filter(Pane::Namespaces), "");
        assert_eq!(crate::app::view::visible_namespaces(&s).len(), 20);
        key(&mut s, KeyCode::Char('q'));
        assert!(s.quit);
    }

    #[test]
    fn moving_in_the_log_pauses_following_and_f_resumes() {
        let mut s = with_namespaces(1);
        for i in 0..6 {
            let line = format!("2026-11-24T21:30:0{i}.000000Z\tinfo\tads\tline {i}");
            update(
                &mut s,
                Event::IstiodLog(IstiodLogLine {
                    pod: "istiod-x".into(),
                    revision: "1-25-0".into(),
                    line,
                }),
                rows,
            );
        }
        s.ui.focus = Pane::Logs;
        key(&mut s, KeyCode::Up);
        assert!(!s.ui.follow);
        assert_eq!(s.ui.log_cursor, Some(4));
        key(&mut s, KeyCode::Char('f'));
        assert!(s.ui.follow);
        assert_eq!(s.ui.log_cursor, None);
        key(&mut s, KeyCode::Char('f'));
        assert!(!s.ui.follow);
        assert_eq!(s.ui.log_cursor, Some(5));
    }

    #[test]
    fn action_keys_say_why_they_do_nothing() {
        let mut s = with_namespaces(1);
        s.mode = Mode::ReadOnly("your user may not patch namespaces".into());
        key(&mut s, KeyCode::Char('m'));
        assert!(
            s.ui.notice
                .as_deref()
                .unwrap()
                .contains("may not patch namespaces")
        );
        key(&mut s, KeyCode::Down);
        assert_eq!(s.ui.notice, None);
    }

    #[test]
    fn stream_health_follows_connections_and_failures() {
        let mut s = with_namespaces(1);
        update(
            &mut s,
            Event::Stream(Stream::Pods, StreamStatus::Retrying("refused".into())),
            rows,
        );
        assert!(matches!(
            s.streams[&Stream::Pods].status,
            StreamStatus::Retrying(_)
        ));
        update(
            &mut s,
            Event::Stream(Stream::Pods, StreamStatus::Connected),
            rows,
        );
        assert_eq!(s.streams[&Stream::Pods].status, StreamStatus::Connected);
        assert!(s.streams[&Stream::Pods].last_event.is_some());
    }
}
