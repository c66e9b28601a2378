//! `sim --scenario lint-traps`: each planted problem exists, with the property a precheck
//! fires on, read back through kubectl and kube-rs.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::Api;
use serde_json::Value;

use crate::common::Sim;
use crate::common::cluster::{exists, json, pods_json};

const RESTARTS: &str = "lint-restarts";

fn get(sim: &Sim, kind: &str, ns: &str, name: &str) -> Value {
    if ns.is_empty() {
        json(sim, &["get", kind, name, "-o", "json"])
    } else {
        json(sim, &["get", kind, name, "-n", ns, "-o", "json"])
    }
}

fn containers(pod: &Value) -> Vec<&str> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect()
}

/// Millicores and MiB of `250m` / `2Gi`-style quantities, enough for the quota's numbers.
fn millis(q: &str) -> u64 {
    q.strip_suffix('m')
        .map_or_else(|| q.parse::<u64>().unwrap() * 1000, |m| m.parse().unwrap())
}

fn mib(q: &str) -> u64 {
    q.strip_suffix("Gi").map_or_else(
        || q.strip_suffix("Mi").unwrap().parse().unwrap(),
        |g| g.parse::<u64>().unwrap() * 1024,
    )
}

#[test]
fn version_crds_quota_webhooks_and_namespaces_are_planted() {
    let sim = Sim::start(&["--scenario", "lint-traps"]);

    // Kubernetes 1.27: below Istio 1.25's range. kubectl's dispatcher copes with it.
    let version = json(&sim, &["get", "--raw", "/version"]);
    assert_eq!(
        (&version["major"], &version["minor"]),
        (&"1".into(), &"27".into())
    );
    let node = get(&sim, "node", "", "node-000");
    assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], "v1.27.16");

    // One CRD missing, one serving only its old version.
    assert!(!exists(
        &sim,
        &["get", "crd", "wasmplugins.extensions.istio.io"]
    ));
    let telemetry = get(&sim, "crd", "", "telemetries.telemetry.istio.io");
    let versions: Vec<&str> = telemetry["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["served"] == true)
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(versions, ["v1alpha1"]);
    assert!(exists(
        &sim,
        &["get", "crd", "virtualservices.networking.istio.io"]
    ));

    // The quota leaves less room than one more istiod pod asks for (500m, 2Gi).
    let istiod = get(&sim, "deploy", "istio-system", "istiod-1-25-0");
    let requests = &istiod["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"];
    assert_eq!(
        (&requests["cpu"], &requests["memory"]),
        (&"500m".into(), &"2Gi".into())
    );
    let quota = get(&sim, "quota", "istio-system", "control-plane-quota")["status"].clone();
    let room = |key: &str, unit: fn(&str) -> u64| {
        unit(quota["hard"][key].as_str().unwrap()) - unit(quota["used"][key].as_str().unwrap())
    };
    assert!(room("requests.cpu", millis) < 500, "{quota}");
    assert!(room("requests.memory", mib) < 2048, "{quota}");

    // Webhooks: an injector without its Service, two injectors on one namespace, a tag
    // pointing at a revision that is not installed.
    let leftover = get(
        &sim,
        "mutatingwebhookconfiguration",
        "",
        "istio-sidecar-injector-1-23-5",
    );
    let service = &leftover["webhooks"][0]["clientConfig"]["service"];
    assert_eq!(service["name"], "istiod-1-23-5");
    assert!(!exists(
        &sim,
        &["get", "svc", "istiod-1-23-5", "-n", "istio-system"]
    ));
    let overlap = get(
        &sim,
        "mutatingwebhookconfiguration",
        "",
        "istio-sidecar-injector-overlap",
    );
    let revision_hook = get(
        &sim,
        "mutatingwebhookconfiguration",
        "",
        "istio-sidecar-injector-1-25-0",
    );
    assert_eq!(
        overlap["webhooks"][0]["namespaceSelector"],
        revision_hook["webhooks"][0]["namespaceSelector"]
    );
    assert_ne!(
        overlap["metadata"]["labels"],
        revision_hook["metadata"]["labels"]
    );
    let ns = get(&sim, "ns", "", "lint-webhooks");
    assert_eq!(ns["metadata"]["labels"]["istio.io/rev"], "1-25-0");
    let tag = get(
        &sim,
        "mutatingwebhookconfiguration",
        "",
        "istio-revision-tag-canary",
    );
    assert_eq!(tag["metadata"]["labels"]["istio.io/rev"], "1-23-0");
    assert!(!exists(
        &sim,
        &["get", "deploy", "istiod-1-23-0", "-n", "istio-system"]
    ));

    // Namespaces: a label naming an unknown revision, pods without a sidecar in an injected
    // namespace, and the default mesh's conflicting labels and skewed proxy.
    let unknown = get(&sim, "ns", "", "lint-unknown-rev");
    assert_eq!(unknown["metadata"]["labels"]["istio.io/rev"], "1-26-0");
    let no_sidecar = get(&sim, "ns", "", "lint-no-sidecar");
    assert_eq!(
        no_sidecar["metadata"]["labels"]["istio-injection"],
        "enabled"
    );
    let pods = pods_json(&sim, "lint-no-sidecar");
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| !containers(p).contains(&"istio-proxy")));
    let notifications = get(&sim, "ns", "", "notifications");
    assert_eq!(
        notifications["metadata"]["labels"]["istio-injection"],
        "enabled"
    );
    assert_eq!(
        notifications["metadata"]["labels"]["istio.io/rev"],
        "1-25-0"
    );
    let skewed = pods_json(&sim, "search").into_iter().filter(|p| {
        p["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["image"] == "istio/proxyv2:1.22.4")
    });
    assert_eq!(skewed.count(), 1);
}

