//! The numbers without any Prometheus: every few seconds, each istiod pod's `:15014/metrics`
//! and a small sample of sidecars' `:15020/stats/prometheus` (the pods the app chose, see
//! `app::metrics_sample`), read through the API server's pod proxy, parsed, and turned into
//! rates between scrapes: the control plane per revision, inbound traffic per namespace and
//! revision, and the sampled pods' requests to other clusters.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::pod_proxy::{self, PagePath};
use crate::app::event::Event;
use crate::metrics::control_plane::{self, Totals};
use crate::metrics::cross_cluster;
use crate::metrics::data_plane::SampleTarget;
use crate::metrics::data_plane::{self, LastScrapes, Place, PodIncrease};
use crate::metrics::exposition;
use crate::metrics::reading::Reading;
use crate::metrics::sidecar_snapshot::SidecarSnapshot;

pub const EVERY: Duration = Duration::from_secs(5);
/// A round gives up what it has not read by then, so it never runs into the next one.
const ROUND: Duration = Duration::from_secs(4);
pub const SOURCE: &str = "istiod scraped through the API server's pod proxy";
/// The most of a sidecar's page that is read (the simulator's is about 40 KiB, a busy real
/// proxy's a few hundred); the tenant who owns the pod decides what it serves.
pub const SIDECAR_PAGE_CAP: usize = 4 * 1024 * 1024;
/// The most of an istiod page that is read. Its series grow with proxy versions and push
/// types, not with pods: 4.5 KiB in the simulator at 51,000 pods, under 1 MiB for a real one.
/// With `pod_proxy::PARALLEL` pages of each kind in flight, a round holds at most 96 MiB.
pub const ISTIOD_PAGE_CAP: usize = 8 * 1024 * 1024;

/// Why the istiod pods could not be listed.
#[derive(Debug, thiserror::Error)]
enum ListError {
    #[error("listing istiod pods: {0}")]
    Api(kube::Error),
    #[error("listing istiod pods: no answer in time")]
    NoAnswer,
}

/// The running istiod pods' pages, keyed by revision.
async fn istiod_pages(client: &Client) -> Result<Vec<(String, PagePath)>, ListError> {
    let pods: Api<Pod> = Api::all(client.clone());
    let params = ListParams::default().labels("app=istiod");
    let list = match tokio::time::timeout(pod_proxy::TIMEOUT, pods.list(&params)).await {
        Ok(Ok(list)) => list,
        Ok(Err(e)) => return Err(ListError::Api(e)),
        Err(_) => return Err(ListError::NoAnswer),
    };
    let mut pages = Vec::new();
    for pod in list.items {
        let Some(revision) = super::istiod_logs::serving_revision(&pod) else {
            continue;
        };
        let path = PagePath {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            pod: pod.metadata.name.clone().unwrap_or_default(),
            port: 15014,
            path: "metrics",
            cap: ISTIOD_PAGE_CAP,
        };
        pages.push((revision, path));
    }
    Ok(pages)
}

/// Every running istiod pod's page, summed per revision.
async fn istiods(
    client: &Client,
    deadline: Instant,
    errors: &mut Vec<String>,
) -> BTreeMap<String, Totals> {
    let pages = match istiod_pages(client).await {
        Ok(pages) => pages,
        Err(e) => {
            errors.push(e.to_string());
            return BTreeMap::new();
        }
    };
    let mut by_revision: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (revision, result) in pod_proxy::fetch_all(client, pages, exposition::parse, deadline).await
    {
        match result {
            Ok((_, scrape)) => by_revision.entry(revision).or_default().push(scrape),
            Err(e) => errors.push(e.to_string()),
        }
    }
    by_revision
        .iter()
        .map(|(rev, pages)| (rev.clone(), control_plane::totals(pages)))
        .collect()
}

/// The sampled sidecars' pages: what each pod counted since its previous scrape. Pods no
/// longer sampled are forgotten; a pod that failed keeps its previous scrape for next time.
async fn sidecars(
    client: &Client,
    targets: &[SampleTarget],
    last: &mut LastScrapes,
    clock: Instant,
    deadline: Instant,
    errors: &mut Vec<String>,
) -> Vec<(SampleTarget, PodIncrease)> {
    let pages = targets
        .iter()
        .map(|t| {
            let path = PagePath {
                namespace: t.namespace.clone(),
                pod: t.pod.clone(),
                port: 15020,
                path: "stats/prometheus",
                cap: SIDECAR_PAGE_CAP,
            };
            (t.clone(), path)
        })
        .collect();
    let mut increases = Vec::new();
    for (t, result) in pod_proxy::fetch_all(client, pages, SidecarSnapshot::read, deadline).await {
        match result {
            Ok((at, scrape)) => {
                let at = at.duration_since(clock).as_secs_f64();
                if let Some(inc) = last.record(&t.namespace, &t.pod, at, scrape) {
                    increases.push((t, inc));
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let wanted: HashSet<(&str, &str)> = targets
        .iter()
        .map(|t| (t.namespace.as_str(), t.pod.as_str()))
        .collect();
    last.retain(|ns, pod| wanted.contains(&(ns, pod)));
    increases
}

/// Scrapes every `EVERY`, sampling the sidecars `targets` holds at the start of each round,
/// and sends a `Reading` from the second round on (rates need two scrapes), or at once when
/// something failed.
pub fn spawn(
    client: &Client,
    targets: watch::Receiver<Vec<SampleTarget>>,
    tx: &mpsc::Sender<Event>,
) -> JoinHandle<()> {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let clock = Instant::now();
        let mut last = LastScrapes::default();
        let mut previous: BTreeMap<String, (Instant, Totals)> = BTreeMap::new();
        let mut first = true;
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let sample = targets.borrow().clone();
            let deadline = Instant::now() + ROUND;
            let (mut errors, mut sidecar_errors) = (Vec::new(), Vec::new());
            let (istiod, sampled) = tokio::join!(
                istiods(&client, deadline, &mut errors),
                sidecars(
                    &client,
                    &sample,
                    &mut last,
                    clock,
                    deadline,
                    &mut sidecar_errors
                ),
            );
            errors.append(&mut sidecar_errors);
            let now = Instant::now();
            // Rates only against the revision's own previous reading: a revision missing from
            // a round (its scrapes failed) keeps its last one instead of counting from zero.
            let mut control_plane = BTreeMap::new();
            for (rev, after) in istiod {
                if let Some((then, before)) = previous.get(&rev) {
                    let seconds = now.duration_since(*then).as_secs_f64();
                    if let Some(rates) = control_plane::rates(before, &after, seconds) {
                        control_plane.insert(rev.clone(), rates);
                    }
                }
                previous.insert(rev, (now, after));
            }
            // Rates need two scrapes: a first round without errors has nothing to say.
            if std::mem::replace(&mut first, false) && errors.is_empty() {
                continue;
            }
            let data_plane = data_plane::traffic(sampled.iter().map(|(t, inc)| {
                let place = Place {
                    namespace: &t.namespace,
                    revision: &t.revision,
                };
                (place, inc)
            }));
            let cross_cluster = cross_cluster::from_pods(
                sampled
                    .iter()
                    .map(|(_, inc)| (inc.seconds, &inc.cross_cluster)),
            );
            let reading = Reading {
                at: chrono::Utc::now(),
                source: SOURCE.into(),
                control_plane,
                data_plane,
                cross_cluster,
                errors,
            };
            if tx.send(Event::Metrics(reading)).await.is_err() {
                return;
            }
        }
    })
}
