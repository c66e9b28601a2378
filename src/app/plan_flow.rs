//! The plan on screen and its keys: the current phase and its gates, `>` to advance (only when
//! the gates pass, or by typing the phase's name), `M` to migrate a whole wave.

use std::collections::BTreeMap;

use super::actions::{self, Action};
use super::drive::{Command, Dialog};
use super::state::State;
use crate::mesh::Mesh;
use crate::mesh::namespace_facts::NamespaceFacts;
use crate::mesh::records::UpgradeRecord;
use crate::plan::derive;
use crate::plan::gates::{self, Gate, GateInput};
use crate::plan::model::{Phase, Plan};

/// The cluster's upgrade record, when it is of this plan's upgrade (same `from` and `to`).
pub fn plan_record<'a>(state: &'a State, plan: &Plan) -> Option<&'a UpgradeRecord> {
    state
        .cluster
        .records
        .upgrade
        .as_ref()
        .filter(|u| u.from == plan.from && u.to == plan.to)
}

/// The phase the cluster's upgrade record names. Without a record (nothing driven yet, or
/// namespaces moved by hand), where the cluster is: the first wave with a namespace not yet
/// on `to`, or the tag phase once every wave's namespaces are.
pub fn current_phase(state: &State, plan: &Plan) -> Phase {
    let recorded = plan_record(state, plan).and_then(|u| plan.phase_named(&u.phase));
    if let Some(phase) = recorded {
        return phase;
    }
    let facts = plan.namespace_facts(&state.cluster);
    (0..plan.waves.len())
        .find(|i| {
            facts
                .wave(*i)
                .iter()
                .any(|n| !moved(state, &facts, n, &plan.to))
        })
        .map_or(Phase::MoveTags, Phase::Wave)
}

/// Whether wave `i` is finished: past it in the record, or every namespace of it on `to`
/// with every injected pod there (moved by the cockpit, one by one, or by hand).
pub fn wave_done(state: &State, plan: &Plan, i: usize) -> bool {
    if current_phase(state, plan) > Phase::Wave(i) {
        return true;
    }
    let facts = plan.namespace_facts(&state.cluster);
    let names = facts.wave(i);
    !names.is_empty() && names.iter().all(|n| moved(state, &facts, n, &plan.to))
}

/// Whether a namespace's labels select `to` and every injected pod in it runs `to`.
fn moved(state: &State, facts: &NamespaceFacts, namespace: &str, to: &str) -> bool {
    facts.selected(namespace) == Some(to)
        && state
            .cluster
            .pod_tally
            .namespace(namespace)
            .is_none_or(|t| t.injected().all(|(rev, _, _)| rev == Some(to)))
}

pub fn started(state: &State, plan: &Plan, phase: Phase) -> Option<chrono::DateTime<chrono::Utc>> {
    let record = state.cluster.records.upgrade.as_ref()?;
    record.started.get(&plan.phase_name(phase)).copied()
}

/// When a wave's last namespace finished, as the upgrade record keeps it.
pub fn finished(state: &State, plan: &Plan, phase: Phase) -> Option<chrono::DateTime<chrono::Utc>> {
    let record = state.cluster.records.upgrade.as_ref()?;
    record.finished.get(&plan.phase_name(phase)).copied()
}

/// The gates of the current phase.
pub fn current_gates(state: &State) -> Option<(Phase, Vec<Gate>)> {
    let plan = state.drive.plan.as_ref()?;
    let phase = current_phase(state, plan);
    let input = GateInput {
        cluster: &state.cluster,
        fleet: state.fleet.as_ref(),
        metrics: state.metrics.readings.back(),
        findings: &state.metrics.findings,
        checks: state.checks.findings.as_deref(),
        plan,
        phase,
        started: started(state, plan, phase),
        finished: finished(state, plan, phase),
        now: state.session.now,
    };
    Some((phase, gates::evaluate(&input)))
}

/// The record after entering `phase` now.
fn record_for(state: &State, plan: &Plan, phase: Phase) -> UpgradeRecord {
    let mut record = plan_record(state, plan).cloned().unwrap_or_default();
    record.from = plan.from.clone();
    record.to = plan.to.clone();
    let name = plan.phase_name(phase);
    record
        .started
        .entry(name.clone())
        .or_insert(state.session.now);
    record.phase = name;
    record
}

fn refuse(state: &mut State) -> bool {
    if let Some(why) = super::drive::why_not(state) {
        state.ui.notice = Some(why);
        return true;
    }
    if state.drive.plan.is_none() {
        state.ui.notice = Some(
            state
                .drive
                .plan_problem
                .clone()
                .unwrap_or_else(|| "no plan yet: waiting for the cluster's state".into()),
        );
        return true;
    }
    false
}

