//! Event to screen: a change made through one cluster's API, timed until the screen shows it
//! with that cluster on screen.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::time::Instant;

use super::driver::{Driver, Outcome};
use super::report::Report;
use super::{BenchError, percentile};
use crate::app::keymap::KeyAction;

/// The namespace the latency probes edit: hand-written, in every cluster.
pub const PROBED: &str = "staging-api";
const SAMPLES: usize = 20;

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn p_ms(values: &[Duration], p: f64) -> Option<f64> {
    percentile(values, p).map(millis)
}

pub fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::with_capacity(buffer.content.len());
    for (i, cell) in buffer.content.iter().enumerate() {
        if i > 0 && i % buffer.area.width as usize == 0 {
            out.push('\n');
        }
        out.push_str(cell.symbol());
    }
    out
}

/// Puts cluster `index` on screen with the key that cycles clusters, as a user would.
pub async fn select_cluster(driver: &mut Driver<TestBackend>, index: usize) {
    let keys = driver.keys();
    let next = driver
        .fleet
        .selected()
        .state
        .ui
        .keys
        .key(KeyAction::NextCluster)
        .chars()
        .next()
        .map_or(KeyCode::Char('c'), KeyCode::Char);
    for _ in 0..driver.fleet.members.len() {
        if driver.fleet.selected == index {
            return;
        }
        let _ = keys.send((Instant::now(), key(next))).await;
        driver.run_for(Duration::from_millis(100)).await;
    }
}

/// Selects `PROBED` through the filter, so its row and pods are on screen.
async fn select_probed(driver: &mut Driver<TestBackend>) {
    let keys = driver.keys();
    let mut typed = vec![key(KeyCode::Char('/'))];
    typed.extend(PROBED.chars().map(|c| key(KeyCode::Char(c))));
    typed.push(key(KeyCode::Enter));
    for k in typed {
        let _ = keys.send((Instant::now(), k)).await;
    }
    driver.run_for(Duration::from_millis(300)).await;
}

/// A namespace label patched through the cluster on screen's API until the screen shows it;
/// a pod created and deleted the same way until the screen shows each.
pub async fn probe(
    driver: &mut Driver<TestBackend>,
    client: &kube::Client,
    report: &mut Report,
) -> Result<(), BenchError> {
    select_probed(driver).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut label_waits = Vec::new();
    for i in 0..SAMPLES {
        let value = format!("bench-{i:03}");
        let patch = serde_json::json!({"metadata": {"labels": {"tier": value}}});
        let sent = Instant::now();
        namespaces
            .patch(PROBED, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(BenchError::api(format!("patching {PROBED}")))?;
        let seen = driver
            .run_until(sent + Duration::from_secs(10), |_, t| {
                screen(t).contains(&value)
            })
            .await;
        if matches!(seen, Outcome::Done) {
            label_waits.push(sent.elapsed());
        }
    }
    report.event_to_screen_p50_ms = p_ms(&label_waits, 50.0);
    report.event_to_screen_p99_ms = p_ms(&label_waits, 99.0);

    let pods: Api<Pod> = Api::namespaced(client.clone(), PROBED);
    let mut pod_waits = Vec::new();
    for i in 0..SAMPLES / 2 {
        let name = format!("bench-probe-{i:03}");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"app": "bench-probe"}},
            "spec": {"containers": [{"name": "app", "image": "bench-probe:1"}]}
        }))
        .map_err(BenchError::PodJson)?;
        let sent = Instant::now();
        pods.create(&PostParams::default(), &pod)
            .await
            .map_err(BenchError::api(format!("creating a pod in {PROBED}")))?;
        if matches!(
            driver
                .run_until(sent + Duration::from_secs(10), |_, t| screen(t)
                    .contains(&name))
                .await,
            Outcome::Done
        ) {
            pod_waits.push(sent.elapsed());
        }
        let sent = Instant::now();
        pods.delete(&name, &DeleteParams::default().grace_period(0))
            .await
            .map_err(BenchError::api(format!("deleting {name}")))?;
        if matches!(
            driver
                .run_until(sent + Duration::from_secs(10), |_, t| !screen(t)
                    .contains(&name))
                .await,
            Outcome::Done
        ) {
            pod_waits.push(sent.elapsed());
        }
    }
    report.pod_to_screen_p50_ms = p_ms(&pod_waits, 50.0);
    report.pod_to_screen_p99_ms = p_ms(&pod_waits, 99.0);
    eprintln!(
        "event to screen p99: label {:?} ms, pod {:?} ms",
        report.event_to_screen_p99_ms, report.pod_to_screen_p99_ms
    );
    Ok(())
}
