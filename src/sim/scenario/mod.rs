//! The mesh the simulator starts with: a canary upgrade from 1.24.0 to 1.25.0 about to begin,
//! both control planes installed, tags on the old one, and application namespaces with every
//! kind of injection label a real cluster accumulates. Incident scenarios add faults or skew.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::faults;
use super::injection;
use super::store::{Store, StoreError};
use super::workloads::{self, DeploymentSpec};

mod control_plane;
pub mod crds;
pub mod eastwest;
mod lint_traps;
pub use control_plane::RemoteControlPlane;
pub use eastwest::FleetCluster;

pub const OLD_REVISION: &str = "1-24-0";
pub const NEW_REVISION: &str = "1-25-0";
pub const OLD_VERSION: &str = "1.24.0";
pub const NEW_VERSION: &str = "1.25.0";
/// Two minors behind the old control plane: an unsupported data plane.
pub const SKEWED_PROXY: &str = "istio/proxyv2:1.22.4";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// A canary upgrade from 1.24.0 to 1.25.0 about to begin.
    Default,
    /// Workloads moved to the new revision answer more slowly.
    SlowCanary,
    /// The new revision's istiod logs NACKs for some proxies.
    NackStorm,
    /// Whole namespaces run proxies two minors behind the control plane.
    Skewed,
    /// The default mesh plus one planted instance of every problem `precheck` looks for.
    LintTraps,
}

/// The Kubernetes version the simulated API server and its kubelets report.
pub const KUBERNETES_VERSION: &str = "v1.32.4";

impl Scenario {
    /// The `gitVersion` the API server's `/version` answers with.
    pub fn kubernetes_version(self) -> &'static str {
        match self {
            Scenario::LintTraps => lint_traps::KUBERNETES_VERSION,
            _ => KUBERNETES_VERSION,
        }
    }

    /// The `sim-system/faults` ConfigMap data the scenario starts with.
    pub fn faults(self) -> Value {
        match self {
            Scenario::SlowCanary => json!({format!("latency.{NEW_REVISION}"): "180"}),
            Scenario::NackStorm => json!({format!("nacks.{NEW_REVISION}"): "40"}),
            _ => json!({}),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: Scenario,
    /// Application namespaces; None keeps the hand-written set.
    pub namespaces: Option<usize>,
    pub pods_per_namespace: Option<usize>,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scenario: Scenario::Default,
            namespaces: None,
            pods_per_namespace: None,
            seed: 1,
        }
    }
}

