//! kube-rs watchers for everything the panes show, turned into app events. Failures are
//! reported as stream status and retried with backoff; nothing here writes.

use futures::{Stream, StreamExt};
use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as WatcherEvent};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::event::{Event, Stream as StreamId, StreamStatus, Watch};
use crate::app::pod::PodInfo;
use crate::app::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};

fn convert<K, T>(event: WatcherEvent<K>, f: &impl Fn(&K) -> Option<T>) -> Option<Watch<T>> {
    Some(match event {
        WatcherEvent::Init => Watch::Init,
        WatcherEvent::InitApply(k) => Watch::InitApply(f(&k)?),
        WatcherEvent::InitDone => Watch::InitDone,
        WatcherEvent::Apply(k) => Watch::Apply(f(&k)?),
        WatcherEvent::Delete(k) => Watch::Delete(f(&k)?),
    })
}

fn spawn_one<K, T>(
    api: Api<K>,
    config: watcher::Config,
    id: StreamId,
    tx: mpsc::Sender<Event>,
    to_info: impl Fn(&K) -> Option<T> + Send + Sync + 'static,
    wrap: fn(Watch<T>) -> Event,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(watcher::watcher(api, config).default_backoff());
        forward(&mut stream, id, &tx, &to_info, wrap).await;
    })
}

async fn forward<K, T>(
    stream: &mut (impl Stream<Item = Result<WatcherEvent<K>, watcher::Error>> + Unpin),
    id: StreamId,
    tx: &mpsc::Sender<Event>,
    to_info: &(impl Fn(&K) -> Option<T> + Sync),
    wrap: fn(Watch<T>) -> Event,
) {
    let mut failing = false;
    while let Some(item) = stream.next().await {
        let sent = match item {
            Ok(event) => {
                if std::mem::take(&mut failing) {
                    log::info!("{} stream reconnected", id.name());
                }
                match convert(event, to_info) {
                    Some(w) => tx.send(wrap(w)).await,
                    None => Ok(()),
                }
            }
            Err(e) => {
                failing = true;
                log::warn!("{} stream failed, retrying: {e}", id.name());
                tx.send(Event::Stream(id, StreamStatus::Retrying(e.to_string())))
                    .await
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Starts every watcher. They stop when the receiver is dropped.
pub fn spawn(client: &Client, tx: &mpsc::Sender<Event>) -> Vec<JoinHandle<()>> {
    let default = watcher::Config::default;
    vec![
        spawn_one(
            Api::<Namespace>::all(client.clone()),
            default(),
            StreamId::Namespaces,
            tx.clone(),
            |n: &Namespace| Some(NamespaceInfo::from_namespace(n)),
            Event::Namespaces,
        ),
        spawn_one(
            Api::<Pod>::all(client.clone()),
            default(),
            StreamId::Pods,
            tx.clone(),
            |p: &Pod| Some(PodInfo::from_pod(p)),
            Event::Pods,
        ),
        spawn_one(
            Api::<MutatingWebhookConfiguration>::all(client.clone()),
            default().labels("istio.io/rev"),
            StreamId::Webhooks,
            tx.clone(),
            WebhookInfo::from_config,
            Event::Webhooks,
        ),
        spawn_one(
            Api::<DaemonSet>::namespaced(client.clone(), "istio-system"),
            default(),
            StreamId::DaemonSets,
            tx.clone(),
            |d: &DaemonSet| {
                let name = d.metadata.name.as_deref()?;
                matches!(name, "ztunnel" | "istio-cni-node")
                    .then(|| DaemonSetInfo::from_daemonset(d))
            },
            Event::DaemonSets,
        ),
    ]
}
