//! Pacing a wave (`M`): at most `wave_concurrency` namespaces move at once, and the next one
//! starts only when a moving one has every pod on the new revision and Ready and has then
//! baked for `namespace_bake` with its rollback triggers healthy. A failed write, a breach, a
//! new NACK or skew, pods not there within `namespace_timeout`, or triggers still unknown at
//! the end of a bake stop the wave; unknown triggers can be passed by typing the phase's
//! name. Pure: driven by `Tick`, metrics and the executor's results, timed by `State::now`.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use super::actions::Action;
use super::activity;
use super::drive::{self, Command, Dialog};
use super::effects::Effects;
use super::event::WriteError;
use super::keymap::KeyAction;
use super::state::{Mode, State};
use crate::mesh::manual_restart;
use crate::metrics::maths::TriggerState;
use crate::plan::duration;
use crate::plan::gates::{GateKind, GateStatus};
use crate::plan::model::{Pacing, Phase};
use crate::plan::triggers::{Finding, Scope};

/// A wave the user confirmed, as it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveRun {
    /// The wave's phase name: `wave 1: staging`.
    pub phase: String,
    /// The revision it moves to.
    pub to: String,
    pub pacing: Pacing,
    /// Migrations not sent yet, in order: exactly those the preview showed.
    pub pending: VecDeque<Command>,
    pub moving: Vec<Moving>,
    pub done: Vec<String>,
    pub total: usize,
    /// Gates already failing when the wave began: only new failures stop it.
    pub baseline: Vec<GateKind>,
    pub stopped: Option<Stop>,
}

/// A namespace of the wave on its way: sent at `sent`, then rolling, then baking.
#[derive(Debug, Clone, PartialEq)]
pub struct Moving {
    pub namespace: String,
    pub sent: DateTime<Utc>,
    pub stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// The migration is with the executor.
    Sent,
    /// Labels patched and workloads restarting: waiting for every pod on the new revision.
    Rolling,
    /// Every pod on the new revision and Ready since `since`.
    Baking { since: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub why: String,
    /// The namespace whose triggers were still unknown at the end of its bake: typing the
    /// phase's name counts it as done and goes on.
    pub unknown: Option<String>,
}

/// What a namespace's rollback triggers say, and the new istiod's.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Healthy,
    /// Over a threshold, not yet for its duration.
    Pending,
    Breached(String),
    Unknown(String),
}

impl WaveRun {
    pub fn new(phase: String, to: String, pacing: Pacing, commands: Vec<Command>) -> WaveRun {
        WaveRun {
            phase,
            to,
            pacing,
            total: commands.len(),
            pending: commands.into(),
            moving: Vec::new(),
            done: Vec::new(),
            baseline: Vec::new(),
            stopped: None,
        }
    }

    /// `wave 1/3 done · staging-api baking, 1m40s left`, for the phase bar.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let mut text = format!("wave {}/{} done", self.done.len(), self.total);
        for m in &self.moving {
            let what = match m.stage {
                Stage::Sent | Stage::Rolling => "moving".to_string(),
                Stage::Baking { since } => {
                    let left = self.pacing.bake.saturating_sub(elapsed(since, now));
                    // To the second: `1m40s`, not a floor of `1m` that reads as less.
                    let left = std::time::Duration::from_secs(left.as_secs());
                    format!("baking, {} left", duration::format(left))
                }
            };
            text.push_str(&format!(" · {} {what}", m.namespace));
        }
        if let Some(stop) = &self.stopped {
            text.push_str(&format!(" · STOPPED: {}", stop.why));
        }
        text
    }
}

fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> std::time::Duration {
    (now - since).to_std().unwrap_or_default()
}

fn namespace_of(command: &Command) -> Option<&str> {
    match &command.action {
        Action::Migrate { namespace, .. } => Some(namespace),
        _ => None,
    }
}

/// `y` on the wave's preview: the run begins with its first namespaces.
pub fn start(state: &mut State, effects: &mut Effects, mut run: WaveRun) {
    run.baseline = super::plan_flow::current_gates(state)
        .map(|(_, gates)| {
            gates
                .into_iter()
                .filter(|g| g.status != GateStatus::Pass)
                .map(|g| g.kind)
                .collect()
        })
        .unwrap_or_default();
    state.drive.wave = Some(run);
    fill(state, effects);
}

