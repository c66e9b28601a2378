//! Snapshots of the full screen and of each pane, drawn into ratatui's TestBackend from a
//! fixed state. Text snapshots at three sizes; style snapshots in the default and mono themes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use istio_cockpit::app::event::Event;
use istio_cockpit::app::state::{Mode, Pane, State};
use istio_cockpit::app::update::update;
use istio_cockpit::cockpit::headless::render_text;
use istio_cockpit::fixture;
use istio_cockpit::ui::layout;
use istio_cockpit::ui::theme::{Palette, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Style;

fn key(state: &mut State, code: KeyCode) {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        layout::table_rows,
    );
}

/// The fixture's full screen, laid out as the cockpit lays it out.
fn screen(width: u16, height: u16) -> State {
    fixture::state(width, height, layout::table_rows)
}

/// The same with a latency breach in the metrics pane.
fn breached(width: u16, height: u16) -> State {
    fixture::metrics::breached(width, height, layout::table_rows)
}

fn theme(name: &str) -> Theme {
    Theme::builtin(name, Palette::TrueColor).expect("built-in theme")
}

/// Text plus every run of cells whose style differs from the default, one line each.
fn styled(state: &State, theme: &Theme) -> String {
    let backend = TestBackend::new(state.ui.width, state.ui.height);
    let mut terminal = Terminal::new(backend).unwrap();
    terminal
        .draw(|f| istio_cockpit::ui::draw(f, state, theme))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = render_text(state, theme);
    out.push_str("--- styles ---\n");
    for y in 0..buffer.area.height {
        let mut x = 0;
        while x < buffer.area.width {
            let style = buffer[(x, y)].style();
            let start = x;
            let mut text = String::new();
            while x < buffer.area.width && buffer[(x, y)].style() == style {
                text.push_str(buffer[(x, y)].symbol());
                x += 1;
            }
            if style != Style::default() && !text.trim().is_empty() {
                out.push_str(&format!(
                    "r{y} c{start}-{}: fg={:?} bg={:?} mod={:?} {:?}\n",
                    x - 1,
                    style.fg,
                    style.bg,
                    style.add_modifier,
                    text.trim_end()
                ));
            }
        }
    }
    out
}

#[test]
fn full_screen_at_80x24() {
    insta::assert_snapshot!(render_text(&screen(80, 24), &theme("default")));
}

#[test]
fn full_screen_at_120x40() {
    insta::assert_snapshot!(render_text(&screen(120, 40), &theme("default")));
}

#[test]
fn full_screen_at_200x60() {
    insta::assert_snapshot!(render_text(&screen(200, 60), &theme("default")));
}

#[test]
fn styles_in_the_default_theme() {
    insta::assert_snapshot!(styled(&screen(120, 40), &theme("default")));
}

#[test]
fn styles_in_the_mono_theme() {
    let mono = theme("mono");
    let screen = styled(&screen(120, 40), &mono);
    let coloured: Vec<&str> = screen
        .lines()
        .filter(|l| {
            (l.contains("fg=Some") && !l.contains("fg=Some(Reset)"))
                || (l.contains("bg=Some") && !l.contains("bg=Some(Reset)"))
        })
        .collect();
    assert!(coloured.is_empty(), "mono must use no colour: {coloured:?}");
    insta::assert_snapshot!(screen);
}

#[test]
fn pods_of_a_migrating_namespace_with_skew() {
    let mut s = screen(120, 40);
    // staging-web is the last namespace; search has the skewed pod.
    key(&mut s, KeyCode::End);
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.ui.focus, Pane::Pods);
    insta::assert_snapshot!("pods_staging_web", render_text(&s, &theme("default")));
    key(&mut s, KeyCode::BackTab);
    key(&mut s, KeyCode::Up);
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("search"));
    insta::assert_snapshot!("pods_search_skew", render_text(&s, &theme("default")));
}

