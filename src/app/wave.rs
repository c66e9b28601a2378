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
use super::event::WriteError;
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
pub fn start(state: &mut State, mut run: WaveRun) {
    run.baseline = super::plan_flow::current_gates(state)
        .map(|(_, gates)| {
            gates
                .into_iter()
                .filter(|g| g.status != GateStatus::Pass)
                .map(|g| g.kind)
                .collect()
        })
        .unwrap_or_default();
    state.wave = Some(run);
    fill(state);
}

/// Sends the next namespaces while there is room.
fn fill(state: &mut State) {
    loop {
        let Some(run) = state.wave.as_mut() else {
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
            sent: state.now,
            stage: Stage::Sent,
        });
        drive::queue(state, command, Vec::new());
    }
}

/// The executor's answer to a migration: one of the wave's rolls on, or the wave stops.
pub fn on_migrated(state: &mut State, namespace: &str, result: Result<(), WriteError>) {
    let Some(run) = state.wave.as_mut() else {
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
            format!("migrating {namespace} failed: {}", e.on_screen()),
            None,
        ),
    }
}

/// The triggers that judge `namespace`: its own and the new istiod's.
pub fn verdict(state: &State, namespace: &str, to: &str) -> Verdict {
    let Some(reading) = state.metrics.back() else {
        return Verdict::Unknown("no metrics yet".into());
    };
    if reading.is_down() {
        let why = reading.errors.first().map_or("", String::as_str);
        return Verdict::Unknown(format!("metrics unavailable: {why}"));
    }
    let relevant: Vec<&Finding> = state
        .findings
        .iter()
        .filter(|f| match &f.scope {
            Scope::Namespace(ns) => ns == namespace,
            Scope::ControlPlane(rev) => rev == to,
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
                        && matches!(g.kind, GateKind::NoNacks | GateKind::NoSkew)
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
pub fn step(state: &mut State) {
    if state.mode != Mode::Driver && state.wave.take().is_some() {
        state.ui.notice = Some("the wave stopped: this cockpit no longer drives".into());
    }
    let Some(run) = state.wave.as_ref() else {
        record_end_if_due(state);
        return;
    };
    if run.stopped.is_some() {
        return;
    }
    if let Some(why) = broken(state, run) {
        return stop(state, why, None);
    }
    let now = state.now;
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
                if let Some(run) = state.wave.as_mut() {
                    run.moving[i].stage = Stage::Baking { since: now };
                }
            }
            Next::Done(i) => finished.push(i),
            Next::Stop(why, unknown) => return stop(state, why, unknown),
        }
    }
    if let Some(run) = state.wave.as_mut() {
        for i in finished.into_iter().rev() {
            let m = run.moving.remove(i);
            run.done.push(m.namespace);
        }
    }
    fill(state);
    if state
        .wave
        .as_ref()
        .is_some_and(|r| r.pending.is_empty() && r.moving.is_empty())
    {
        complete(state);
    }
}

fn complete(state: &mut State) {
    let Some(run) = state.wave.take() else {
        return;
    };
    state.ui.notice = Some(format!(
        "{}: all {} namespaces on {}, baked and healthy",
        run.phase, run.total, run.to
    ));
    record_end(state, &run.phase);
}

/// Keeps in the upgrade record when the wave's last namespace finished, which its soak
/// counts from: once, by the driver.
fn record_end(state: &mut State, phase: &str) {
    if state.mode != Mode::Driver || state.wave_end_sent.as_deref() == Some(phase) {
        return;
    }
    let Some(mut record) = state.cluster.records.upgrade.clone() else {
        return;
    };
    if record.finished.contains_key(phase) {
        return;
    }
    record.finished.insert(phase.to_string(), state.now);
    let mut command = Command::new(
        Action::WaveNote {
            phase: phase.to_string(),
            note: "its last namespace finished: the soak counts from now".into(),
        },
        BTreeMap::new(),
    );
    command.record = Some(record);
    state.commands.push(command);
    state.wave_end_sent = Some(phase.to_string());
}