fn strategy(d: &Deployment) -> (Option<IntOrString>, Option<IntOrString>) {
    let rolling = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.clone());
    rolling.map_or((None, None), |r| (r.max_surge, r.max_unavailable))
}

fn template_spec(d: &Deployment) -> k8s_openapi::api::core::v1::PodSpec {
    d.spec
        .clone()
        .and_then(|s| s.template.spec)
        .expect("pod spec")
}

#[tokio::test]
async fn restart_unmovable_ambient_and_gateway_traps_are_planted() {
    let sim = Sim::start(&["--scenario", "lint-traps"]);
    let client = sim.kube_client("sim-viewer").await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), RESTARTS);
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), RESTARTS);
    let deploy = |name: &'static str| {
        let api = deployments.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(20), api.get(name))
                .await
                .expect("the get answers")
                .expect(name)
        }
    };
    let allowed = |name: &'static str| {
        let api = budgets.clone();
        async move {
            let pdb = api.get(name).await.expect(name);
            let status = pdb.status.expect("budget status");
            (status.disruptions_allowed, status.expected_pods)
        }
    };

    // A budget that allows no disruption, and one that selects nothing.
    assert_eq!(allowed("pdb-zero").await, (0, 2));
    assert_eq!(allowed("pdb-orphan").await, (0, 0));
    // A single replica without a budget.
    assert_eq!(deploy("lone-worker").await.spec.unwrap().replicas, Some(1));
    assert!(!exists(
        &sim,
        &["get", "pdb", "lone-worker", "-n", RESTARTS]
    ));
    // maxUnavailable 2 against a budget that keeps two of three.
    assert_eq!(
        strategy(&deploy("below-budget").await).1,
        Some(IntOrString::Int(2))
    );
    let below = budgets.get("below-budget").await.unwrap();
    assert_eq!(below.spec.unwrap().min_available, Some(IntOrString::Int(2)));
    // No surge.
    assert_eq!(
        strategy(&deploy("no-surge").await).0,
        Some(IntOrString::Int(0))
    );
    // The app may start before its proxy.
    let early = deploy("early-start").await;
    let annotations = early
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap();
    assert_eq!(
        annotations["proxy.istio.io/config"],
        "{\"holdApplicationUntilProxyStarts\": false}"
    );
    // Two seconds to stop, below the proxy's five-second drain.
    let quick = template_spec(&deploy("quick-exit").await);
    assert_eq!(quick.termination_grace_period_seconds, Some(2));
    // gRPC streams cut after ten seconds.
    let grpc = template_spec(&deploy("grpc-stream").await);
    assert_eq!(grpc.termination_grace_period_seconds, Some(10));
    let port = &grpc.containers[0].ports.as_ref().unwrap()[0];
    assert_eq!(port.name.as_deref(), Some("grpc-stream"));
    let service = get(&sim, "svc", RESTARTS, "grpc-stream");
    assert_eq!(service["spec"]["ports"][0]["appProtocol"], "grpc");
    // The rest of the default mesh holds its apps until the proxy is ready, in the mesh
    // config as well as on each workload.
    let mesh = get(&sim, "cm", "istio-system", "istio-1-25-0");
    assert!(
        mesh["data"]["mesh"]
            .as_str()
            .unwrap()
            .contains("holdApplicationUntilProxyStarts: true")
    );

    // A bare pod and a Job's pod, both injected.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "lint-unmovable");
    let bare = pods.get("debug-shell").await.unwrap();
    assert!(bare.metadata.owner_references.is_none());
    let job_pod = pods.get("db-migrate-7xkq2").await.unwrap();
    let owner = &job_pod.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Job", "db-migrate")
    );
    assert!(exists(
        &sim,
        &["get", "job", "db-migrate", "-n", "lint-unmovable"]
    ));
    for pod in [bare.spec.unwrap(), job_pod.spec.unwrap()] {
        assert!(pod.containers.iter().any(|c| c.name == "istio-proxy"));
    }

    // ztunnel newer than any istiod, replaced on every node at once.
    let daemonsets: Api<DaemonSet> = Api::namespaced(client.clone(), "istio-system");
    let ztunnel = daemonsets.get("ztunnel").await.unwrap().spec.unwrap();
    let image = ztunnel.template.spec.unwrap().containers[0].image.clone();
    assert_eq!(image.as_deref(), Some("istio/ztunnel:1.26.0"));
    let rolling = ztunnel.update_strategy.unwrap().rolling_update.unwrap();
    assert_eq!(
        rolling.max_unavailable,
        Some(IntOrString::String("100%".into()))
    );

    // A gateway injected through the `stable` tag.
    let gateways: Api<Deployment> = Api::namespaced(client, "lint-gateway");
    let gateway = gateways.get("ingress-gateway").await.unwrap();
    let meta = gateway.spec.unwrap().template.metadata.unwrap();
    assert_eq!(meta.labels.unwrap()["istio.io/rev"], "stable");
    assert_eq!(
        meta.annotations.unwrap()["inject.istio.io/templates"],
        "gateway"
    );
    let gateway_pods = pods_json(&sim, "lint-gateway");
    assert_eq!(gateway_pods.len(), 2);
    for pod in gateway_pods {
        assert_eq!(
            pod["spec"]["containers"][0]["image"],
            "istio/proxyv2:1.24.0"
        );
    }
}

/// The cockpit as it is today copes with every trap: it syncs and lists the lint namespaces.
#[tokio::test]
async fn the_cockpit_syncs_on_the_traps() {
    use istio_cockpit::app::state::Mode;
    use istio_cockpit::cockpit::headless::Headless;
    use istio_cockpit::ui::theme::{Palette, Theme};

    let sim = Sim::start(&["--scenario", "lint-traps"]);
    let conn = sim.connect("sim-viewer").await;
    let mut cockpit = Headless::start(&conn, Mode::ReadOnly("the viewer".into()), 1000, 160, 80);
    assert!(
        cockpit
            .pump_until(Duration::from_secs(20), crate::common::clients::synced)
            .await,
        "no initial sync"
    );
    let theme = Theme::builtin("default", Palette::TrueColor).unwrap();
    let screen = cockpit.render(&theme);
    for ns in ["lint-restarts", "lint-unknown-rev", "lint-no-sidecar"] {
        assert!(screen.contains(ns), "{ns} missing from\n{screen}");
    }
}