/// Sends the next namespaces while there is room.
fn fill(state: &mut State, effects: &mut Effects) {
    loop {
        let Some(run) = state.drive.wave.as_mut() else {
            return;
        };
        if run.stopped.is_some() || run.moving.len() >= run.pacing.concurrency {
            return;
        }
        let Some(command) = run.pending.pop_front() else {
            return;
        };
        let Some(namespace) = namespace_of(&command).map(str::to_string) else {
            continue;
        };
        run.moving.push(Moving {
            namespace,
            sent: state.session.now,
            stage: Stage::Sent,
        });
        drive::queue(state, effects, command, Vec::new());
    }
}

/// The executor's answer to a migration: one of the wave's rolls on, or the wave stops.
pub fn on_migrated(
    state: &mut State,
    effects: &mut Effects,
    namespace: &str,
    result: Result<(), WriteError>,
) {
    let Some(run) = state.drive.wave.as_mut() else {
        return;
    };
    if run.stopped.is_some() {
        return;
    }
    let Some(moving) = run.moving.iter_mut().find(|m| m.namespace == namespace) else {
        return;
    };
    match result {
        Ok(()) => {
            if moving.stage == Stage::Sent {
                moving.stage = Stage::Rolling;
            }
        }
        Err(e) => stop(
            state,
            effects,
            format!("migrating {namespace} failed: {}", e.on_screen()),
            None,
        ),
    }
}

/// The triggers that judge `namespace`: its own and the new istiod's.
pub fn verdict(state: &State, namespace: &str, to: &str) -> Verdict {
    let Some(reading) = state.metrics.readings.back() else {
        return Verdict::Unknown("no metrics yet".into());
    };
    if reading.is_down() {
        let why = reading.errors.first().map_or("", String::as_str);
        return Verdict::Unknown(format!("metrics unavailable: {why}"));
    }
    let relevant: Vec<&Finding> = state
        .metrics
        .findings
        .iter()
        .filter(|f| match &f.scope {
            Scope::Namespace(ns) => ns == namespace,
            Scope::ControlPlane(rev) => rev == to,
            // Traffic to other clusters may fail because of any namespace moved.
            Scope::CrossCluster(_) => true,
        })
        .collect();
    if let Some(f) = relevant.iter().find(|f| f.is_breached()) {
        return Verdict::Breached(f.to_string());
    }
    if !relevant
        .iter()
        .any(|f| matches!(f.scope, Scope::Namespace(_)))
    {
        return Verdict::Unknown(format!("no numbers for {namespace} on {to}"));
    }
    if let Some(f) = relevant.iter().find(|f| f.is_unknown()) {
        return Verdict::Unknown(f.to_string());
    }
    if relevant
        .iter()
        .any(|f| matches!(f.state, TriggerState::Pending { .. }))
    {
        return Verdict::Pending;
    }
    Verdict::Healthy
}

/// A gate that must never fail mid-wave (NACKs from the new revision, unsupported skew) and
/// did not fail when it began, or a breached trigger anywhere.
fn broken(state: &State, run: &WaveRun) -> Option<String> {
    let mut broken: Vec<String> = super::plan_flow::current_gates(state)
        .map(|(_, gates)| {
            gates
                .into_iter()
                .filter(|g| {
                    matches!(g.status, GateStatus::Fail(_))
                        && matches!(
                            g.kind,
                            GateKind::NoNacks
                                | GateKind::NoSkew
                                | GateKind::PrimaryFirst
                                | GateKind::RootCa
                                | GateKind::EastWest
                                | GateKind::FleetSkew
                        )
                        && !run.baseline.contains(&g.kind)
                })
                .map(|g| g.to_string())
                .collect()
        })
        .unwrap_or_default();
    broken.extend(super::rollback::breaches(state).map(|f| format!("breached: {f}")));
    (!broken.is_empty()).then(|| broken.join("; "))
}