/// The command that records the phase the cluster is in, when nothing is recorded yet:
/// migrations begin that wave's clock.
pub fn start_if_needed(state: &State) -> Option<Command> {
    let plan = state.drive.plan.as_ref()?;
    if plan_record(state, plan).is_some() {
        return None;
    }
    let phase = current_phase(state, plan);
    let mut command = Command::new(
        Action::Advance {
            from: "not started".into(),
            to: plan.phase_name(phase),
            overridden: false,
        },
        BTreeMap::new(),
    );
    command.record = Some(record_for(state, plan, phase));
    Some(command)
}

/// `>`: advance when every gate passes; otherwise name the failing gates and offer the override.
pub fn preview_advance(state: &mut State) {
    if refuse(state) {
        return;
    }
    let plan = state.drive.plan.clone().expect("checked");
    let Some((phase, gates)) = current_gates(state) else {
        return;
    };
    let Some(next) = plan.next(phase) else {
        state.ui.notice = Some("the upgrade is done".into());
        return;
    };
    let (from, to) = (plan.phase_name(phase), plan.phase_name(next));
    let mut command = Command::new(
        Action::Advance {
            from: from.clone(),
            to: to.clone(),
            overridden: false,
        },
        BTreeMap::new(),
    );
    command.record = Some(record_for(state, &plan, next));
    let lines: Vec<String> = gates
        .iter()
        .map(|g| {
            let mark = match g.status {
                gates::GateStatus::Pass => "✓",
                gates::GateStatus::Fail(_) => "✗",
                gates::GateStatus::Unknown(_) => "?",
            };
            format!("{mark} {g}")
        })
        .collect();
    if gates::all_pass(&gates) {
        let mut lines = lines;
        lines.insert(0, format!("every gate of {from} passes:"));
        lines.push(format!(
            "the upgrade record in {} says {to} from now",
            crate::mesh::records::NAMESPACE
        ));
        lines.push(String::new());
        lines.push(super::drive::answers(state));
        state.drive.dialog = Some(Dialog::Confirm {
            title: format!("Advance to {to}?"),
            lines,
            command,
            restart_with: Vec::new(),
        });
        return;
    }
    let mut lines = lines;
    lines.insert(
        0,
        format!("{from} cannot end yet; failing or unknown gates:"),
    );
    lines.push(String::new());
    lines.push("Overriding skips the gates and is journalled as an override.".into());
    if let Action::Advance { overridden, .. } = &mut command.action {
        *overridden = true;
    }
    state.drive.dialog = Some(Dialog::TypeToConfirm {
        title: format!("Cannot advance to {to}"),
        lines,
        expected: from,
        typed: String::new(),
        command,
    });
}

