//! A fleet cluster's east-west gateway: the proxy other clusters reach its services (and, on
//! a primary, its istiod) through. Its pods run the old revision's proxy image and are not
//! injected: the gateway is the proxy.

use serde_json::json;

use super::{Builder, OLD_VERSION, days_ago};
use crate::sim::injection::PROXY_IMAGE;
use crate::sim::store::StoreError;
use crate::sim::workloads::{self, DeploymentSpec};

pub const NAME: &str = "istio-eastwestgateway";
pub const NAMESPACE: &str = "istio-system";

/// What a cluster of a fleet needs beyond a lone cluster's objects.
#[derive(Debug, Clone)]
pub struct FleetCluster {
    /// The cluster's network, `topology.istio.io/network`.
    pub network: String,
    /// The east-west gateway's load-balancer address.
    pub eastwest_address: String,
    /// Set on a remote of a primary-remote fleet: where the primary's istiod is.
    pub remote: Option<super::RemoteControlPlane>,
}

impl Builder<'_> {
    pub(super) fn eastwest_gateway(&mut self, fleet: &FleetCluster) -> Result<(), StoreError> {
        let labels = json!({"app": NAME, "istio": "eastwestgateway", "topology.istio.io/network": fleet.network});
        let spec = DeploymentSpec {
            namespace: NAMESPACE,
            name: NAME,
            replicas: 2,
            image: format!("{PROXY_IMAGE}:{OLD_VERSION}"),
            labels: labels.clone(),
            pod_annotations: json!({"sidecar.istio.io/inject": "false", "prometheus.io/scrape": "false"}),
            cpu: "100m",
            memory: "128Mi",
        };
        let mut deploy = workloads::deployment(&spec, &days_ago(120));
        deploy["metadata"]["labels"] = labels.clone();
        let container = &mut deploy["spec"]["template"]["spec"]["containers"][0];
        container["name"] = json!("istio-proxy");
        container["args"] = json!([
            "proxy",
            "router",
            "--domain",
            "$(POD_NAMESPACE).svc.cluster.local"
        ]);
        container["ports"] = json!([
            {"containerPort": 15021, "name": "status-port", "protocol": "TCP"},
            {"containerPort": 15443, "name": "tls", "protocol": "TCP"},
            {"containerPort": 15012, "name": "tls-istiod", "protocol": "TCP"},
            {"containerPort": 15017, "name": "tls-webhook", "protocol": "TCP"}]);
        container["readinessProbe"] =
            json!({"httpGet": {"path": "/healthz/ready", "port": 15021}, "periodSeconds": 2});
        self.deployment_with_pods(deploy, &[], 30, 0)?;
        self.store.create(
            "services",
            NAMESPACE,
            json!({"metadata": {"name": NAME, "labels": labels},
                   "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.40", "selector": {"app": NAME},
                            "ports": [{"name": "status-port", "port": 15021, "protocol": "TCP"},
                                      {"name": "tls", "port": 15443, "protocol": "TCP"},
                                      {"name": "tls-istiod", "port": 15012, "protocol": "TCP"},
                                      {"name": "tls-webhook", "port": 15017, "protocol": "TCP"}]},
                   "status": {"loadBalancer": {"ingress": [{"ip": fleet.eastwest_address}]}}}),
        )?;
        Ok(())
    }
}
