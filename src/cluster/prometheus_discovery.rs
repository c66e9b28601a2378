//! Finding a Prometheus inside the cluster when none was given: the plan's
//! `prometheus_service` first, else Services in `istio-system` and `monitoring` whose name
//! contains `prometheus`. A candidate counts only once `vector(1)` answers through the API
//! server's service proxy, so an exporter or an operator with "prometheus" in its name is
//! passed over.

use futures::future::join_all;
use k8s_openapi::api::core::v1::Service;
use kube::Client;
use kube::api::{Api, ListParams};

use super::prometheus_source::{Poller, PrometheusTarget};

/// Where Istio's sample addon and the usual monitoring stacks install Prometheus.
const NAMESPACES: [&str; 2] = ["istio-system", "monitoring"];

/// The first answering Prometheus, or None: then the cockpit scrapes istiod directly.
pub async fn discover(client: &Client, plan_service: Option<&str>) -> Option<PrometheusTarget> {
    let mut tried = Vec::new();
    if let Some(wanted) = plan_service {
        match plan_candidates(client, wanted).await {
            Ok(candidates) => {
                if let Some(found) = first_answering(client, candidates.clone()).await {
                    return Some(found);
                }
                log::warn!(
                    "the plan's prometheus_service {wanted} does not answer PromQL through the API server; looking for another Prometheus"
                );
                tried = candidates;
            }
            Err(e) => log::warn!("the plan's prometheus_service {wanted}: {e}"),
        }
    }
    let mut services = Vec::new();
    for ns in NAMESPACES {
        let api: Api<Service> = Api::namespaced(client.clone(), ns);
        match api.list(&ListParams::default()).await {
            Ok(list) => services.extend(list.items),
            Err(e) => log::debug!("listing Services in {ns}: {e}"),
        }
    }
    let mut found = candidates(&services, |name| name.contains("prometheus"));
    found.retain(|t| !tried.contains(t));
    first_answering(client, found).await
}

/// Why the plan's `prometheus_service` gives nothing to ask.
#[derive(Debug, thiserror::Error)]
enum PlanServiceError {
    #[error("expected namespace/name")]
    NotNamespaced,
    #[error("{0}")]
    Get(kube::Error),
    #[error("the Service has no TCP port")]
    NoTcpPort,
}

async fn plan_candidates(
    client: &Client,
    wanted: &str,
) -> Result<Vec<PrometheusTarget>, PlanServiceError> {
    let (ns, name) = wanted
        .split_once('/')
        .ok_or(PlanServiceError::NotNamespaced)?;
    let api: Api<Service> = Api::namespaced(client.clone(), ns);
    let service = api.get(name).await.map_err(PlanServiceError::Get)?;
    let found = candidates(&[service], |_| true);
    if found.is_empty() {
        return Err(PlanServiceError::NoTcpPort);
    }
    Ok(found)
}

/// Asks every candidate at once; the best-ranked one that answers wins.
async fn first_answering(
    client: &Client,
    candidates: Vec<PrometheusTarget>,
) -> Option<PrometheusTarget> {
    let probes = candidates.iter().map(|target| async move {
        let poller = Poller::new(client.clone(), target.clone()).ok()?;
        match poller.query("vector(1)").await {
            Ok(_) => Some(()),
            Err(e) => {
                log::debug!("{}: {e}", target.describe());
                None
            }
        }
    });
    let answers = join_all(probes).await;
    candidates
        .into_iter()
        .zip(answers)
        .find_map(|(target, ok)| ok.map(|()| target))
}

/// The (service, port) pairs worth probing, best first: a Service called exactly
/// `prometheus`, then the others by namespace and name; within one, port 9090, then a port
/// named `http` or `web`, then the rest. Ports that are not TCP are skipped.
fn candidates(services: &[Service], keep: impl Fn(&str) -> bool) -> Vec<PrometheusTarget> {
    let mut ranked = Vec::new();
    for svc in services {
        let (Some(ns), Some(name)) = (&svc.metadata.namespace, &svc.metadata.name) else {
            continue;
        };
        if !keep(name) {
            continue;
        }
        let ports = svc.spec.iter().flat_map(|s| s.ports.iter().flatten());
        for p in ports {
            let tcp = p.protocol.as_deref().is_none_or(|proto| proto == "TCP");
            let Ok(port) = u16::try_from(p.port) else {
                continue;
            };
            if !tcp {
                continue;
            }
            let port_rank = match (port, p.name.as_deref()) {
                (9090, _) => 0,
                (_, Some("http" | "web" | "http-web")) => 1,
                _ => 2,
            };
            let ns_rank = NAMESPACES
                .iter()
                .position(|n| n == ns)
                .unwrap_or(NAMESPACES.len());
            let key = (name != "prometheus", ns_rank, name.clone(), port_rank, port);
            let target = PrometheusTarget::Service {
                namespace: ns.clone(),
                name: name.clone(),
                port,
            };
            ranked.push((key, target));
        }
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0));
    ranked.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(ns: &str, name: &str, ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {"ports": ports}
        }))
        .unwrap()
    }

    fn short(targets: &[PrometheusTarget]) -> Vec<String> {
        targets
            .iter()
            .map(|t| match t {
                PrometheusTarget::Service {
                    namespace,
                    name,
                    port,
                } => format!("{namespace}/{name}:{port}"),
                PrometheusTarget::Url { url, .. } => url.to_string(),
            })
            .collect()
    }

    #[test]
    fn prometheus_by_name_first_then_preferred_ports() {
        let services = [
            service(
                "monitoring",
                "prometheus-node-exporter",
                json!([{"name": "metrics", "port": 9100}]),
            ),
            service(
                "monitoring",
                "grafana",
                json!([{"name": "http", "port": 3000}]),
            ),
            service(
                "monitoring",
                "prometheus-k8s",
                json!([{"name": "reloader", "port": 8080}, {"name": "web", "port": 9091}]),
            ),
            service(
                "istio-system",
                "prometheus",
                json!([{"name": "http", "port": 9090}, {"name": "dns", "port": 53, "protocol": "UDP"}]),
            ),
            service(
                "istio-system",
                "istiod-1-25-0",
                json!([{"name": "http-monitoring", "port": 15014}]),
            ),
        ];
        let found = candidates(&services, |n| n.contains("prometheus"));
        assert_eq!(
            short(&found),
            [
                "istio-system/prometheus:9090",
                "monitoring/prometheus-k8s:9091",
                "monitoring/prometheus-k8s:8080",
                "monitoring/prometheus-node-exporter:9100",
            ]
        );
    }

    #[test]
    fn a_service_without_ports_is_no_candidate() {
        let bare: Service = serde_json::from_value(json!({
            "metadata": {"namespace": "monitoring", "name": "prometheus"}
        }))
        .unwrap();
        assert!(candidates(&[bare], |_| true).is_empty());
    }
}