/// `M`: migrate every namespace of the current wave not yet on the new revision, paced: a
/// few at a time, each on the new revision, baked and healthy before the next starts. The
/// confirmed dialog carries every migration it shows; nothing is queued before `y`.
pub fn preview_wave(state: &mut State) {
    if refuse(state) || super::drive::refuse_in_fleet(state, super::drive::Guarded::Wave) {
        return;
    }
    if super::wave::ask_again(state) {
        return;
    }
    if let Some(run) = state.drive.wave.as_ref().filter(|r| r.stopped.is_none()) {
        state.ui.notice = Some(format!(
            "{} is running: {}",
            run.phase,
            run.describe(state.session.now)
        ));
        return;
    }
    let breach = super::rollback::breaches(state)
        .next()
        .map(ToString::to_string);
    if let Some(breach) = breach {
        state.ui.notice = Some(format!(
            "a rollback trigger is breached ({breach}): revert with X, or wait until it clears"
        ));
        return;
    }
    let plan = state.drive.plan.clone().expect("checked");
    if super::drive::refuse_unready_target(state, &plan.to) {
        return;
    }
    let Phase::Wave(i) = current_phase(state, &plan) else {
        state.ui.notice = Some("the waves are done: M migrates the namespaces of a wave".into());
        return;
    };
    let pending: Vec<String> = state
        .namespace_facts()
        .wave(i)
        .iter()
        .filter(|n| {
            let on_target = state
                .cluster
                .namespaces
                .get(n)
                .is_some_and(|ns| ns.labels.get("istio.io/rev") == Some(&plan.to));
            let pods_done = state
                .cluster
                .pods_in(n)
                .filter(|p| p.is_injected())
                .all(|p| p.revision.as_deref() == Some(plan.to.as_str()) && p.is_ready());
            !(on_target && pods_done)
        })
        .cloned()
        .collect();
    let phase = plan.phase_name(Phase::Wave(i));
    if pending.is_empty() {
        state.ui.notice = Some(format!("every namespace of {phase} is on {}", plan.to));
        return;
    }
    let pacing = plan.wave_pacing(i);
    let at_once = match pacing.concurrency {
        1 => "one at a time".to_string(),
        n => format!("{n} at a time"),
    };
    let mut lines = vec![format!(
        "{phase}: migrate {} namespaces to {}, {at_once}:",
        pending.len(),
        plan.to
    )];
    let mut manual = Vec::new();
    for n in &pending {
        let labels = state
            .cluster
            .namespaces
            .get(n)
            .map(|ns| actions::injection_labels(&ns.labels))
            .unwrap_or_default();
        let shown = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        lines.push(format!(
            "  {n} ({shown} -> istio.io/rev={}), then restart",
            plan.to
        ));
        manual.extend(crate::mesh::manual_restart::preview_line(&state.cluster, n));
    }
    lines.push(format!(
        "the next starts when a namespace's pods all run {} and are Ready (within {}),",
        plan.to,
        crate::plan::duration::format(pacing.timeout)
    ));
    lines.push(format!(
        "then it bakes {} with its rollback triggers healthy; a failure, a breach, a timeout",
        crate::plan::duration::format(pacing.bake)
    ));
    lines.push("or triggers unknown after the bake stop the rest".into());
    if !manual.is_empty() {
        lines.push("pods a rollout restart does not move:".into());
        lines.extend(manual);
    }
    lines.extend(super::drive::dry_note(state));
    lines.push(String::new());
    lines.push(super::drive::answers(state));
    let batch = state.session.now.timestamp_millis() as u64;
    let commands = pending
        .into_iter()
        .map(|n| {
            let expected = state
                .cluster
                .namespaces
                .get(&n)
                .map(|ns| actions::injection_labels(&ns.labels))
                .unwrap_or_default();
            let mut c = Command::new(
                Action::Migrate {
                    namespace: n,
                    to: plan.to.clone(),
                },
                expected,
            );
            c.batch = Some(batch);
            c
        })
        .collect();
    let run = super::wave::WaveRun::new(phase.clone(), plan.to.clone(), pacing, commands);
    let title = format!("Migrate {phase} ?");
    state.drive.dialog = Some(match precheck_gate(state) {
        Some(gate) if i == 0 => override_wave(state, gate, lines, run),
        _ => Dialog::ConfirmWave { title, lines, run },
    });
}

/// The first wave's precheck gate, when it does not pass.
fn precheck_gate(state: &State) -> Option<Gate> {
    let (_, gates) = current_gates(state)?;
    gates
        .into_iter()
        .find(|g| g.kind == gates::GateKind::NoBlockers && g.status != gates::GateStatus::Pass)
}

/// The wave's preview under what the precheck found, to start only by typing the phase's
/// name; the override is journalled before the first namespace moves.
fn override_wave(
    state: &State,
    gate: Gate,
    preview: Vec<String>,
    run: super::wave::WaveRun,
) -> Dialog {
    let phase = run.phase.clone();
    let checks = state.ui.keys.key(crate::app::keymap::KeyAction::Checks);
    let journalled = format!("started over the precheck gate: {gate}");
    let mut lines = vec![
        format!("✗ {gate}"),
        format!("{checks} shows every finding with its fix. The journal will say, for {phase}:"),
        format!("  {journalled}"),
        String::new(),
    ];
    // The preview's last line names the keys of a plain confirmation: typing replaces them.
    lines.extend(preview.into_iter().rev().skip(2).rev());
    let note = Command::new(
        Action::WaveNote {
            phase: phase.clone(),
            note: journalled,
        },
        BTreeMap::new(),
    );
    Dialog::OverrideWave {
        title: format!("The precheck holds {phase}"),
        lines,
        expected: phase,
        typed: String::new(),
        run,
        note: Box::new(note),
    }
}