/// How far a namespace got when its time ran out, with the pods it needs restarted by hand.
fn timed_out(state: &State, namespace: &str, run: &WaveRun) -> String {
    let pods: Vec<_> = state
        .cluster
        .pods_in(namespace)
        .filter(|p| p.is_injected() && !p.terminating)
        .collect();
    let there = pods
        .iter()
        .filter(|p| p.is_ready() && p.revision.as_deref() == Some(run.to.as_str()))
        .count();
    let mut why = format!(
        "timeout: {namespace} has {there} of {} pods on {} and ready after {}",
        pods.len(),
        run.to,
        duration::format(run.pacing.timeout)
    );
    let manual = manual_restart::needed(&state.cluster, namespace, Some(&run.to));
    if !manual.is_empty() {
        why.push_str(&format!(
            "; a restart does not move {}: restart by hand",
            manual.join(", ")
        ));
    }
    why
}

enum Next {
    Bake(usize),
    Done(usize),
    Stop(String, Option<String>),
}

/// One step of the running wave, at each tick and round of metrics.
pub fn step(state: &mut State, effects: &mut Effects) {
    if state.session.mode != Mode::Driver && state.drive.wave.take().is_some() {
        state.ui.notice = Some("the wave stopped: this cockpit no longer drives".into());
    }
    let Some(run) = state.drive.wave.as_ref() else {
        record_end_if_due(state, effects);
        return;
    };
    if run.stopped.is_some() {
        return;
    }
    if let Some(why) = broken(state, run) {
        return stop(state, effects, why, None);
    }
    let now = state.session.now;
    let mut next = Vec::new();
    for (i, m) in run.moving.iter().enumerate() {
        match m.stage {
            Stage::Sent | Stage::Rolling => {
                if m.stage == Stage::Rolling && activity::settled(state, &m.namespace, &run.to) {
                    next.push(Next::Bake(i));
                } else if elapsed(m.sent, now) >= run.pacing.timeout {
                    next.push(Next::Stop(timed_out(state, &m.namespace, run), None));
                }
            }
            Stage::Baking { since } => match verdict(state, &m.namespace, &run.to) {
                Verdict::Breached(why) => next.push(Next::Stop(format!("breached: {why}"), None)),
                _ if elapsed(since, now) < run.pacing.bake => {}
                Verdict::Healthy => next.push(Next::Done(i)),
                Verdict::Pending => {}
                Verdict::Unknown(why) => next.push(Next::Stop(
                    format!(
                        "{}: rollback triggers still unknown after its {} bake: {why}",
                        m.namespace,
                        duration::format(run.pacing.bake)
                    ),
                    Some(m.namespace.clone()),
                )),
            },
        }
    }
    let mut finished = Vec::new();
    for n in next {
        match n {
            Next::Bake(i) => {
                if let Some(run) = state.drive.wave.as_mut() {
                    run.moving[i].stage = Stage::Baking { since: now };
                }
            }
            Next::Done(i) => finished.push(i),
            Next::Stop(why, unknown) => return stop(state, effects, why, unknown),
        }
    }
    if let Some(run) = state.drive.wave.as_mut() {
        for i in finished.into_iter().rev() {
            let m = run.moving.remove(i);
            run.done.push(m.namespace);
        }
    }
    fill(state, effects);
    if state
        .drive
        .wave
        .as_ref()
        .is_some_and(|r| r.pending.is_empty() && r.moving.is_empty())
    {
        complete(state, effects);
    }
}

fn complete(state: &mut State, effects: &mut Effects) {
    let Some(run) = state.drive.wave.take() else {
        return;
    };
    state.ui.notice = Some(format!(
        "{}: all {} namespaces on {}, baked and healthy",
        run.phase, run.total, run.to
    ));
    record_end(state, effects, &run.phase);
}

/// Keeps in the upgrade record when the wave's last namespace finished, which its soak
/// counts from: once, by the driver.
fn record_end(state: &mut State, effects: &mut Effects, phase: &str) {
    if state.session.mode != Mode::Driver || state.drive.wave_end_sent.as_deref() == Some(phase) {
        return;
    }
    let Some(mut record) = state.cluster.records.upgrade.clone() else {
        return;
    };
    if record.finished.contains_key(phase) {
        return;
    }
    record.finished.insert(phase.to_string(), state.session.now);
    let mut command = Command::new(
        Action::WaveNote {
            phase: phase.to_string(),
            note: "its last namespace finished: the soak counts from now".into(),
        },
        BTreeMap::new(),
    );
    command.record = Some(record);
    effects.send(command);
    state.drive.wave_end_sent = Some(phase.to_string());
}

