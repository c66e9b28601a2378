//! Revision tags: `t` moves the next one to the new revision, `r` on the control planes moves
//! the last moved one back.

use std::collections::BTreeMap;

use super::dialog::{Dialog, confirm};
use super::{Command, notice, refuse_unready_target, why_not};
use crate::app::actions::{self, Action};
use crate::app::keymap::KeyAction;
use crate::app::state::State;
use crate::mesh::injection::{INJECTION, REV};
use crate::mesh::journal::JournalAction;

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
        match &state.cluster.served_by {
            // A remote's webhooks call its primary's istiod by a URL that names the revision.
            Some(primary) => format!(
                "  webhooks call {}'s istiod-{to} instead of istiod-{from} (the revision in their URL)",
                primary.cluster
            ),
            None => format!("  webhooks call istiod-{to} instead of istiod-{from}"),
        },
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

pub(super) fn preview_tag(state: &mut State, tag: String, from: String, to: String, title: String) {
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
    if super::refuse_in_fleet(state, super::Guarded::MoveTag) {
        return;
    }
    let mesh = state.mesh();
    let Some(to) = mesh.new.clone() else {
        return notice(state, "there is no revision to move tags to");
    };
    let mut candidates: Vec<(&String, &String)> =
        mesh.tags.iter().filter(|(_, rev)| **rev != to).collect();
    // `default` last: it also serves every istio-injection=enabled namespace.
    candidates.sort_by_key(|(tag, _)| (tag.as_str() == "default", (*tag).clone()));
    let Some((tag, from)) = candidates
        .first()
        .map(|(t, r)| ((*t).clone(), (*r).clone()))
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
    state.drive.dialog = Some(Dialog::TypeToConfirm {
        title: format!("Move tag {tag} from {from} to {to} during {phase}?"),
        lines,
        expected: phase,
        typed: String::new(),
        command,
    });
}

/// The name of the plan's current phase when it is not the one that moves the tags.
fn phase_outside_tags(state: &State) -> Option<String> {
    let plan = state.drive.plan.as_ref()?;
    let phase = crate::app::plan_flow::current_phase(state, plan);
    (phase != crate::plan::model::Phase::MoveTags).then(|| plan.phase_name(phase))
}

/// `r` on the control planes: move back the tag moved last. Tags the cockpit moved carry the
/// revision they left in their webhook, so this works without the journal (a cockpit started
/// after a crash). With several, the journal says which moved last; else the tag shown on the
/// selected control-plane row; else the user chooses.
pub(super) fn preview_revert_tag(state: &mut State) {
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
        .find(|e| e.action == JournalAction::MoveTag && e.result.is_ok() && !e.dry_run)
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
    lines.push(format!(
        "a number shows that move's preview · {} cancel",
        state.ui.keys.either(KeyAction::Cancel)
    ));
    state.drive.dialog = Some(Dialog::ChooseTag {
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
