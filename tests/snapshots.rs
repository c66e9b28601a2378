//! Snapshots of the full screen and of each pane, drawn into ratatui's TestBackend from a
//! fixed state. Text snapshots at three sizes; style snapshots in the default and mono themes.

#[path = "common/fixture.rs"]
mod fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use istio_cockpit::app::event::Event;
use istio_cockpit::app::state::{Mode, Pane, State};
use istio_cockpit::app::update::update;
use istio_cockpit::cockpit::headless::render_text;
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
    insta::assert_snapshot!(render_text(&fixture::state(80, 24), &theme("default")));
}

#[test]
fn full_screen_at_120x40() {
    insta::assert_snapshot!(render_text(&fixture::state(120, 40), &theme("default")));
}

#[test]
fn full_screen_at_200x60() {
    insta::assert_snapshot!(render_text(&fixture::state(200, 60), &theme("default")));
}

#[test]
fn styles_in_the_default_theme() {
    insta::assert_snapshot!(styled(&fixture::state(120, 40), &theme("default")));
}

#[test]
fn styles_in_the_mono_theme() {
    let mono = theme("mono");
    let screen = styled(&fixture::state(120, 40), &mono);
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
    let mut s = fixture::state(120, 40);
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
    let mut s = fixture::state(120, 40);
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
fn filtering_namespaces() {
    let mut s = fixture::state(120, 40);
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
    let mut s = fixture::state(120, 40);
    s.mode = Mode::ReadOnly("--read-only".into());
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
    insta::assert_snapshot!(render_text(&fixture::state(50, 12), &theme("default")));
}

mod metrics {
    use std::collections::BTreeMap;

    use chrono::Duration;
    use istio_cockpit::app::event::{Event, Watch};
    use istio_cockpit::app::state::State;
    use istio_cockpit::app::update::update;
    use istio_cockpit::metrics::control_plane::Rates;
    use istio_cockpit::metrics::reading::{Reading, Traffic};
    use istio_cockpit::ui::layout;

    use super::fixture::{self, now};

    fn traffic(rps: f64, p99: f64, ratio: f64) -> Traffic {
        Traffic {
            requests_per_s: rps,
            error_ratio: Some(ratio),
            p99_ms: Some(p99),
            mtls_failures_per_s: 0.0,
            sampled_pods: None,
        }
    }

    fn istiod(pushes: f64, p99: f64, proxies: &[(&str, f64)]) -> Rates {
        Rates {
            pushes_per_s: [
                ("cds".to_string(), pushes / 2.0),
                ("eds".to_string(), pushes / 2.0),
            ]
            .into(),
            rejects_per_s: 0.0,
            convergence_p99: Some(p99),
            proxies: proxies.iter().map(|(v, n)| (v.to_string(), *n)).collect(),
            cpu_cores: Some(pushes / 10.0),
            memory_bytes: Some(pushes * 128.0 * 1024.0 * 1024.0),
        }
    }

    fn feed(s: &mut State, seconds_ago: i64, search: (&str, f64)) {
        let mut r = Reading {
            at: now() - Duration::seconds(seconds_ago),
            source: "Prometheus at http://127.0.0.1:9090".into(),
            control_plane: BTreeMap::new(),
            data_plane: BTreeMap::new(),
            errors: Vec::new(),
        };
        let wobble = (seconds_ago % 15) as f64;
        r.control_plane.insert(
            "1-24-0".into(),
            istiod(
                4.0 + wobble / 10.0,
                0.08 + wobble / 100.0,
                &[("1.24.0", 9.0), ("1.22.4", 1.0)],
            ),
        );
        r.control_plane.insert(
            "1-25-0".into(),
            istiod(1.5, 0.05 + wobble / 200.0, &[("1.25.0", 3.0)]),
        );
        let ns = |r: &mut Reading, name: &str, rev: &str, t: Traffic| {
            r.data_plane
                .entry(name.into())
                .or_default()
                .insert(rev.into(), t);
        };
        ns(
            &mut r,
            "search",
            search.0,
            traffic(42.0, search.1 + wobble, 0.002),
        );
        ns(
            &mut r,
            "staging-web",
            "1-25-0",
            traffic(18.5, 35.0 + wobble, 0.0),
        );
        ns(
            &mut r,
            "payments",
            "1-24-0",
            traffic(120.0, 61.0 + wobble, 0.031),
        );
        update(s, Event::Metrics(r), layout::table_rows);
    }

    /// `search` measured on 1-24-0, moved to 1-25-0, and 320 ms slower there for 2m30s.
    pub fn breached(width: u16, height: u16) -> State {
        let mut s = fixture::state(width, height);
        for ago in (155..=300).rev().step_by(5) {
            feed(&mut s, ago, ("1-24-0", 100.0));
        }
        for old in ["search-api-5f7b9-4wpdd", "search-api-5f7b9-kd82m"] {
            let pod = fixture::pod("search", old, Some("1-24-0"), Some("1.24.0"), true);
            update(&mut s, Event::Pods(Watch::Delete(pod)), layout::table_rows);
        }
        for new in ["search-api-7d2c1-9xk2p", "search-api-7d2c1-q4w8n"] {
            let pod = fixture::pod("search", new, Some("1-25-0"), Some("1.25.0"), true);
            update(&mut s, Event::Pods(Watch::Apply(pod)), layout::table_rows);
        }
        for ago in (0..=150).rev().step_by(5) {
            feed(&mut s, ago, ("1-25-0", 420.0));
        }
        update(&mut s, Event::Tick(now()), layout::table_rows);
        s
    }
}

#[test]
fn metrics_pane_and_banner_during_a_breach() {
    let mut s = metrics::breached(200, 60);
    assert!(s.ui.breach_banner);
    key(&mut s, KeyCode::Char('P'));
    insta::assert_snapshot!(render_text(&s, &theme("default")));
}

#[test]
fn metrics_pane_when_the_source_stops_answering() {
    let mut s = metrics::breached(160, 45);
    key(&mut s, KeyCode::Char('P'));
    let down = istio_cockpit::metrics::reading::Reading {
        at: fixture::now(),
        source: "Prometheus at http://127.0.0.1:9090".into(),
        control_plane: Default::default(),
        data_plane: Default::default(),
        errors: vec!["Prometheus at http://127.0.0.1:9090: connection refused".into()],
    };
    update(&mut s, Event::Metrics(down), layout::table_rows);
    insta::assert_snapshot!(render_text(&s, &theme("default")));
}
