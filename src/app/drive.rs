//! Driving the upgrade from the keyboard: every action key builds a preview of the exact
//! change, `y` confirms it into a command for the executor, and the result comes back as an
//! event. Pure, like the rest of `app`.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent};

use super::actions::{self, Action};
use super::activity::Activity;
use super::event::{ActionError, Record, Watch};
use super::state::{Mode, Pane, State};
use crate::mesh::injection::{INJECTION, REV};
use crate::mesh::records::UpgradeRecord;
use crate::mesh::revisions;
use crate::mesh::rows::{self, Migration};

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
    /// A wave (`M`): `y` starts it, paced; it carries every migration it previewed.
    ConfirmWave {
        title: String,
        lines: Vec<String>,
        run: super::wave::WaveRun,
    },
    /// A wave paused on unknown triggers: typing `expected` (the phase's name) goes on.
    ContinueWave {
        title: String,
        lines: Vec<String>,
        expected: String,
        typed: String,
    },
    /// Several moved tags could go back: a number picks one, whose preview follows.
    /// `moves` are (tag, revision now, revision before), in the order listed.
    ChooseTag {
        title: String,
        lines: Vec<String>,
        moves: Vec<(String, String, String)>,
    },
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
        Record::Upgrade(u) => state.cluster.records.upgrade = (!deleted).then_some(u),
        Record::Journal(j) => state.cluster.records.journal = if deleted { Vec::new() } else { j },
        Record::Driver(d) => state.cluster.records.driver = if deleted { None } else { d },
    }
    true
}

pub(crate) fn why_not(state: &State) -> Option<String> {
    match &state.mode {
        Mode::Driver => None,
        Mode::ReadOnly(why) => Some(format!("read-only ({why}): actions are unavailable")),
        Mode::Follower(holder) if holder == crate::mesh::records::LEASE_EXPIRED => {
            Some("the driver lease expired: press D to drive".into())
        }
        Mode::Follower(holder) => Some(format!(
            "{holder} drives this upgrade: press D to take over"
        )),
    }
}

/// The title of the dialog that says this cockpit lost the lease.
pub const LEASE_LOST: &str = "No longer driving";

/// This cockpit no longer holds the driver lease: nothing queued may be sent, and no open
/// confirmation may be applied. `line` says who drives now.
pub fn on_lease_lost(state: &mut State, line: &str) {
    state.commands.clear();
    // A running wave stops here: nothing more of it is sent, and `M` resumes it once driving.
    state.wave = None;
    state.dialog = Some(Dialog::Info {
        title: LEASE_LOST.into(),
        lines: vec![
            format!("{line}: this cockpit is read-only now."),
            "Nothing more is written from here; what was queued was dropped.".into(),
        ],
    });
}

fn notice(state: &mut State, text: impl Into<String>) {
    state.ui.notice = Some(text.into());
}

/// This cockpit holds the lease again: the dialog saying it lost it is out of date.
pub fn on_lease_regained(state: &mut State) {
    if matches!(&state.dialog, Some(Dialog::Info { title, .. }) if title == LEASE_LOST) {
        state.dialog = None;
    }
    notice(state, "this cockpit drives again: M resumes a stopped wave");
}

/// Refuses a write towards `revision` while none of its istiod pods is ready: the proxies it
/// would inject or configure would get no configuration. Returns true when refused.
pub(crate) fn refuse_unready_target(state: &mut State, revision: &str) -> bool {
    let (ready, total) = revisions::istiod_readiness(&state.cluster, revision);
    if ready > 0 {
        return false;
    }
    state.dialog = Some(Dialog::Info {
        title: format!("istiod-{revision} is not ready: nothing was changed"),
        lines: vec![
            format!("{revision} has {ready} ready istiod pods of {total}."),
            "Its proxies would get no configuration. Check its control plane:".into(),
            format!(
                "  kubectl -n istio-system get deploy,pods -l app=istiod,istio.io/rev={revision}"
            ),
            "(scaled to 0? crash-looping? still starting?), then act again once a pod is ready."
                .into(),
        ],
    });
    true
}

pub(crate) fn dry_note(state: &State) -> Vec<String> {
    if state.dry_run {
        vec!["DRY RUN: sent with dryRun=All, nothing will change".into()]
    } else {
        Vec::new()
    }
}

