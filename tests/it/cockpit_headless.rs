//! The cockpit's real sources (kube-rs watchers, istiod log tails) and `update`, headless,
//! against the simulator: a label changed with kubectl shows in the state and on screen.

use std::time::Duration;

use istio_cockpit::app::event::{Stream, StreamStatus};
use istio_cockpit::app::state::{Mode, State};
use istio_cockpit::cockpit::headless::Headless;
use istio_cockpit::ui::theme::{Palette, Theme};

use crate::common;
use crate::common::clients::synced;
use crate::common::cluster::label_for;

fn row<'a>(screen: &'a str, namespace: &str) -> &'a str {
    screen
        .lines()
        .find(|l| {
            l.contains(&format!(" {namespace} "))
                || l.contains(&format!("│{namespace} "))
                || l.contains(&format!("┃{namespace} "))
        })
        .unwrap_or_else(|| panic!("no row for {namespace} in\n{screen}"))
}

#[tokio::test]
async fn a_label_changed_with_kubectl_reaches_the_state_and_the_screen() {
    let sim = common::Sim::start(&[]);
    let conn = sim.connect("sim-admin").await;
    let theme = Theme::builtin("default", Palette::TrueColor).unwrap();
    let mut cockpit = Headless::start(&conn, Mode::Driver, 1000, 160, 50);
    assert!(
        cockpit.pump_until(Duration::from_secs(20), synced).await,
        "no initial sync"
    );
    let before = cockpit.render(&theme);
    assert!(
        row(&before, "staging-web").contains("1-24-0 (default)"),
        "{before}"
    );
    assert!(before.contains("1-25-0"), "both revisions are on screen");

    label_for(&sim, "staging-web", "1-25-0");
    let changed = cockpit
        .pump_until(Duration::from_secs(10), |s| {
            s.cluster
                .namespaces
                .get(&"staging-web".to_string())
                .is_some_and(|n| n.labels.get("istio.io/rev").map(String::as_str) == Some("1-25-0"))
        })
        .await;
    assert!(changed, "the label change never reached the state");
    let after = cockpit.render(&theme);
    let line = row(&after, "staging-web");
    assert!(
        line.contains("1-25-0") && line.contains("migrating"),
        "{line}"
    );
    assert!(!line.contains("(default)"), "{line}");
}

#[tokio::test]
async fn api_errors_mark_streams_stale_and_they_recover() {
    let sim = common::Sim::start(&[]);
    let conn = sim.connect("sim-admin").await;
    let mut cockpit = Headless::start(&conn, Mode::Driver, 1000, 120, 40);
    assert!(cockpit.pump_until(Duration::from_secs(20), synced).await);
    // Every API request fails and open watches are cut every second.
    sim.set_faults(r#"{"data":{"api.error-rate":"1","watch.drop-seconds":"1"}}"#);
    let failing = |s: &State| {
        matches!(
            s.session
                .streams
                .get(&Stream::Namespaces)
                .map(|h| &h.status),
            Some(StreamStatus::Retrying(_))
        )
    };
    assert!(
        cockpit.pump_until(Duration::from_secs(20), failing).await,
        "no stream noticed the failures"
    );
    // The data stays on screen while the streams retry.
    assert!(cockpit.state.cluster.namespaces.len() > 10);
    let theme = Theme::builtin("mono", Palette::NoColor).unwrap();
    let screen = cockpit.render(&theme);
    assert!(screen.lines().last().unwrap().contains("STALE"), "{screen}");

    // The faults ConfigMap itself is exempt, so the fault can be switched off.
    sim.set_faults(r#"{"data":{"api.error-rate":null,"watch.drop-seconds":null}}"#);
    let recovered = |s: &State| {
        [Stream::Namespaces, Stream::Pods, Stream::Webhooks]
            .iter()
            .all(|id| {
                matches!(
                    s.session.streams.get(id).map(|h| &h.status),
                    Some(StreamStatus::Connected)
                )
            })
    };
    let ok = cockpit.pump_until(Duration::from_secs(60), recovered).await;
    assert!(
        ok,
        "streams did not recover: {:?}",
        cockpit.state.session.streams
    );
}

#[tokio::test]
async fn control_plane_metrics_come_straight_from_istiod_through_the_pod_proxy() {
    let sim = common::Sim::start(&[]);
    let conn = sim.connect("sim-viewer").await;
    let mut cockpit = Headless::start(&conn, Mode::ReadOnly("--read-only".into()), 1000, 200, 60);
    let read = cockpit
        .pump_until(Duration::from_secs(30), |s| {
            synced(s)
                && s.metrics.readings.back().is_some_and(|m| {
                    m.control_plane.contains_key("1-24-0") && m.control_plane.contains_key("1-25-0")
                })
        })
        .await;
    assert!(
        read,
        "no metrics reading within 30 s: {:?}",
        cockpit.state.metrics.readings.back()
    );
    let latest = cockpit.state.metrics.readings.back().unwrap().clone();
    assert!(latest.errors.is_empty(), "{:?}", latest.errors);
    // Connected proxies agree with the pods the cockpit sees on each revision.
    let on_old = cockpit
        .state
        .cluster
        .pods
        .values()
        .filter(|p| p.revision.as_deref() == Some("1-24-0") && p.is_ready())
        .count() as f64;
    let proxies: f64 = latest.control_plane["1-24-0"].proxies.values().sum();
    assert_eq!(proxies, on_old);
    assert!(
        latest.control_plane["1-24-0"]
            .pushes_per_s
            .values()
            .sum::<f64>()
            > 0.0
    );
    cockpit.apply(istio_cockpit::app::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('P'),
            crossterm::event::KeyModifiers::NONE,
        ),
    ));
    let theme = Theme::builtin("mono", Palette::NoColor).unwrap();
    let screen = cockpit.render(&theme);
    assert!(
        screen.contains("Metrics · istiod scraped through the API server's pod proxy"),
        "{screen}"
    );
    assert!(screen.contains("CONVERGENCE TREND"), "{screen}");
}