#[test]
fn nack_only_logs_and_the_help() {
    let mut s = screen(120, 40);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.ui.focus, Pane::Logs);
    key(&mut s, KeyCode::Char('n'));
    insta::assert_snapshot!("logs_nack_only", render_text(&s, &theme("default")));
    // Enter on the newest NACK jumps to the pod it names.
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.ui.focus, Pane::Pods);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("staging-web"));
    assert_eq!(s.ui.selected_pod.as_deref(), Some("frontend-9c4d7-p5m3z"));
    key(&mut s, KeyCode::Char('?'));
    insta::assert_snapshot!("help", render_text(&s, &theme("default")));
}

#[test]
fn the_help_at_80x24() {
    let mut s = screen(80, 24);
    key(&mut s, KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", render_text(&s, &theme("default")));
}

#[test]
fn filtering_namespaces() {
    let mut s = screen(120, 40);
    key(&mut s, KeyCode::Char('/'));
    for c in "tier=crit".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    insta::assert_snapshot!("filter_typing", render_text(&s, &theme("default")));
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.ui.selected_namespace.as_deref(), Some("checkout"));
}

#[test]
fn read_only_and_stale_status() {
    let mut s = screen(120, 40);
    s.session.mode = Mode::ReadOnly("--read-only".into());
    update(
        &mut s,
        Event::Stream(
            istio_cockpit::app::event::Stream::Pods,
            istio_cockpit::app::event::StreamStatus::Retrying("connection refused".into()),
        ),
        layout::table_rows,
    );
    update(
        &mut s,
        Event::Tick(fixture::now() + chrono::Duration::seconds(42)),
        layout::table_rows,
    );
    key(&mut s, KeyCode::Char('m'));
    let text = render_text(&s, &theme("default"));
    let status = text.lines().last().unwrap().to_string();
    insta::assert_snapshot!("status_read_only_stale", status);
}

#[test]
fn a_terminal_too_small() {
    insta::assert_snapshot!(render_text(&screen(50, 12), &theme("default")));
}

#[test]
fn metrics_pane_and_banner_during_a_breach() {
    let mut s = breached(200, 60);
    assert!(s.ui.breach_banner);
    key(&mut s, KeyCode::Char('P'));
    insta::assert_snapshot!(render_text(&s, &theme("default")));
}

#[test]
fn checks_pane_with_a_blocker_a_warning_and_a_note() {
    use istio_cockpit::precheck::{CheckId, Finding, Severity};
    let mut s = screen(160, 45);
    let finding = |severity, check, object: &str, message: &str, fix: &str| Finding {
        severity,
        check,
        object: object.into(),
        message: message.into(),
        fix: fix.into(),
    };
    s.checks.findings = Some(vec![
        finding(
            Severity::Blocker,
            CheckId::PdbBlocks,
            "PodDisruptionBudget/staging-web/hold-all",
            "it allows no disruption of Deployment/staging-web/frontend: evictions are refused",
            "kubectl -n staging-web edit pdb hold-all (allow at least one disruption)",
        ),
        finding(
            Severity::Warning,
            CheckId::LabelConflict,
            "Namespace/notifications",
            "conflicting labels: istio-injection + istio.io/rev",
            "kubectl label namespace notifications istio.io/rev-",
        ),
        finding(
            Severity::Info,
            CheckId::UnmovablePod,
            "Pod/batch/db-migrate-7xkq2",
            "owned by Job/db-migrate: a rollout restart does not move it",
            "let the Job finish, or delete the pod once it is safe",
        ),
    ]);
    key(&mut s, KeyCode::Char('C'));
    insta::assert_snapshot!(render_text(&s, &theme("default")));
}

#[test]
fn metrics_pane_when_the_source_stops_answering() {
    let mut s = breached(160, 45);
    key(&mut s, KeyCode::Char('P'));
    let down = istio_cockpit::metrics::reading::Reading {
        at: fixture::now(),
        source: "Prometheus at http://127.0.0.1:9090".into(),
        control_plane: Default::default(),
        data_plane: Default::default(),
        cross_cluster: None,
        errors: vec!["Prometheus at http://127.0.0.1:9090: connection refused".into()],
    };
    update(&mut s, Event::Metrics(down), layout::table_rows);
    insta::assert_snapshot!(render_text(&s, &theme("default")));
}