/// A wave finished without `M` (namespace by namespace with `m`): its end is recorded too.
fn record_end_if_due(state: &mut State) {
    if state.mode != Mode::Driver {
        return;
    }
    let Some(plan) = state.plan.as_ref() else {
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
        && state.wave_end_sent.as_deref() != Some(name.as_str());
    // The gates are only evaluated when the end is still to be recorded.
    let all_on = due
        && super::plan_flow::current_gates(state).is_some_and(|(_, gates)| {
            gates
                .first()
                .is_some_and(|g| g.kind == GateKind::NamespacesOn && g.status == GateStatus::Pass)
        });
    if all_on {
        record_end(state, &name);
    }
}

/// Stops the wave: the reason on screen and in the journal. Namespaces already moving keep
/// going in the cluster; none is sent after this.
fn stop(state: &mut State, why: String, unknown: Option<String>) {
    let Some(run) = state.wave.as_mut() else {
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
    state.commands.push(Command::new(
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
            state.dialog = Some(Dialog::ContinueWave {
                title: "Wave paused: triggers unknown".into(),
                lines,
                expected: phase,
                typed: String::new(),
            });
        }
        None => {
            lines.push(format!(
                "M resumes where it stopped: namespaces already on {to} are skipped."
            ));
            state.dialog = Some(Dialog::Info {
                title: "Wave stopped".into(),
                lines,
            });
        }
    }
}

/// The phase's name typed after unknown triggers: the namespace counts as done, the wave
/// goes on, and the journal keeps who decided.
pub fn go_on(state: &mut State) {
    let Some(run) = state.wave.as_mut() else {
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
    state.commands.push(Command::new(
        Action::WaveNote {
            phase,
            note: format!("continued past unknown triggers of {ns}, by typed confirmation"),
        },
        BTreeMap::new(),
    ));
    step(state);
}

/// Reopens the question after unknown triggers (`M` while the wave waits for it).
pub fn ask_again(state: &mut State) -> bool {
    let Some(stop) = state.wave.as_ref().and_then(|r| r.stopped.as_ref()) else {
        return false;
    };
    let Some(ns) = stop.unknown.clone() else {
        return false;
    };
    let why = stop.why.clone();
    let phase = state
        .wave
        .as_ref()
        .map(|r| r.phase.clone())
        .unwrap_or_default();
    state.dialog = Some(Dialog::ContinueWave {
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
mod tests {
    use chrono::Duration as Span;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::app::event::{Event, Watch, WriteError};
    use crate::app::state::Pane;
    use crate::app::update::update;
    use crate::fixture::{self, Cluster};
    use crate::mesh::pod::Owner;
    use crate::mesh::records::UpgradeRecord;
    use crate::metrics::maths::UnknownReason;
    use crate::metrics::reading::Reading;
    use crate::plan::model::{NamespaceSelector, PacingOverride, Wave};
    use crate::plan::triggers::Metric;

    const PHASE: &str = "wave 1: canary";

    #[test]
    fn the_bake_left_is_written_to_the_second() {
        let now = fixture::now();
        let mut run = WaveRun::new(
            "wave 1: staging".into(),
            "1-25-0".into(),
            Pacing::default(),
            Vec::new(),
        );
        run.total = 2;
        run.moving.push(Moving {
            namespace: "staging-api".into(),
            sent: now - Span::seconds(90),
            stage: Stage::Baking {
                since: now - Span::seconds(20),
            },
        });
        assert_eq!(
            run.describe(now),
            "wave 0/2 done · staging-api baking, 1m40s left"
        );
    }

    fn rows(_: &State, _: Pane) -> usize {
        10
    }

    fn press(s: &mut State, code: KeyCode) {
        update(s, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), rows);
    }

    fn typed(s: &mut State, text: &str) {
        for c in text.chars() {
            press(s, KeyCode::Char(c));
        }
    }

    /// Two namespaces in one wave (`a-api`, `b-web`, two pods each on 1-24-0) and `other`
    /// outside it; the wave bakes 1m and times out after 5m; its record says it started.
    fn cluster(concurrency: usize) -> State {
        let mut c = Cluster::new();
        c.revision("1-24-0")
            .revision("1-25-0")
            .tag("default", "1-24-0");
        for ns in ["a-api", "b-web", "other"] {
            c.namespace(ns, &[("istio-injection", "enabled")]);
            for i in 1..=2 {
                c.pod(ns, &format!("{ns}-old-{i}"), "1-24-0", "1.24.0", true);
            }
        }
        let mut s = c.state.clone();
        let mut plan = crate::plan::derive(&s.cluster).expect("two revisions");
        plan.waves = vec![Wave {
            name: "canary".into(),
            selector: NamespaceSelector::Names(vec!["a-api".into(), "b-web".into()]),
            soak: std::time::Duration::from_secs(600),
            pacing: PacingOverride {
                concurrency: Some(concurrency),
                bake: Some(std::time::Duration::from_secs(60)),
                timeout: Some(std::time::Duration::from_secs(300)),
            },
        }];
        s.plan = Some(plan);
        s.cluster.records.upgrade = Some(UpgradeRecord {
            from: "1-24-0".into(),
            to: "1-25-0".into(),
            phase: PHASE.into(),
            started: [(PHASE.to_string(), s.now)].into(),
            ..Default::default()
        });
        s.metrics.push_back(Reading {
            at: s.now,
            source: "test".into(),
            control_plane: Default::default(),
            data_plane: Default::default(),
            errors: Vec::new(),
        });
        s
    }

    fn migrations(s: &State) -> Vec<String> {
        s.commands
            .iter()
            .filter_map(namespace_of)
            .map(str::to_string)
            .collect()
    }

    fn notes(s: &State) -> Vec<String> {
        s.commands
            .iter()
            .filter_map(|c| match &c.action {
                Action::WaveNote { note, .. } => Some(note.clone()),
                _ => None,
            })
            .collect()
    }

    fn confirm_wave(s: &mut State) {
        press(s, KeyCode::Char('M'));
        assert!(
            matches!(&s.dialog, Some(Dialog::ConfirmWave { title, .. }) if title == "Migrate wave 1: canary ?"),
            "{:?} {:?}",
            s.dialog,
            s.ui.notice
        );
        press(s, KeyCode::Char('y'));
    }

    /// The executor patched `ns` (its labels select 1-25-0); its pods are then replaced by
    /// ready ones on 1-25-0.
    fn patched_and_moved(s: &mut State, ns: &str) {
        let action = Action::Migrate {
            namespace: ns.into(),
            to: "1-25-0".into(),
        };
        drive::on_result(s, action, Ok("done".into()));
        let labelled = crate::mesh::resources::NamespaceInfo {
            name: ns.into(),
            labels: [("istio.io/rev".to_string(), "1-25-0".to_string())].into(),
            annotations: Default::default(),
            created: None,
        };
        update(s, Event::Namespaces(Watch::Apply(labelled)), rows);
        for i in 1..=2 {
            let old = fixture::pod(ns, &format!("{ns}-old-{i}"), None, None, true);
            update(s, Event::Pods(Watch::Delete(old)), rows);
            let new = fixture::pod(
                ns,
                &format!("{ns}-new-{i}"),
                Some("1-25-0"),
                Some("1.25.0"),
                true,
            );
            update(s, Event::Pods(Watch::Apply(new)), rows);
        }
    }

    fn finding(scope: Scope, state: TriggerState) -> Finding {
        Finding {
            scope,
            metric: Metric::Latency,
            state,
            value: "120 ms (+20% over 100 ms)".into(),
            limit: "+50% for 2m".into(),
            unknown: None,
            held: None,
        }
    }

    fn healthy(s: &mut State, ns: &str) {
        s.findings = vec![
            finding(
                Scope::ControlPlane("1-25-0".into()),
                TriggerState::Healthy { value: 0.0 },
            ),
            finding(
                Scope::Namespace(ns.into()),
                TriggerState::Healthy { value: 0.2 },
            ),
        ];
    }

    /// The fake clock moves on by `seconds` and the wave takes its step.
    fn after(s: &mut State, seconds: i64) {
        s.now += Span::seconds(seconds);
        step(s);
    }

    #[test]
    fn a_cancelled_wave_never_runs() {
        let mut s = cluster(1);
        press(&mut s, KeyCode::Char('M'));
        assert!(matches!(s.dialog, Some(Dialog::ConfirmWave { .. })));
        press(&mut s, KeyCode::Char('n'));
        assert!(s.commands.is_empty() && s.wave.is_none());
        // Another namespace, alone: confirmed, sent, done. Nothing of the wave follows.
        s.ui.selected_namespace = Some("other".into());
        press(&mut s, KeyCode::Char('m'));
        press(&mut s, KeyCode::Char('y'));
        assert_eq!(migrations(&s), ["other"]);
        s.commands.clear();
        patched_and_moved(&mut s, "other");
        after(&mut s, 3600);
        assert!(migrations(&s).is_empty(), "{:?}", s.commands);
    }

    #[test]
    fn the_next_namespace_waits_for_its_pods_and_the_bake() {
        let mut s = cluster(1);
        confirm_wave(&mut s);
        assert_eq!(migrations(&s), ["a-api"], "one at a time");
        s.commands.clear();
        healthy(&mut s, "a-api");
        // Patched, pods not there yet: nothing more goes.
        after(&mut s, 20);
        drive::on_result(
            &mut s,
            Action::Migrate {
                namespace: "a-api".into(),
                to: "1-25-0".into(),
            },
            Ok("done".into()),
        );
        after(&mut s, 20);
        assert!(migrations(&s).is_empty());
        patched_and_moved(&mut s, "a-api");
        after(&mut s, 1);
        let run = s.wave.clone().unwrap();
        assert!(matches!(run.moving[0].stage, Stage::Baking { .. }));
        after(&mut s, 20);
        assert_eq!(
            s.wave.as_ref().unwrap().describe(s.now),
            "wave 0/2 done · a-api baking, 40s left"
        );
        after(&mut s, 39);
        assert!(migrations(&s).is_empty(), "the bake is not over");
        after(&mut s, 1);
        assert_eq!(migrations(&s), ["b-web"]);
        assert_eq!(
            s.wave.as_ref().unwrap().describe(s.now),
            "wave 1/2 done · b-web moving"
        );
        s.commands.clear();
        patched_and_moved(&mut s, "b-web");
        healthy(&mut s, "b-web");
        after(&mut s, 1);
        after(&mut s, 60);
        assert!(s.wave.is_none(), "the wave is complete");
        // Its end goes to the upgrade record, once: the soak counts from there.
        let end = s
            .commands
            .iter()
            .find_map(|c| c.record.clone())
            .expect("the wave's end recorded");
        assert_eq!(end.finished.get(PHASE), Some(&s.now));
        s.commands.clear();
        after(&mut s, 1);
        assert!(s.commands.is_empty(), "{:?}", s.commands);
    }

    #[test]
    fn a_wave_finished_namespace_by_namespace_records_its_end_too() {
        let mut s = cluster(1);
        patched_and_moved(&mut s, "a-api");
        after(&mut s, 1);
        assert!(s.commands.is_empty(), "b-web is not there yet");
        patched_and_moved(&mut s, "b-web");
        after(&mut s, 1);
        let record = s.commands[0].record.clone().expect("the end recorded");
        assert_eq!(record.finished.get(PHASE), Some(&s.now));
        after(&mut s, 1);
        assert_eq!(s.commands.len(), 1, "once");
        // A follower records nothing: the driver does.
        let mut follower = cluster(1);
        follower.mode = Mode::Follower("alice@laptop".into());
        patched_and_moved(&mut follower, "a-api");
        patched_and_moved(&mut follower, "b-web");
        after(&mut follower, 1);
        assert!(follower.commands.is_empty());
    }

    #[test]
    fn a_concurrency_of_two_moves_two_at_once() {
        let mut s = cluster(2);
        confirm_wave(&mut s);
        assert_eq!(migrations(&s), ["a-api", "b-web"]);
    }

    #[test]
    fn a_breach_while_baking_stops_the_wave_and_the_next_is_never_sent() {
        let mut s = cluster(1);
        confirm_wave(&mut s);
        s.commands.clear();
        patched_and_moved(&mut s, "a-api");
        after(&mut s, 1);
        let mut breach = finding(
            Scope::Namespace("a-api".into()),
            TriggerState::Breached {
                since: 0.0,
                value: 3.0,
            },
        );
        breach.value = "400 ms (+300% over 100 ms)".into();
        s.findings = vec![breach];
        after(&mut s, 10);
        let Some(Dialog::Info { title, lines }) = &s.dialog else {
            panic!("{:?}", s.dialog)
        };
        assert_eq!(title, "Wave stopped");
        assert!(
            lines[0].starts_with("breached: a-api: p99 latency 400 ms"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "not started: b-web");
        assert!(notes(&s)[0].starts_with("stopped: breached: a-api"));
        assert!(
            s.wave
                .as_ref()
                .unwrap()
                .describe(s.now)
                .contains("STOPPED: breached")
        );
        after(&mut s, 3600);
        assert!(migrations(&s).is_empty());
        // M is refused while the breach lasts.
        s.dialog = None;
        press(&mut s, KeyCode::Char('M'));
        assert!(s.dialog.is_none());
        assert!(s.ui.notice.as_deref().unwrap().contains("revert with X"));
        // Once it clears, M resumes where it stopped: a-api is on 1-25-0, b-web is next.
        healthy(&mut s, "a-api");
        press(&mut s, KeyCode::Char('M'));
        let Some(Dialog::ConfirmWave { run, .. }) = &s.dialog else {
            panic!("{:?}", s.ui.notice)
        };
        let pending: Vec<&str> = run.pending.iter().filter_map(namespace_of).collect();
        assert_eq!(pending, ["b-web"]);
    }

    #[test]
    fn pods_not_there_in_time_stop_the_wave_and_name_what_needs_a_manual_restart() {
        let mut s = cluster(1);
        let job = crate::mesh::pod::PodInfo {
            owner: Owner::Other("Job".into()),
            ..fixture::pod("a-api", "backfill-x1", Some("1-24-0"), Some("1.24.0"), true)
        };
        update(&mut s, Event::Pods(Watch::Apply(job)), rows);
        press(&mut s, KeyCode::Char('M'));
        let Some(Dialog::ConfirmWave { lines, .. }) = &s.dialog else {
            panic!()
        };
        assert!(
            lines.contains(
                &"  a-api: a restart does not move backfill-x1 (Job): restart by hand".to_string()
            ),
            "{lines:?}"
        );
        press(&mut s, KeyCode::Char('y'));
        s.commands.clear();
        patched_and_moved(&mut s, "a-api");
        after(&mut s, 299);
        assert!(s.dialog.is_none());
        after(&mut s, 1);
        let Some(Dialog::Info { lines, .. }) = &s.dialog else {
            panic!("{:?}", s.dialog)
        };
        assert_eq!(
            lines[0],
            "timeout: a-api has 2 of 3 pods on 1-25-0 and ready after 5m; \
             a restart does not move backfill-x1 (Job): restart by hand"
        );
        assert!(migrations(&s).is_empty());
        // The wave's gate names it too.
        let (_, gates) = crate::app::plan_flow::current_gates(&s).unwrap();
        assert_eq!(
            gates[0].to_string(),
            "namespaces on 1-25-0: a-api: 2 of 3 pods ready on 1-25-0, \
             restart by hand backfill-x1 (Job); b-web: labels select 1-24-0, 0 of 2 pods ready on 1-25-0"
        );
    }

    #[test]
    fn triggers_unknown_after_the_bake_need_the_phase_name_to_go_on() {
        let mut s = cluster(1);
        confirm_wave(&mut s);
        s.commands.clear();
        patched_and_moved(&mut s, "a-api");
        s.findings = vec![finding(
            Scope::Namespace("a-api".into()),
            TriggerState::Unknown(UnknownReason::NoData),
        )];
        after(&mut s, 1);
        after(&mut s, 60);
        let Some(Dialog::ContinueWave {
            lines, expected, ..
        }) = s.dialog.clone()
        else {
            panic!("{:?}", s.dialog)
        };
        assert_eq!(expected, PHASE);
        assert!(
            lines[0].starts_with("a-api: rollback triggers still unknown after its 1m bake"),
            "{lines:?}"
        );
        assert!(notes(&s)[0].starts_with("paused: a-api"));
        assert!(migrations(&s).is_empty());
        // Esc leaves it stopped; M asks again; a wrong name does nothing.
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Char('M'));
        assert!(matches!(s.dialog, Some(Dialog::ContinueWave { .. })));
        typed(&mut s, "wave 1");
        press(&mut s, KeyCode::Enter);
        assert!(migrations(&s).is_empty());
        typed(&mut s, ": canary");
        press(&mut s, KeyCode::Enter);
        assert_eq!(migrations(&s), ["b-web"]);
        assert!(
            notes(&s)
                .iter()
                .any(|n| n.starts_with("continued past unknown triggers of a-api"))
        );
    }

    #[test]
    fn a_failed_migration_stops_the_wave() {
        let mut s = cluster(1);
        confirm_wave(&mut s);
        s.commands.clear();
        let action = Action::Migrate {
            namespace: "a-api".into(),
            to: "1-25-0".into(),
        };
        drive::on_result(&mut s, action, Err(WriteError::Failed("boom".into())));
        let Some(Dialog::Info { title, lines }) = &s.dialog else {
            panic!()
        };
        assert_eq!(title, "Wave stopped");
        assert!(lines[0].starts_with("migrating a-api failed"), "{lines:?}");
        after(&mut s, 3600);
        assert!(migrations(&s).is_empty());
    }

    #[test]
    fn a_nack_from_the_new_revision_mid_wave_stops_it() {
        let mut s = cluster(1);
        confirm_wave(&mut s);
        s.commands.clear();
        let at = (s.now + Span::seconds(5)).format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let line = format!(
            "{at}\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.0.0.9~a-api-new-1.a-api~a-api.svc.cluster.local-1 Internal:bad"
        );
        update(
            &mut s,
            Event::IstiodLog(crate::app::event::IstiodLogLine {
                pod: "istiod-1-25-0-abc".into(),
                revision: "1-25-0".into(),
                line,
            }),
            rows,
        );
        after(&mut s, 10);
        assert!(
            matches!(&s.dialog, Some(Dialog::Info { title, .. }) if title == "Wave stopped"),
            "{:?}",
            s.dialog
        );
        assert!(
            s.wave
                .as_ref()
                .unwrap()
                .stopped
                .as_ref()
                .unwrap()
                .why
                .starts_with("no NACKs")
        );
    }
}
