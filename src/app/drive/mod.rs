//! Driving the upgrade from the keyboard: every action key builds a preview of the exact
//! change, `y` confirms it into a command for the executor, and the result comes back as an
//! event. Pure, like the rest of `app`.
//!
//! - `preview`: migrate, revert and take over (`m`, `r`, `D`); `tag`: moving tags and moving
//!   them back (`t`, `r` on the control planes)
//! - `dialog`: what is on screen for the user to confirm, and the keys while it is
//! - `result`: what comes back, the executor's results and the cluster's records
//! - `fleet`: what a fleet refuses before any preview (the primary first, one root CA)

mod dialog;
mod fleet;
mod preview;
mod result;
mod tag;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::actions::{self, Action};
use super::activity::Activity;
use super::effects::Effects;
use super::keymap::KeyAction;
use super::state::{Mode, State};
use crate::mesh::records::UpgradeRecord;
use crate::mesh::resources::NamespaceInfo;
use crate::mesh::revisions;
pub(crate) use dialog::answers;
pub use dialog::{Dialog, on_dialog_key};
pub(crate) use fleet::{Guarded, refuse_in_fleet};
pub use preview::{preview_migrate, preview_revert, preview_take_over, revert_of};
pub use result::{apply_record, on_result};
pub use tag::preview_move_tag;

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

/// Why this cockpit may not write, when it may not.
pub(crate) fn why_not(state: &State) -> Option<String> {
    match &state.session.mode {
        Mode::Driver => None,
        Mode::ReadOnly(why) => Some(format!("read-only ({why}): actions are unavailable")),
        Mode::Follower(holder) if holder == crate::mesh::records::LEASE_EXPIRED => Some(format!(
            "the driver lease expired: press {} to drive",
            state.ui.keys.key(KeyAction::TakeOver)
        )),
        Mode::Follower(holder) => Some(format!(
            "{holder} drives this upgrade: press {} to take over",
            state.ui.keys.key(KeyAction::TakeOver)
        )),
    }
}

/// The title of the dialog that says this cockpit lost the lease.
pub const LEASE_LOST: &str = "No longer driving";

/// This cockpit no longer holds the driver lease: nothing queued may be sent, and no open
/// confirmation may be applied. `line` says who drives now.
pub fn on_lease_lost(state: &mut State, effects: &mut Effects, line: &str) {
    effects.drop_commands();
    // A running wave stops here: nothing more of it is sent, and `M` resumes it once driving.
    state.drive.wave = None;
    state.drive.dialog = Some(Dialog::Info {
        title: LEASE_LOST.into(),
        lines: vec![
            format!("{line}: this cockpit is read-only now."),
            "Nothing more is written from here; what was queued was dropped.".into(),
        ],
    });
}

pub(super) fn notice(state: &mut State, text: impl Into<String>) {
    state.ui.notice = Some(text.into());
}

/// This cockpit holds the lease again: the dialog saying it lost it is out of date.
pub fn on_lease_regained(state: &mut State) {
    if matches!(&state.drive.dialog, Some(Dialog::Info { title, .. }) if title == LEASE_LOST) {
        state.drive.dialog = None;
    }
    let wave = state.ui.keys.key(KeyAction::MigrateWave);
    let text = format!("this cockpit drives again: {wave} resumes a stopped wave");
    notice(state, text);
}

/// Refuses a write towards `revision` while none of its istiod pods is ready: the proxies it
/// would inject or configure would get no configuration. Returns true when refused.
pub(crate) fn refuse_unready_target(state: &mut State, revision: &str) -> bool {
    let (ready, total) = revisions::istiod_readiness(&state.cluster, revision);
    if ready > 0 {
        return false;
    }
    state.drive.dialog = Some(Dialog::Info {
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
    if state.session.dry_run {
        vec!["DRY RUN: sent with dryRun=All, nothing will change".into()]
    } else {
        Vec::new()
    }
}

/// The namespace the action keys act on.
pub(super) fn selected_namespace(state: &State) -> Option<NamespaceInfo> {
    let name = state.ui.selected_namespace.as_ref()?;
    state.cluster.namespaces.get(name).cloned()
}

/// Sends a confirmed write (and, with `restart_with`, restarts of those namespaces), and
/// follows the namespace it moves.
pub(crate) fn queue(
    state: &mut State,
    effects: &mut Effects,
    command: Command,
    restart_with: Vec<String>,
) {
    // The first migration starts the first wave's clock in the cluster's upgrade record.
    if matches!(command.action, Action::Migrate { .. })
        && let Some(start) = super::plan_flow::start_if_needed(state)
    {
        effects.send(start);
    }
    if let Action::Migrate { namespace, to } = &command.action {
        state
            .drive
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
                .drive
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
    effects.send(command);
    for ns in restart_with {
        effects.send(Command {
            action: Action::Restart { namespace: ns },
            expected: BTreeMap::new(),
            record: None,
            batch: None,
            reason: None,
        });
    }
}
