//! The control plane a cluster starts with: both istiod revisions with their webhooks, or, on
//! a remote cluster of a primary-remote fleet, only the webhooks, pointing at the primary's
//! istiod through its east-west gateway, and the injector ConfigMaps that say what each
//! revision injects.

use serde_json::{Value, json};

use super::{Builder, NEW_REVISION, NEW_VERSION, OLD_REVISION, OLD_VERSION, days_ago};
use crate::sim::injection::{self, PILOT_IMAGE, PROXY_IMAGE};
use crate::sim::store::StoreError;
use crate::sim::workloads::{self, DeploymentSpec};

/// Where a remote cluster's webhooks reach the primary's istiod.
#[derive(Debug, Clone)]
pub struct RemoteControlPlane {
    /// `https://<primary east-west gateway address>:15017`.
    pub istiod_url: String,
    /// The remote cluster's own name and network, as Istio's injection path carries them.
    pub cluster: String,
    pub network: String,
    /// `<address>:15012`: where the remote's proxies get their configuration.
    pub discovery_address: String,
}

impl RemoteControlPlane {
    /// The injection URL without its revision: `.../inject/cluster/<c>/net/<n>`.
    pub fn injection_url(&self) -> String {
        format!(
            "{}/inject/cluster/{}/net/{}",
            self.istiod_url, self.cluster, self.network
        )
    }
}

/// How ztunnel is installed: its version, and its update strategy.
#[derive(Debug, Clone, Copy)]
pub struct Ambient {
    pub ztunnel_version: &'static str,
    /// `spec.updateStrategy.rollingUpdate` as (maxSurge, maxUnavailable).
    pub ztunnel_rolling: (&'static str, &'static str),
}

impl Default for Ambient {
    /// As Istio's ztunnel chart installs it: one node at a time, the new pod before the old
    /// one goes (maxSurge 1, maxUnavailable 0).
    fn default() -> Self {
        Ambient {
            ztunnel_version: OLD_VERSION,
            ztunnel_rolling: ("1", "0"),
        }
    }
}

/// `"1"` -> 1, `"25%"` -> "25%": the int-or-string the API keeps.
fn int_or_percent(text: &str) -> Value {
    text.parse::<i64>()
        .map_or_else(|_| json!(text), |n| json!(n))
}

fn validation_client(remote: Option<&RemoteControlPlane>) -> Value {
    match remote {
        None => {
            json!({"service": {"name": format!("istiod-{OLD_REVISION}"), "namespace": "istio-system", "path": "/validate", "port": 443}})
        }
        Some(remote) => json!({"url": format!("{}/validate", remote.istiod_url)}),
    }
}

