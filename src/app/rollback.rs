//! Acting on the rollback triggers: judging each round of metrics, the namespaces a breach
//! affects, `X` to revert them (previewed, confirmed), and `auto_rollback`, which sends the
//! same reverts by itself when the plan says so and journals why.

use std::collections::BTreeSet;

use super::actions;
use super::drive::{self, Dialog};
use super::state::{Mode, State};
use crate::metrics::reading::Reading;
use crate::plan::model::Phase;
use crate::plan::triggers::{Finding, Scope};

/// Namespaces with injected pods on `revision`, from the cluster's state.
fn namespaces_on(state: &State, revision: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for pod in state.pods.values() {
        if pod.istiod.is_none() && pod.revision.as_deref() == Some(revision) {
            names.insert(pod.namespace.clone());
        }
    }
    names
}

/// Takes in a round of metrics: baselines and triggers move on, findings are judged again.
pub fn observe(state: &mut State, reading: &Reading) {
    let Some(plan) = state.plan.clone() else {
        return;
    };
    let moved = namespaces_on(state, &plan.to);
    state
        .guard
        .observe(reading, &plan, &|ns| moved.contains(ns));
    judge(state, &moved);
}

/// Judges the triggers again (time alone makes numbers stale), then acts if the plan says so.
pub fn refresh(state: &mut State) {
    let Some(plan) = state.plan.as_ref() else {
        state.findings.clear();
        return;
    };
    let moved = namespaces_on(state, &plan.to);
    judge(state, &moved);
}

fn judge(state: &mut State, moved: &BTreeSet<String>) {
    let Some(plan) = state.plan.as_ref() else {
        return;
    };
    // The current wave's namespaces on the new revision must be measured; others are judged
    // when there are numbers for them.
    let required: BTreeSet<String> = match super::plan_flow::current_phase(state, plan) {
        Phase::Wave(i) => {
            let all: Vec<_> = state.namespaces.values().collect();
            plan.wave_namespaces(i, &all)
                .into_iter()
                .filter(|ns| moved.contains(ns))
                .collect()
        }
        _ => BTreeSet::new(),
    };
    state.findings = state.guard.evaluate(plan, state.now, &required, moved);
    state.auto_rolled_back.retain(|ns| moved.contains(ns));
    if plan.thresholds.auto_rollback {
        auto_rollback(state);
    }
}

/// The breached triggers, in the order the banner names them.
pub fn breaches(state: &State) -> impl Iterator<Item = &Finding> {
    state.findings.iter().filter(|f| f.is_breached())
}

fn revertable(state: &State, ns: &str) -> bool {
    state
        .namespaces
        .get(&ns.to_string())
        .is_some_and(|n| actions::recorded_labels(&n.annotations).is_some())
}

fn reverting(state: &State, ns: &str) -> bool {
    state.activity.get(ns).is_some_and(|a| a.reverting)
}

/// The namespaces to revert for the breaches: the namespaces named, or for a breach of the
/// new istiod, every namespace moved onto it by the cockpit. Only namespaces whose labels
/// before the move are recorded, and not already on their way back.
pub fn affected(state: &State) -> Vec<String> {
    let Some(plan) = state.plan.as_ref() else {
        return Vec::new();
    };
    let mut names = BTreeSet::new();
    for finding in breaches(state) {
        match &finding.scope {
            Scope::Namespace(ns) => {
                names.insert(ns.clone());
            }
            Scope::ControlPlane(_) => names.extend(namespaces_on(state, &plan.to)),
        }
    }
    names
        .into_iter()
        .filter(|ns| {
            revertable(state, ns) && !reverting(state, ns) && !state.auto_rolled_back.contains(ns)
        })
        .collect()
}

/// `X`: preview reverting every namespace the breaches affect.
pub fn preview(state: &mut State) {
    let why = match &state.mode {
        Mode::Driver => None,
        Mode::ReadOnly(why) => Some(format!("read-only ({why}): actions are unavailable")),
        Mode::Follower(holder) => Some(format!(
            "{holder} drives this upgrade: press D to take over"
        )),
    };
    if let Some(why) = why {
        state.ui.notice = Some(why);
        return;
    }
    if breaches(state).next().is_none() {
        state.ui.notice = Some("no rollback trigger is breached".into());
        return;
    }
    let names = affected(state);
    if names.is_empty() {
        state.ui.notice = Some(
            "the breach names no namespace the cockpit can revert (none migrated by it, or all already reverting)"
                .into(),
        );
        return;
    }
    let reason = reason(state);
    let mut lines = vec![format!("breached: {reason}")];
    let mut commands = Vec::new();
    for ns in &names {
        let Some(info) = state.namespaces.get(ns) else {
            continue;
        };
        match drive::revert_of(info) {
            Ok((mut command, preview)) => {
                command.reason = Some(format!("rollback trigger: {reason}"));
                lines.extend(preview);
                commands.push(command);
            }
            Err(e) => lines.push(format!("{ns}: cannot revert: {e}")),
        }
    }
    if state.dry_run {
        lines.push("DRY RUN: sent with dryRun=All, nothing will change".into());
    }
    lines.push(String::new());
    lines.push(format!(
        "y apply ({} namespaces, one after another) · n or Esc cancel",
        commands.len()
    ));
    state.dialog = Some(Dialog::ConfirmAll {
        title: format!("Revert {}?", names.join(", ")),
        lines,
        commands,
    });
}

/// Every breach, in one line: what the journal keeps as the reason.
fn reason(state: &State) -> String {
    breaches(state)
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// With `auto_rollback = true`: the driver reverts the affected namespaces by itself, through
/// the same commands `X` would send, each journalled with the breach that caused it.
fn auto_rollback(state: &mut State) {
    if state.mode != Mode::Driver || breaches(state).next().is_none() {
        return;
    }
    let names = affected(state);
    if names.is_empty() {
        return;
    }
    let reason = format!("auto_rollback: {}", reason(state));
    let mut sent = Vec::new();
    for ns in names {
        let Some(info) = state.namespaces.get(&ns) else {
            continue;
        };
        if let Ok((mut command, _)) = drive::revert_of(info) {
            command.reason = Some(reason.clone());
            drive::queue(state, command, Vec::new());
            state.auto_rolled_back.insert(ns.clone());
            sent.push(ns);
        }
    }
    if !sent.is_empty() {
        state.ui.notice = Some(format!("AUTO ROLLBACK: reverting {}", sent.join(", ")));
        log::warn!("auto rollback of {}: {reason}", sent.join(", "));
    }
}
