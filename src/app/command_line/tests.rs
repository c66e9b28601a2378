use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::event::Event;
use crate::app::fleet::{Fleet, FleetEvent, Member};
use crate::app::state::{BottomPane, Mode, Overlay, Pane};
use crate::app::test_loop::TestLoop;
use crate::fixture;

const ROWS: Viewports = |_, _| 10;

fn cockpit() -> TestLoop {
    TestLoop::new(fixture::state(120, 40, ROWS))
}

/// Types `:` and the text, presses each of `then`.
fn command(t: &mut TestLoop, text: &str, then: &[KeyCode]) {
    t.press(KeyCode::Char(':'), ROWS);
    for c in text.chars() {
        t.press(KeyCode::Char(c), ROWS);
    }
    for key in then {
        t.press(*key, ROWS);
    }
}

fn run(t: &mut TestLoop, text: &str) {
    command(t, text, &[KeyCode::Enter]);
}

#[test]
fn colon_opens_the_line_and_letters_are_text_not_keys() {
    let mut t = cockpit();
    command(&mut t, "m", &[]);
    assert_eq!(
        t.ui.command_line.as_ref().map(|l| l.text.as_str()),
        Some("m")
    );
    assert!(t.drive.dialog.is_none(), "m opened a preview while typed");
    t.press(KeyCode::Backspace, ROWS);
    assert_eq!(t.ui.command_line, Some(CommandLine::default()));
    // Backspace on an empty line closes it, as Esc does.
    t.press(KeyCode::Backspace, ROWS);
    assert_eq!(t.ui.command_line, None);
    command(&mut t, "metrics", &[KeyCode::Esc]);
    assert_eq!(t.ui.command_line, None);
    assert_eq!(t.ui.bottom, BottomPane::IstiodLogs, "Esc ran the command");
}

#[test]
fn ns_completes_and_selects_the_namespace_through_a_filter_that_hid_it() {
    let mut t = cockpit();
    t.ui.filters.insert(
        Pane::Namespaces,
        crate::app::state::Filter {
            text: "checkout".into(),
            editing: false,
        },
    );
    t.ui.focus = Pane::Logs;
    command(&mut t, "ns sea", &[KeyCode::Tab]);
    assert_eq!(
        t.ui.command_line.as_ref().map(|l| l.text.as_str()),
        Some("ns search")
    );
    t.press(KeyCode::Enter, ROWS);
    assert_eq!(t.ui.command_line, None);
    assert_eq!(t.ui.selected_namespace.as_deref(), Some("search"));
    assert_eq!(t.ui.focus, Pane::Namespaces);
    assert_eq!(t.ui.filter(Pane::Namespaces), "", "the filter hid search");
    let shown: Vec<&str> = crate::app::view::visible_namespaces(&t)
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(shown[t.ui.namespaces.selected], "search");
    assert!(t.effects.commands.is_empty());
}

#[test]
fn ns_alone_clears_the_filter_and_pods_drills_in() {
    let mut t = cockpit();
    t.ui.filters.insert(
        Pane::Namespaces,
        crate::app::state::Filter {
            text: "zzz".into(),
            editing: false,
        },
    );
    run(&mut t, "ns");
    assert_eq!(t.ui.filter(Pane::Namespaces), "");
    run(&mut t, "pods staging-web");
    assert_eq!(t.ui.focus, Pane::Pods);
    assert_eq!(t.ui.selected_namespace.as_deref(), Some("staging-web"));
    assert!(t.ui.selected_pod.is_some());
}

#[test]
fn pane_commands_show_their_view_and_leave_it_shown() {
    let mut t = cockpit();
    for _ in 0..2 {
        run(&mut t, "metrics");
        assert_eq!(t.ui.bottom, BottomPane::Metrics);
    }
    run(&mut t, "journal");
    assert_eq!(t.ui.bottom, BottomPane::Journal);
    run(&mut t, "checks");
    assert_eq!(t.ui.bottom, BottomPane::Checks);
    run(&mut t, "logs");
    assert_eq!(
        (t.ui.bottom, t.ui.focus),
        (BottomPane::IstiodLogs, Pane::Logs)
    );
    for _ in 0..2 {
        run(&mut t, "cockpit-log");
        assert!(t.ui.cockpit_log);
    }
    run(&mut t, "help");
    assert_eq!(t.ui.overlay, Overlay::Help);
    assert!(t.effects.commands.is_empty() && !t.effects.quit);
}

