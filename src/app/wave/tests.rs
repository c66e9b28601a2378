use chrono::Duration as Span;
use crossterm::event::KeyCode;

use super::*;
use crate::app::event::{Event, Watch, WriteError};
use crate::app::state::Pane;
use crate::app::test_loop::TestLoop;
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

fn press(s: &mut TestLoop, code: KeyCode) {
    s.press(code, rows);
}

fn typed(s: &mut TestLoop, text: &str) {
    for c in text.chars() {
        press(s, KeyCode::Char(c));
    }
}

/// Two namespaces in one wave (`a-api`, `b-web`, two pods each on 1-24-0) and `other`
/// outside it; the wave bakes 1m and times out after 5m; its record says it started.
fn cluster(concurrency: usize) -> TestLoop {
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
    s.drive.plan = Some(plan);
    s.cluster.records.upgrade = Some(UpgradeRecord {
        from: "1-24-0".into(),
        to: "1-25-0".into(),
        phase: PHASE.into(),
        started: [(PHASE.to_string(), s.session.now)].into(),
        ..Default::default()
    });
    s.metrics.readings.push_back(Reading {
        at: s.session.now,
        source: "test".into(),
        control_plane: Default::default(),
        data_plane: Default::default(),
        cross_cluster: None,
        errors: Vec::new(),
    });
    TestLoop::new(s)
}

fn migrations(s: &TestLoop) -> Vec<String> {
    s.effects
        .commands
        .iter()
        .filter_map(namespace_of)
        .map(str::to_string)
        .collect()
}

fn notes(s: &TestLoop) -> Vec<String> {
    s.effects
        .commands
        .iter()
        .filter_map(|c| match &c.action {
            Action::WaveNote { note, .. } => Some(note.clone()),
            _ => None,
        })
        .collect()
}

fn confirm_wave(s: &mut TestLoop) {
    press(s, KeyCode::Char('M'));
    assert!(
        matches!(&s.drive.dialog, Some(Dialog::ConfirmWave { title, .. }) if title == "Migrate wave 1: canary ?"),
        "{:?} {:?}",
        s.drive.dialog,
        s.ui.notice
    );
    press(s, KeyCode::Char('y'));
}

