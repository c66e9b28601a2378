//! The triage pane drawn from a fixed state: a NACK line's pod, its proxy log with the
//! rejection marked, its sync status with the stale types, and its events.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use istio_cockpit::app::event::{
    Event, EventRow, ProxyStatus, Sync, TriageAnswer, TriagePart, TriageView,
};
use istio_cockpit::app::state::{BottomPane, Pane, State};
use istio_cockpit::app::update::update;
use istio_cockpit::cockpit::headless::render_text;
use istio_cockpit::fixture;
use istio_cockpit::ui::layout;
use istio_cockpit::ui::theme::{Palette, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn key(state: &mut State, code: KeyCode) {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        layout::table_rows,
    );
}

fn answer(state: &mut State, part: TriagePart) {
    let serial = state
        .triage
        .as_ref()
        .expect("a pod under triage")
        .request
        .serial;
    update(
        state,
        Event::Triage(TriageAnswer { serial, part }),
        layout::table_rows,
    );
}

fn theme() -> Theme {
    Theme::builtin("default", Palette::TrueColor).expect("theme")
}

fn text(state: &State) -> String {
    render_text(state, &theme())
}

/// The foreground of the first cell of the screen row that shows `needle`.
fn row_style(state: &State, needle: &str) -> Option<Color> {
    let backend = TestBackend::new(state.ui.width, state.ui.height);
    let mut terminal = Terminal::new(backend).expect("terminal");
    terminal
        .draw(|f| istio_cockpit::ui::draw(f, state, &theme()))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let width = buffer.area.width;
    (0..buffer.area.height).find_map(|y| {
        let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
        line.contains(needle).then(|| buffer[(1, y)].style().fg)
    })?
}

/// The fixture's screen with the newest NACK line's pod under triage, `view` shown.
fn triaged(view: char) -> State {
    let mut s = fixture::state(120, 40, layout::table_rows);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.ui.focus, Pane::Logs);
    key(&mut s, KeyCode::Char('n'));
    key(&mut s, KeyCode::Char(view));
    assert_eq!(s.ui.bottom, BottomPane::Triage);
    let request = &s.triage.as_ref().expect("triage").request;
    assert_eq!(
        (request.namespace.as_str(), request.pod.as_str()),
        ("staging-web", "frontend-9c4d7-p5m3z")
    );
    s
}

const REJECTED: &str = "2026-11-24T21:29:59.000500Z\twarning\tenvoy config external/envoy/source/extensions/config_subscription/grpc/grpc_subscription_impl.cc:138\tgRPC config for type.googleapis.com/envoy.config.cluster.v3.Cluster rejected: cluster outbound|80||cart.checkout: bad TLS context\tthread=15";

#[test]
fn the_proxy_log_of_a_nack_lines_pod_marks_the_rejection() {
    let mut s = triaged('l');
    assert_eq!(
        s.triage.as_ref().unwrap().request.view,
        TriageView::ProxyLog
    );
    answer(
        &mut s,
        TriagePart::LogLines(vec![
            "[2026-11-24T21:29:58.100Z] \"GET /api/v1/cart HTTP/1.1\" 200 - via_upstream - \"-\" 0 512 3 2 \"-\" \"Go-http-client/1.1\"".into(),
            REJECTED.into(),
        ]),
    );
    let screen = text(&s);
    assert!(screen.contains("21:29:59.000 warning gRPC config for type.googleapis.com/envoy.config.cluster.v3.Cluster rejected"));
    insta::assert_snapshot!("triage_proxy_log", screen);
    assert_eq!(
        row_style(&s, "rejected: cluster"),
        theme().nack.fg,
        "the rejection is marked"
    );
    assert_eq!(row_style(&s, "GET /api/v1/cart"), theme().base.fg);
    // Moving to another pod follows it with the same view, asked afresh.
    let before = s.triage.as_ref().unwrap().request.serial;
    key(&mut s, KeyCode::Up);
    let request = &s.triage.as_ref().unwrap().request;
    assert_eq!(request.pod, "frontend-9c4d7-b2n6x");
    assert_eq!(request.view, TriageView::ProxyLog);
    assert!(request.serial > before);
    // The same key again closes it, and the istiod logs come back.
    key(&mut s, KeyCode::Char('l'));
    assert_eq!(s.ui.bottom, BottomPane::IstiodLogs);
    assert!(s.triage.is_none());
}

#[test]
fn the_proxy_status_names_its_istiod_and_the_stale_types() {
    let mut s = triaged('s');
    answer(
        &mut s,
        TriagePart::Status(ProxyStatus {
            istiod: "istio-system/istiod-1-25-0-7f9c4d8b6-rstvw".into(),
            istio_version: "1.25.0".into(),
            types: [
                ("CDS", Sync::Stale),
                ("LDS", Sync::Synced),
                ("EDS", Sync::Synced),
                ("RDS", Sync::Synced),
            ],
        }),
    );
    insta::assert_snapshot!("triage_proxy_status", text(&s));
}

#[test]
fn events_and_a_failure_in_the_same_pane() {
    let mut s = triaged('e');
    answer(
        &mut s,
        TriagePart::Events(vec![EventRow {
            last_seen: Some(fixture::now()),
            warning: true,
            reason: "Unhealthy".into(),
            message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
            count: 4,
            source: "kubelet".into(),
        }]),
    );
    insta::assert_snapshot!("triage_events", text(&s));
    key(&mut s, KeyCode::Char('v'));
    answer(
        &mut s,
        TriagePart::Failed("cannot read pod staging-web/frontend-9c4d7-p5m3z: forbidden".into()),
    );
    assert!(text(&s).contains("cannot read pod staging-web/frontend-9c4d7-p5m3z: forbidden"));
}

#[test]
fn without_a_pod_the_keys_say_how_to_pick_one() {
    let mut s = fixture::state(120, 40, layout::table_rows);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    // On istiod's error line, which names no pod.
    key(&mut s, KeyCode::Up);
    key(&mut s, KeyCode::Char('l'));
    assert!(s.triage.is_none());
    assert_ne!(s.ui.bottom, BottomPane::Triage);
    assert!(
        s.ui.notice
            .as_deref()
            .is_some_and(|n| n.starts_with("select a pod first"))
    );
}