impl Builder<'_> {
    pub(super) fn control_plane(
        &mut self,
        remote: Option<&RemoteControlPlane>,
    ) -> Result<(), StoreError> {
        self.namespace("istio-system", &[], 400)?;
        for (rev, version, age) in [
            (OLD_REVISION, OLD_VERSION, 120),
            (NEW_REVISION, NEW_VERSION, 0),
        ] {
            self.versions.insert(rev.to_string(), version.to_string());
            match remote {
                None => self.istiod(rev, version, age)?,
                Some(remote) => self.remote_injector(remote, rev, version)?,
            }
        }
        for tag in ["default", "stable"] {
            let mut hook = injection::tag_webhook_config(tag, OLD_REVISION);
            if let Some(remote) = remote {
                injection::point_at_url(&mut hook, &remote.injection_url());
            }
            self.store
                .create("mutatingwebhookconfigurations", "", hook.clone())?;
            self.webhooks.push(hook);
        }
        self.store.create(
            "validatingwebhookconfigurations",
            "",
            json!({"metadata": {"name": "istiod-default-validator", "labels": {"app": "istiod", "istio.io/rev": OLD_REVISION, "istio.io/tag": "default"}},
                   "webhooks": [{"name": "validation.istio.io", "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Ignore",
                                 "clientConfig": validation_client(remote),
                                 "rules": [{"apiGroups": ["security.istio.io", "networking.istio.io"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["*"]}]}]}),
        )?;
        let ambient = self.ambient;
        let (surge, unavailable) = ambient.ztunnel_rolling;
        let ztunnel_rolling = json!({"maxSurge": int_or_percent(surge), "maxUnavailable": int_or_percent(unavailable)});
        self.daemonset(
            ("ztunnel", "istio/ztunnel", "ztunnel"),
            ambient.ztunnel_version,
            ztunnel_rolling,
        )?;
        self.daemonset(
            ("istio-cni-node", "istio/install-cni", "install-cni"),
            OLD_VERSION,
            json!({"maxUnavailable": 1}),
        )
    }

    /// A DaemonSet of istio-system `(name, image, container)` at `version`, with a pod on
    /// every node.
    fn daemonset(
        &mut self,
        (name, image, container): (&str, &str, &str),
        version: &str,
        rolling_update: Value,
    ) -> Result<(), StoreError> {
        let labels = json!({"app": name, "istio.io/rev": OLD_REVISION});
        let ds = self.store.create(
            "daemonsets",
            "istio-system",
            json!({"metadata": {"name": name, "labels": labels, "creationTimestamp": days_ago(120)},
                   "spec": {"selector": {"matchLabels": {"app": name}},
                            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling_update},
                            "template": {"metadata": {"labels": labels, "annotations": {"istio.io/rev": OLD_REVISION, "sidecar.istio.io/inject": "false"}},
                                         "spec": {"containers": [{"name": container, "image": format!("{image}:{version}"),
                                                                  "resources": {"requests": {"cpu": "200m", "memory": "512Mi"}}}]}}}}),
        )?;
        let ds = ds.value();
        let nodes = self.nodes.clone();
        for (node, host_ip) in &nodes {
            let pod_name = format!(
                "{name}-{}",
                crate::sim::names::suffix(self.name_base + self.next_ip + 7_000_000)
            );
            self.running_pod(&ds, &pod_name, node, host_ip, 100, None)?;
        }
        let n = nodes.len();
        self.store.modify("daemonsets", "istio-system", name, |d| {
            let mut d = d.clone();
            d["status"] = json!({"desiredNumberScheduled": n, "currentNumberScheduled": n, "numberReady": n, "updatedNumberScheduled": n,
                                 "numberAvailable": n, "numberMisscheduled": 0, "observedGeneration": 1});
            Ok(d)
        })?;
        Ok(())
    }

    fn istiod(&mut self, rev: &str, version: &str, age: i64) -> Result<(), StoreError> {
        let name = format!("istiod-{rev}");
        let labels = json!({"app": "istiod", "istio": "pilot", "istio.io/rev": rev});
        let spec = DeploymentSpec {
            namespace: "istio-system",
            name: &name,
            replicas: 2,
            image: format!("{PILOT_IMAGE}:{version}"),
            labels: labels.clone(),
            pod_annotations: json!({"prometheus.io/scrape": "true", "prometheus.io/port": "15014", "sidecar.istio.io/inject": "false"}),
            cpu: "500m",
            memory: "2Gi",
        };
        let mut deploy = workloads::deployment(&spec, &days_ago(age));
        deploy["metadata"]["labels"] = labels.clone();
        deploy["spec"]["selector"] = json!({"matchLabels": {"app": "istiod", "istio.io/rev": rev}});
        deploy["spec"]["template"]["spec"]["containers"][0]["name"] = json!("discovery");
        deploy["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([
            {"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 15010, "protocol": "TCP"},
            {"containerPort": 15012, "protocol": "TCP"}, {"containerPort": 15014, "name": "http-monitoring", "protocol": "TCP"},
            {"containerPort": 15017, "protocol": "TCP"}]);
        self.deployment_with_pods(deploy, &[], age.max(1) - 1, 0)?;
        self.store.create(
            "services",
            "istio-system",
            json!({"metadata": {"name": name, "labels": labels, "creationTimestamp": days_ago(age)},
                   "spec": {"type": "ClusterIP", "clusterIP": format!("10.96.0.{}", if rev == OLD_REVISION { 20 } else { 21 }),
                            "selector": {"app": "istiod", "istio.io/rev": rev},
                            "ports": [{"name": "grpc-xds", "port": 15010, "protocol": "TCP"}, {"name": "https-dns", "port": 15012, "protocol": "TCP"},
                                      {"name": "https-webhook", "port": 443, "targetPort": 15017, "protocol": "TCP"}, {"name": "http-monitoring", "port": 15014, "protocol": "TCP"}]}}),
        )?;
        self.pdb(
            "istio-system",
            &name,
            json!({"app": "istiod", "istio.io/rev": rev}),
        )?;
        let hook = injection::revision_webhook_config(rev);
        self.store
            .create("mutatingwebhookconfigurations", "", hook.clone())?;
        self.webhooks.push(hook);
        self.store.create(
            "configmaps",
            "istio-system",
            json!({"metadata": {"name": format!("istio-{rev}"), "labels": {"istio.io/rev": rev}},
                   "data": {"mesh": "defaultConfig:\n  discoveryAddress: istiod-".to_string() + rev + ".istio-system.svc:15012\n  holdApplicationUntilProxyStarts: true\nenablePrometheusMerge: true\n"}}),
        )?;
        Ok(())
    }

    /// A remote's share of a revision: its injector webhook (through the primary's gateway),
    /// the injector's ConfigMap (which proxy version the revision injects) and the mesh config.
    fn remote_injector(
        &mut self,
        remote: &RemoteControlPlane,
        rev: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        let mut hook = injection::revision_webhook_config(rev);
        injection::point_at_url(&mut hook, &remote.injection_url());
        self.store
            .create("mutatingwebhookconfigurations", "", hook.clone())?;
        self.webhooks.push(hook);
        let values = json!({
            "revision": rev,
            "global": {"hub": PROXY_IMAGE.rsplit_once('/').map_or("", |(hub, _)| hub), "tag": version,
                       "remotePilotAddress": remote.discovery_address.split(':').next().unwrap_or_default()},
            "istiodRemote": {"injectionURL": format!("{}/rev/{rev}", remote.injection_url())},
        });
        self.store.create(
            "configmaps",
            "istio-system",
            json!({"metadata": {"name": format!("istio-sidecar-injector-{rev}"),
                                "labels": {"app": "sidecar-injector", "istio.io/rev": rev}},
                   "data": {"values": values.to_string(), "config": "policy: enabled\ndefaultTemplates: [sidecar]\n"}}),
        )?;
        self.store.create(
            "configmaps",
            "istio-system",
            json!({"metadata": {"name": format!("istio-{rev}"), "labels": {"istio.io/rev": rev}},
                   "data": {"mesh": format!("defaultConfig:\n  discoveryAddress: {}\n  holdApplicationUntilProxyStarts: true\nenablePrometheusMerge: true\n", remote.discovery_address)}}),
        )?;
        Ok(())
    }
}
