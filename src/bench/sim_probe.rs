//! The simulated API server's own answer time while the bench loads it: `/version` and a
//! one-item LIST of pods in one namespace, in turn, ten times a second, on a client of its
//! own. A request that fails or times out counts as the timeout, so a server that stops
//! answering shows in the figure instead of vanishing from it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::Request;
use tokio::time::Instant;

use super::BenchError;
use crate::cluster::connect::{self, Target};

const EVERY: Duration = Duration::from_millis(100);
const TIMEOUT: Duration = Duration::from_secs(10);

/// Answer times so far, and how many requests failed.
#[derive(Debug, Default)]
pub struct Samples {
    pub times: Vec<Duration>,
    pub failed: usize,
}

/// The probe runs on a thread and runtime of its own, so the cockpit's loop in this process
/// cannot delay its requests and blur the server's figure; the CPU that thread uses is kept,
/// so the bench can leave it out of the cockpit's.
pub struct SimProbe {
    stop: Arc<AtomicBool>,
    cpu_nanos: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<Result<Samples, BenchError>>,
}

impl SimProbe {
    /// Starts probing the API server of `target`; `namespace` is where the small LIST looks.
    pub fn start(target: Target, namespace: &str) -> SimProbe {
        let stop = Arc::new(AtomicBool::new(false));
        let paths = [
            "/version".to_string(),
            format!("/api/v1/namespaces/{namespace}/pods?limit=1"),
        ];
        let flag = stop.clone();
        let cpu_nanos = Arc::new(AtomicU64::new(0));
        let spent = cpu_nanos.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(BenchError::ProbeRuntime)?;
            runtime.block_on(async move {
                let conn = connect::connect(&target).await?;
                Ok(probe(conn.client, paths, flag, spent).await)
            })
        });
        SimProbe {
            stop,
            cpu_nanos,
            thread,
        }
    }

    /// CPU time the probe's thread has used so far (as of its last request).
    pub fn cpu_time(&self) -> Duration {
        Duration::from_nanos(self.cpu_nanos.load(Ordering::Relaxed))
    }

    pub async fn finish(self) -> Result<Samples, BenchError> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(BenchError::ProbeJoin)?
            .map_err(|_| BenchError::ProbePanicked)?
    }
}

async fn probe(
    client: kube::Client,
    paths: [String; 2],
    stop: Arc<AtomicBool>,
    cpu_nanos: Arc<AtomicU64>,
) -> Samples {
    let mut samples = Samples::default();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for path in paths.iter().cycle() {
        tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let Ok(request) = Request::get(path.as_str()).body(Vec::new()) else {
            continue;
        };
        let sent = Instant::now();
        let answered = tokio::time::timeout(TIMEOUT, client.request_text(request)).await;
        let spent = super::process::thread_cpu_time().as_nanos();
        cpu_nanos.store(u64::try_from(spent).unwrap_or(u64::MAX), Ordering::Relaxed);
        match answered {
            Ok(Ok(_)) => samples.times.push(sent.elapsed()),
            _ => {
                samples.failed += 1;
                samples.times.push(TIMEOUT.max(sent.elapsed()));
            }
        }
    }
    samples
}