/// A wave finished without `M` (namespace by namespace with `m`): its end is recorded too.
fn record_end_if_due(state: &mut State, effects: &mut Effects) {
    if state.session.mode != Mode::Driver {
        return;
    }
    let Some(plan) = state.drive.plan.as_ref() else {
        return;
    };
    let phase @ Phase::Wave(_) = super::plan_flow::current_phase(state, plan) else {
        return;
    };
    let name = plan.phase_name(phase);
    let due = state
        .cluster
        .records
        .upgrade
        .as_ref()
        .is_some_and(|u| u.phase == name && !u.finished.contains_key(&name))
        && state.drive.wave_end_sent.as_deref() != Some(name.as_str());
    // The gates are only evaluated when the end is still to be recorded.
    let all_on = due
        && super::plan_flow::current_gates(state).is_some_and(|(_, gates)| {
            gates
                .first()
                .is_some_and(|g| g.kind == GateKind::NamespacesOn && g.status == GateStatus::Pass)
        });
    if all_on {
        record_end(state, effects, &name);
    }
}

/// Stops the wave: the reason on screen and in the journal. Namespaces already moving keep
/// going in the cluster; none is sent after this.
fn stop(state: &mut State, effects: &mut Effects, why: String, unknown: Option<String>) {
    let Some(run) = state.drive.wave.as_mut() else {
        return;
    };
    run.stopped = Some(Stop {
        why: why.clone(),
        unknown: unknown.clone(),
    });
    let phase = run.phase.clone();
    let to = run.to.clone();
    let waiting: Vec<String> = run
        .pending
        .iter()
        .filter_map(namespace_of)
        .map(str::to_string)
        .collect();
    let mut lines = vec![why.clone()];
    if !waiting.is_empty() {
        lines.push(format!("not started: {}", waiting.join(", ")));
    }
    let note = match &unknown {
        Some(_) => format!("paused: {why}"),
        None => format!("stopped: {why}"),
    };
    effects.send(Command::new(
        Action::WaveNote {
            phase: phase.clone(),
            note,
        },
        BTreeMap::new(),
    ));
    match unknown {
        Some(ns) => {
            lines.push(format!(
                "Going on counts {ns} as healthy without numbers, and is journalled."
            ));
            state.drive.dialog = Some(Dialog::ContinueWave {
                title: "Wave paused: triggers unknown".into(),
                lines,
                expected: phase,
                typed: String::new(),
            });
        }
        None => {
            lines.push(format!(
                "{} resumes where it stopped: namespaces already on {to} are skipped.",
                state.ui.keys.key(KeyAction::MigrateWave)
            ));
            state.drive.dialog = Some(Dialog::Info {
                title: "Wave stopped".into(),
                lines,
            });
        }
    }
}

/// The phase's name typed after unknown triggers: the namespace counts as done, the wave
/// goes on, and the journal keeps who decided.
pub fn go_on(state: &mut State, effects: &mut Effects) {
    let Some(run) = state.drive.wave.as_mut() else {
        return;
    };
    let Some(ns) = run.stopped.take().and_then(|s| s.unknown) else {
        return;
    };
    if let Some(i) = run.moving.iter().position(|m| m.namespace == ns) {
        run.moving.remove(i);
        run.done.push(ns.clone());
    }
    let phase = run.phase.clone();
    effects.send(Command::new(
        Action::WaveNote {
            phase,
            note: format!("continued past unknown triggers of {ns}, by typed confirmation"),
        },
        BTreeMap::new(),
    ));
    step(state, effects);
}

/// Reopens the question after unknown triggers (`M` while the wave waits for it).
pub fn ask_again(state: &mut State) -> bool {
    let Some(stop) = state.drive.wave.as_ref().and_then(|r| r.stopped.as_ref()) else {
        return false;
    };
    let Some(ns) = stop.unknown.clone() else {
        return false;
    };
    let why = stop.why.clone();
    let phase = state
        .drive
        .wave
        .as_ref()
        .map(|r| r.phase.clone())
        .unwrap_or_default();
    state.drive.dialog = Some(Dialog::ContinueWave {
        title: "Wave paused: triggers unknown".into(),
        lines: vec![
            why,
            format!("Going on counts {ns} as healthy without numbers, and is journalled."),
        ],
        expected: phase,
        typed: String::new(),
    });
    true
}

#[cfg(test)]
mod tests;
