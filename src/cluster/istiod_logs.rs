//! Follows the log of every istiod pod (`pods/log?follow=true`), starting and stopping tails
//! as istiod pods come and go, and reconnecting a tail that breaks.

use std::collections::HashMap;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as WatcherEvent};
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::event::{Event, IstiodLogLine, Stream, StreamStatus};

/// Lines of history each tail starts with.
const FIRST_LINES: i64 = 200;

pub fn spawn(client: &Client, tx: &mpsc::Sender<Event>) -> JoinHandle<()> {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let pods: Api<Pod> = Api::all(client.clone());
        let config = watcher::Config::default().labels("app=istiod");
        let mut stream = std::pin::pin!(watcher::watcher(pods, config).default_backoff());
        let mut tails: HashMap<(String, String), JoinHandle<()>> = HashMap::new();
        while let Some(event) = stream.next().await {
            let pod = match event {
                Ok(WatcherEvent::Apply(p) | WatcherEvent::InitApply(p)) => p,
                Ok(WatcherEvent::Delete(p)) => {
                    if let Some(t) = tails.remove(&key(&p)) {
                        t.abort();
                    }
                    continue;
                }
                Ok(_) => continue,
                Err(e) => {
                    if tx
                        .send(Event::Stream(
                            Stream::IstiodLogs,
                            StreamStatus::Retrying(e.to_string()),
                        ))
                        .await
                        .is_err()
                    {
                        break;
                    }
                    continue;
                }
            };
            let k = key(&pod);
            if let Some(revision) = serving_revision(&pod)
                && !tails.contains_key(&k)
            {
                tails.insert(
                    k.clone(),
                    tokio::spawn(tail(client.clone(), k, revision, tx.clone())),
                );
            }
        }
        for (_, t) in tails {
            t.abort();
        }
    })
}

/// The revision of an istiod pod that is running and not on its way out (its `istio.io/rev`
/// label; `default` without one).
pub(crate) fn serving_revision(pod: &Pod) -> Option<String> {
    let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    if !running || pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let labels = pod.metadata.labels.as_ref();
    Some(
        labels
            .and_then(|l| l.get("istio.io/rev"))
            .cloned()
            .unwrap_or_else(|| "default".into()),
    )
}

fn key(pod: &Pod) -> (String, String) {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

async fn tail(
    client: Client,
    (ns, name): (String, String),
    revision: String,
    tx: mpsc::Sender<Event>,
) {
    let api: Api<Pod> = Api::namespaced(client, &ns);
    let mut first = true;
    loop {
        let params = LogParams {
            container: Some("discovery".into()),
            follow: true,
            tail_lines: Some(if first { FIRST_LINES } else { 0 }),
            ..LogParams::default()
        };
        match api.log_stream(&name, &params).await {
            Ok(reader) => {
                first = false;
                let mut lines = reader.lines();
                loop {
                    match lines.try_next().await {
                        Ok(Some(line)) => {
                            let event = Event::IstiodLog(IstiodLogLine {
                                pod: name.clone(),
                                revision: revision.clone(),
                                line,
                            });
                            if tx.send(event).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            log::warn!("log of {ns}/{name} broke: {e}");
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                log::warn!("cannot follow the log of {ns}/{name}: {e}");
                if tx
                    .send(Event::Stream(
                        Stream::IstiodLogs,
                        StreamStatus::Retrying(e.to_string()),
                    ))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
