//! Fetches what the triage pane asks about one pod, and sends it back as `Event::Triage`,
//! tagged with the request's serial: the events (listed again every few seconds), the
//! `istio-proxy` log (followed), the proxy's sync status from istiod's `/debug/syncz`
//! (asked again every few seconds) and the pod as YAML. Only reads.

mod events;
mod proxy_log;
mod proxy_status;

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::event::{
    Event, TriageAnswer, TriagePart, TriageRequest as Request, TriageView as View,
};

/// How often the events and the sync status are asked again while shown.
const REFRESH: Duration = Duration::from_secs(5);

/// Starts answering `request`; the task ends when the pane is closed (it is aborted) or the
/// loop is gone.
pub fn spawn(client: &Client, request: Request, tx: mpsc::Sender<Event>) -> JoinHandle<()> {
    let client = client.clone();
    tokio::spawn(async move {
        let reply = Reply {
            serial: request.serial,
            tx,
        };
        let (ns, pod) = (request.namespace.as_str(), request.pod.as_str());
        match request.view {
            View::Events => loop {
                let part = match events::list(&client, ns, pod).await {
                    Ok(rows) => TriagePart::Events(rows),
                    Err(why) => TriagePart::Failed(why),
                };
                if !reply.send(part).await {
                    return;
                }
                tokio::time::sleep(REFRESH).await;
            },
            View::ProxyStatus => loop {
                let part = match proxy_status::ask(&client, ns, pod).await {
                    Ok(status) => TriagePart::Status(status),
                    Err(why) => TriagePart::Failed(why),
                };
                if !reply.send(part).await {
                    return;
                }
                tokio::time::sleep(REFRESH).await;
            },
            View::ProxyLog => proxy_log::follow(&client, ns, pod, &reply).await,
            View::Yaml => {
                let part = match yaml(&client, ns, pod).await {
                    Ok(text) => TriagePart::Yaml(text),
                    Err(why) => TriagePart::Failed(why),
                };
                reply.send(part).await;
            }
        }
    })
}

/// Where the answers to one request go.
struct Reply {
    serial: u64,
    tx: mpsc::Sender<Event>,
}

impl Reply {
    /// False once nobody listens.
    async fn send(&self, part: TriagePart) -> bool {
        let answer = TriageAnswer {
            serial: self.serial,
            part,
        };
        self.tx.send(Event::Triage(answer)).await.is_ok()
    }
}

/// The pod as `kubectl get -o yaml` shows it (without managed fields).
async fn yaml(client: &Client, ns: &str, pod: &str) -> Result<String, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut object = api
        .get(pod)
        .await
        .map_err(|e| format!("cannot read pod {ns}/{pod}: {e}"))?;
    object.metadata.managed_fields = None;
    let value = serde_json::to_value(&object).map_err(|e| format!("pod {ns}/{pod}: {e}"))?;
    Ok(crate::k8s::yaml::render(&value))
}
