//! The `lint-traps` scenario: the default mesh plus one planted instance of every problem
//! `precheck` looks for, each in a `lint-*` namespace or on an object named for its problem.
//! The default mesh already brings two: conflicting injection labels in `notifications` and a
//! pod whose proxy is two minors behind in `search`.

use serde_json::{Value, json};

use super::control_plane::Ambient;
use super::crds::IstioCrd;
use super::{Builder, NEW_REVISION, OLD_REVISION, OLD_VERSION, days_ago};
use crate::sim::injection;
use crate::sim::quantity;
use crate::sim::store::StoreError;
use crate::sim::workloads::{self, DeploymentSpec};

/// Below what Istio 1.25 supports (and below istioctl 1.25's minimum, 1.28).
pub const KUBERNETES_VERSION: &str = "v1.27.16";

/// ztunnel one minor ahead of the newest istiod (the order is base, istiod, CNI, ztunnel),
/// replaced on every node at once.
pub const AMBIENT: Ambient = Ambient {
    ztunnel_version: "1.26.0",
    ztunnel_rolling: ("0", "100%"),
};

/// WasmPlugins are missing; Telemetry is as an old base chart (1.21) left it, v1alpha1 only.
pub fn crd(crd: &IstioCrd, mut obj: Value) -> Option<Value> {
    match crd.plural {
        "wasmplugins" => None,
        "telemetries" => {
            obj["spec"]["versions"] = json!([{"name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]);
            obj["status"]["storedVersions"] = json!(["v1alpha1"]);
            obj["metadata"]["labels"]["app.kubernetes.io/version"] = json!("1.21.6");
            obj["metadata"]["labels"]["helm.sh/chart"] = json!("base-1.21.6");
            Some(obj)
        }
        _ => Some(obj),
    }
}

/// Namespaces whose workloads the upgrade restarts: on the old revision.
const OLD_REV_LABEL: (&str, &str) = ("istio.io/rev", OLD_REVISION);

type Labels = Vec<(&'static str, String)>;

fn ns_labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

impl Builder<'_> {
    pub(super) fn plant_lint_traps(&mut self) -> Result<(), StoreError> {
        self.quota_without_room()?;
        self.webhook_traps()?;
        self.namespace_traps()?;
        self.restart_traps()?;
        self.unmovable_traps()?;
        self.gateway_on_tag()
    }

    /// `istio-system/control-plane-quota`: what istio-system runs now plus 250m and 1Gi, less
    /// than one more istiod pod asks for (500m, 2Gi).
    fn quota_without_room(&mut self) -> Result<(), StoreError> {
        let (mut cpu, mut memory) = (0, 0);
        let pods = self.store.values("pods", Some("istio-system"));
        let containers = pods
            .iter()
            .flat_map(|p| p["spec"]["containers"].as_array().into_iter().flatten());
        for c in containers {
            let requests = &c["resources"]["requests"];
            cpu += requests["cpu"]
                .as_str()
                .and_then(quantity::cpu_millis)
                .unwrap_or(0);
            memory += requests["memory"]
                .as_str()
                .and_then(quantity::bytes)
                .unwrap_or(0);
        }
        let hard = json!({"requests.cpu": quantity::format_cpu(cpu + 250),
                          "requests.memory": quantity::format_bytes(memory + (1 << 30))});
        self.store.create(
            "resourcequotas",
            "istio-system",
            json!({"metadata": {"name": "control-plane-quota", "creationTimestamp": days_ago(90)},
                   "spec": {"hard": hard}}),
        )?;
        Ok(())
    }

    /// An injector whose Service is gone, an injector that overlaps the 1-25-0 one on
    /// `lint-webhooks`, and a tag pointing at a revision that is not installed.
    fn webhook_traps(&mut self) -> Result<(), StoreError> {
        let leftover = injection::revision_webhook_config("1-23-5");
        let mut overlap = injection::revision_webhook_config(OLD_REVISION);
        overlap["metadata"]["name"] = json!("istio-sidecar-injector-overlap");
        overlap["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["values"] =
            json!([NEW_REVISION]);
        let dangling_tag = injection::tag_webhook_config("canary", "1-23-0");
        for hook in [leftover, overlap, dangling_tag] {
            self.store
                .create("mutatingwebhookconfigurations", "", hook.clone())?;
            self.webhooks.push(hook);
        }
        let labels = ns_labels(&[("istio.io/rev", NEW_REVISION)]);
        self.namespace("lint-webhooks", &labels, 30)?;
        self.app(&labels, ("lint-webhooks", "overlap-app", 2), |_| {})?;
        self.budget("lint-webhooks", "overlap-app", json!({"maxUnavailable": 1}))
    }

    /// A label naming a revision nobody installed, and pods that predate their namespace's
    /// injection label.
    fn namespace_traps(&mut self) -> Result<(), StoreError> {
        self.namespace(
            "lint-unknown-rev",
            &ns_labels(&[("istio.io/rev", "1-26-0")]),
            30,
        )?;
        // The pods start before the namespace gets its label, so they run without a sidecar.
        self.namespace("lint-no-sidecar", &[], 30)?;
        self.app(&[], ("lint-no-sidecar", "legacy-api", 2), |_| {})?;
        self.budget(
            "lint-no-sidecar",
            "legacy-api",
            json!({"maxUnavailable": 1}),
        )?;
        self.store
            .modify("namespaces", "", "lint-no-sidecar", |ns| {
                let mut ns = ns.clone();
                ns["metadata"]["labels"]["istio-injection"] = json!("enabled");
                Ok(ns)
            })?;
        Ok(())
    }

    /// `lint-restarts`: one workload per way a rolling restart turns into an outage; each is
    /// otherwise sound (two or more replicas, a PDB allowing one disruption, the proxy held
    /// until ready, 30 s to drain).
    fn restart_traps(&mut self) -> Result<(), StoreError> {
        const NS: &str = "lint-restarts";
        let labels = ns_labels(&[OLD_REV_LABEL]);
        self.namespace(NS, &labels, 30)?;
        let one_down = json!({"maxUnavailable": 1});

        self.app(&labels, (NS, "pdb-zero", 2), |_| {})?;
        self.budget(NS, "pdb-zero", json!({"minAvailable": 2}))?;

        let retired =
            json!({"maxUnavailable": 1, "selector": {"matchLabels": {"app": "retired-service"}}});
        self.budget(NS, "pdb-orphan", retired)?;

        self.app(&labels, (NS, "lone-worker", 1), |_| {})?;

        self.app(&labels, (NS, "below-budget", 3), |d| {
            d["spec"]["strategy"]["rollingUpdate"] = json!({"maxSurge": 1, "maxUnavailable": 2});
        })?;
        self.budget(NS, "below-budget", json!({"minAvailable": 2}))?;

        self.app(&labels, (NS, "no-surge", 3), |d| {
            d["spec"]["strategy"]["rollingUpdate"] = json!({"maxSurge": 0, "maxUnavailable": 1});
        })?;
        self.budget(NS, "no-surge", one_down.clone())?;

        self.app(&labels, (NS, "early-start", 2), |d| {
            d["spec"]["template"]["metadata"]["annotations"]["proxy.istio.io/config"] =
                json!("{\"holdApplicationUntilProxyStarts\": false}");
        })?;
        self.budget(NS, "early-start", one_down.clone())?;

        self.app(&labels, (NS, "quick-exit", 2), |d| {
            d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = json!(2);
        })?;
        self.budget(NS, "quick-exit", one_down.clone())?;

        self.app(&labels, (NS, "grpc-stream", 2), |d| {
            let spec = &mut d["spec"]["template"]["spec"];
            spec["terminationGracePeriodSeconds"] = json!(10);
            spec["containers"][0]["ports"] = json!([{"containerPort": 9090, "name": "grpc-stream", "appProtocol": "grpc", "protocol": "TCP"}]);
        })?;
        self.store.modify("services", NS, "grpc-stream", |svc| {
            let mut svc = svc.clone();
            svc["spec"]["ports"] = json!([{"name": "grpc-stream", "port": 9090, "targetPort": 9090, "appProtocol": "grpc", "protocol": "TCP"}]);
            Ok(svc)
        })?;
        self.budget(NS, "grpc-stream", one_down)
    }

    /// `lint-unmovable`: a bare pod and a Job's pod, both injected, that a restart cannot move.
    fn unmovable_traps(&mut self) -> Result<(), StoreError> {
        const NS: &str = "lint-unmovable";
        self.namespace(NS, &ns_labels(&[OLD_REV_LABEL]), 30)?;
        let sidecar = (OLD_REVISION.to_string(), OLD_VERSION.to_string());
        let template = |app: &str, image: &str| {
            json!({"metadata": {"labels": {"app": app}, "annotations": {"proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}"}},
                   "spec": {"terminationGracePeriodSeconds": 30, "restartPolicy": "Never",
                            "containers": [{"name": app, "image": image, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}})
        };
        let job = self.store.create(
            "jobs",
            NS,
            json!({"metadata": {"name": "db-migrate", "creationTimestamp": days_ago(1)},
                   "spec": {"backoffLimit": 2, "completions": 1, "parallelism": 1,
                            "selector": {"matchLabels": {"app": "db-migrate"}},
                            "template": template("db-migrate", "shop/migrations:7.1.0")},
                   "status": {"active": 1, "startTime": days_ago(1)}}),
        )?;
        let (node, host_ip) = self.nodes[0].clone();
        let started = days_ago(1);
        let job_pod =
            workloads::pod_from_template(&job.value(), "db-migrate-7xkq2", &node, &started);
        self.place_pod(job_pod, &host_ip, &started, Some(&sidecar))?;

        let shell = json!({"metadata": {"name": "debug-shell", "namespace": NS}, "spec": {"template": template("debug-shell", "busybox:1.36")}});
        let mut bare = workloads::pod_from_template(&shell, "debug-shell", &node, &started);
        if let Some(meta) = bare["metadata"].as_object_mut() {
            meta.remove("ownerReferences");
        }
        self.place_pod(bare, &host_ip, &started, Some(&sidecar))
    }

    /// `lint-gateway/ingress-gateway`: a gateway injected through the `stable` tag (its pods
    /// carry `istio.io/rev: stable`), so moving the tag changes the gateway's version.
    fn gateway_on_tag(&mut self) -> Result<(), StoreError> {
        const NS: &str = "lint-gateway";
        self.namespace(NS, &[], 30)?;
        self.app(&[], (NS, "ingress-gateway", 2), |d| {
            let template = &mut d["spec"]["template"];
            template["metadata"]["labels"]["istio"] = json!("ingressgateway");
            template["metadata"]["labels"]["istio.io/rev"] = json!("stable");
            template["metadata"]["annotations"]["inject.istio.io/templates"] = json!("gateway");
            template["spec"]["containers"][0]["name"] = json!("istio-proxy");
            template["spec"]["containers"][0]["image"] = json!("auto");
        })?;
        // What the gateway template injects: the proxy image of the revision `stable` names.
        for pod in self.store.values("pods", Some(NS)) {
            let name = pod["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            self.store.modify("pods", NS, &name, |old| {
                let mut pod = old.clone();
                pod["spec"]["containers"][0]["image"] =
                    json!(format!("{}:{OLD_VERSION}", injection::PROXY_IMAGE));
                pod["status"]["containerStatuses"][0]["image"] =
                    pod["spec"]["containers"][0]["image"].clone();
                pod["metadata"]["annotations"]["istio.io/rev"] = json!(OLD_REVISION);
                pod["metadata"]["annotations"]["sidecar.istio.io/status"] = json!(
                    json!({"containers": ["istio-proxy"], "revision": OLD_REVISION}).to_string()
                );
                Ok(pod)
            })?;
        }
        self.budget(NS, "ingress-gateway", json!({"maxUnavailable": 1}))
    }

    /// A Deployment `(namespace, name, replicas)` with running pods and a Service, sound
    /// unless `tweak` plants something: 30 s grace, held until its proxy is ready, rolled out
    /// with maxSurge 25% and maxUnavailable 0.
    fn app(
        &mut self,
        ns_labels: &[(&'static str, String)],
        (namespace, name, replicas): (&str, &str, u32),
        tweak: impl FnOnce(&mut Value),
    ) -> Result<(), StoreError> {
        let spec = DeploymentSpec {
            namespace,
            name,
            replicas,
            image: format!("shop/{name}:1.0.0"),
            labels: json!({"app": name, "version": "v1"}),
            pod_annotations: json!({"proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}"}),
            cpu: "100m",
            memory: "128Mi",
        };
        let mut deploy = workloads::deployment(&spec, &days_ago(20));
        tweak(&mut deploy);
        self.deployment_with_pods(deploy, ns_labels, 5, 0)?;
        self.store.create(
            "services",
            namespace,
            json!({"metadata": {"name": name, "labels": {"app": name}},
                   "spec": {"type": "ClusterIP", "clusterIP": workloads::pod_ip(self.next_ip + 900_000).replacen("10.", "172.", 1),
                            "selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}),
        )?;
        Ok(())
    }

    /// A PodDisruptionBudget `name` with `spec`, selecting `app: <name>` unless it says otherwise.
    fn budget(&mut self, ns: &str, name: &str, mut spec: Value) -> Result<(), StoreError> {
        if spec["selector"].is_null() {
            spec["selector"] = json!({"matchLabels": {"app": name}});
        }
        self.store.create(
            "poddisruptionbudgets",
            ns,
            json!({"metadata": {"name": name, "creationTimestamp": days_ago(20)}, "spec": spec}),
        )?;
        Ok(())
    }
}
