use std::collections::BTreeMap;

use chrono::Utc;
use crossterm::event::KeyCode;

use super::*;
use crate::app::event::IstiodLogLine;
use crate::app::state::Mode;
use crate::app::test_loop::TestLoop;
use crate::mesh::resources::NamespaceInfo;

#[test]
fn losing_the_lease_drops_every_queued_write_and_open_confirmation() {
    use crate::app::actions::Action;
    use crate::app::drive::{Command, Dialog};
    let restart = |ns: &str| {
        Command::new(
            Action::Restart {
                namespace: ns.into(),
            },
            BTreeMap::new(),
        )
    };
    for (status, shown) in [
        (LeaseStatus::HeldBy("bob@jump".into()), "bob@jump drives"),
        (LeaseStatus::Expired, "the driver lease expired"),
    ] {
        let mut s = TestLoop::new(State::new("ctx", Mode::Driver, 10, Utc::now()));
        s.effects.send(restart("a"));
        s.drive.wave = Some(crate::app::wave::WaveRun::new(
            "wave 1: staging".into(),
            "1-25-0".into(),
            Default::default(),
            vec![restart("b")],
        ));
        s.drive.dialog = Some(Dialog::Confirm {
            title: "Migrate c?".into(),
            lines: Vec::new(),
            command: restart("c"),
            restart_with: Vec::new(),
        });
        s.update(Event::Lease(status), rows);
        assert!(s.effects.commands.is_empty() && s.drive.wave.is_none());
        let Some(Dialog::Info { lines, .. }) = &s.drive.dialog else {
            panic!("the confirmation stayed open: {:?}", s.drive.dialog)
        };
        assert!(lines[0].starts_with(shown), "{lines:?}");
        assert!(matches!(s.session.mode, Mode::Follower(_)));
        // `y` now has nothing to confirm.
        key(&mut s, KeyCode::Char('y'));
        assert!(s.effects.commands.is_empty());
    }
    // Taking it back makes the cockpit drive again; read-only stays read-only.
    let mut s = TestLoop::new(State::new(
        "ctx",
        Mode::Follower("bob@jump".into()),
        10,
        Utc::now(),
    ));
    s.drive.dialog = Some(Dialog::Info {
        title: crate::app::drive::LEASE_LOST.into(),
        lines: Vec::new(),
    });
    s.update(Event::Lease(LeaseStatus::Held), rows);
    assert_eq!(s.session.mode, Mode::Driver);
    assert!(
        s.drive.dialog.is_none(),
        "the 'no longer driving' dialog is out of date"
    );
    assert!(s.ui.notice.as_deref().unwrap().contains("drives again"));
    let mut r = TestLoop::new(State::new(
        "ctx",
        Mode::ReadOnly("--read-only".into()),
        10,
        Utc::now(),
    ));
    r.update(Event::Lease(LeaseStatus::Held), rows);
    assert!(matches!(r.session.mode, Mode::ReadOnly(_)));
}

fn rows(_: &State, pane: Pane) -> usize {
    if pane == Pane::Namespaces { 5 } else { 3 }
}

fn key(s: &mut TestLoop, code: KeyCode) {
    s.press(code, rows);
}

fn with_namespaces(n: usize) -> TestLoop {
    let mut s = TestLoop::new(State::new("ctx", Mode::Driver, 10, Utc::now()));
    s.update(Event::Namespaces(Watch::Init), rows);
    for i in 0..n {
        let ns = NamespaceInfo {
            name: format!("ns-{i:02}"),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            created: None,
        };
        s.update(Event::Namespaces(Watch::InitApply(ns)), rows);
    }
    s.update(Event::Namespaces(Watch::InitDone), rows);
    s
}

#[test]
fn the_selection_stays_in_view_and_survives_updates() {
    let mut s = with_namespaces(20);
    for _ in 0..12 {
        key(&mut s, KeyCode::Down);
    }
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-12"));
    assert!(s.ui.namespaces.offset <= 12 && 12 < s.ui.namespaces.offset + 5);
    // A namespace added before it keeps the same namespace selected.
    let early = NamespaceInfo {
        name: "aaa".into(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        created: None,
    };
    s.update(Event::Namespaces(Watch::Apply(early)), rows);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-12"));
    assert_eq!(s.ui.namespaces.selected, 13);
    key(&mut s, KeyCode::End);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-19"));
    key(&mut s, KeyCode::Home);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("aaa"));
}

#[test]
fn filters_keep_on_enter_and_clear_on_escape() {
    let mut s = with_namespaces(20);
    key(&mut s, KeyCode::Char('/'));
    for c in "ns-1".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    // While typing, q is text, not quit.
    key(&mut s, KeyCode::Char('q'));
    assert!(!s.effects.quit);
    key(&mut s, KeyCode::Backspace);
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.ui.filter(Pane::Namespaces), "ns-1");
    assert_eq!(crate::app::view::visible_namespaces(&s).len(), 10);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("ns-10"));
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.ui.filter(Pane::Namespaces), "");
    assert_eq!(crate::app::view::visible_namespaces(&s).len(), 20);
    key(&mut s, KeyCode::Char('q'));
    assert!(s.effects.quit);
}

#[test]
fn moving_in_the_log_pauses_following_and_f_resumes() {
    let mut s = with_namespaces(1);
    for i in 0..6 {
        let line = format!("2026-11-24T21:30:0{i}.000000Z\tinfo\tads\tline {i}");
        s.update(
            Event::IstiodLog(IstiodLogLine {
                pod: "istiod-x".into(),
                revision: "1-25-0".into(),
                line,
            }),
            rows,
        );
    }
    s.ui.focus = Pane::Logs;
    key(&mut s, KeyCode::Up);
    assert!(!s.ui.follow);
    assert_eq!(s.ui.log_cursor, Some(4));
    key(&mut s, KeyCode::Char('f'));
    assert!(s.ui.follow);
    assert_eq!(s.ui.log_cursor, None);
    key(&mut s, KeyCode::Char('f'));
    assert!(!s.ui.follow);
    assert_eq!(s.ui.log_cursor, Some(5));
}

#[test]
fn action_keys_say_why_they_do_nothing() {
    let mut s = with_namespaces(1);
    s.session.mode = Mode::ReadOnly("your user may not patch namespaces".into());
    key(&mut s, KeyCode::Char('m'));
    assert!(
        s.ui.notice
            .as_deref()
            .unwrap()
            .contains("may not patch namespaces")
    );
    key(&mut s, KeyCode::Down);
    assert_eq!(s.ui.notice, None);
}

#[test]
fn stream_health_follows_connections_and_failures() {
    let mut s = with_namespaces(1);
    s.update(
        Event::Stream(Stream::Pods, StreamStatus::Retrying("refused".into())),
        rows,
    );
    assert!(matches!(
        s.session.streams[&Stream::Pods].status,
        StreamStatus::Retrying(_)
    ));
    s.update(Event::Stream(Stream::Pods, StreamStatus::Connected), rows);
    assert_eq!(
        s.session.streams[&Stream::Pods].status,
        StreamStatus::Connected
    );
    assert!(s.session.streams[&Stream::Pods].last_event.is_some());
}
