//! A pod's events, newest last, as `kubectl events --for pod/<name>` lists them.

use k8s_openapi::api::core::v1::Event as KubeEvent;
use kube::api::ListParams;
use kube::{Api, Client};

use crate::app::event::EventRow;
use crate::cluster::decode::jiff_to_chrono;

pub async fn list(client: &Client, ns: &str, pod: &str) -> Result<Vec<EventRow>, String> {
    let api: Api<KubeEvent> = Api::namespaced(client.clone(), ns);
    let params = ListParams::default().fields(&format!(
        "involvedObject.kind=Pod,involvedObject.name={pod}"
    ));
    let list = api
        .list(&params)
        .await
        .map_err(|e| format!("cannot list the events of pod {ns}/{pod}: {e}"))?;
    let mut rows: Vec<EventRow> = list.items.into_iter().map(row).collect();
    rows.sort_by_key(|r| r.last_seen);
    Ok(rows)
}

fn row(e: KubeEvent) -> EventRow {
    let last_seen = e
        .last_timestamp
        .map(|t| t.0)
        .or(e.event_time.map(|t| t.0))
        .or(e.first_timestamp.map(|t| t.0))
        .and_then(|t| jiff_to_chrono(&t));
    let source = e
        .source
        .and_then(|s| s.component)
        .or(e.reporting_component)
        .unwrap_or_default();
    EventRow {
        last_seen,
        warning: e.type_.as_deref() == Some("Warning"),
        reason: e.reason.unwrap_or_default(),
        message: e.message.unwrap_or_default(),
        count: e.count.unwrap_or(1),
        source,
    }
}