struct AppNamespace {
    name: String,
    tier: &'static str,
    labels: Vec<(&'static str, String)>,
    /// (deployment, replicas)
    workloads: Vec<(String, u32)>,
    skewed_pods: usize,
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn named_namespaces(scenario: Scenario) -> Vec<AppNamespace> {
    let inj = ("istio-injection", "enabled");
    let stable = ("istio.io/rev", "stable");
    let old = ("istio.io/rev", OLD_REVISION);
    let ns =
        |name: &str, tier, l: &[(&'static str, &str)], workloads: &[(&str, u32)]| AppNamespace {
            name: name.to_string(),
            tier,
            labels: labels(l),
            workloads: workloads.iter().map(|(n, r)| (n.to_string(), *r)).collect(),
            skewed_pods: 0,
        };
    let mut list = vec![
        ns(
            "staging-web",
            "staging",
            &[inj],
            &[("frontend", 3), ("bff", 2)],
        ),
        ns(
            "staging-api",
            "staging",
            &[old],
            &[("orders-api", 2), ("users-api", 2)],
        ),
        ns(
            "internal-tools",
            "internal",
            &[stable],
            &[("grafana", 1), ("backstage", 2)],
        ),
        ns("ci-runners", "internal", &[inj], &[("runner", 4)]),
        ns(
            "reporting",
            "non-critical",
            &[stable],
            &[("report-builder", 2), ("exporter", 2)],
        ),
        ns(
            "recommendations",
            "non-critical",
            &[old],
            &[("recommender", 3), ("feature-store", 2)],
        ),
        ns(
            "search",
            "non-critical",
            &[inj],
            &[("search-api", 3), ("indexer", 2)],
        ),
        ns(
            "notifications",
            "non-critical",
            &[inj, ("istio.io/rev", NEW_REVISION)],
            &[("notifier", 2)],
        ),
        ns(
            "checkout",
            "critical",
            &[stable],
            &[("cart", 3), ("checkout", 3)],
        ),
        ns(
            "payments",
            "critical",
            &[inj],
            &[("payments-api", 3), ("ledger", 2)],
        ),
        ns(
            "identity",
            "critical",
            &[old],
            &[("auth", 3), ("sessions", 2)],
        ),
        ns(
            "edge-ambient",
            "non-critical",
            &[("istio.io/dataplane-mode", "ambient")],
            &[("edge-proxy", 3)],
        ),
        ns("legacy-batch", "internal", &[], &[("nightly-jobs", 2)]),
    ];
    // One pod whose sidecar image was pinned two minors back.
    list[6].skewed_pods = 1;
    if scenario == Scenario::Skewed {
        for ns in list
            .iter_mut()
            .filter(|n| n.name == "search" || n.name == "reporting")
        {
            ns.skewed_pods = usize::MAX;
        }
    }
    list
}

fn generated_namespace(i: usize, pods: usize) -> AppNamespace {
    const TIERS: [&str; 4] = ["staging", "internal", "non-critical", "critical"];
    let label = match i % 4 {
        0 => ("istio-injection", "enabled".to_string()),
        1 => ("istio.io/rev", "stable".to_string()),
        2 => ("istio.io/rev", OLD_REVISION.to_string()),
        _ => ("istio.io/rev", "default".to_string()),
    };
    AppNamespace {
        name: format!("app-{i:04}"),
        tier: TIERS[i % TIERS.len()],
        labels: vec![label],
        workloads: split_pods(pods, &["api", "worker", "web", "cache", "jobs"]),
        skewed_pods: 0,
    }
}

/// Spreads `pods` over deployments of at most five replicas.
fn split_pods(pods: usize, names: &[&str]) -> Vec<(String, u32)> {
    let count = pods.div_ceil(5).clamp(1, names.len().max(1) * 4);
    (0..count)
        .map(|i| {
            let share = pods / count + usize::from(i < pods % count);
            let base = names[i % names.len()];
            let name = if i < names.len() {
                base.to_string()
            } else {
                format!("{base}-{}", i / names.len())
            };
            (name, share as u32)
        })
        .filter(|(_, r)| *r > 0)
        .collect()
}

fn app_namespaces(opts: &Options) -> Vec<AppNamespace> {
    let mut list = named_namespaces(opts.scenario);
    if let Some(n) = opts.namespaces {
        list.truncate(n);
        let start = list.len();
        let per_ns = opts.pods_per_namespace.unwrap_or(10);
        list.extend((start..n).map(|i| generated_namespace(i, per_ns)));
    }
    if let Some(per_ns) = opts.pods_per_namespace {
        for ns in list.iter_mut().filter(|n| !n.name.starts_with("app-")) {
            let names: Vec<String> = ns.workloads.iter().map(|(n, _)| n.clone()).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            ns.workloads = split_pods(per_ns, &refs);
        }
    }
    list
}

/// Creates the scenario's objects in the store.
pub fn load(store: &Store, opts: &Options) -> Result<(), StoreError> {
    load_cluster(store, opts, None)
}

/// The same for one cluster of a fleet: it also has an east-west gateway, and a remote of a
/// primary-remote fleet gets no istiod, only webhooks that reach the primary's.
pub fn load_cluster(
    store: &Store,
    opts: &Options,
    fleet: Option<&FleetCluster>,
) -> Result<(), StoreError> {
    let apps = app_namespaces(opts);
    let total_pods: usize = apps
        .iter()
        .flat_map(|n| n.workloads.iter().map(|w| w.1 as usize))
        .sum();
    let mut builder = Builder {
        store,
        nodes: Vec::new(),
        next_ip: 0,
        name_base: store.name_base(),
        next_node: 0,
        webhooks: Vec::new(),
        versions: BTreeMap::new(),
        kubelet_version: opts.scenario.kubernetes_version(),
        ambient: control_plane::Ambient::default(),
    };
    if opts.scenario == Scenario::LintTraps {
        builder.ambient = lint_traps::AMBIENT;
    }
    let node_count = total_pods.div_ceil(100).max(4);
    builder.nodes(node_count)?;
    for (name, age) in [("default", 400), ("kube-system", 400), ("kube-public", 400)] {
        builder.namespace(name, &[], age)?;
    }
    builder.control_plane(fleet.and_then(|f| f.remote.as_ref()))?;
    if let Some(fleet) = fleet {
        builder.eastwest_gateway(fleet)?;
    }
    for ns in &apps {
        builder.app_namespace(ns)?;
    }
    if opts.scenario == Scenario::LintTraps {
        builder.plant_lint_traps()?;
        builder.istio_crds(lint_traps::crd)?;
    } else {
        builder.istio_crds(|_, obj| Some(obj))?;
    }
    builder.namespace("sim-system", &[], 30)?;
    let mut cm = json!({"metadata": {"name": faults::CONFIGMAP}, "data": opts.scenario.faults()});
    cm["metadata"]["annotations"] = json!({"sim.istio-cockpit.io/help": "keys: latency.<rev> (ms), errors.<rev> (0-1), nacks.<rev> (per minute), mtls.<rev> (0-1), api.error-rate (0-1), api.latency-ms, watch.drop-seconds"});
    store.create("configmaps", faults::NAMESPACE, cm)?;
    Ok(())
}

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

struct Builder<'a> {
    store: &'a Store,
    nodes: Vec<(String, String)>,
    next_ip: u64,
    /// Added to the numbers pod names are made from, so a fleet's clusters name pods apart.
    name_base: u64,
    next_node: usize,
    webhooks: Vec<Value>,
    versions: BTreeMap<String, String>,
    kubelet_version: &'static str,
    /// How the ztunnel DaemonSet is installed.
    ambient: control_plane::Ambient,
}

impl Builder<'_> {
    fn nodes(&mut self, count: usize) -> Result<(), StoreError> {
        for i in 0..count {
            let name = format!("node-{i:03}");
            let ip = format!("192.168.{}.{}", 10 + i / 250, 10 + i % 250);
            self.store.create(
                "nodes",
                "",
                json!({
                    "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "topology.kubernetes.io/zone": format!("zone-{}", ["a", "b", "c"][i % 3])}, "creationTimestamp": days_ago(90)},
                    "spec": {"podCIDR": format!("10.244.{i}.0/24")},
                    "status": {
                        "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                        "allocatable": {"cpu": "15800m", "memory": "62Gi", "pods": "110"},
                        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                        "nodeInfo": {"kubeletVersion": self.kubelet_version, "containerRuntimeVersion": "containerd://1.7.24", "osImage": "Debian GNU/Linux 12", "architecture": "amd64", "operatingSystem": "linux"},
                    },
                }),
            )?;
            self.nodes.push((name, ip));
        }
        Ok(())
    }

    fn namespace(
        &mut self,
        name: &str,
        labels: &[(&str, String)],
        age_days: i64,
    ) -> Result<(), StoreError> {
        let mut l = json!({"kubernetes.io/metadata.name": name});
        for (k, v) in labels {
            l[*k] = json!(v);
        }
        self.store.create(
            "namespaces",
            "",
            json!({"metadata": {"name": name, "labels": l, "creationTimestamp": days_ago(age_days)}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        )?;
        Ok(())
    }

    fn pdb(&mut self, ns: &str, name: &str, selector: Value) -> Result<(), StoreError> {
        self.store.create(
            "poddisruptionbudgets",
            ns,
            json!({"metadata": {"name": name}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}}),
        )?;
        Ok(())
    }

    fn app_namespace(&mut self, ns: &AppNamespace) -> Result<(), StoreError> {
        let mut labels = ns.labels.clone();
        labels.push(("tier", ns.tier.to_string()));
        self.namespace(&ns.name, &labels, 200)?;
        let mut skewed_left = ns.skewed_pods;
        for (i, (name, replicas)) in ns.workloads.iter().enumerate() {
            let spec = DeploymentSpec {
                namespace: &ns.name,
                name,
                replicas: *replicas,
                image: format!("shop/{name}:2.{}.{}", 3 + i % 4, i % 7),
                labels: json!({"app": name, "version": "v1"}),
                pod_annotations: json!({"proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}"}),
                cpu: "250m",
                memory: "256Mi",
            };
            let deploy = workloads::deployment(&spec, &days_ago(60));
            let skewed = skewed_left.min(*replicas as usize);
            skewed_left -= skewed;
            self.deployment_with_pods(deploy, &labels, 3 + i as i64, skewed)?;
            self.pdb(&ns.name, name, json!({"app": name}))?;
            self.store.create(
                "services",
                &ns.name,
                json!({"metadata": {"name": name, "labels": {"app": name}},
                       "spec": {"type": "ClusterIP", "clusterIP": workloads::pod_ip(self.next_ip + 900_000).replacen("10.", "172.", 1),
                                "selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}),
            )?;
        }
        Ok(())
    }

    /// Creates a Deployment, its ReplicaSet and running pods. The first `skewed` pods carry
    /// a proxy image pinned two minors back.
    fn deployment_with_pods(
        &mut self,
        deploy: Value,
        ns_labels: &[(&str, String)],
        pod_age_days: i64,
        skewed: usize,
    ) -> Result<(), StoreError> {
        let ns = deploy["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let created = deploy["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let deploy = self.store.create("deployments", &ns, deploy)?.value();
        let replicas = deploy["spec"]["replicas"].as_u64().unwrap_or(1) as u32;
        let hash = workloads::template_hash_of(&deploy);
        let rs = self
            .store
            .create(
                "replicasets",
                &ns,
                workloads::replicaset(&deploy, &hash, replicas, &created),
            )?
            .value();
        let ns_map: BTreeMap<String, String> = ns_labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let revision = injection::resolve_revision(&ns_map, &BTreeMap::new(), &self.webhooks);
        let rs_name = rs["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for i in 0..replicas as usize {
            let (node, host_ip) = self.nodes[self.next_node % self.nodes.len()].clone();
            self.next_node += 1;
            let name = format!(
                "{rs_name}-{}",
                super::names::suffix(self.name_base + self.next_ip)
            );
            let mut owner = rs.clone();
            if i < skewed {
                owner["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/proxyImage"] =
                    json!(SKEWED_PROXY);
            }
            let sidecar = revision
                .as_ref()
                .and_then(|rev| Some((rev.clone(), self.versions.get(rev)?.clone())));
            self.running_pod(
                &owner,
                &name,
                &node,
                &host_ip,
                pod_age_days,
                sidecar.as_ref(),
            )?;
        }
        let status = json!({"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
                            "availableReplicas": replicas,
                            "conditions": [
                                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastUpdateTime": created, "lastTransitionTime": created},
                                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed."), "lastUpdateTime": created, "lastTransitionTime": created}]});
        let name = deploy["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.store.modify("deployments", &ns, &name, |d| {
            let mut d = d.clone();
            d["status"] = status;
            Ok(d)
        })?;
        self.store.modify("replicasets", &ns, &rs_name, |r| {
            let mut r = r.clone();
            r["status"] = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "observedGeneration": 1});
            Ok(r)
        })?;
        Ok(())
    }

    fn running_pod(
        &mut self,
        owner: &Value,
        name: &str,
        node: &str,
        host_ip: &str,
        age_days: i64,
        sidecar: Option<&(String, String)>,
    ) -> Result<(), StoreError> {
        let started = days_ago(age_days);
        let pod = workloads::pod_from_template(owner, name, node, &started);
        self.place_pod(pod, host_ip, &started, sidecar)
    }

    /// Stores `pod` running on its node since `started`, injected first if `sidecar` says so.
    fn place_pod(
        &mut self,
        mut pod: Value,
        host_ip: &str,
        started: &str,
        sidecar: Option<&(String, String)>,
    ) -> Result<(), StoreError> {
        if let Some((revision, version)) = sidecar {
            injection::inject(&mut pod, revision, version);
        }
        let ip = workloads::pod_ip(self.next_ip);
        self.next_ip += 1;
        pod["status"] = workloads::running_status(&pod, &ip, host_ip, started);
        let ns = pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.store.create("pods", &ns, pod)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_are_split_into_deployments_of_at_most_five() {
        let split = split_pods(25, &["api", "worker", "web", "cache", "jobs"]);
        assert_eq!(split.iter().map(|w| w.1).sum::<u32>(), 25);
        assert!(split.iter().all(|w| w.1 <= 5));
        assert_eq!(split_pods(3, &["a"]), vec![("a".to_string(), 3)]);
    }

    #[test]
    fn scaling_keeps_the_named_namespaces_first() {
        let opts = Options {
            namespaces: Some(20),
            pods_per_namespace: Some(7),
            ..Options::default()
        };
        let list = app_namespaces(&opts);
        assert_eq!(list.len(), 20);
        assert_eq!(list[0].name, "staging-web");
        assert_eq!(list[19].name, "app-0019");
        assert!(
            list.iter()
                .all(|n| n.workloads.iter().map(|w| w.1).sum::<u32>() == 7)
        );
    }
}