#[test]
fn mistakes_say_so_in_one_line_and_close_the_line() {
    let mut t = cockpit();
    let said = |t: &mut TestLoop, text: &str| {
        run(t, text);
        assert_eq!(t.ui.command_line, None);
        t.ui.notice.clone().unwrap_or_default()
    };
    assert_eq!(
        said(&mut t, "deploy"),
        "unknown command :deploy (Tab lists the commands)"
    );
    assert_eq!(
        said(&mut t, "ns nowhere"),
        "no namespace nowhere in sim-admin"
    );
    assert_eq!(
        said(&mut t, "metrics now"),
        ":metrics takes no argument, not `now`"
    );
    assert_eq!(
        said(&mut t, "ctx east"),
        "there is only one cluster here: sim-admin"
    );
    t.ui.selected_namespace = None;
    t.ui.filters.insert(
        Pane::Namespaces,
        crate::app::state::Filter {
            text: "zzz".into(),
            editing: false,
        },
    );
    crate::app::update::refit(&mut t.state, ROWS);
    assert!(said(&mut t, "pods").starts_with("no namespace selected"));
    // A blank line runs nothing and says nothing.
    assert_eq!(said(&mut t, "  "), "");
}

#[test]
fn plan_says_where_the_plan_stands_or_how_to_load_one() {
    let mut t = cockpit();
    run(&mut t, "plan");
    let said = t.ui.notice.clone().unwrap_or_default();
    assert!(said.starts_with("plan 1-24-0 → 1-25-0: phase 1/"), "{said}");
    t.drive.plan = None;
    t.drive.plan_problem = Some("the plan cannot be used: no wave".into());
    run(&mut t, "plan");
    assert_eq!(
        t.ui.notice.as_deref(),
        Some("no plan (the plan cannot be used: no wave); --plan FILE loads one")
    );
}

#[test]
fn every_quit_command_quits_as_q_does() {
    for quit in ["q", "quit", "q!"] {
        let mut t = cockpit();
        run(&mut t, quit);
        assert!(t.effects.quit, ":{quit}");
    }
}

#[test]
fn commands_work_read_only_and_write_nothing() {
    let mut t = cockpit();
    t.session.mode = Mode::ReadOnly("--read-only".into());
    for text in [
        "ns search",
        "pods",
        "metrics",
        "logs",
        "plan",
        "ns",
        "journal",
    ] {
        run(&mut t, text);
    }
    assert_eq!(t.ui.selected_namespace.as_deref(), Some("search"));
    assert!(t.effects.commands.is_empty());
}

#[test]
fn tab_cycles_through_several_candidates_and_typing_starts_over() {
    let names = Names {
        namespaces: &["payments", "payments-eu", "search"],
        clusters: &[],
    };
    let mut line = CommandLine::default();
    for c in "ns pay".chars() {
        line.push(c);
    }
    line.complete(names);
    assert_eq!(line.text, "ns payments");
    assert_eq!(
        line.shown_candidates(names),
        (vec!["ns payments".into(), "ns payments-eu".into()], Some(0))
    );
    line.complete(names);
    assert_eq!(line.text, "ns payments-eu");
    line.complete(names);
    assert_eq!(line.text, "ns payments");
    line.erase();
    assert_eq!(line.text, "ns payment");
    assert_eq!(line.shown_candidates(names).1, None);
    // One candidate is taken; a command that takes a name gets its space.
    let mut line = CommandLine::default();
    line.push('n');
    line.complete(names);
    assert_eq!(line.text, "ns ");
    // Nothing to complete: nothing changes.
    let mut line = CommandLine::default();
    line.push('z');
    line.complete(names);
    assert_eq!(line.text, "z");
}

fn key(code: KeyCode) -> FleetEvent {
    FleetEvent::Screen(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_line(fleet: &mut Fleet, text: &str) {
    fleet.update(key(KeyCode::Char(':')), ROWS);
    for c in text.chars() {
        fleet.update(key(KeyCode::Char(c)), ROWS);
    }
}

#[test]
fn ctx_shows_the_named_cluster_of_a_fleet_and_completes_its_names() {
    let members = ["primary", "remote-1", "remote-2"].map(|name| {
        let mut state = fixture::state(120, 40, ROWS);
        state.session.context = name.into();
        Member {
            name: name.into(),
            role: None,
            state,
        }
    });
    let mut fleet = Fleet::new(members.into());
    type_line(&mut fleet, "ctx remote-");
    fleet.update(key(KeyCode::Tab), ROWS);
    fleet.update(key(KeyCode::Tab), ROWS);
    let line = fleet.selected().state.ui.command_line.clone();
    assert_eq!(line.map(|l| l.text), Some("ctx remote-2".into()));
    let effects = fleet.update(key(KeyCode::Enter), ROWS);
    assert!(effects.redraw());
    assert_eq!(fleet.selected().name, "remote-2");
    type_line(&mut fleet, "cluster nowhere");
    fleet.update(key(KeyCode::Enter), ROWS);
    assert_eq!(fleet.selected().name, "remote-2");
    assert_eq!(
        fleet.selected().state.ui.notice.as_deref(),
        Some("no cluster nowhere in the fleet: primary, remote-1, remote-2")
    );
    // `c` is text on the command line, not the next cluster.
    type_line(&mut fleet, "c");
    assert_eq!(fleet.selected().name, "remote-2");
}
