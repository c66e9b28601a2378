//! The measurements, one after another on one cockpit and one mesh (one cluster, or a fleet
//! whose every cluster the cockpit watches).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossterm::event::KeyCode;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use tokio::time::Instant;

use super::clusters::{self, Cluster, LOG_RING};
use super::driver::{Driver, Outcome};
use super::latency::{self, PROBED, key, millis, p_ms};
use super::pty::CountingPty;
use super::report::Report;
use super::sim_child::SimChild;
use super::sim_probe::SimProbe;
use super::{BenchError, HEIGHT, Options, WIDTH, kubectl, process};
use crate::app::event::{Event, IstiodLogLine};
use crate::app::fleet::{Fleet, FleetEvent};
use crate::app::state::State;

/// Pod updates per second each cluster's mesh makes during the churn phase.
const CHURN: u32 = 100;
const WAIT: Duration = Duration::from_secs(120);

fn complete(s: &State) -> bool {
    s.cluster.namespaces.synced
        && s.cluster.pods.synced
        && s.cluster.webhooks.synced
        && s.cluster.daemonsets.synced
}

/// Every cluster listed.
fn all_complete(fleet: &Fleet) -> bool {
    fleet.members.iter().all(|m| complete(&m.state))
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
        clusters: opts.clusters,
        namespaces: opts.namespaces,
        seconds_per_phase: opts.seconds,
        cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        log_ring_lines: LOG_RING,
        ..Report::default()
    };
    eprintln!(
        "starting the simulated mesh: {} cluster(s) x {} namespaces x {} pods…",
        opts.clusters, opts.namespaces, opts.pods_per_namespace
    );
    let sim = SimChild::start(opts.clusters, opts.namespaces, opts.pods_per_namespace, dir)?;
    report.sim_ready_ms = millis(sim.ready_after);

    // Start to the first complete state of every cluster and the first full frame.
    let started = Instant::now();
    let clusters::Started {
        mut driver,
        clusters,
        forwarders,
    } = clusters::start(&sim).await?;
    let mut first_state = None;
    let outcome = driver
        .run_until(started + WAIT, |fleet, _| {
            if all_complete(fleet) && first_state.is_none() {
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
    report.pods_per_cluster = driver
        .fleet
        .members
        .iter()
        .map(|m| m.state.cluster.pods.len())
        .collect();
    report.pods = report.pods_per_cluster.iter().sum();
    eprintln!(
        "first frame after {:.0} ms with {} pods",
        report.first_frame_ms, report.pods
    );

    // The last cluster is probed: a fleet's last remote, on screen below the fleet pane.
    let probed = clusters.len() - 1;
    let Cluster {
        name,
        target,
        client,
    } = &clusters[probed];
    report.probed_cluster.clone_from(name);
    latency::select_cluster(&mut driver, probed).await;
    let api_probe = SimProbe::start(target.clone(), PROBED);
    latency::probe(&mut driver, client, &mut report).await?;
    frames(&mut driver, &mut report);
    steady_cpu(&mut driver, &clusters, opts, &api_probe, &mut report).await?;
    log_ingest(&mut driver, probed, opts, &mut report).await;
    report.peak_rss_mb = process::peak_rss_mib();
    let driver = terminal_bytes(driver, opts, &mut report).await?;
    for sources in driver.sources {
        sources.stop();
    }
    for forwarder in forwarders {
        forwarder.abort();
    }

    eprintln!("kubectl on the same mesh (its first cluster)…");
    let cache = dir.join("kube-cache");
    let first = &clusters[0].name;
    if let Some((took, pods)) = kubectl::get_pods(&sim.kubeconfig, first, &cache) {
        report.kubectl_get_pods_ms = Some(millis(took));
        report.kubectl_watch_first_list_ms =
            kubectl::watch_first_listing(&sim.kubeconfig, first, &cache, pods).map(millis);
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

/// Frames of the whole screen, with the selection moving so every frame has work to do.
fn frames(driver: &mut Driver<TestBackend>, report: &mut Report) {
    driver.take_frames();
    for i in 0..200 {
        let k = if i % 50 < 25 {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        driver.apply(FleetEvent::Screen(Event::Key(key(k))));
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
/// left out) while idle, then while each cluster's mesh updates 100 pods a second.
async fn steady_cpu(
    driver: &mut Driver<TestBackend>,
    clusters: &[Cluster],
    opts: &Options,
    api_probe: &SimProbe,
    report: &mut Report,
) -> Result<(), BenchError> {
    let cockpit_cpu = || process::cpu_time().saturating_sub(api_probe.cpu_time());
    let wall = Duration::from_secs(opts.seconds);
    // Let the first metrics rounds and discovery settle.
    driver.run_for(Duration::from_secs(2)).await;
    let (cpu, start) = (cockpit_cpu(), std::time::Instant::now());
    driver.take_frames();
    driver.take_cluster_events();
    driver.run_for(wall).await;
    let took = start.elapsed();
    report.idle_cpu_pct = process::cpu_percent(cpu, cockpit_cpu(), took);
    // What the idle CPU was spent on: frames drawn, and the clusters' events handled.
    report.idle_frames_per_s = driver.take_frames().len() as f64 / took.as_secs_f64();
    report.idle_events_per_s = driver.take_cluster_events() as f64 / took.as_secs_f64();

    for cluster in clusters {
        set_churn(&cluster.client, CHURN).await?;
    }
    driver.run_for(Duration::from_secs(1)).await;
    let (cpu, start) = (cockpit_cpu(), std::time::Instant::now());
    driver.run_for(wall).await;
    report.churn_cpu_pct = process::cpu_percent(cpu, cockpit_cpu(), start.elapsed());
    report.churn_pod_events_per_s = f64::from(CHURN) * clusters.len() as f64;
    for cluster in clusters {
        set_churn(&cluster.client, 0).await?;
    }
    eprintln!(
        "CPU: idle {:.2}% ({:.1} frames/s, {:.1} events/s), churning {:.2}% of a core",
        report.idle_cpu_pct,
        report.idle_frames_per_s,
        report.idle_events_per_s,
        report.churn_cpu_pct
    );
    Ok(())
}

/// istiod log lines pushed into the loop as fast as it takes them, while a key is pressed
/// every 10 ms: lines per second absorbed, how long keys waited, memory with the ring full.
/// The lines are the cluster on screen's (`probed`).
async fn log_ingest(
    driver: &mut Driver<TestBackend>,
    probed: usize,
    opts: &Options,
    report: &mut Report,
) {
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
                if lines.send((probed, event)).await.is_err() {
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
