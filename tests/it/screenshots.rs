//! The README's pictures, drawn from the real cockpit on the simulated mesh:
//!
//! ```sh
//! cargo test --test it screenshots:: -- --ignored
//! ```
//!
//! rewrites `screenshots/cockpit.svg` (the cockpit on the `search` namespace, which has a pod
//! with a skewed sidecar) and `screenshots/nack-view.svg` (the NACK-only istiod log while
//! 1-25-0 NACKs the proxies of `staging-web`), `screenshots/triage.svg` (the istio-proxy log
//! of the pod the newest NACK names) and `screenshots/rollback.svg` (the rollback
//! banner and the metrics pane once 1-25-0 is also slow), and `screenshots/fleet.svg` (the fleet
//! pane on a simulated fleet of three). Plain `cargo test` skips it (it restarts a
//! namespace and waits for NACKs) but runs the unit tests of the SVG writer.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use istio_cockpit::app::event::Event;
use istio_cockpit::app::state::{Mode, Pane, State};
use istio_cockpit::app::triage::Content;
use istio_cockpit::cockpit::headless::Headless;
use istio_cockpit::ui::theme::{Palette, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::common;
use crate::common::clients::synced;
use crate::common::cluster::label_for;
use crate::common::svg;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const COCKPIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots/cockpit.svg");
const NACK_VIEW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots/nack-view.svg");
const METRICS_VIEW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots/rollback.svg");
const FLEET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots/fleet.svg");
const TRIAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots/triage.svg");

fn press(cockpit: &mut Headless, code: KeyCode) {
    cockpit.apply(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Moves the namespace selection to `name`, from the top of the list.
fn select_namespace(cockpit: &mut Headless, name: &str) {
    assert_eq!(cockpit.state.ui.focus, Pane::Namespaces);
    press(cockpit, KeyCode::Home);
    for _ in 0..cockpit.state.cluster.namespaces.len() {
        if cockpit.state.ui.selected_namespace.as_deref() == Some(name) {
            return;
        }
        press(cockpit, KeyCode::Down);
    }
    assert_eq!(
        cockpit.state.ui.selected_namespace.as_deref(),
        Some(name),
        "{name} is not in the namespace list"
    );
}

/// Every pod of `namespace` is ready and was injected by `revision`.
fn all_on(state: &State, namespace: &str, revision: &str) -> bool {
    let mut pods = state.cluster.pods_in(namespace).peekable();
    pods.peek().is_some() && pods.all(|p| p.is_ready() && p.revision.as_deref() == Some(revision))
}

fn nack_lines(state: &State) -> usize {
    state
        .cluster
        .logs
        .entries()
        .filter(|e| e.line.nack.is_some())
        .count()
}

/// Draws one frame and writes it to `path` as SVG.
fn save(state: &State, theme: &Theme, path: &str, title: &str) {
    let mut terminal =
        Terminal::new(TestBackend::new(state.ui.width, state.ui.height)).expect("test backend");
    terminal
        .draw(|frame| istio_cockpit::ui::draw(frame, state, theme))
        .expect("draw");
    write_svg(&terminal, theme, path, title);
}

fn write_svg(terminal: &Terminal<TestBackend>, theme: &Theme, path: &str, title: &str) {
    let picture = svg::to_svg(terminal.backend().buffer(), theme.base, title);
    let dir = std::path::Path::new(path).parent().expect("a directory");
    std::fs::create_dir_all(dir).expect("create screenshots/");
    std::fs::write(path, picture).unwrap_or_else(|e| panic!("write {path}: {e}"));
    eprintln!("wrote {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "regenerates screenshots/: cargo test --test it screenshots:: -- --ignored"]
async fn draw_the_readme_screenshots() {
    let sim = common::Sim::start(&["--ready-after", "1"]);
    let conn = sim.connect("sim-admin").await;
    let theme = Theme::builtin("default", Palette::TrueColor).expect("the default theme");
    let mut cockpit = Headless::start(&conn, Mode::Driver, 1000, WIDTH, HEIGHT);

    assert!(
        cockpit.pump_until(Duration::from_secs(30), synced).await,
        "the cockpit never synced with the simulator"
    );
    // Enough istiod lines to fill the log pane, and every pod up; a picture without them is
    // still a picture, so neither wait is fatal.
    let settled = |s: &State| {
        s.cluster.logs.len() >= 40
            && s.cluster
                .pods
                .values()
                .all(|p| p.is_ready() || p.terminating || p.phase == "Succeeded")
    };
    cockpit.pump_until(Duration::from_secs(20), settled).await;

    select_namespace(&mut cockpit, "search");
    save(
        &cockpit.state,
        &theme,
        COCKPIT,
        "istio-cockpit on the simulated mesh: control planes, namespaces, the pods of search \
         (one with a skewed sidecar) and the istiod logs",
    );

    // The latency trigger needs staging-web's traffic before the move; a short duration
    // keeps the wait for the picture short.
    assert!(
        cockpit
            .pump_until(Duration::from_secs(60), |s| s
                .metrics
                .guard
                .baseline("staging-web")
                .is_some())
            .await,
        "no baseline for staging-web"
    );
    if let Some(plan) = cockpit.state.drive.plan.as_mut() {
        plan.thresholds.p99_latency_for = Duration::from_secs(10);
    }

    // 1-25-0 logs NACKs only for proxies it serves: move staging-web to it first.
    label_for(&sim, "staging-web", "1-25-0");
    sim.kubectl(&["rollout", "restart", "deploy", "-n", "staging-web"]);
    sim.kubectl(&[
        "rollout",
        "status",
        "deploy",
        "-n",
        "staging-web",
        "--timeout=60s",
    ]);
    assert!(
        cockpit
            .pump_until(Duration::from_secs(60), |s| all_on(
                s,
                "staging-web",
                "1-25-0"
            ))
            .await,
        "staging-web never showed up on 1-25-0"
    );
    sim.set_faults(r#"{"data":{"nacks.1-25-0":"600"}}"#);
    assert!(
        cockpit
            .pump_until(Duration::from_secs(60), |s| !s
                .cluster
                .logs
                .nacks
                .is_empty())
            .await,
        "no NACK reached the cockpit"
    );
    // A screenful of NACKs, if they come within the time.
    cockpit
        .pump_until(Duration::from_secs(30), |s| nack_lines(s) >= 20)
        .await;

    select_namespace(&mut cockpit, "staging-web");
    press(&mut cockpit, KeyCode::Tab);
    press(&mut cockpit, KeyCode::Tab);
    assert_eq!(cockpit.state.ui.focus, Pane::Logs);
    press(&mut cockpit, KeyCode::Char('n'));
    assert!(cockpit.state.ui.nack_only);
    // Tab resizes the panes but does not scroll them; the next namespace or pod event does.
    // A resize to the same size stands in for it, so staging-web is in view.
    cockpit.apply(Event::Resize(WIDTH, HEIGHT));
    save(
        &cockpit.state,
        &theme,
        NACK_VIEW,
        "istio-cockpit showing only the NACK lines of the istiod logs while istiod 1-25-0 \
         rejects configuration for the proxies of staging-web",
    );

    // The newest NACK's pod, triaged: its own log, the rejections marked.
    press(&mut cockpit, KeyCode::Char('l'));
    let rejections = |s: &State| match s.triage.as_ref().map(|t| &t.content) {
        Some(Content::Log { lines, .. }) => lines.iter().any(|l| l.contains(" rejected: ")),
        _ => false,
    };
    assert!(
        cockpit
            .pump_until(Duration::from_secs(30), rejections)
            .await,
        "the NACK's pod's proxy log never showed a rejection"
    );
    save(
        &cockpit.state,
        &theme,
        TRIAGE,
        "istio-cockpit triaging the pod a NACK line names: its istio-proxy log, the configs it \
         rejected marked",
    );
    press(&mut cockpit, KeyCode::Char('l'));

    // Slow the new revision down: the latency trigger fires for staging-web.
    sim.set_faults(r#"{"data":{"latency.1-25-0":"300"}}"#);
    let latency_breached = |s: &State| {
        s.metrics
            .findings
            .iter()
            .any(|f| f.is_breached() && f.to_string().starts_with("staging-web: p99 latency"))
    };
    assert!(
        cockpit
            .pump_until(Duration::from_secs(90), latency_breached)
            .await,
        "the latency trigger never fired: {:#?}",
        cockpit.state.metrics.findings
    );
    press(&mut cockpit, KeyCode::Char('P'));
    save(
        &cockpit.state,
        &theme,
        METRICS_VIEW,
        "istio-cockpit's rollback banner and metrics pane: staging-web is slower on 1-25-0 than          its baseline, and istiod 1-25-0 rejects configuration",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "regenerates screenshots/: cargo test --test it screenshots:: -- --ignored"]
async fn draw_the_fleet_screenshot() {
    use istio_cockpit::app::fleet::{Fleet, FleetEvent, Member};
    use istio_cockpit::ui::layout;

    let sim = common::Sim::start(&["--clusters", "3", "--ready-after", "1"]);
    let theme = Theme::builtin("default", Palette::TrueColor).expect("the default theme");
    // The primary's first wave under way: staging-web there on the new revision.
    let primary = |args: &[&str]| sim.kubectl_in("primary", args);
    primary(&[
        "label",
        "ns",
        "staging-web",
        "istio.io/rev=1-25-0",
        "istio-injection-",
        "--overwrite",
    ]);
    primary(&["rollout", "restart", "deploy", "-n", "staging-web"]);
    primary(&[
        "rollout",
        "status",
        "deploy",
        "-n",
        "staging-web",
        "--timeout=60s",
    ]);
    let mut members = Vec::new();
    for name in ["primary", "remote-1", "remote-2"] {
        let conn = sim.connect(name).await;
        let mut cockpit = Headless::start_in_fleet(&conn, Mode::Driver, 1000, (WIDTH, HEIGHT));
        // A remote runs no istiod: its lists are all there is to wait for.
        let listed = |s: &State| {
            s.cluster.namespaces.synced && s.cluster.pods.synced && s.cluster.webhooks.synced
        };
        assert!(
            cockpit.pump_until(Duration::from_secs(30), listed).await,
            "{name} never listed its objects"
        );
        let settled = |s: &State| {
            s.cluster.root_ca_fingerprint().is_some() && s.cluster.remote_secrets.len() == 2
        };
        cockpit.pump_until(Duration::from_secs(10), settled).await;
        if name == "primary" {
            cockpit
                .pump_until(Duration::from_secs(20), |s| s.cluster.logs.len() >= 40)
                .await;
        }
        members.push(Member {
            name: name.into(),
            role: None,
            state: cockpit.state.clone(),
        });
    }
    let mut fleet = Fleet::new(members);
    fleet.update(
        FleetEvent::Screen(Event::Resize(WIDTH, HEIGHT)),
        layout::table_rows,
    );
    fleet.refresh();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test backend");
    terminal
        .draw(|frame| istio_cockpit::ui::draw_fleet(frame, &fleet, &theme))
        .expect("draw");
    write_svg(
        &terminal,
        &theme,
        FLEET,
        "istio-cockpit on a simulated fleet of three: a primary whose istiod serves two remotes, \
         the primary's staging-web already on 1-25-0",
    );
}
