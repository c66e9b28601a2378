//! What the prechecks read, on the default scenario: Istio's CustomResourceDefinitions,
//! ResourceQuotas with their usage, PodDisruptionBudgets with their status and nodes with
//! allocatable, through kubectl and kube-rs.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, ResourceQuota};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::common::cluster::json;
use crate::common::{self, eventually};

/// The CRDs a 1.25 install has, with the versions each serves.
const ISTIO_CRDS: &[(&str, &[&str])] = &[
    (
        "authorizationpolicies.security.istio.io",
        &["v1", "v1beta1"],
    ),
    (
        "destinationrules.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
    ("envoyfilters.networking.istio.io", &["v1alpha3"]),
    (
        "gateways.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
    ("peerauthentications.security.istio.io", &["v1", "v1beta1"]),
    ("proxyconfigs.networking.istio.io", &["v1beta1"]),
    (
        "requestauthentications.security.istio.io",
        &["v1", "v1beta1"],
    ),
    (
        "serviceentries.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
    (
        "sidecars.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
    ("telemetries.telemetry.istio.io", &["v1", "v1alpha1"]),
    (
        "virtualservices.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
    ("wasmplugins.extensions.istio.io", &["v1alpha1"]),
    (
        "workloadentries.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
    (
        "workloadgroups.networking.istio.io",
        &["v1", "v1alpha3", "v1beta1"],
    ),
];

fn served(crd: &CustomResourceDefinition) -> Vec<String> {
    let mut names: Vec<String> = crd
        .spec
        .versions
        .iter()
        .filter(|v| v.served)
        .map(|v| v.name.clone())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn istio_crds_are_served_with_their_versions_and_labels() {
    let sim = common::Sim::start(&[]);
    let table = sim.kubectl(&["get", "crd"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "CREATED", "AT"]);
    let names: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let want: Vec<&str> = ISTIO_CRDS.iter().map(|c| c.0).collect();
    assert_eq!(names, want);

    let client = sim.kube_client("sim-viewer").await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let listed = tokio::time::timeout(Duration::from_secs(20), crds.list(&ListParams::default()))
        .await
        .expect("the list answers")
        .expect("the viewer lists CRDs");
    assert_eq!(listed.items.len(), ISTIO_CRDS.len());
    for (name, versions) in ISTIO_CRDS {
        let crd = listed
            .items
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(served(crd), *versions, "{name}");
        let labels = crd.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels["app.kubernetes.io/part-of"], "istio", "{name}");
        assert_eq!(labels["app.kubernetes.io/version"], "1.25.0", "{name}");
        let stored = crd.status.as_ref().and_then(|s| s.stored_versions.clone());
        assert_eq!(stored.map(|s| s.len()), Some(1), "{name}");
    }
    // The viewer reads them but may not write them.
    let denied = sim.kubectl_as(
        "sim-viewer",
        &["delete", "crd", "wasmplugins.extensions.istio.io"],
    );
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("forbidden"));
}

fn quota_used(sim: &common::Sim, ns: &str, name: &str) -> Value {
    json(sim, &["get", "quota", name, "-n", ns, "-o", "json"])["status"]["used"].clone()
}

#[tokio::test]
async fn a_quota_made_with_kubectl_counts_its_namespaces_pods_as_they_change() {
    let sim = common::Sim::start(&["--ready-after", "0.5"]);
    sim.kubectl(&[
        "create",
        "quota",
        "compute",
        "-n",
        "staging-web",
        "--hard=requests.cpu=10,requests.memory=20Gi,limits.memory=40Gi,pods=50",
    ]);
    // frontend (3) and bff (2): 250m/256Mi each, plus the sidecar's 100m/128Mi (limit 1Gi).
    let first = eventually(Duration::from_secs(5), || {
        let used = quota_used(&sim, "staging-web", "compute");
        (used["pods"] == "5").then_some(used)
    })
    .expect("the quota counts the namespace's five pods");
    assert_eq!(first["requests.cpu"], "1750m");
    assert_eq!(first["requests.memory"], "1920Mi");
    assert_eq!(first["limits.memory"], "5Gi");

    sim.kubectl(&[
        "scale",
        "deploy",
        "frontend",
        "-n",
        "staging-web",
        "--replicas=4",
    ]);
    let scaled = eventually(Duration::from_secs(10), || {
        let used = quota_used(&sim, "staging-web", "compute");
        (used["pods"] == "6").then_some(used)
    })
    .expect("the quota follows a scale-up");
    assert_eq!(scaled["requests.cpu"], "2100m");

    let table = sim.kubectl(&["get", "quota", "-n", "staging-web"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "AGE", "REQUEST", "LIMIT"]);
    assert!(
        table.contains("pods: 6/50") && table.contains("limits.memory: 6Gi/40Gi"),
        "{table}"
    );

    let client = sim.kube_client("sim-viewer").await;
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "staging-web");
    let quota = tokio::time::timeout(Duration::from_secs(20), quotas.get("compute"))
        .await
        .expect("the get answers")
        .expect("the viewer reads the quota");
    let status = quota.status.expect("status");
    assert_eq!(status.hard.expect("hard")["pods"].0, "50");
    assert_eq!(status.used.expect("used")["pods"].0, "6");
    let in_istio_system: Api<ResourceQuota> = Api::namespaced(client, "istio-system");
    let none = in_istio_system.list(&ListParams::default()).await.unwrap();
    assert!(none.items.is_empty(), "the default scenario has no quota");
}

fn pdb_status(sim: &common::Sim, ns: &str, name: &str) -> Value {
    json(sim, &["get", "pdb", name, "-n", ns, "-o", "json"])["status"].clone()
}

#[tokio::test]
async fn budgets_have_status_from_the_start_and_a_hand_made_one_within_two_seconds() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let budgets: Api<PodDisruptionBudget> = Api::all(client.clone());
    let listed = tokio::time::timeout(
        Duration::from_secs(20),
        budgets.list(&ListParams::default()),
    )
    .await
    .expect("the list answers")
    .expect("the viewer lists budgets");
    assert!(listed.items.len() >= 20);
    for pdb in &listed.items {
        let status = pdb.status.as_ref().expect("every budget has a status");
        assert!(
            status.expected_pods > 0 && status.disruptions_allowed >= 1,
            "{:?}: {status:?}",
            pdb.metadata.name
        );
    }

    sim.kubectl(&[
        "create",
        "pdb",
        "by-hand",
        "-n",
        "payments",
        "--selector",
        "app=payments-api",
        "--min-available",
        "3",
    ]);
    let status = eventually(Duration::from_secs(2), || {
        let status = pdb_status(&sim, "payments", "by-hand");
        status["expectedPods"].is_number().then_some(status)
    })
    .expect("the hand-made budget has a status within two seconds");
    assert_eq!(status["expectedPods"], 3);
    assert_eq!(status["currentHealthy"], 3);
    assert_eq!(status["disruptionsAllowed"], 0);
    sim.kubectl(&["delete", "pdb", "by-hand", "-n", "payments"]);
    let gone = sim.kubectl_output(&["get", "pdb", "by-hand", "-n", "payments"]);
    assert!(!gone.status.success());

    let nodes: Api<Node> = Api::all(client);
    for node in nodes.list(&ListParams::default()).await.unwrap().items {
        let allocatable = node
            .status
            .and_then(|s| s.allocatable)
            .expect("allocatable");
        assert_eq!(allocatable["cpu"].0, "15800m");
        assert_eq!(allocatable["memory"].0, "62Gi");
    }
}

#[test]
fn the_default_ztunnel_rolls_as_istios_chart_installs_it() {
    let sim = common::Sim::start(&[]);
    let ds = json(
        &sim,
        &["get", "ds", "ztunnel", "-n", "istio-system", "-o", "json"],
    );
    let rolling = &ds["spec"]["updateStrategy"]["rollingUpdate"];
    assert_eq!(
        (&rolling["maxSurge"], &rolling["maxUnavailable"]),
        (&1.into(), &0.into())
    );
}
