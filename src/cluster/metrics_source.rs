//! The control plane's numbers without any Prometheus: every few seconds, each istiod pod's
//! `:15014/metrics` read through the API server's pod proxy (no port-forward), parsed, summed
//! per revision, and turned into rates between scrapes.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::Request;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::event::Event;
use crate::metrics::control_plane::{self, Totals};
use crate::metrics::exposition::{self, Scrape};
use crate::metrics::reading::Reading;

pub const EVERY: Duration = Duration::from_secs(5);
pub const SOURCE: &str = "istiod scraped through the API server's pod proxy";

async fn scrape(client: &Client, ns: &str, pod: &str) -> Result<Scrape, String> {
    let path = format!("/api/v1/namespaces/{ns}/pods/{pod}:15014/proxy/metrics");
    let request = Request::get(&path)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let text = client
        .request_text(request)
        .await
        .map_err(|e| format!("{pod}: {e}"))?;
    exposition::parse(&text).map_err(|e| format!("{pod}: unreadable metrics: {e}"))
}

/// One round: every running istiod pod's page, summed per revision.
async fn round(client: &Client) -> (BTreeMap<String, Totals>, Vec<String>) {
    let pods: Api<Pod> = Api::all(client.clone());
    let list = match pods.list(&ListParams::default().labels("app=istiod")).await {
        Ok(l) => l,
        Err(e) => return (BTreeMap::new(), vec![format!("listing istiod pods: {e}")]),
    };
    let mut pages: BTreeMap<String, Vec<Scrape>> = BTreeMap::new();
    let mut errors = Vec::new();
    for pod in list.items {
        let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
        if !running || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let revision = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("istio.io/rev"))
            .cloned()
            .unwrap_or_else(|| "default".into());
        match scrape(client, &ns, &name).await {
            Ok(page) => pages.entry(revision).or_default().push(page),
            Err(e) => errors.push(e),
        }
    }
    let totals = pages
        .iter()
        .map(|(rev, p)| (rev.clone(), control_plane::totals(p)))
        .collect();
    (totals, errors)
}

pub fn spawn(client: &Client, tx: &mpsc::Sender<Event>) -> JoinHandle<()> {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let mut previous: Option<(tokio::time::Instant, BTreeMap<String, Totals>)> = None;
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let (totals, errors) = round(&client).await;
            let now = tokio::time::Instant::now();
            let revisions = match &previous {
                Some((then, before)) => {
                    let seconds = now.duration_since(*then).as_secs_f64();
                    totals
                        .iter()
                        .filter_map(|(rev, after)| {
                            let before = before.get(rev).cloned().unwrap_or_default();
                            Some((rev.clone(), control_plane::rates(&before, after, seconds)?))
                        })
                        .collect()
                }
                None => BTreeMap::new(),
            };
            let first = previous.is_none();
            previous = Some((now, totals));
            if first && errors.is_empty() {
                // Rates need two scrapes.
                continue;
            }
            let metrics = Reading {
                at: chrono::Utc::now(),
                source: SOURCE.into(),
                control_plane: revisions,
                data_plane: BTreeMap::new(),
                errors,
            };
            if tx.send(Event::Metrics(metrics)).await.is_err() {
                return;
            }
        }
    })
}