/// Whether the plan was derived without the upgrade record the cluster now has (the record
/// arrived after the plan, or names other revisions): it must be derived again.
pub fn derived_plan_outdated(state: &State) -> bool {
    let mesh = Mesh::injectors(&state.cluster);
    let Some(record) = derive::usable_record(&state.cluster, &mesh) else {
        return false;
    };
    match &state.drive.plan {
        Some(plan) => plan.derived && (plan.from != record.from || plan.to != record.to),
        None => state
            .drive
            .plan_problem
            .as_deref()
            .is_some_and(|p| p.starts_with(derive::NOTHING_TO_UPGRADE)),
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use super::*;
    use crate::app::state::Pane;
    use crate::app::test_loop::TestLoop;
    use crate::fixture;

    fn rows(_: &State, _: Pane) -> usize {
        10
    }

    fn press(s: &mut TestLoop, code: KeyCode) {
        s.press(code, rows);
    }

    fn demo() -> TestLoop {
        let mut s = TestLoop::new(fixture::demo().state.clone());
        s.drive.plan = crate::plan::derive(&s.cluster);
        assert!(s.drive.plan.is_some(), "the demo has something to upgrade");
        s
    }

    #[test]
    fn a_refused_advance_names_its_gates_and_the_override_needs_the_phase_name() {
        let mut s = demo();
        press(&mut s, KeyCode::Char('>'));
        let Some(Dialog::TypeToConfirm {
            title,
            lines,
            expected,
            ..
        }) = s.drive.dialog.clone()
        else {
            panic!("expected a refusal: {:?}", s.drive.dialog);
        };
        assert_eq!(title, "Cannot advance to wave 2: non-critical");
        assert_eq!(expected, "wave 1: staging");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("✗ namespaces on 1-25-0")),
            "{lines:?}"
        );
        for c in "wave 1".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Enter);
        assert!(
            s.effects.commands.is_empty(),
            "a wrong name overrides nothing"
        );
        for c in ": staging".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Enter);
        assert_eq!(s.effects.commands.len(), 1);
        let command = &s.effects.commands[0];
        assert!(matches!(
            command.action,
            Action::Advance {
                overridden: true,
                ..
            }
        ));
        let record = command.record.clone().unwrap();
        assert_eq!(record.phase, "wave 2: non-critical");
        assert!(record.started.contains_key("wave 2: non-critical"));
    }

    #[test]
    fn the_first_migration_starts_the_plan_and_m_queues_the_wave() {
        let mut s = demo();
        s.ui.selected_namespace = Some("search".into());
        press(&mut s, KeyCode::Char('m'));
        press(&mut s, KeyCode::Char('y'));
        assert_eq!(s.effects.commands.len(), 2);
        assert_eq!(
            s.effects.commands[0].record.as_ref().unwrap().phase,
            "wave 1: staging"
        );
        s.effects.commands.clear();
        // Pretend the record is in the cluster now: the wave's namespaces come in one batch.
        s.cluster.records.upgrade = Some(record_for(
            &s,
            &s.drive.plan.clone().unwrap(),
            Phase::Wave(1),
        ));
        press(&mut s, KeyCode::Char('M'));
        let Some(Dialog::ConfirmWave { title, run, .. }) = s.drive.dialog.clone() else {
            panic!("{:?}", s.ui.notice)
        };
        assert_eq!(title, "Migrate wave 2: non-critical ?");
        assert!(s.effects.commands.is_empty(), "nothing is queued before y");
        press(&mut s, KeyCode::Char('y'));
        // One namespace at a time: the next goes when the previous one is done and baked
        // (see `wave`).
        assert_eq!(s.effects.commands.len(), 1);
        let wave = s.drive.wave.as_ref().expect("the wave runs");
        assert_eq!(wave.pending.len(), run.pending.len() - 1);
    }

    #[test]
    fn without_a_record_the_phase_is_the_first_wave_not_yet_moved() {
        let mut c = fixture::Cluster::new();
        c.revision("1-24-0")
            .revision("1-25-0")
            .tag("stable", "1-24-0")
            .namespace("web", &[("istio.io/rev", "1-25-0"), ("tier", "staging")])
            .namespace("api", &[("istio.io/rev", "1-25-0"), ("tier", "critical")])
            .namespace("db", &[("istio.io/rev", "stable"), ("tier", "critical")])
            .pod("web", "web-1", "1-25-0", "1.25.0", true)
            .pod("api", "api-1", "1-25-0", "1.25.0", true)
            .pod("db", "db-1", "1-24-0", "1.24.0", true);
        let mut s = TestLoop::new(c.state.clone());
        let plan = crate::plan::derive(&s.cluster).unwrap();
        assert_eq!(current_phase(&s, &plan), Phase::Wave(1));
        // Labels moved, one pod not restarted yet: still that wave.
        s.drive.plan = Some(plan.clone());
        c.namespace("db", &[("istio.io/rev", "1-25-0"), ("tier", "critical")]);
        assert_eq!(current_phase(&c.state, &plan), Phase::Wave(1));
        c.pod("db", "db-1", "1-25-0", "1.25.0", true);
        assert_eq!(current_phase(&c.state, &plan), Phase::MoveTags);
        // The first write records the phase the cluster is in, not the first wave.
        s.ui.selected_namespace = Some("db".into());
        press(&mut s, KeyCode::Char('m'));
        press(&mut s, KeyCode::Char('y'));
        assert_eq!(
            s.effects.commands[0].record.as_ref().unwrap().phase,
            "wave 2: critical"
        );
    }
}
