//! The direct-scrape source against the simulator: a few sidecars of one namespace read through
//! the API server's pod proxy give its traffic on its revision, and a latency or 5xx fault
//! switched on for that revision shows in the next readings. A slow API server does not
//! stretch the rounds. The same rounds read istiod's CPU and memory.

use std::time::Duration;

use istio_cockpit::app::event::Event;
use istio_cockpit::cluster::metrics_source;
use istio_cockpit::metrics::data_plane::{SCRAPE_EVERY, Sample};
use istio_cockpit::metrics::reading::{Reading, Traffic};
use kube::Client;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::common;
use crate::common::sidecars::sample_targets;

const NAMESPACE: &str = "checkout";
const REVISION: &str = "1-24-0";

/// Readings until `check` finds what it wants in one, or `within` passes.
async fn reading_where<T>(
    rx: &mut mpsc::Receiver<Event>,
    within: Duration,
    mut check: impl FnMut(&Reading) -> Option<T>,
) -> Result<T, Vec<Reading>> {
    let end = Instant::now() + within;
    let mut seen = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout_at(end, rx.recv()).await {
        let Event::Metrics(reading) = event else {
            continue;
        };
        if let Some(found) = check(&reading) {
            return Ok(found);
        }
        seen.push(reading);
    }
    Err(seen)
}

fn sampled(reading: &Reading) -> Option<Traffic> {
    reading
        .traffic(NAMESPACE, REVISION)
        .filter(|t| t.requests_per_s > 0.0)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_sidecars_give_traffic_and_show_a_faulty_revision() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let chosen = sample_targets(&client, NAMESPACE, REVISION).await;
    let (_sample, sample) = watch::channel(Sample {
        targets: chosen.clone(),
        every: SCRAPE_EVERY,
    });
    let (tx, mut rx) = mpsc::channel(16);
    let task = metrics_source::spawn(&client, sample, &tx);

    // Rates need two rounds, 5 s apart.
    let (healthy, istiod) = reading_where(&mut rx, Duration::from_secs(20), |r| {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        Some((sampled(r)?, r.control_plane.get(REVISION)?.clone()))
    })
    .await
    .unwrap_or_else(|seen| panic!("no traffic for {NAMESPACE} on {REVISION}: {seen:?}"));
    assert_eq!(healthy.sampled_pods, Some(chosen.len()));
    let ratio = healthy.error_ratio.expect("a ratio with traffic");
    assert!((0.0..=1.0).contains(&ratio), "{ratio}");
    let p99 = healthy.p99_ms.expect("a p99 with traffic");
    assert!(p99 > 0.0 && p99 < 400.0, "p99 {p99} ms before any fault");
    // The same rounds read istiod's own CPU and memory.
    assert!(istiod.cpu_cores.is_some_and(|c| c > 0.0), "{istiod:?}");
    assert!(istiod.memory_bytes.is_some_and(|m| m > 1e6), "{istiod:?}");

    sim.set_faults(r#"{"data": {"latency.1-24-0": "400"}}"#);
    let slow = reading_where(&mut rx, Duration::from_secs(20), |r| {
        sampled(r).and_then(|t| t.p99_ms).filter(|p99| *p99 > 400.0)
    })
    .await
    .unwrap_or_else(|seen| panic!("p99 never rose above 400 ms: {seen:?}"));
    assert!(slow < 5000.0, "{slow}");

    sim.set_faults(r#"{"data": {"errors.1-24-0": "0.2"}}"#);
    reading_where(&mut rx, Duration::from_secs(20), |r| {
        sampled(r)
            .and_then(|t| t.error_ratio)
            .filter(|ratio| (0.15..=0.25).contains(ratio))
    })
    .await
    .unwrap_or_else(|seen| panic!("the 5xx ratio never came near 0.2: {seen:?}"));
    task.abort();
}

/// A cluster of a fleet nobody looks at is sampled less often: its rounds come `every` apart,
/// not every `SCRAPE_EVERY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_asked_less_often_is_read_less_often() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let chosen = sample_targets(&client, NAMESPACE, REVISION).await;
    let every = SCRAPE_EVERY * 2;
    let (_sample, sample) = watch::channel(Sample {
        targets: chosen,
        every,
    });
    let (tx, mut rx) = mpsc::channel(16);
    let started = Instant::now();
    let task = metrics_source::spawn(&client, sample, &tx);
    let mut arrived = Vec::new();
    while arrived.len() < 2 {
        let reading = reading_where(&mut rx, Duration::from_secs(30), |r| {
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            Some(())
        })
        .await;
        assert!(reading.is_ok(), "no reading within 30 s");
        arrived.push(started.elapsed());
    }
    task.abort();
    // Rates need two rounds: the first reading comes with the second round.
    let slack = SCRAPE_EVERY / 2;
    assert!(
        arrived[0] + slack >= every,
        "first reading after {arrived:?}"
    );
    assert!(
        arrived[1] - arrived[0] + slack >= every,
        "readings at {arrived:?}"
    );
}

async fn answers_slowly(client: &Client) -> bool {
    let asked = Instant::now();
    let _ = client.apiserver_version().await;
    asked.elapsed() >= Duration::from_millis(3500)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_server_does_not_stretch_the_rounds() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let chosen = sample_targets(&client, NAMESPACE, REVISION).await;
    let (_sample, sample) = watch::channel(Sample {
        targets: chosen.clone(),
        every: SCRAPE_EVERY,
    });
    let (tx, mut rx) = mpsc::channel(16);
    // Every request, the pod proxy's included, now takes longer than a scrape may.
    sim.set_faults(r#"{"data": {"api.latency-ms": "3500"}}"#);
    let mut in_effect = false;
    for _ in 0..20 {
        if answers_slowly(&client).await {
            in_effect = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(in_effect, "the latency fault never took effect");
    let started = Instant::now();
    let task = metrics_source::spawn(&client, sample, &tx);
    let mut arrivals = Vec::new();
    while arrivals.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(12), rx.recv())
            .await
            .expect("a reading within 12 s")
            .expect("the source runs");
        let Event::Metrics(reading) = event else {
            continue;
        };
        assert!(reading.is_down(), "{reading:?}");
        for t in &chosen {
            let pod = format!("{}/{}", t.namespace, t.pod);
            assert!(
                reading.errors.iter().any(|e| e.starts_with(&pod)),
                "no error names {pod}: {:?}",
                reading.errors
            );
        }
        arrivals.push(started.elapsed());
    }
    // The first round is at once and the next 5 s later: neither waits for the slow answers.
    assert!(arrivals[0] < Duration::from_secs(5), "{arrivals:?}");
    assert!(
        arrivals[1] - arrivals[0] < Duration::from_secs(6),
        "{arrivals:?}"
    );
    task.abort();
}
