//! A proxy's sync status as `istioctl proxy-status` shows it: every running istiod is asked
//! for `/debug/syncz` of the pod's namespace, through the API server's pod proxy, and the one
//! that lists the proxy is the one it is connected to.
//!
//! istiod answers its debug endpoints only to localhost or to an authenticated caller; an
//! istiod that refuses the API server's proxy says so here, and `istioctl`, which
//! port-forwards, still works.

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};
use serde::Deserialize;

use crate::app::event::{ProxyStatus, Sync};
use crate::cluster::pod_proxy;

/// The most of a syncz answer read: a namespace of a few thousand proxies fits.
const CAP: usize = 8 << 20;

/// The fields of a `/debug/syncz` row this reads; absent ones read empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncRow {
    proxy: String,
    istio_version: String,
    cluster_sent: String,
    cluster_acked: String,
    listener_sent: String,
    listener_acked: String,
    endpoint_sent: String,
    endpoint_acked: String,
    route_sent: String,
    route_acked: String,
}

impl SyncRow {
    fn status(&self, istiod: String) -> ProxyStatus {
        ProxyStatus {
            istiod,
            istio_version: self.istio_version.clone(),
            types: [
                ("CDS", Sync::of(&self.cluster_sent, &self.cluster_acked)),
                ("LDS", Sync::of(&self.listener_sent, &self.listener_acked)),
                ("EDS", Sync::of(&self.endpoint_sent, &self.endpoint_acked)),
                ("RDS", Sync::of(&self.route_sent, &self.route_acked)),
            ],
        }
    }
}

pub async fn ask(client: &Client, ns: &str, pod: &str) -> Result<ProxyStatus, String> {
    let istiods = running_istiods(client).await?;
    if istiods.is_empty() {
        return Err("no running istiod pod (label app=istiod) to ask".into());
    }
    let proxy = format!("{pod}.{ns}");
    let mut refusals = Vec::new();
    for (istiod_ns, istiod) in &istiods {
        let url = format!(
            "/api/v1/namespaces/{istiod_ns}/pods/{istiod}:15014/proxy/debug/syncz?namespace={ns}"
        );
        let text = match pod_proxy::read_url(client, &url, CAP).await {
            Ok(text) => text,
            Err(e) => {
                refusals.push(format!("{istiod}: {e}"));
                continue;
            }
        };
        let rows: Vec<SyncRow> = match serde_json::from_str(&text) {
            Ok(rows) => rows,
            Err(e) => {
                refusals.push(format!("{istiod}: unreadable syncz: {e}"));
                continue;
            }
        };
        if let Some(row) = rows.iter().find(|r| r.proxy == proxy) {
            return Ok(row.status(format!("{istiod_ns}/{istiod}")));
        }
    }
    let asked: Vec<&str> = istiods.iter().map(|(_, n)| n.as_str()).collect();
    if refusals.len() == istiods.len() {
        return Err(format!(
            "no istiod answered /debug/syncz: {}",
            refusals.join("; ")
        ));
    }
    Err(format!(
        "no istiod lists proxy {proxy}: it is not connected (asked {})",
        asked.join(", ")
    ))
}

async fn running_istiods(client: &Client) -> Result<Vec<(String, String)>, String> {
    let api: Api<Pod> = Api::all(client.clone());
    let pods = api
        .list(&ListParams::default().labels("app=istiod"))
        .await
        .map_err(|e| format!("cannot list istiod pods: {e}"))?;
    Ok(pods
        .items
        .iter()
        .filter(|p| crate::cluster::istiod_logs::serving_revision(p).is_some())
        .map(|p| {
            (
                p.metadata.namespace.clone().unwrap_or_default(),
                p.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect())
}
