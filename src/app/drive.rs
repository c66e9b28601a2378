//! Driving the upgrade from the keyboard: every action key builds a preview of the exact
//! change, `y` confirms it into a command for the executor, and the result comes back as an
//! event. Pure, like the rest of `app`.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent};

use super::actions::{self, Action};
use super::activity::Activity;
use super::event::{ActionError, Record, Watch};
use super::injection::{INJECTION, REV};
use super::records::{Driver, JournalEntry, UpgradeRecord};
use super::state::{Mode, Pane, State};
use super::view::{self, Mesh};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    pub driver: Option<Driver>,
    pub upgrade: Option<UpgradeRecord>,
    pub journal: Vec<JournalEntry>,
}

/// A confirmed write for the executor. `expected` are the injection labels the user saw: the
/// write is refused (and previewed again) if they changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub action: Action,
    pub expected: BTreeMap<String, String>,
    /// For phase changes: the upgrade record to write.
    pub record: Option<UpgradeRecord>,
    /// Commands of one batch (`M`) stop at the first failure.
    pub batch: Option<u64>,
    /// Why, when the cockpit acted by itself (`auto_rollback`) or for a trigger: journalled.
    pub reason: Option<String>,
}

impl Command {
    pub fn new(action: Action, expected: BTreeMap<String, String>) -> Command {
        Command {
            action,
            expected,
            record: None,
            batch: None,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// The exact change; `y` applies it. `restart_with` lists namespaces `Y` also restarts.
    Confirm {
        title: String,
        lines: Vec<String>,
        command: Command,
        restart_with: Vec<String>,
    },
    /// Several changes at once (reverting the namespaces a rollback trigger names); `y`
    /// applies them all, one after another.
    ConfirmAll {
        title: String,
        lines: Vec<String>,
        commands: Vec<Command>,
    },
    /// A refusal or a result to read; any key closes it.
    Info { title: String, lines: Vec<String> },
    /// Overriding a gate: the user must type `expected` (the phase's name).
    TypeToConfirm {
        title: String,
        lines: Vec<String>,
        expected: String,
        typed: String,
        command: Command,
    },
}

pub fn apply_record(state: &mut State, event: Watch<Record>) -> bool {
    let (record, deleted) = match event {
        Watch::Apply(r) | Watch::InitApply(r) => (r, false),
        Watch::Delete(r) => (r, true),
        Watch::Init | Watch::InitDone => return false,
    };
    match record {
        Record::Upgrade(u) => state.records.upgrade = (!deleted).then_some(u),
        Record::Journal(j) => state.records.journal = if deleted { Vec::new() } else { j },
        Record::Driver(d) => state.records.driver = if deleted { None } else { d },
    }
    true
}

pub(crate) fn why_not(state: &State) -> Option<String> {
    match &state.mode {
        Mode::Driver => None,
        Mode::ReadOnly(why) => Some(format!("read-only ({why}): actions are unavailable")),
        Mode::Follower(holder) if holder == super::records::LEASE_EXPIRED => {
            Some("the driver lease expired: press D to drive".into())
        }
        Mode::Follower(holder) => Some(format!(
            "{holder} drives this upgrade: press D to take over"
        )),
    }
}

/// This cockpit no longer holds the driver lease: nothing queued may be sent, and no open
/// confirmation may be applied. `line` says who drives now.
pub fn on_lease_lost(state: &mut State, line: &str) {
    state.commands.clear();
    state.wave_queue.clear();
    state.dialog = Some(Dialog::Info {
        title: "No longer driving".into(),
        lines: vec![
            format!("{line}: this cockpit is read-only now."),
            "Nothing more is written from here; what was queued was dropped.".into(),
        ],
    });
}

fn notice(state: &mut State, text: impl Into<String>) {
    state.ui.notice = Some(text.into());
}

fn dry_note(state: &State) -> Vec<String> {
    if state.dry_run {
        vec!["DRY RUN: sent with dryRun=All, nothing will change".into()]
    } else {
        Vec::new()
    }
}

/// The namespace the action keys act on.
fn selected_namespace(state: &State) -> Option<super::resources::NamespaceInfo> {
    let name = state.ui.selected_namespace.as_ref()?;
    state.namespaces.get(name).cloned()
}

fn confirm(
    state: &mut State,
    title: String,
    mut lines: Vec<String>,
    command: Command,
    restart_with: Vec<String>,
) {
    lines.extend(dry_note(state));
    lines.push(String::new());
    lines.push(if restart_with.is_empty() {
        "y apply · n or Esc cancel".into()
    } else {
        format!(
            "y apply · Y apply and restart the {} namespaces · n or Esc cancel",
            restart_with.len()
        )
    });
    state.dialog = Some(Dialog::Confirm {
        title,
        lines,
        command,
        restart_with,
    });
}

/// `m`: move the selected namespace to the new revision.
pub fn preview_migrate(state: &mut State) {
    if let Some(why) = why_not(state) {
        return notice(state, why);
    }
    let mesh = Mesh::of(state);
    let Some(to) = mesh.new.clone() else {
        return notice(state, "there is no revision to migrate to");
    };
    let Some(ns) = selected_namespace(state) else {
        return notice(state, "select a namespace first");
    };
    let row = view::namespace_row(state, &mesh, &ns);
    if row.resolution.revision.is_none() && row.migration != view::Migration::OnOld {
        return notice(
            state,
            format!("{} has no sidecar injection: nothing to migrate", ns.name),
        );
    }
    let patch = actions::migrate_patch(&ns.labels, &ns.annotations, &to);
    let mut lines = vec![format!(
        "namespace {}: one patch, conditional on nothing having changed",
        ns.name
    )];
    let after = actions::labels_after(&ns.labels, &patch);
    let diff = actions::label_diff(
        &actions::injection_labels(&ns.labels),
        &actions::injection_labels(&after),
    );
    if diff.is_empty() {
        lines.push(format!(
            "labels already select {to}: only the restart remains"
        ));
    }
    lines.extend(diff.into_iter().map(|d| format!("  {d}")));
    if let Some(record) = patch["metadata"]["annotations"][actions::PREVIOUS].as_str() {
        lines.push(format!("  annotation {} = {record}", actions::PREVIOUS));
    }
    let pods = row.pods;
    lines.push(format!(
        "then restart its workloads ({pods} pods), as kubectl rollout restart does"
    ));
    let command = Command {
        action: Action::Migrate {
            namespace: ns.name.clone(),
            to: to.clone(),
        },
        expected: actions::injection_labels(&ns.labels),
        record: None,
        batch: None,
        reason: None,
    };
    confirm(
        state,
        format!("Migrate {} to {to}?", ns.name),
        lines,
        command,
        Vec::new(),
    );
}

/// `r`: revert the selected namespace, or (on the control planes) the last moved tag.
pub fn preview_revert(state: &mut State) {
    if let Some(why) = why_not(state) {
        return notice(state, why);
    }
    if state.ui.focus == Pane::ControlPlanes {
        return preview_revert_tag(state);
    }
    let Some(ns) = selected_namespace(state) else {
        return notice(state, "select a namespace first");
    };
    match revert_of(&ns) {
        Ok((command, lines)) => confirm(
            state,
            format!("Revert {}?", ns.name),
            lines,
            command,
            Vec::new(),
        ),
        Err(e) => notice(state, format!("{}: {e}", ns.name)),
    }
}

/// The revert of one namespace: the command and the lines that show exactly what it changes.
pub fn revert_of(ns: &super::resources::NamespaceInfo) -> Result<(Command, Vec<String>), String> {
    let patch = actions::revert_patch(&ns.labels, &ns.annotations)?;
    let after = actions::labels_after(&ns.labels, &patch);
    let mut lines = vec![format!(
        "namespace {}: restore the labels recorded before the migration",
        ns.name
    )];
    lines.extend(
        actions::label_diff(
            &actions::injection_labels(&ns.labels),
            &actions::injection_labels(&after),
        )
        .into_iter()
        .map(|d| format!("  {d}")),
    );
    lines.push(format!(
        "  annotations {} and {} removed",
        actions::PREVIOUS,
        actions::MIGRATED_TO
    ));
    lines.push("then restart its workloads".into());
    let command = Command::new(
        Action::Revert {
            namespace: ns.name.clone(),
        },
        actions::injection_labels(&ns.labels),
    );
    Ok((command, lines))
}

fn users_of_tag(state: &State, tag: &str) -> Vec<String> {
    state
        .namespaces
        .values()
        .filter(|ns| {
            ns.labels.get(REV).is_some_and(|r| r == tag)
                || (tag == "default" && ns.labels.get(INJECTION).is_some_and(|v| v == "enabled"))
        })
        .map(|ns| ns.name.clone())
        .collect()
}

fn preview_tag(state: &mut State, tag: String, from: String, to: String, title: String) {
    let users = users_of_tag(state, &tag);
    let mut lines = vec![
        format!("MutatingWebhookConfiguration istio-revision-tag-{tag}:"),
        format!("  label istio.io/rev: {from} -> {to}"),
        format!("  webhooks call istiod-{to} instead of istiod-{from}"),
        format!("  annotation {} = {from}", actions::PREVIOUS_REVISION),
        format!(
            "namespaces using the tag ({}): {}",
            users.len(),
            if users.is_empty() {
                "none".into()
            } else {
                users.join(", ")
            }
        ),
        "their pods change revision only when restarted".into(),
    ];
    if tag == "default" {
        lines.push("the default tag also serves istio-injection=enabled".into());
    }
    let command = Command::new(Action::MoveTag { tag, from, to }, BTreeMap::new());
    confirm(state, title, std::mem::take(&mut lines), command, users);
}

/// `t`: move the next tag that still points at an older revision to the new one.
pub fn preview_move_tag(state: &mut State) {
    if let Some(why) = why_not(state) {
        return notice(state, why);
    }
    let mesh = Mesh::of(state);
    let Some(to) = mesh.new.clone() else {
        return notice(state, "there is no revision to move tags to");
    };
    let mut candidates: Vec<(&String, &String)> =
        mesh.tags.iter().filter(|(_, rev)| **rev != to).collect();
    // `default` last: it also serves every istio-injection=enabled namespace.
    candidates.sort_by_key(|(tag, _)| (tag.as_str() == "default", tag.to_string()));
    let Some((tag, from)) = candidates
        .first()
        .map(|(t, r)| (t.to_string(), r.to_string()))
    else {
        return notice(state, format!("every tag already points at {to}"));
    };
    preview_tag(
        state,
        tag.clone(),
        from.clone(),
        to.clone(),
        format!("Move tag {tag} from {from} to {to}?"),
    );
}

fn preview_revert_tag(state: &mut State) {
    let last = state
        .records
        .journal
        .iter()
        .rev()
        .find(|e| e.action == "move-tag" && e.result == "ok" && !e.dry_run)
        .cloned();
    let Some(entry) = last else {
        return notice(state, "no tag has been moved: nothing to revert");
    };
    let tag = entry.target.trim_start_matches("tag/").to_string();
    let mesh = Mesh::of(state);
    let Some(now_on) = mesh.tags.get(&tag).cloned() else {
        return notice(state, format!("tag {tag} no longer exists"));
    };
    let Some(back_to) = entry.change["from"].as_str().map(str::to_string) else {
        return notice(
            state,
            format!("the journal does not say where tag {tag} pointed before"),
        );
    };
    preview_tag(
        state,
        tag.clone(),
        now_on.clone(),
        back_to.clone(),
        format!("Move tag {tag} back from {now_on} to {back_to}?"),
    );
}

/// `D`: take the driver lease from another cockpit.
pub fn preview_take_over(state: &mut State) {
    let Mode::Follower(holder) = state.mode.clone() else {
        return notice(
            state,
            match &state.mode {
                Mode::Driver => "this cockpit already drives".to_string(),
                Mode::ReadOnly(why) => format!("read-only ({why}): cannot drive"),
                Mode::Follower(_) => unreachable!(),
            },
        );
    };
    let lines = vec![
        format!("{holder} drives this upgrade now."),
        "Taking over makes this cockpit the only one that writes; theirs becomes read-only.".into(),
        "Agree it with them first.".into(),
    ];
    let command = Command {
        action: Action::TakeOver,
        expected: BTreeMap::new(),
        record: None,
        batch: None,
        reason: None,
    };
    confirm(
        state,
        "Take over driving?".into(),
        lines,
        command,
        Vec::new(),
    );
}

/// Keys while a dialog is open. Returns true when the key was consumed.
pub fn on_dialog_key(state: &mut State, key: KeyEvent) -> bool {
    let Some(dialog) = state.dialog.take() else {
        return false;
    };
    match dialog {
        Dialog::Info { .. } => {}
        Dialog::Confirm {
            command,
            restart_with,
            title,
            lines,
        } => match key.code {
            KeyCode::Char('y') => queue(state, command, Vec::new()),
            KeyCode::Char('Y') if !restart_with.is_empty() => queue(state, command, restart_with),
            KeyCode::Char('n') | KeyCode::Esc => notice(state, "cancelled: nothing was changed"),
            // Anything else neither applies nor cancels.
            _ => {
                state.dialog = Some(Dialog::Confirm {
                    command,
                    restart_with,
                    title,
                    lines,
                })
            }
        },
        Dialog::ConfirmAll {
            title,
            lines,
            commands,
        } => match key.code {
            KeyCode::Char('y') => {
                for command in commands {
                    queue(state, command, Vec::new());
                }
            }
            KeyCode::Char('n') | KeyCode::Esc => notice(state, "cancelled: nothing was changed"),
            _ => {
                state.dialog = Some(Dialog::ConfirmAll {
                    title,
                    lines,
                    commands,
                })
            }
        },
        Dialog::TypeToConfirm {
            title,
            lines,
            expected,
            mut typed,
            command,
        } => match key.code {
            KeyCode::Esc => notice(state, "cancelled: nothing was changed"),
            KeyCode::Enter if typed == expected => queue(state, command, Vec::new()),
            KeyCode::Enter => {
                notice(state, format!("type exactly \"{expected}\" to override"));
                state.dialog = Some(Dialog::TypeToConfirm {
                    title,
                    lines,
                    expected,
                    typed,
                    command,
                });
            }
            code => {
                match code {
                    KeyCode::Backspace => {
                        typed.pop();
                    }
                    KeyCode::Char(c) => typed.push(c),
                    _ => {}
                }
                state.dialog = Some(Dialog::TypeToConfirm {
                    title,
                    lines,
                    expected,
                    typed,
                    command,
                });
            }
        },
    }
    true
}

pub(crate) fn queue(state: &mut State, command: Command, restart_with: Vec<String>) {
    // The first migration starts the first wave's clock in the cluster's upgrade record.
    if matches!(command.action, Action::Migrate { .. })
        && let Some(start) = super::plan_flow::start_if_needed(state)
    {
        state.commands.push(start);
    }
    if let Action::Migrate { namespace, to } = &command.action {
        state
            .activity
            .insert(namespace.clone(), Activity::towards(to, false));
    }
    if let Action::Revert { namespace } = &command.action {
        // A revert is done when the pods run whatever the restored labels select.
        let target = state.namespaces.get(namespace).and_then(|ns| {
            let previous = actions::recorded_labels(&ns.annotations)?;
            let mesh = Mesh::of(state);
            super::injection::resolve(&previous, &mesh.tags, &mesh.revisions).revision
        });
        if let Some(target) = target {
            state
                .activity
                .insert(namespace.clone(), Activity::towards(&target, true));
        }
    }
    notice(
        state,
        format!(
            "{} {}: sent…",
            command.action.verb(),
            command.action.target()
        ),
    );
    state.commands.push(command);
    for ns in restart_with {
        state.commands.push(Command {
            action: Action::Restart { namespace: ns },
            expected: BTreeMap::new(),
            record: None,
            batch: None,
            reason: None,
        });
    }
}

/// After each namespace of a wave (`M`): the next one, unless a gate that must never fail
/// mid-wave (NACKs from the new revision, unsupported skew) has failed.
fn continue_wave(state: &mut State) {
    if state.wave_queue.is_empty() {
        return;
    }
    let mut breached: Vec<String> = super::plan_flow::current_gates(state)
        .map(|(_, gates)| {
            gates
                .into_iter()
                .filter(|g| {
                    matches!(g.status, crate::plan::gates::GateStatus::Fail(_))
                        && (g.name.starts_with("no NACKs") || g.name.starts_with("no skew"))
                        && !state.wave_baseline.contains(&g.name)
                })
                .map(|g| g.to_string())
                .collect()
        })
        .unwrap_or_default();
    // A rollback trigger over its threshold for its duration stops the wave too.
    breached.extend(super::rollback::breaches(state).map(|f| format!("breached: {f}")));
    if !breached.is_empty() {
        let left: Vec<String> = state
            .wave_queue
            .drain(..)
            .map(|c| c.action.target())
            .collect();
        state.dialog = Some(Dialog::Info {
            title: "Wave stopped".into(),
            lines: [
                vec!["a gate broke during the wave:".to_string()],
                breached,
                vec![format!("not migrated: {}", left.join(", "))],
            ]
            .concat(),
        });
        return;
    }
    let next = state.wave_queue.remove(0);
    if let Action::Migrate { namespace, to } = &next.action {
        state
            .activity
            .insert(namespace.clone(), Activity::towards(to, false));
    }
    state.commands.push(next);
}

pub fn on_result(state: &mut State, action: Action, result: Result<String, ActionError>) {
    if result.is_err() && !state.wave_queue.is_empty() {
        // A wave stops at its first failure.
        state.wave_queue.clear();
    }
    match result {
        Ok(summary) => {
            notice(state, summary);
            if matches!(action, Action::Migrate { .. }) {
                continue_wave(state);
            }
        }
        Err(ActionError::Conflict(why)) => {
            // Re-read (the watch has the fresh object) and show the new preview.
            match &action {
                Action::Migrate { namespace, .. } | Action::Revert { namespace } => {
                    state.ui.selected_namespace = Some(namespace.clone());
                    if matches!(action, Action::Migrate { .. }) {
                        preview_migrate(state);
                    } else {
                        preview_revert(state);
                    }
                    if let Some(Dialog::Confirm { lines, .. }) = &mut state.dialog {
                        lines.insert(
                            0,
                            format!("CHANGED SINCE THE PREVIEW: {why}. This is the new preview."),
                        );
                    }
                }
                _ => {
                    state.dialog = Some(Dialog::Info {
                        title: format!("{} not done", action.verb()),
                        lines: vec![ActionError::Conflict(why).to_string()],
                    })
                }
            }
        }
        Err(e) => {
            if let Action::Migrate { namespace, .. } | Action::Revert { namespace } = &action {
                state.activity.remove(namespace);
            }
            state.dialog = Some(Dialog::Info {
                title: format!("{} {} failed", action.verb(), action.target()),
                lines: vec![
                    e.to_string(),
                    "Repeating the action continues where it stopped.".into(),
                ],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::app::activity::progress;
    use crate::app::event::Event;
    use crate::app::resources::{NamespaceInfo, WebhookInfo};
    use crate::app::update::update;

    fn rows(_: &State, _: Pane) -> usize {
        10
    }

    fn key(s: &mut State, c: char) {
        update(
            s,
            Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            rows,
        );
    }

    fn state() -> State {
        let mut s = State::new("ctx", Mode::Driver, 10, Utc::now());
        let hooks = [
            ("inj-1-24-0", "1-24-0", None),
            ("inj-1-25-0", "1-25-0", None),
            ("tag-default", "1-24-0", Some("default")),
            ("tag-stable", "1-24-0", Some("stable")),
        ];
        for (name, rev, tag) in hooks {
            let hook = WebhookInfo {
                name: name.into(),
                revision: rev.into(),
                tag: tag.map(str::to_string),
            };
            update(&mut s, Event::Webhooks(Watch::Apply(hook)), rows);
        }
        for (name, labels) in [
            ("payments", vec![("istio-injection", "enabled")]),
            ("checkout", vec![("istio.io/rev", "stable")]),
        ] {
            let ns = NamespaceInfo {
                name: name.into(),
                labels: labels
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                annotations: BTreeMap::new(),
                created: None,
            };
            update(&mut s, Event::Namespaces(Watch::Apply(ns)), rows);
        }
        s.ui.selected_namespace = Some("payments".into());
        s
    }

    #[test]
    fn migrate_previews_the_exact_change_and_y_queues_it() {
        let mut s = state();
        key(&mut s, 'm');
        let Some(Dialog::Confirm {
            title,
            lines,
            command,
            ..
        }) = s.dialog.clone()
        else {
            panic!("no preview: {:?}", s.ui.notice);
        };
        assert_eq!(title, "Migrate payments to 1-25-0?");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("label istio-injection: enabled -> (removed)"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("label istio.io/rev: (none) -> 1-25-0"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains(r#"{"istio-injection":"enabled"}"#))
        );
        assert_eq!(
            command.expected,
            BTreeMap::from([("istio-injection".to_string(), "enabled".to_string())])
        );
        // A stray key neither applies nor cancels.
        key(&mut s, 'x');
        assert!(s.dialog.is_some() && s.commands.is_empty());
        key(&mut s, 'y');
        assert!(s.dialog.is_none());
        assert_eq!(s.commands.len(), 1);
        assert_eq!(
            s.activity.get("payments").map(|a| a.target.as_str()),
            Some("1-25-0")
        );
    }

    #[test]
    fn n_cancels_and_nothing_is_queued() {
        let mut s = state();
        key(&mut s, 'm');
        key(&mut s, 'n');
        assert!(s.dialog.is_none() && s.commands.is_empty());
        assert!(
            s.ui.notice
                .as_deref()
                .unwrap()
                .contains("nothing was changed")
        );
    }

    #[test]
    fn only_the_driver_may_act() {
        let mut s = state();
        s.mode = Mode::Follower("alice@laptop".into());
        key(&mut s, 'm');
        assert!(s.dialog.is_none());
        assert!(
            s.ui.notice
                .as_deref()
                .unwrap()
                .contains("alice@laptop drives")
        );
        key(&mut s, 'D');
        assert!(
            matches!(s.dialog, Some(Dialog::Confirm { ref command, .. }) if command.action == Action::TakeOver)
        );
    }

    #[test]
    fn revert_needs_the_record_and_tags_move_stable_first() {
        let mut s = state();
        key(&mut s, 'r');
        assert!(s.dialog.is_none());
        assert!(
            s.ui.notice
                .as_deref()
                .unwrap()
                .contains("nothing to revert")
        );
        key(&mut s, 't');
        let Some(Dialog::Confirm {
            title,
            restart_with,
            lines,
            ..
        }) = s.dialog.clone()
        else {
            panic!()
        };
        assert_eq!(title, "Move tag stable from 1-24-0 to 1-25-0?");
        assert_eq!(restart_with, vec!["checkout".to_string()]);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("webhooks call istiod-1-25-0"))
        );
        key(&mut s, 'Y');
        // The tag move, then a restart of the namespace that uses it.
        assert_eq!(s.commands.len(), 2);
        assert_eq!(
            s.commands[1].action,
            Action::Restart {
                namespace: "checkout".into()
            }
        );
    }

    #[test]
    fn progress_counts_each_workload_until_every_pod_is_on_the_target() {
        let mut s = state();
        let pod = |name: &str, app: &str, rev: &str, ready: bool| crate::app::pod::PodInfo {
            namespace: "payments".into(),
            name: name.into(),
            phase: "Running".into(),
            ready: if ready { 2 } else { 1 },
            containers: 2,
            restarts: 0,
            created: None,
            terminating: false,
            revision: Some(rev.into()),
            proxy: crate::app::version::Version::parse(rev),
            istiod: None,
            app: Some(app.into()),
            cpu_millis: 0,
            memory_mib: 0,
        };
        for p in [
            pod("api-1", "api", "1-25-0", true),
            pod("api-2", "api", "1-24-0", true),
            pod("ledger-1", "ledger", "1-25-0", false),
        ] {
            update(&mut s, Event::Pods(Watch::Apply(p)), rows);
        }
        s.activity
            .insert("payments".into(), Activity::towards("1-25-0", false));
        assert_eq!(
            progress(&s),
            ["payments: 1/3 pods on 1-25-0 and ready (api 1/2, ledger 0/1)"]
        );
        update(
            &mut s,
            Event::Pods(Watch::Apply(pod("api-2", "api", "1-25-0", true))),
            rows,
        );
        update(
            &mut s,
            Event::Pods(Watch::Apply(pod("ledger-1", "ledger", "1-25-0", true))),
            rows,
        );
        assert!(
            s.activity.is_empty(),
            "settled once every pod is on the target and ready"
        );
    }

    #[test]
    fn a_conflict_shows_a_fresh_preview() {
        let mut s = state();
        let action = Action::Migrate {
            namespace: "payments".into(),
            to: "1-25-0".into(),
        };
        on_result(
            &mut s,
            action,
            Err(ActionError::Conflict("labels changed".into())),
        );
        let Some(Dialog::Confirm { lines, .. }) = &s.dialog else {
            panic!("no new preview")
        };
        assert!(lines[0].starts_with("CHANGED SINCE THE PREVIEW"));
        on_result(
            &mut s,
            Action::Restart {
                namespace: "x".into(),
            },
            Err(ActionError::Forbidden("patch deployments".into())),
        );
        let Some(Dialog::Info { lines, .. }) = &s.dialog else {
            panic!()
        };
        assert!(lines[0].contains("nothing was changed"));
    }
}