/// The executor patched `ns` (its labels select 1-25-0); its pods are then replaced by
/// ready ones on 1-25-0.
fn patched_and_moved(s: &mut TestLoop, ns: &str) {
    let action = Action::Migrate {
        namespace: ns.into(),
        to: "1-25-0".into(),
    };
    drive::on_result(&mut s.state, &mut s.effects, action, Ok("done".into()));
    let labelled = crate::mesh::resources::NamespaceInfo {
        name: ns.into(),
        labels: [("istio.io/rev".to_string(), "1-25-0".to_string())].into(),
        annotations: Default::default(),
        created: None,
    };
    s.update(Event::Namespaces(Watch::Apply(labelled)), rows);
    for i in 1..=2 {
        let old = fixture::pod(ns, &format!("{ns}-old-{i}"), None, None, true);
        s.update(Event::Pods(Watch::Delete(old)), rows);
        let new = fixture::pod(
            ns,
            &format!("{ns}-new-{i}"),
            Some("1-25-0"),
            Some("1.25.0"),
            true,
        );
        s.update(Event::Pods(Watch::Apply(new)), rows);
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

fn healthy(s: &mut TestLoop, ns: &str) {
    s.metrics.findings = vec![
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
fn after(s: &mut TestLoop, seconds: i64) {
    s.session.now += Span::seconds(seconds);
    step(&mut s.state, &mut s.effects);
}

#[test]
fn a_cancelled_wave_never_runs() {
    let mut s = cluster(1);
    press(&mut s, KeyCode::Char('M'));
    assert!(matches!(s.drive.dialog, Some(Dialog::ConfirmWave { .. })));
    press(&mut s, KeyCode::Char('n'));
    assert!(s.effects.commands.is_empty() && s.drive.wave.is_none());
    // Another namespace, alone: confirmed, sent, done. Nothing of the wave follows.
    s.ui.selected_namespace = Some("other".into());
    press(&mut s, KeyCode::Char('m'));
    press(&mut s, KeyCode::Char('y'));
    assert_eq!(migrations(&s), ["other"]);
    s.effects.commands.clear();
    patched_and_moved(&mut s, "other");
    after(&mut s, 3600);
    assert!(migrations(&s).is_empty(), "{:?}", s.effects.commands);
}

#[test]
fn the_next_namespace_waits_for_its_pods_and_the_bake() {
    let mut s = cluster(1);
    confirm_wave(&mut s);
    assert_eq!(migrations(&s), ["a-api"], "one at a time");
    s.effects.commands.clear();
    healthy(&mut s, "a-api");
    // Patched, pods not there yet: nothing more goes.
    after(&mut s, 20);
    drive::on_result(
        &mut s.state,
        &mut s.effects,
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
    let run = s.drive.wave.clone().unwrap();
    assert!(matches!(run.moving[0].stage, Stage::Baking { .. }));
    after(&mut s, 20);
    assert_eq!(
        s.drive.wave.as_ref().unwrap().describe(s.session.now),
        "wave 0/2 done · a-api baking, 40s left"
    );
    after(&mut s, 39);
    assert!(migrations(&s).is_empty(), "the bake is not over");
    after(&mut s, 1);
    assert_eq!(migrations(&s), ["b-web"]);
    assert_eq!(
        s.drive.wave.as_ref().unwrap().describe(s.session.now),
        "wave 1/2 done · b-web moving"
    );
    s.effects.commands.clear();
    patched_and_moved(&mut s, "b-web");
    healthy(&mut s, "b-web");
    after(&mut s, 1);
    after(&mut s, 60);
    assert!(s.drive.wave.is_none(), "the wave is complete");
    // Its end goes to the upgrade record, once: the soak counts from there.
    let end = s
        .effects
        .commands
        .iter()
        .find_map(|c| c.record.clone())
        .expect("the wave's end recorded");
    assert_eq!(end.finished.get(PHASE), Some(&s.session.now));
    s.effects.commands.clear();
    after(&mut s, 1);
    assert!(s.effects.commands.is_empty(), "{:?}", s.effects.commands);
}

#[test]
fn a_wave_finished_namespace_by_namespace_records_its_end_too() {
    let mut s = cluster(1);
    patched_and_moved(&mut s, "a-api");
    after(&mut s, 1);
    assert!(s.effects.commands.is_empty(), "b-web is not there yet");
    patched_and_moved(&mut s, "b-web");
    after(&mut s, 1);
    let record = s.effects.commands[0]
        .record
        .clone()
        .expect("the end recorded");
    assert_eq!(record.finished.get(PHASE), Some(&s.session.now));
    after(&mut s, 1);
    assert_eq!(s.effects.commands.len(), 1, "once");
    // A follower records nothing: the driver does.
    let mut follower = cluster(1);
    follower.session.mode = Mode::Follower("alice@laptop".into());
    patched_and_moved(&mut follower, "a-api");
    patched_and_moved(&mut follower, "b-web");
    after(&mut follower, 1);
    assert!(follower.effects.commands.is_empty());
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
    s.effects.commands.clear();
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
    s.metrics.findings = vec![breach];
    after(&mut s, 10);
    let Some(Dialog::Info { title, lines }) = &s.drive.dialog else {
        panic!("{:?}", s.drive.dialog)
    };
    assert_eq!(title, "Wave stopped");
    assert!(
        lines[0].starts_with("breached: a-api: p99 latency 400 ms"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "not started: b-web");
    assert!(notes(&s)[0].starts_with("stopped: breached: a-api"));
    assert!(
        s.drive
            .wave
            .as_ref()
            .unwrap()
            .describe(s.session.now)
            .contains("STOPPED: breached")
    );
    after(&mut s, 3600);
    assert!(migrations(&s).is_empty());
    // M is refused while the breach lasts.
    s.drive.dialog = None;
    press(&mut s, KeyCode::Char('M'));
    assert!(s.drive.dialog.is_none());
    assert!(s.ui.notice.as_deref().unwrap().contains("revert with X"));
    // Once it clears, M resumes where it stopped: a-api is on 1-25-0, b-web is next.
    healthy(&mut s, "a-api");
    press(&mut s, KeyCode::Char('M'));
    let Some(Dialog::ConfirmWave { run, .. }) = &s.drive.dialog else {
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
    s.update(Event::Pods(Watch::Apply(job)), rows);
    press(&mut s, KeyCode::Char('M'));
    let Some(Dialog::ConfirmWave { lines, .. }) = &s.drive.dialog else {
        panic!()
    };
    assert!(
        lines.contains(
            &"  a-api: a restart does not move backfill-x1 (Job): restart by hand".to_string()
        ),
        "{lines:?}"
    );
    press(&mut s, KeyCode::Char('y'));
    s.effects.commands.clear();
    patched_and_moved(&mut s, "a-api");
    after(&mut s, 299);
    assert!(s.drive.dialog.is_none());
    after(&mut s, 1);
    let Some(Dialog::Info { lines, .. }) = &s.drive.dialog else {
        panic!("{:?}", s.drive.dialog)
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
    s.effects.commands.clear();
    patched_and_moved(&mut s, "a-api");
    s.metrics.findings = vec![finding(
        Scope::Namespace("a-api".into()),
        TriggerState::Unknown(UnknownReason::NoData),
    )];
    after(&mut s, 1);
    after(&mut s, 60);
    let Some(Dialog::ContinueWave {
        lines, expected, ..
    }) = s.drive.dialog.clone()
    else {
        panic!("{:?}", s.drive.dialog)
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
    assert!(matches!(s.drive.dialog, Some(Dialog::ContinueWave { .. })));
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
    s.effects.commands.clear();
    let action = Action::Migrate {
        namespace: "a-api".into(),
        to: "1-25-0".into(),
    };
    drive::on_result(
        &mut s.state,
        &mut s.effects,
        action,
        Err(WriteError::Failed("boom".into())),
    );
    let Some(Dialog::Info { title, lines }) = &s.drive.dialog else {
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
    s.effects.commands.clear();
    let at = (s.session.now + Span::seconds(5)).format("%Y-%m-%dT%H:%M:%S%.6fZ");
    let line = format!(
        "{at}\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.0.0.9~a-api-new-1.a-api~a-api.svc.cluster.local-1 Internal:bad"
    );
    s.update(
        Event::IstiodLog(crate::app::event::IstiodLogLine {
            pod: "istiod-1-25-0-abc".into(),
            revision: "1-25-0".into(),
            line,
        }),
        rows,
    );
    after(&mut s, 10);
    assert!(
        matches!(&s.drive.dialog, Some(Dialog::Info { title, .. }) if title == "Wave stopped"),
        "{:?}",
        s.drive.dialog
    );
    assert!(
        s.drive
            .wave
            .as_ref()
            .unwrap()
            .stopped
            .as_ref()
            .unwrap()
            .why
            .starts_with("no NACKs")
    );
}

#[test]
fn a_wave_stops_when_the_root_ca_starts_to_differ_in_the_fleet() {
    use crate::mesh::fleet::{FleetFacts, Problem, ProblemKind, Role};
    let mut s = cluster(1);
    s.fleet = Some(FleetFacts {
        cluster: "remote-1".into(),
        role: Role::Primary,
        primary: "remote-1".into(),
        ..FleetFacts::default()
    });
    confirm_wave(&mut s);
    assert_eq!(migrations(&s), ["a-api"]);
    s.effects.commands.clear();
    if let Some(fleet) = s.fleet.as_mut() {
        fleet.problems.push(Problem {
            kind: ProblemKind::RootCaMismatch,
            cluster: "remote-2".into(),
            text: "remote-2's root CA differs from the fleet's".into(),
        });
    }
    let later = s.session.now + Span::seconds(1);
    s.update(Event::Tick(later), rows);
    let stopped = s.drive.wave.as_ref().and_then(|r| r.stopped.as_ref());
    let why = stopped.map(|stop| stop.why.clone()).unwrap_or_default();
    assert!(why.contains("remote-2"), "{why:?}");
    assert!(migrations(&s).is_empty(), "nothing more is migrated");
}

#[test]
fn a_precheck_blocker_holds_the_first_wave_until_its_name_is_typed() {
    use crate::precheck::{CheckId, Finding as Check, Severity};
    let mut s = cluster(1);
    s.checks.findings = Some(vec![Check {
        severity: Severity::Blocker,
        check: CheckId::PdbBlocks,
        object: "PodDisruptionBudget/a-api/api".into(),
        message: "no pod may go".into(),
        fix: "allow one".into(),
    }]);
    press(&mut s, KeyCode::Char('M'));
    let Some(Dialog::OverrideWave { lines, .. }) = &s.drive.dialog else {
        panic!("{:?}", s.drive.dialog);
    };
    assert_eq!(
        lines[0],
        "✗ no precheck blockers: 1 blocker: pdb-blocks PodDisruptionBudget/a-api/api"
    );
    assert!(
        lines.iter().any(|l| l.contains("migrate 2 namespaces")),
        "{lines:?}"
    );
    let previewed_note = lines[2].trim().to_string();
    // `y` does not start it; a wrong name neither.
    press(&mut s, KeyCode::Char('y'));
    press(&mut s, KeyCode::Enter);
    assert!(migrations(&s).is_empty() && notes(&s).is_empty());
    press(&mut s, KeyCode::Backspace);
    typed(&mut s, PHASE);
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        notes(&s),
        [
            "started over the precheck gate: no precheck blockers: 1 blocker: pdb-blocks PodDisruptionBudget/a-api/api"
        ]
    );
    assert_eq!(notes(&s), [previewed_note], "journalled as previewed");
    assert_eq!(migrations(&s), ["a-api"]);
}

#[test]
fn without_blockers_the_first_wave_asks_only_y() {
    let mut s = cluster(1);
    s.checks.findings = Some(Vec::new());
    confirm_wave(&mut s);
    assert_eq!(migrations(&s), ["a-api"]);
    assert!(notes(&s).is_empty());
}
