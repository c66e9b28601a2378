//! List-then-watch with precise stream health. kube-rs' own watcher resumes silently after a
//! failure, so the cockpit could not tell "reconnected" from "still failing"; this loop reports
//! `Connected` the moment a list or a watch request succeeds, `Retrying` when one fails, resumes
//! from the last resourceVersion (bookmarks keep it fresh) and lists again after `410 Expired`.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::app::event::{Event, Stream, StreamStatus, Watch};

const PAGE: u32 = 500;
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(15);

/// Exponential backoff between failed attempts, reset by any success.
struct Backoff(Duration);

impl Backoff {
    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(LAST_RETRY);
        wait
    }
    fn reset(&mut self) {
        self.0 = FIRST_RETRY;
    }
}

/// Turns a Kubernetes object into what the cockpit keeps of it (None: not of interest).
pub type Convert<K, T> = Box<dyn Fn(&K) -> Option<T> + Send + Sync>;

pub struct Source<K, T> {
    pub api: Api<K>,
    pub labels: Option<String>,
    /// A field selector, e.g. `metadata.name=istio-ca-root-cert`.
    pub fields: Option<String>,
    pub id: Stream,
    pub to_info: Convert<K, T>,
    pub wrap: fn(Watch<T>) -> Event,
}

enum Outcome {
    /// The watch ended normally (server timeout, cut connection): watch again.
    Ended,
    /// The resourceVersion is too old: list again.
    Expired,
    Failed(String),
    /// The receiver is gone: the cockpit is closing.
    Closed,
}

fn expired(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

impl<K, T> Source<K, T>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
    T: Send + 'static,
{
    async fn send(&self, tx: &mpsc::Sender<Event>, w: Watch<T>) -> bool {
        tx.send((self.wrap)(w)).await.is_ok()
    }

    async fn status(&self, tx: &mpsc::Sender<Event>, status: StreamStatus) -> bool {
        if let StreamStatus::Retrying(why) = &status {
            log::warn!("{} stream failed, retrying: {why}", self.id.name());
        }
        tx.send(Event::Stream(self.id, status)).await.is_ok()
    }

    /// Lists every page; returns the resourceVersion to watch from.
    async fn list(&self, tx: &mpsc::Sender<Event>) -> Result<Option<String>, kube::Error> {
        let mut params = ListParams::default().limit(PAGE);
        if let Some(l) = &self.labels {
            params = params.labels(l);
        }
        if let Some(f) = &self.fields {
            params = params.fields(f);
        }
        let mut items = Vec::new();
        let mut version = None;
        loop {
            let page = self.api.list(&params).await?;
            // Watching from the first page's version replays at worst a few changes twice.
            version = version.or(page.metadata.resource_version.clone());
            items.extend(page.items.iter().filter_map(|k| (self.to_info)(k)));
            match page.metadata.continue_ {
                Some(token) if !token.is_empty() => params = params.continue_token(&token),
                _ => break,
            }
        }
        let mut alive = self.send(tx, Watch::Init).await;
        for item in items {
            alive = alive && self.send(tx, Watch::InitApply(item)).await;
        }
        alive = alive && self.send(tx, Watch::InitDone).await;
        Ok(if alive { version } else { None })
    }

    async fn watch(&self, tx: &mpsc::Sender<Event>, version: &mut String) -> Outcome {
        let mut params = WatchParams::default().timeout(290);
        if let Some(l) = &self.labels {
            params = params.labels(l);
        }
        if let Some(f) = &self.fields {
            params = params.fields(f);
        }
        let stream = match self.api.watch(&params, version).await {
            Ok(s) => s,
            Err(e) if expired(&e) => return Outcome::Expired,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        if !self.status(tx, StreamStatus::Connected).await {
            return Outcome::Closed;
        }
        let mut stream = std::pin::pin!(stream.into_stream());
        while let Some(item) = stream.next().await {
            let (change, rv) = match item {
                Ok(WatchEvent::Added(k) | WatchEvent::Modified(k)) => {
                    let rv = k.meta().resource_version.clone();
                    ((self.to_info)(&k).map(Watch::Apply), rv)
                }
                Ok(WatchEvent::Deleted(k)) => {
                    let rv = k.meta().resource_version.clone();
                    ((self.to_info)(&k).map(Watch::Delete), rv)
                }
                Ok(WatchEvent::Bookmark(b)) => (None, Some(b.metadata.resource_version)),
                Ok(WatchEvent::Error(s)) if s.code == 410 => return Outcome::Expired,
                Ok(WatchEvent::Error(s)) => return Outcome::Failed(s.message),
                Err(e) => return Outcome::Failed(e.to_string()),
            };
            if let Some(rv) = rv {
                *version = rv;
            }
            if let Some(change) = change
                && !self.send(tx, change).await
            {
                return Outcome::Closed;
            }
        }
        Outcome::Ended
    }

    /// Runs until the receiver is dropped.
    pub async fn run(self, tx: mpsc::Sender<Event>) {
        let mut backoff = Backoff(FIRST_RETRY);
        let mut version: Option<String> = None;
        loop {
            let current = match version.take() {
                Some(v) => v,
                None => match self.list(&tx).await {
                    Ok(Some(v)) => {
                        if !self.status(&tx, StreamStatus::Connected).await {
                            return;
                        }
                        backoff.reset();
                        v
                    }
                    Ok(None) => return,
                    Err(e) => {
                        if !self
                            .status(&tx, StreamStatus::Retrying(e.to_string()))
                            .await
                        {
                            return;
                        }
                        tokio::time::sleep(backoff.next()).await;
                        continue;
                    }
                },
            };
            let mut current = current;
            match self.watch(&tx, &mut current).await {
                Outcome::Ended => {
                    backoff.reset();
                    version = Some(current);
                }
                Outcome::Expired => log::info!("{} watch expired: listing again", self.id.name()),
                Outcome::Failed(why) => {
                    if !self.status(&tx, StreamStatus::Retrying(why)).await {
                        return;
                    }
                    tokio::time::sleep(backoff.next()).await;
                    version = Some(current);
                }
                Outcome::Closed => return,
            }
        }
    }
}
