//! Watch: newline-delimited JSON events from a resourceVersion, with bookmarks, the
//! `sendInitialEvents` streaming list, `410 Expired` as an ERROR event, and the
//! `watch.drop-seconds` fault that cuts streams.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{Instant, sleep_until};
use tokio_stream::wrappers::ReceiverStream;

use super::read::selectors;
use super::status::ApiError;
use super::table::{self, IncludeObject};
use super::{Request, streaming_response};
use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::SimContext;
use crate::sim::faults::Faults;
use crate::sim::resources::ResourceDef;
use crate::sim::store::{Change, ChangeType, Key, StoreError, Stored};

const BOOKMARK_EVERY: Duration = Duration::from_secs(5);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// Longer timeouts are cut to this, so the stream's deadline stays a representable instant.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

struct Filter {
    def: &'static ResourceDef,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    table: Option<IncludeObject>,
}

impl Filter {
    fn selects(&self, key: &Key, obj: &Stored) -> bool {
        obj.matches(key, &self.labels, &self.fields)
    }

    /// The event type this watcher sees for a change, if any.
    fn event_type(&self, change: &Change) -> Option<ChangeType> {
        if change.resource != self.def.plural {
            return None;
        }
        if let Some(ns) = &self.namespace
            && &change.key.0 != ns
        {
            return None;
        }
        let now = self.selects(&change.key, &change.object);
        let before = change
            .previous
            .as_ref()
            .map(|p| self.selects(&change.key, p));
        match (change.kind, now, before) {
            (ChangeType::Modified, true, Some(false)) => Some(ChangeType::Added),
            (ChangeType::Modified, false, Some(true)) => Some(ChangeType::Deleted),
            (_, true, _) => Some(change.kind),
            _ => None,
        }
    }

    fn encode(&self, kind: &str, obj: &Stored, first: &mut bool) -> Bytes {
        match self.table {
            None => {
                let mut line = Vec::with_capacity(obj.raw.len() + 32);
                line.extend_from_slice(format!("{{\"type\":\"{kind}\",\"object\":").as_bytes());
                line.extend_from_slice(&obj.raw);
                line.extend_from_slice(b"}\n");
                Bytes::from(line)
            }
            Some(include) => {
                let row = table::row(self.def.plural, &obj.value(), include, Utc::now());
                let mut t = table::table(
                    self.def.plural,
                    vec![row],
                    json!({"resourceVersion": obj.rv.to_string()}),
                );
                if !std::mem::take(first) {
                    t["columnDefinitions"] = Value::Null;
                }
                event_line(kind, &t)
            }
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        event_line(
            "BOOKMARK",
            &json!({"kind": self.def.kind, "apiVersion": self.def.api_version(), "metadata": meta}),
        )
    }
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    Bytes::from(format!("{}\n", json!({"type": kind, "object": object})))
}

enum Start {
    Snapshot(u64, Vec<(Key, Stored)>),
    Resume(u64, Vec<Arc<Change>>),
    Expired(String),
}

pub fn serve(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    let (labels, mut fields) = selectors(req)?;
    if let Some(name) = &req.target.name {
        fields = FieldSelector::parse(&format!("metadata.name={name}"))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let filter = Filter {
        def: req.target.def,
        namespace: req.target.namespace.clone(),
        labels,
        fields,
        table: table::wants_table(req.header("accept"))
            .then(|| IncludeObject::parse(req.param("includeObject"))),
    };
    let send_initial = req.param("sendInitialEvents") == Some("true");
    let bookmarks = req.param("allowWatchBookmarks") == Some("true");
    let timeout = match req.param("timeoutSeconds") {
        None | Some("") => DEFAULT_TIMEOUT,
        Some(t) => t
            .parse::<u64>()
            .map(|s| Duration::from_secs(s).min(LONGEST_TIMEOUT))
            .map_err(|_| {
                ApiError::bad_request(format!("timeoutSeconds: invalid number \"{t}\""))
            })?,
    };
    let rv = req.param("resourceVersion").unwrap_or_default();
    let (start, rx) = if send_initial || rv.is_empty() || rv == "0" {
        let (rv, items, rx) = ctx
            .store
            .watch_with_snapshot(filter.def.plural, filter.namespace.as_deref());
        (Start::Snapshot(rv, items), rx)
    } else {
        let from: u64 = rv
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion: {rv}")))?;
        match ctx.store.watch_from(from) {
            Ok((backlog, rx)) => (Start::Resume(from, backlog), rx),
            Err(StoreError::Gone(msg)) => (Start::Expired(msg), ctx.store.subscribe()),
            Err(e) => return Err(e.into()),
        }
    };
    let (tx, body_rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    tokio::spawn(stream_events(
        filter,
        start,
        rx,
        tx,
        send_initial,
        bookmarks,
        timeout,
        ctx.faults.clone(),
    ));
    Ok(streaming_response(
        Body::from_stream(ReceiverStream::new(body_rx)),
        "application/json",
    ))
}

#[allow(clippy::too_many_arguments)]
async fn stream_events(
    filter: Filter,
    start: Start,
    mut rx: broadcast::Receiver<Arc<Change>>,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
    send_initial: bool,
    bookmarks: bool,
    timeout: Duration,
    faults: Arc<Faults>,
) {
    let opened = Instant::now();
    let mut first = true;
    let mut last_rv = match start {
        Start::Expired(msg) => {
            let status = ApiError::new(410, "Expired", msg).body();
            let _ = tx.send(Ok(event_line("ERROR", &status))).await;
            return;
        }
        Start::Snapshot(rv, items) => {
            for (key, obj) in items.iter().filter(|(k, o)| filter.selects(k, o)) {
                let _ = key;
                if tx
                    .send(Ok(filter.encode("ADDED", obj, &mut first)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if send_initial && tx.send(Ok(filter.bookmark(rv, true))).await.is_err() {
                return;
            }
            rv
        }
        Start::Resume(from, backlog) => {
            let mut last = from;
            for change in backlog {
                last = change.rv;
                if let Some(kind) = filter.event_type(&change)
                    && tx
                        .send(Ok(filter.encode(kind.as_str(), &change.object, &mut first)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            last
        }
    };
    let end = opened + timeout;
    let mut tick = tokio::time::interval(BOOKMARK_EVERY);
    tick.tick().await;
    // The drop fault can be switched on while a watch is open, so it is checked as we go.
    let mut fault_check = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            change = rx.recv() => match change {
                Ok(change) => {
                    if change.rv <= last_rv {
                        continue;
                    }
                    last_rv = change.rv;
                    if let Some(kind) = filter.event_type(&change)
                        && tx.send(Ok(filter.encode(kind.as_str(), &change.object, &mut first))).await.is_err()
                    {
                        return;
                    }
                }
                // A watcher this far behind is cut off; it resumes from its last resourceVersion.
                Err(_) => return,
            },
            _ = tick.tick(), if bookmarks => {
                if tx.send(Ok(filter.bookmark(last_rv, false))).await.is_err() {
                    return;
                }
            }
            _ = sleep_until(end) => return,
            _ = fault_check.tick() => {
                let drop = faults.snapshot().watch_drop_seconds;
                if drop > 0 && opened.elapsed() >= Duration::from_secs(drop) {
                    return;
                }
            }
            _ = tx.closed() => return,
        }
    }
}
