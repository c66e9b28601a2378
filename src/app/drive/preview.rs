//! Previews of the namespace and lease actions: `m` migrates the selected namespace, `r`
//! reverts it, `D` takes over driving.

use std::collections::BTreeMap;

use super::dialog::confirm;
use super::{Command, notice, refuse_unready_target, selected_namespace, why_not};
use crate::app::actions::{self, Action};
use crate::app::state::{Mode, Pane, State};
use crate::mesh::resources::NamespaceInfo;
use crate::mesh::rows::{self, Migration};

/// `m`: move the selected namespace to the new revision.
pub fn preview_migrate(state: &mut State) {
    if let Some(why) = why_not(state) {
        return notice(state, why);
    }
    if super::refuse_in_fleet(state, super::Guarded::Migrate) {
        return;
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
        return super::tag::preview_revert_tag(state);
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
pub fn revert_of(ns: &NamespaceInfo) -> Result<(Command, Vec<String>), actions::NothingToRevert> {
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

/// `D`: take the driver lease from another cockpit.
pub fn preview_take_over(state: &mut State) {
    let Mode::Follower(holder) = state.session.mode.clone() else {
        return notice(
            state,
            match &state.session.mode {
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
