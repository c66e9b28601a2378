//! The measurements, one after another on one cockpit and one mesh.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::driver::{Driver, Outcome};
use super::pty::CountingPty;
use super::report::Report;
use super::sim_child::SimChild;
use super::sim_probe::SimProbe;
use super::{BenchError, HEIGHT, Options, WIDTH, kubectl, percentile, process};
use crate::app::event::{Event, IstiodLogLine};
use crate::app::state::{Mode, State};
use crate::cluster::connect::{self, Target};
use crate::cockpit::{MetricsChoice, Sources};
use crate::ui::theme::{Palette, Theme};

/// The namespace the latency probes edit: hand-written, always there.
const PROBED: &str = "staging-api";
const SAMPLES: usize = 20;
/// Pod updates per second the mesh makes during the churn phase.
const CHURN: u32 = 100;
const LOG_RING: usize = 20_000;
const WAIT: Duration = Duration::from_secs(120);

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn p_ms(values: &[Duration], p: f64) -> Option<f64> {
    percentile(values, p).map(millis)
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

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn complete(s: &State) -> bool {
    s.cluster.namespaces.synced
        && s.cluster.pods.synced
        && s.cluster.webhooks.synced
        && s.cluster.daemonsets.synced
}

pub async fn run(opts: Options) -> Result<Report, BenchError> {
    let dir = std::env::temp_dir().join(format!("istio-cockpit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|error| BenchError::CreateDir {
        dir: dir.clone(),
        error,
    })?;
    let result = measure(&opts, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(opts: &Options, dir: &std::path::Path) -> Result<Report, BenchError> {
    let mut report = Report {
        namespaces: opts.namespaces,
        seconds_per_phase: opts.seconds,
        cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        log_ring_lines: LOG_RING,
        ..Report::default()
    };
    eprintln!(
        "starting the simulated mesh: {} namespaces x {} pods…",
        opts.namespaces, opts.pods_per_namespace
    );
    let sim = SimChild::start(opts.namespaces, opts.pods_per_namespace, dir)?;
    report.sim_ready_ms = millis(sim.ready_after);

    // Start to the first complete state and the first full frame.
    let started = Instant::now();
    let target = Target {
        kubeconfig: Some(sim.kubeconfig.clone()),
        context: Some("sim-admin".into()),
    };
    let conn = connect::connect(&target).await?;
    let (tx, rx) = mpsc::channel(4096);
    let sources = Sources::start(&conn, &tx, MetricsChoice::default());
    let mut state = State::new(
        conn.context.clone(),
        Mode::ReadOnly("bench".into()),
        LOG_RING,
        chrono::Utc::now(),
    );
    crate::app::update::update(
        &mut state,
        Event::Resize(WIDTH, HEIGHT),
        crate::ui::layout::table_rows,
    );
    let theme = Theme::builtin("default", Palette::TrueColor).ok_or(BenchError::NoTheme)?;
    let Ok(terminal) = Terminal::new(TestBackend::new(WIDTH, HEIGHT));
    let mut driver = Driver::new(state, terminal, sources, (tx, rx), theme);
    let mut first_state = None;
    let outcome = driver
        .run_until(started + WAIT, |s, _| {
            if complete(s) && first_state.is_none() {
                first_state = Some(started.elapsed());
            }
            // The first frame drawn with everything in it.
            first_state.is_some()
        })
        .await;
    if matches!(outcome, Outcome::TimedOut) {
        return Err(BenchError::Incomplete(WAIT));
    }
    report.first_state_ms = millis(first_state.unwrap_or_default());
    report.first_frame_ms = millis(started.elapsed());
    report.pods = driver.state.cluster.pods.len();
    eprintln!(
        "first frame after {:.0} ms with {} pods",
        report.first_frame_ms, report.pods
    );

    let api_probe = SimProbe::start(target.clone(), PROBED);
    probe_latencies(&mut driver, &conn.client, &mut report).await?;
    frames(&mut driver, &mut report);
    steady_cpu(&mut driver, &conn.client, opts, &api_probe, &mut report).await?;
    log_ingest(&mut driver, opts, &mut report).await;
    report.peak_rss_mb = process::peak_rss_mib();
    let driver = terminal_bytes(driver, opts, &mut report).await?;
    driver.sources.stop();

    eprintln!("kubectl on the same mesh…");
    let cache = dir.join("kube-cache");
    if let Some((took, pods)) = kubectl::get_pods(&sim.kubeconfig, &cache) {
        report.kubectl_get_pods_ms = Some(millis(took));
        report.kubectl_watch_first_list_ms =
            kubectl::watch_first_listing(&sim.kubeconfig, &cache, pods).map(millis);
    }
    let answers = api_probe.finish().await?;
    report.sim_api_p99_ms = p_ms(&answers.times, 99.0);
    report.sim_api_failed = answers.failed;
    eprintln!(
        "simulated API: p99 {:?} ms over {} requests, {} failed",
        report.sim_api_p99_ms,
        answers.times.len(),
        answers.failed
    );
    drop(sim);
    Ok(report)
}

/// Selects `PROBED` through the filter, so its row and pods are on screen.
async fn select_probed<B: ratatui::backend::Backend>(driver: &mut Driver<B>) {
    let keys = driver.keys();
    let mut typed = vec![key(KeyCode::Char('/'))];
    typed.extend(PROBED.chars().map(|c| key(KeyCode::Char(c))));
    typed.push(key(KeyCode::Enter));
    for k in typed {
        let _ = keys.send((Instant::now(), k)).await;
    }
    driver.run_for(Duration::from_millis(300)).await;
}

/// A namespace label patched through the API until the screen shows it; a pod created and
/// deleted through the API until the screen shows each.
async fn probe_latencies(
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

/// Frames of the whole screen, with the selection moving so every frame has work to do.
fn frames(driver: &mut Driver<TestBackend>, report: &mut Report) {
    driver.take_frames();
    for i in 0..200 {
        let k = if i % 50 < 25 {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        crate::app::update::update(
            &mut driver.state,
            Event::Key(key(k)),
            crate::ui::layout::table_rows,
        );
        driver.draw();
    }
    let frames = driver.take_frames();
    report.frame_p50_ms = p_ms(&frames, 50.0);
    report.frame_p99_ms = p_ms(&frames, 99.0);
}

async fn set_churn(client: &kube::Client, per_second: u32) -> Result<(), BenchError> {
    let faults: Api<ConfigMap> = Api::namespaced(client.clone(), crate::sim::faults::NAMESPACE);
    let patch = serde_json::json!({"data": {"churn.pods-per-second": per_second.to_string()}});
    faults
        .patch(
            crate::sim::faults::CONFIGMAP,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map(|_| ())
        .map_err(BenchError::api("setting the churn"))
}

/// CPU of the cockpit alone (the mesh runs in its own process, and the API probe's thread is
/// left out) while idle, then while the mesh updates 100 pods a second.
async fn steady_cpu(
    driver: &mut Driver<TestBackend>,
    client: &kube::Client,
    opts: &Options,
    api_probe: &SimProbe,
    report: &mut Report,
) -> Result<(), BenchError> {
    let cockpit_cpu = || process::cpu_time().saturating_sub(api_probe.cpu_time());
    let wall = Duration::from_secs(opts.seconds);
    // Let the first metrics rounds and discovery settle.
    driver.run_for(Duration::from_secs(2)).await;
    let (cpu, start) = (cockpit_cpu(), std::time::Instant::now());
    driver.run_for(wall).await;
    report.idle_cpu_pct = process::cpu_percent(cpu, cockpit_cpu(), start.elapsed());

    set_churn(client, CHURN).await?;
    driver.run_for(Duration::from_secs(1)).await;
    let (cpu, start) = (cockpit_cpu(), std::time::Instant::now());
    driver.run_for(wall).await;
    report.churn_cpu_pct = process::cpu_percent(cpu, cockpit_cpu(), start.elapsed());
    report.churn_pod_events_per_s = f64::from(CHURN);
    set_churn(client, 0).await?;
    eprintln!(
        "CPU: idle {:.2}%, churning {:.2}% of a core",
        report.idle_cpu_pct, report.churn_cpu_pct
    );
    Ok(())
}

/// istiod log lines pushed into the loop as fast as it takes them, while a key is pressed
/// every 10 ms: lines per second absorbed, how long keys waited, memory with the ring full.
async fn log_ingest(driver: &mut Driver<TestBackend>, opts: &Options, report: &mut Report) {
    let wall = Duration::from_secs(opts.seconds);
    let lines = driver.injector();
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producer = {
        let (sent, stop) = (sent.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let line = if n.is_multiple_of(50) {
                    format!(
                        "2026-11-24T21:29:57.{:06}Z\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.244.3.9~web-{n}.shop~shop.svc.cluster.local-3 Internal:Error adding/updating listener(s) virtualInbound: unknown field",
                        n % 1_000_000
                    )
                } else {
                    format!(
                        "2026-11-24T21:29:57.{:06}Z\tinfo\tads\tXDS: Pushing Services:412 ConnectedEndpoints:{n} Version:2026-11-24T21:29:57Z/{n}",
                        n % 1_000_000
                    )
                };
                let event = Event::IstiodLog(IstiodLogLine {
                    pod: "istiod-1-25-0-7f9c4d8b6-x2x9z".into(),
                    revision: "1-25-0".into(),
                    line,
                });
                if lines.send(event).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let keys = driver.keys();
    let presser = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut down = true;
            while !stop.load(Ordering::Relaxed) {
                let k = if down { KeyCode::Down } else { KeyCode::Up };
                down = !down;
                if keys.send((Instant::now(), key(k))).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    driver.take_key_waits();
    let start = std::time::Instant::now();
    driver.run_for(wall).await;
    let absorbed = sent.load(Ordering::Relaxed);
    let took = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    driver.run_for(Duration::from_millis(200)).await;
    let _ = producer.await;
    let _ = presser.await;
    report.log_lines_per_s = absorbed as f64 / took.as_secs_f64();
    report.log_key_wait_p99_ms = p_ms(&driver.take_key_waits(), 99.0);
    report.log_ring_full_rss_mb = process::rss_mib();
    eprintln!(
        "log ingest: {:.0} lines/s, key wait p99 {:?} ms",
        report.log_lines_per_s, report.log_key_wait_p99_ms
    );
}

/// The same cockpit drawn through crossterm into a pseudo-terminal, as over SSH: bytes per
/// second in steady state, the mesh's istiod logs streaming.
async fn terminal_bytes(
    driver: Driver<TestBackend>,
    opts: &Options,
    report: &mut Report,
) -> Result<Driver<CrosstermBackend<CountingPty>>, BenchError> {
    let pty = CountingPty::open(WIDTH, HEIGHT).map_err(BenchError::Pty)?;
    let written = pty.counter();
    let terminal = Terminal::new(CrosstermBackend::new(pty)).map_err(BenchError::Terminal)?;
    let mut driver = driver.with_terminal(terminal);
    // The first frame paints everything; steady state starts after it.
    driver.run_for(Duration::from_secs(2)).await;
    let (from, start) = (written.load(Ordering::Relaxed), std::time::Instant::now());
    driver.run_for(Duration::from_secs(opts.seconds)).await;
    let bytes = written.load(Ordering::Relaxed) - from;
    report.terminal_bytes_per_s = bytes as f64 / start.elapsed().as_secs_f64();
    Ok(driver)
}
