//! What comes back of the drive: the executor's result for each write, and the cockpit's
//! records as the cluster has them.

use super::dialog::Dialog;
use super::{notice, preview_migrate, preview_revert};
use crate::app::actions::Action;
use crate::app::effects::Effects;
use crate::app::event::{Record, Watch, WriteError};
use crate::app::state::State;

/// One of the cockpit's records (upgrade record, journal, driver) as the watch saw it.
/// Returns whether anything changed.
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

/// The executor's answer to a write: its summary, a fresh preview after a conflict, or why it
/// failed.
pub fn on_result(
    state: &mut State,
    effects: &mut Effects,
    action: Action,
    result: Result<String, WriteError>,
) {
    // Bookkeeping the fleet layer sends by itself: a failure is said, nothing pops up.
    if let Action::RecordFleet { .. } = &action {
        if let Err(e) = result {
            notice(
                state,
                format!("recording the fleet's phases failed: {}", e.on_screen()),
            );
        }
        return;
    }
    // A migration of a running wave: it rolls on, or the wave stops (after the preview a
    // conflict shows, so the wave's stop is what stays on screen).
    let migrated = match (&action, &result) {
        (Action::Migrate { namespace, .. }, Ok(_)) => Some((namespace.clone(), Ok(()))),
        (Action::Migrate { namespace, .. }, Err(e)) => Some((namespace.clone(), Err(e.clone()))),
        _ => None,
    };
    match result {
        Ok(summary) => notice(state, summary),
        Err(WriteError::Conflict(why)) => {
            // Re-read (the watch has the fresh object) and show the new preview.
            match &action {
                Action::Migrate { namespace, .. } | Action::Revert { namespace } => {
                    state.ui.selected_namespace = Some(namespace.clone());
                    if matches!(action, Action::Migrate { .. }) {
                        preview_migrate(state);
                    } else {
                        preview_revert(state);
                    }
                    if let Some(Dialog::Confirm { lines, .. }) = &mut state.drive.dialog {
                        lines.insert(
                            0,
                            format!("CHANGED SINCE THE PREVIEW: {why}. This is the new preview."),
                        );
                    }
                }
                _ => {
                    state.drive.dialog = Some(Dialog::Info {
                        title: format!("{} not done", action.verb()),
                        lines: vec![WriteError::Conflict(why).on_screen()],
                    });
                }
            }
        }
        Err(e) => {
            if let Action::Migrate { namespace, .. } | Action::Revert { namespace } = &action {
                state.drive.activity.remove(namespace);
            }
            state.drive.dialog = Some(Dialog::Info {
                title: format!("{} {} failed", action.verb(), action.target()),
                lines: vec![
                    e.on_screen(),
                    "Repeating the action continues where it stopped.".into(),
                ],
            });
        }
    }
    if let Some((namespace, result)) = migrated {
        crate::app::wave::on_migrated(state, effects, &namespace, result);
    }
}