/// The namespace the action keys act on.
fn selected_namespace(state: &State) -> Option<crate::mesh::resources::NamespaceInfo> {
    let name = state.ui.selected_namespace.as_ref()?;
    state.cluster.namespaces.get(name).cloned()
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
    let mesh = state.mesh();
    let Some(to) = mesh.new.clone() else {
        return notice(state, "there is no revision to migrate to");
    };
    let Some(ns) = selected_namespace(state) else {
        return notice(state, "select a namespace first");
    };
    let row = rows::namespace_row(&state.cluster, &mesh, &ns);
    if row.resolution.revision.is_none() && row.migration != Migration::OnOld {
        return notice(
            state,
            format!("{} has no sidecar injection: nothing to migrate", ns.name),
        );
    }
    if refuse_unready_target(state, &to) {
        return;
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
    lines.extend(crate::mesh::manual_restart::preview_line(
        &state.cluster,
        &ns.name,
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
pub fn revert_of(
    ns: &crate::mesh::resources::NamespaceInfo,
) -> Result<(Command, Vec<String>), String> {
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
        .cluster
        .namespaces
        .values()
        .filter(|ns| {
            ns.labels.get(REV).is_some_and(|r| r == tag)
                || (tag == "default" && ns.labels.get(INJECTION).is_some_and(|v| v == "enabled"))
        })
        .map(|ns| ns.name.clone())
        .collect()
}

/// What moving `tag` from `from` to `to` changes, and the namespaces to offer restarting.
fn tag_preview(state: &State, tag: &str, from: &str, to: &str) -> (Vec<String>, Vec<String>) {
    let users = users_of_tag(state, tag);
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
    (lines, users)
}

fn tag_command(tag: &str, from: &str, to: &str) -> Command {
    Command::new(
        Action::MoveTag {
            tag: tag.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        },
        BTreeMap::new(),
    )
}

fn preview_tag(state: &mut State, tag: String, from: String, to: String, title: String) {
    let (lines, users) = tag_preview(state, &tag, &from, &to);
    let command = tag_command(&tag, &from, &to);
    confirm(state, title, lines, command, users);
}

/// `t`: move the next tag that still points at an older revision to the new one. Refused
/// while the new revision's istiod is not ready; outside the plan's tag phase, done only once
/// the current phase's name is typed, journalled as an override.
pub fn preview_move_tag(state: &mut State) {
    if let Some(why) = why_not(state) {
        return notice(state, why);
    }
    let mesh = state.mesh();
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
    if refuse_unready_target(state, &to) {
        return;
    }
    let title = format!("Move tag {tag} from {from} to {to}?");
    let Some(phase) = phase_outside_tags(state) else {
        return preview_tag(state, tag, from, to, title);
    };
    let (mut lines, _) = tag_preview(state, &tag, &from, &to);
    lines.insert(
        0,
        format!("The plan is in {phase}: tags move in its \"move tags\" phase."),
    );
    lines.insert(
        1,
        "Namespaces using the tag move to the new revision at their next restart.".into(),
    );
    lines.push(String::new());
    lines.push(format!(
        "Moving it now skips the plan's order and is journalled as an override of {phase}."
    ));
    let mut command = tag_command(&tag, &from, &to);
    command.reason = Some(format!(
        "override: tag moved during {phase}, outside the plan's tag phase"
    ));
    state.dialog = Some(Dialog::TypeToConfirm {
        title: format!("Move tag {tag} from {from} to {to} during {phase}?"),
        lines,
        expected: phase,
        typed: String::new(),
        command,
    });
}

/// The name of the plan's current phase when it is not the one that moves the tags.
fn phase_outside_tags(state: &State) -> Option<String> {
    let plan = state.plan.as_ref()?;
    let phase = super::plan_flow::current_phase(state, plan);
    (phase != crate::plan::model::Phase::MoveTags).then(|| plan.phase_name(phase))
}

/// `r` on the control planes: move back the tag moved last. Tags the cockpit moved carry the
/// revision they left in their webhook, so this works without the journal (a cockpit started
/// after a crash). With several, the journal says which moved last; else the tag shown on the
/// selected control-plane row; else the user chooses.
fn preview_revert_tag(state: &mut State) {
    let moved: Vec<(String, String, String)> = state
        .cluster
        .webhooks
        .values()
        .filter_map(|hook| {
            let tag = hook.tag.clone()?;
            let back_to = hook.previous_revision.clone()?;
            (back_to != hook.revision).then(|| (tag, hook.revision.clone(), back_to))
        })
        .collect();
    let last_journalled = state
        .cluster
        .records
        .journal
        .iter()
        .rev()
        .find(|e| e.action == "move-tag" && e.result == "ok" && !e.dry_run)
        .map(|e| e.target.trim_start_matches("tag/").to_string());
    let chosen: Vec<&(String, String, String)> = match moved.as_slice() {
        [] => {
            return notice(
                state,
                "no tag carries the revision it was moved from: nothing to revert",
            );
        }
        [only] => vec![only],
        _ => match moved
            .iter()
            .find(|(tag, ..)| last_journalled.as_ref() == Some(tag))
        {
            Some(last) => vec![last],
            None => {
                let row = selected_control_plane(state);
                let on_row: Vec<_> = moved
                    .iter()
                    .filter(|(_, now_on, _)| row.as_ref() == Some(now_on))
                    .collect();
                if on_row.len() == 1 {
                    on_row
                } else {
                    moved.iter().collect()
                }
            }
        },
    };
    if let [(tag, now_on, back_to)] = chosen.as_slice() {
        let (tag, now_on, back_to) = (tag.clone(), now_on.clone(), back_to.clone());
        let title = format!("Move tag {tag} back from {now_on} to {back_to}?");
        return preview_tag(state, tag, now_on, back_to, title);
    }
    let moves: Vec<(String, String, String)> = chosen.into_iter().cloned().collect();
    let mut lines = vec![
        "Several tags carry the revision they were moved from, and neither the journal nor".into(),
        "the selected row says which moved last. Which one goes back?".into(),
    ];
    lines.extend(moves.iter().enumerate().map(|(i, (tag, now_on, back_to))| {
        format!("  {} tag {tag}: {now_on} -> {back_to}", i + 1)
    }));
    lines.push(String::new());
    lines.push("a number shows that move's preview · Esc cancel".into());
    state.dialog = Some(Dialog::ChooseTag {
        title: "Which tag goes back?".into(),
        lines,
        moves,
    });
}

/// The revision of the selected row on the control-planes pane.
fn selected_control_plane(state: &State) -> Option<String> {
    let mesh = state.mesh();
    mesh.revisions
        .get(state.ui.control_planes.selected)
        .cloned()
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
        Dialog::ConfirmWave { title, lines, run } => match key.code {
            KeyCode::Char('y') => super::wave::start(state, run),
            KeyCode::Char('n') | KeyCode::Esc => notice(state, "cancelled: nothing was changed"),
            _ => state.dialog = Some(Dialog::ConfirmWave { title, lines, run }),
        },
        Dialog::ContinueWave {
            title,
            lines,
            expected,
            mut typed,
        } => match key.code {
            KeyCode::Esc => notice(state, "the wave stays stopped: M asks again"),
            KeyCode::Enter if typed == expected => super::wave::go_on(state),
            code => {
                if code == KeyCode::Enter {
                    notice(state, format!("type exactly \"{expected}\" to go on"));
                }
                edit(&mut typed, code);
                state.dialog = Some(Dialog::ContinueWave {
                    title,
                    lines,
                    expected,
                    typed,
                });
            }
        },
        Dialog::ChooseTag {
            title,
            lines,
            moves,
        } => {
            let picked = match key.code {
                KeyCode::Char(c) => c
                    .to_digit(10)
                    .and_then(|d| moves.get((d as usize).checked_sub(1)?))
                    .cloned(),
                _ => None,
            };
            match (picked, key.code) {
                (Some((tag, now_on, back_to)), _) => {
                    let title = format!("Move tag {tag} back from {now_on} to {back_to}?");
                    preview_tag(state, tag, now_on, back_to, title);
                }
                (None, KeyCode::Char('n') | KeyCode::Esc) => {
                    notice(state, "cancelled: nothing was changed")
                }
                (None, _) => {
                    state.dialog = Some(Dialog::ChooseTag {
                        title,
                        lines,
                        moves,
                    })
                }
            }
        }
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
                edit(&mut typed, code);
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

/// Typing into a dialog that asks for a name.
fn edit(typed: &mut String, code: KeyCode) {
    match code {
        KeyCode::Backspace => {
            typed.pop();
        }
        KeyCode::Char(c) => typed.push(c),
        _ => {}
    }
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
        let target = state.cluster.namespaces.get(namespace).and_then(|ns| {
            let previous = actions::recorded_labels(&ns.annotations)?;
            let mesh = state.mesh();
            crate::mesh::injection::resolve(&previous, &mesh.tags, &mesh.revisions).revision
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

pub fn on_result(state: &mut State, action: Action, result: Result<String, ActionError>) {
    // A migration of a running wave: it rolls on, or the wave stops (after the preview a
    // conflict shows, so the wave's stop is what stays on screen).
    let migrated = match (&action, &result) {
        (Action::Migrate { namespace, .. }, Ok(_)) => Some((namespace.clone(), Ok(()))),
        (Action::Migrate { namespace, .. }, Err(e)) => {
            Some((namespace.clone(), Err(e.to_string())))
        }
        _ => None,
    };
    match result {
        Ok(summary) => notice(state, summary),
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
    if let Some((namespace, result)) = migrated {
        super::wave::on_migrated(state, &namespace, result);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::app::activity::progress;
    use crate::app::event::Event;
    use crate::app::update::update;
    use crate::mesh::resources::{NamespaceInfo, WebhookInfo};

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
                previous_revision: None,
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
        for rev in ["1-24-0", "1-25-0"] {
            update(&mut s, Event::Pods(Watch::Apply(istiod(rev, true))), rows);
        }
        s.ui.selected_namespace = Some("payments".into());
        s
    }

    fn istiod(revision: &str, ready: bool) -> crate::mesh::pod::PodInfo {
        crate::mesh::pod::PodInfo {
            namespace: "istio-system".into(),
            name: format!("istiod-{revision}-a"),
            phase: "Running".into(),
            ready: u16::from(ready),
            containers: 1,
            restarts: 0,
            created: None,
            terminating: false,
            revision: None,
            proxy: None,
            istiod: Some((
                revision.into(),
                crate::mesh::version::Version::parse(revision),
            )),
            app: Some("istiod".into()),
            cpu_millis: 0,
            memory_mib: 0,
            owner: Default::default(),
        }
    }

    /// Points `tag` at `revision`, its webhook recording `previous` as the cockpit's move does.
    fn moved_tag(s: &mut State, tag: &str, revision: &str, previous: &str) {
        let hook = WebhookInfo {
            name: format!("tag-{tag}"),
            revision: revision.into(),
            tag: Some(tag.into()),
            previous_revision: Some(previous.into()),
        };
        update(s, Event::Webhooks(Watch::Apply(hook)), rows);
    }

    /// The open dialog's title, or what is on screen instead.
    fn dialog_title(s: &State) -> String {
        match &s.dialog {
            Some(
                Dialog::Confirm { title, .. }
                | Dialog::Info { title, .. }
                | Dialog::ChooseTag { title, .. }
                | Dialog::TypeToConfirm { title, .. },
            ) => title.clone(),
            other => format!("{other:?}; notice {:?}", s.ui.notice),
        }
    }

    #[test]
    fn a_target_without_ready_istiod_is_refused_and_nothing_queued() {
        let mut s = state();
        update(
            &mut s,
            Event::Pods(Watch::Apply(istiod("1-25-0", false))),
            rows,
        );
        for k in ['m', 't'] {
            key(&mut s, k);
            let Some(Dialog::Info { title, lines }) = s.dialog.clone() else {
                panic!("`{k}` not refused: {}", dialog_title(&s));
            };
            assert_eq!(title, "istiod-1-25-0 is not ready: nothing was changed");
            assert!(lines[0].contains("0 ready istiod pods of 1"), "{lines:?}");
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("kubectl -n istio-system get")),
                "{lines:?}"
            );
            key(&mut s, 'y');
            assert!(s.dialog.is_none() && s.commands.is_empty());
        }
        update(
            &mut s,
            Event::Pods(Watch::Apply(istiod("1-25-0", true))),
            rows,
        );
        key(&mut s, 'm');
        assert_eq!(dialog_title(&s), "Migrate payments to 1-25-0?");
    }

    #[test]
    fn a_tag_moved_during_a_wave_needs_the_phase_name_and_is_journalled_as_an_override() {
        let mut s = state();
        s.plan = crate::plan::derive(&s.cluster);
        key(&mut s, 't');
        let Some(Dialog::TypeToConfirm {
            title, expected, ..
        }) = s.dialog.clone()
        else {
            panic!("{}", dialog_title(&s));
        };
        assert_eq!(
            title,
            "Move tag stable from 1-24-0 to 1-25-0 during wave 1: untiered?"
        );
        assert_eq!(expected, "wave 1: untiered");
        key(&mut s, 'y');
        update(
            &mut s,
            Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            rows,
        );
        assert!(s.commands.is_empty(), "`y` is not the phase's name");
        s.dialog = None;
        key(&mut s, 't');
        for c in "wave 1: untiered".chars() {
            key(&mut s, c);
        }
        update(
            &mut s,
            Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            rows,
        );
        assert_eq!(s.commands.len(), 1);
        assert!(matches!(s.commands[0].action, Action::MoveTag { .. }));
        assert_eq!(
            s.commands[0].reason.as_deref(),
            Some("override: tag moved during wave 1: untiered, outside the plan's tag phase")
        );
    }

    #[test]
    fn a_moved_tag_goes_back_from_its_webhook_without_the_journal() {
        let mut s = state();
        s.ui.focus = Pane::ControlPlanes;
        key(&mut s, 'r');
        assert!(
            s.ui.notice
                .as_deref()
                .unwrap()
                .contains("nothing to revert")
        );

        moved_tag(&mut s, "stable", "1-25-0", "1-24-0");
        key(&mut s, 'r');
        assert_eq!(
            dialog_title(&s),
            "Move tag stable back from 1-25-0 to 1-24-0?"
        );
        key(&mut s, 'y');
        assert_eq!(
            s.commands[0].action,
            Action::MoveTag {
                tag: "stable".into(),
                from: "1-25-0".into(),
                to: "1-24-0".into()
            }
        );
    }

    #[test]
    fn of_several_moved_tags_the_journal_then_the_row_then_the_user_chooses() {
        let mut s = state();
        s.ui.focus = Pane::ControlPlanes;
        moved_tag(&mut s, "stable", "1-25-0", "1-24-0");
        moved_tag(&mut s, "default", "1-25-0", "1-24-0");

        // Neither the journal nor the row (1-25-0 shows both) tells: the user picks.
        s.ui.control_planes.selected = 1;
        key(&mut s, 'r');
        let Some(Dialog::ChooseTag { moves, .. }) = s.dialog.clone() else {
            panic!("{}", dialog_title(&s));
        };
        let second = moves[1].0.clone();
        key(&mut s, '7');
        assert!(matches!(s.dialog, Some(Dialog::ChooseTag { .. })));
        key(&mut s, '2');
        assert_eq!(
            dialog_title(&s),
            format!("Move tag {second} back from 1-25-0 to 1-24-0?")
        );
        key(&mut s, 'n');

        // The journal names the last move.
        s.cluster
            .records
            .journal
            .push(crate::mesh::records::JournalEntry {
                at: s.now,
                who: "someone".into(),
                action: "move-tag".into(),
                target: "tag/default".into(),
                change: serde_json::json!({}),
                result: "ok".into(),
                dry_run: false,
                why: None,
            });
        key(&mut s, 'r');
        assert_eq!(
            dialog_title(&s),
            "Move tag default back from 1-25-0 to 1-24-0?"
        );
        key(&mut s, 'n');

        // Without the journal, the tag on the selected row: stable went back once already.
        s.cluster.records.journal.clear();
        moved_tag(&mut s, "stable", "1-24-0", "1-25-0");
        s.ui.control_planes.selected = 0;
        key(&mut s, 'r');
        assert_eq!(
            dialog_title(&s),
            "Move tag stable back from 1-24-0 to 1-25-0?"
        );
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
        let pod = |name: &str, app: &str, rev: &str, ready: bool| crate::mesh::pod::PodInfo {
            namespace: "payments".into(),
            name: name.into(),
            phase: "Running".into(),
            ready: if ready { 2 } else { 1 },
            containers: 2,
            restarts: 0,
            created: None,
            terminating: false,
            revision: Some(rev.into()),
            proxy: crate::mesh::version::Version::parse(rev),
            istiod: None,
            app: Some(app.into()),
            cpu_millis: 0,
            memory_mib: 0,
            owner: Default::default(),
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
