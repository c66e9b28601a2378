//! Where the metrics come from: `--prometheus` when given, else a Prometheus found in the
//! cluster (the plan's `prometheus_service`, then istio-system and monitoring), else istiod
//! and a sample of sidecars scraped directly through the API server.

use kube::Client;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::prometheus_source::{self, Mapping, PrometheusTarget};
use super::{metrics_source, prometheus_discovery};
use crate::app::event::Event;
use crate::metrics::data_plane::Sample;

/// Aborts the source it holds when dropped, so aborting the outer task stops it too.
struct Owned(JoinHandle<()>);

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn spawn(
    client: &Client,
    prometheus: Option<PrometheusTarget>,
    plan_service: Option<String>,
    sample: watch::Receiver<Sample>,
    mapping: Mapping,
    tx: &mpsc::Sender<Event>,
) -> JoinHandle<()> {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let found = match prometheus {
            Some(target) => Some(target),
            None => prometheus_discovery::discover(&client, plan_service.as_deref()).await,
        };
        let mut source = match found {
            Some(target) => {
                log::info!("metrics: {}", target.describe());
                Owned(prometheus_source::spawn_mapped(client, target, mapping, tx))
            }
            None => {
                log::info!(
                    "metrics: no Prometheus found; scraping istiod and a sample of sidecars"
                );
                // Nobody needs the pods' revisions then: the cockpit stops working them out.
                drop(mapping);
                Owned(metrics_source::spawn(&client, sample, &tx))
            }
        };
        let _ = (&mut source.0).await;
    })
}
