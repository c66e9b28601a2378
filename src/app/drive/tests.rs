use chrono::Utc;
use crossterm::event::KeyCode;

use super::*;
use crate::app::activity::progress;
use crate::app::event::{Event, Watch, WriteError};
use crate::app::state::Pane;
use crate::app::test_loop::TestLoop;
use crate::app::update::update;
use crate::mesh::journal::{JournalAction, JournalResult};
use crate::mesh::resources::{NamespaceInfo, WebhookInfo};

fn rows(_: &State, _: Pane) -> usize {
    10
}

fn key(s: &mut TestLoop, c: char) {
    s.press(KeyCode::Char(c), rows);
}

fn state() -> TestLoop {
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
    TestLoop::new(s)
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
fn moved_tag(s: &mut TestLoop, tag: &str, revision: &str, previous: &str) {
    let hook = WebhookInfo {
        name: format!("tag-{tag}"),
        revision: revision.into(),
        tag: Some(tag.into()),
        previous_revision: Some(previous.into()),
    };
    s.update(Event::Webhooks(Watch::Apply(hook)), rows);
}

/// The open dialog's title, or what is on screen instead.
fn dialog_title(s: &State) -> String {
    match &s.drive.dialog {
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
    s.update(Event::Pods(Watch::Apply(istiod("1-25-0", false))), rows);
    for k in ['m', 't'] {
        key(&mut s, k);
        let Some(Dialog::Info { title, lines }) = s.drive.dialog.clone() else {
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
        assert!(s.drive.dialog.is_none() && s.effects.commands.is_empty());
    }
    s.update(Event::Pods(Watch::Apply(istiod("1-25-0", true))), rows);
    key(&mut s, 'm');
    assert_eq!(dialog_title(&s), "Migrate payments to 1-25-0?");
}

#[test]
fn a_tag_moved_during_a_wave_needs_the_phase_name_and_is_journalled_as_an_override() {
    let mut s = state();
    s.drive.plan = crate::plan::derive(&s.cluster);
    key(&mut s, 't');
    let Some(Dialog::TypeToConfirm {
        title, expected, ..
    }) = s.drive.dialog.clone()
    else {
        panic!("{}", dialog_title(&s));
    };
    assert_eq!(
        title,
        "Move tag stable from 1-24-0 to 1-25-0 during wave 1: untiered?"
    );
    assert_eq!(expected, "wave 1: untiered");
    key(&mut s, 'y');
    s.press(KeyCode::Enter, rows);
    assert!(s.effects.commands.is_empty(), "`y` is not the phase's name");
    s.drive.dialog = None;
    key(&mut s, 't');
    for c in "wave 1: untiered".chars() {
        key(&mut s, c);
    }
    s.press(KeyCode::Enter, rows);
    assert_eq!(s.effects.commands.len(), 1);
    assert!(matches!(
        s.effects.commands[0].action,
        Action::MoveTag { .. }
    ));
    assert_eq!(
        s.effects.commands[0].reason.as_deref(),
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
        s.effects.commands[0].action,
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
    let Some(Dialog::ChooseTag { moves, .. }) = s.drive.dialog.clone() else {
        panic!("{}", dialog_title(&s));
    };
    let second = moves[1].0.clone();
    key(&mut s, '7');
    assert!(matches!(s.drive.dialog, Some(Dialog::ChooseTag { .. })));
    key(&mut s, '2');
    assert_eq!(
        dialog_title(&s),
        format!("Move tag {second} back from 1-25-0 to 1-24-0?")
    );
    key(&mut s, 'n');

    // The journal names the last move.
    let at = s.session.now;
    s.cluster
        .records
        .journal
        .push(crate::mesh::records::JournalEntry {
            at,
            who: "someone".into(),
            action: JournalAction::MoveTag,
            target: "tag/default".into(),
            change: serde_json::json!({}),
            result: JournalResult::Ok,
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
    }) = s.drive.dialog.clone()
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
    assert!(s.drive.dialog.is_some() && s.effects.commands.is_empty());
    key(&mut s, 'y');
    assert!(s.drive.dialog.is_none());
    assert_eq!(s.effects.commands.len(), 1);
    assert_eq!(
        s.drive.activity.get("payments").map(|a| a.target.as_str()),
        Some("1-25-0")
    );
}

#[test]
fn n_cancels_and_nothing_is_queued() {
    let mut s = state();
    key(&mut s, 'm');
    key(&mut s, 'n');
    assert!(s.drive.dialog.is_none() && s.effects.commands.is_empty());
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
    s.session.mode = Mode::Follower("alice@laptop".into());
    key(&mut s, 'm');
    assert!(s.drive.dialog.is_none());
    assert!(
        s.ui.notice
            .as_deref()
            .unwrap()
            .contains("alice@laptop drives")
    );
    key(&mut s, 'D');
    assert!(
        matches!(s.drive.dialog, Some(Dialog::Confirm { ref command, .. }) if command.action == Action::TakeOver)
    );
}

#[test]
fn revert_needs_the_record_and_tags_move_stable_first() {
    let mut s = state();
    key(&mut s, 'r');
    assert!(s.drive.dialog.is_none());
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
    }) = s.drive.dialog.clone()
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
    assert_eq!(s.effects.commands.len(), 2);
    assert_eq!(
        s.effects.commands[1].action,
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
        s.update(Event::Pods(Watch::Apply(p)), rows);
    }
    s.drive
        .activity
        .insert("payments".into(), Activity::towards("1-25-0", false));
    assert_eq!(
        progress(&s),
        ["payments: 1/3 pods on 1-25-0 and ready (api 1/2, ledger 0/1)"]
    );
    s.update(
        Event::Pods(Watch::Apply(pod("api-2", "api", "1-25-0", true))),
        rows,
    );
    s.update(
        Event::Pods(Watch::Apply(pod("ledger-1", "ledger", "1-25-0", true))),
        rows,
    );
    assert!(
        s.drive.activity.is_empty(),
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
        &mut s.state,
        &mut s.effects,
        action,
        Err(WriteError::Conflict("labels changed".into())),
    );
    let Some(Dialog::Confirm { lines, .. }) = &s.drive.dialog else {
        panic!("no new preview")
    };
    assert!(lines[0].starts_with("CHANGED SINCE THE PREVIEW"));
    on_result(
        &mut s.state,
        &mut s.effects,
        Action::Restart {
            namespace: "x".into(),
        },
        Err(WriteError::Forbidden("patch deployments".into())),
    );
    let Some(Dialog::Info { lines, .. }) = &s.drive.dialog else {
        panic!()
    };
    assert!(lines[0].contains("nothing was changed"));
}