#[test]
fn metrics_pane_with_failing_cross_cluster_traffic() {
    use istio_cockpit::metrics::cross_cluster::{CrossCluster, CrossTraffic, Route};
    let mut s = breached(200, 60);
    key(&mut s, KeyCode::Char('P'));
    let latest = s.metrics.readings.back().cloned().expect("a reading");
    let route = |source: &str, destination: &str, rps: f64, ratio: f64| {
        let route = Route {
            source: source.into(),
            destination: destination.into(),
        };
        let traffic = CrossTraffic {
            requests_per_s: rps,
            error_ratio: Some(ratio),
        };
        (route, traffic)
    };
    let cross = CrossCluster {
        requests_per_s: 8.0,
        error_ratio: Some(3.0 / 8.0),
        routes: [
            route("remote-1", "remote-2", 5.0, 0.0),
            route("remote-1", "primary", 3.0, 1.0),
        ]
        .into(),
    };
    // A minute and more of 503s from remote-1 to primary, after the fixture's last reading.
    let later = |seconds| fixture::now() + chrono::Duration::seconds(seconds);
    for seconds in (5..=70).step_by(5) {
        let mut r = latest.clone();
        r.at = later(seconds);
        r.cross_cluster = Some(cross.clone());
        update(&mut s, Event::Metrics(r), layout::table_rows);
    }
    update(&mut s, Event::Tick(later(70)), layout::table_rows);
    let text = render_text(&s, &theme("default"));
    assert!(
        text.contains(
            "cross-cluster  8.0 req/s · 5xx 38% · remote-1 -> primary 3.0/s 100% 5xx · \
             remote-1 -> remote-2 5.0/s 0% 5xx"
        ),
        "{text}"
    );
    let breaches: Vec<String> = istio_cockpit::app::rollback::breaches(&s)
        .map(ToString::to_string)
        .collect();
    assert!(
        breaches
            .iter()
            .any(|b| b.starts_with("remote-1 -> primary: cross-cluster traffic 100% 5xx for 1m")),
        "{breaches:?}"
    );
    insta::assert_snapshot!(text);
}

/// A remote's control planes are the primary's istiod pods, and its pane says so.
#[test]
fn a_remotes_control_planes_say_which_primary_serves_them() {
    let mut fleet = fixture::fleet::fleet();
    fixture::fleet::settle(&mut fleet, true);
    let remote = &mut fleet[1].1.state;
    update(remote, Event::Resize(160, 40), layout::table_rows);
    let text = render_text(remote, &theme("default"));
    assert!(text.contains("served by primary 1/1"), "{text}");
    let one = render_text(&screen(160, 40), &theme("default"));
    assert!(
        !one.contains("served by"),
        "one cluster's screen is unchanged"
    );
}

/// A primary and two remotes from the fixture, every stream connected, the second remote's
/// root CA different: the fleet pane on top, the primary's panes below.
#[test]
fn fleet_of_three_with_a_root_ca_mismatch() {
    use istio_cockpit::app::event::{Stream, StreamStatus};
    use istio_cockpit::app::fleet::{Fleet, FleetEvent, Member};
    use istio_cockpit::cockpit::headless::render_fleet_text;

    let mut clusters = fixture::fleet::fleet();
    clusters[2].1.root_ca(Some("99:88:77:66:55:44:33:22"));
    fixture::fleet::settle(&mut clusters, true);
    let members = clusters
        .into_iter()
        .map(|(name, c)| {
            let mut state = c.state;
            for stream in Stream::ALL {
                update(
                    &mut state,
                    Event::Stream(stream, StreamStatus::Connected),
                    layout::table_rows,
                );
            }
            Member {
                name: name.into(),
                role: None,
                state,
            }
        })
        .collect();
    let mut fleet = Fleet::new(members);
    fleet.update(
        FleetEvent::Screen(Event::Resize(160, 40)),
        layout::table_rows,
    );
    fleet.update(
        FleetEvent::Screen(Event::Tick(fixture::now())),
        layout::table_rows,
    );
    let screen = render_fleet_text(&fleet, &theme("default"));
    assert!(screen.contains("BLOCKER:"), "{screen}");
    insta::assert_snapshot!(screen);
}
