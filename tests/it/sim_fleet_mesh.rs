//! The mesh of a simulated fleet, through each cluster's API server: the primary's istiod
//! counts and logs the remotes' proxies, and sidecars report requests to other clusters,
//! which fail while an east-west gateway is down.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Sim, eventually};

const FLEET: [&str; 3] = ["primary", "remote-1", "remote-2"];

fn pods(sim: &Sim, cluster: &str, selector: &str) -> Vec<Value> {
    let out = sim.kubectl_in(
        cluster,
        &["get", "pods", "-A", "-l", selector, "-o", "json"],
    );
    let list: Value = serde_json::from_str(&out).expect("a pod list");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn page(sim: &Sim, cluster: &str, ns: &str, pod: &str, port: u16) -> String {
    let path = if port == 15014 {
        "metrics"
    } else {
        "stats/prometheus"
    };
    let raw = format!("/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}");
    sim.kubectl_in(cluster, &["get", "--raw", &raw])
}

/// `(labels, value)` of every sample of `family` on a page.
fn samples(page: &str, family: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    page.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a value");
            let inner = &series[family.len() + 1..series.len() - 1];
            let labels = inner
                .split("\",")
                .filter_map(|kv| kv.split_once("=\""))
                .map(|(k, v)| (k.to_string(), v.trim_end_matches('"').to_string()))
                .collect();
            (labels, value.parse().expect("a number"))
        })
        .collect()
}

/// Running injected pods of a cluster.
fn injected(sim: &Sim, cluster: &str) -> Vec<(String, String)> {
    let out = sim.kubectl_in(cluster, &["get", "pods", "-A", "-o", "json"]);
    let list: Value = serde_json::from_str(&out).expect("a pod list");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            !p["metadata"]["annotations"]["sidecar.istio.io/status"].is_null()
                && p["status"]["phase"] == "Running"
        })
        .map(|p| {
            let s = |f: &str| p["metadata"][f].as_str().unwrap_or_default().to_string();
            (s("namespace"), s("name"))
        })
        .collect()
}

fn connected_to_primary(sim: &Sim) -> f64 {
    pods(sim, "primary", "app=istiod")
        .iter()
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or_default();
            samples(
                &page(sim, "primary", "istio-system", name, 15014),
                "pilot_xds",
            )
            .iter()
            .map(|(_, v)| v)
            .sum::<f64>()
        })
        .sum()
}

/// Cross-cluster requests a sidecar reported as caller: `(destination cluster, code, count)`.
fn outbound_cross(page: &str, own: &str) -> Vec<(String, String, f64)> {
    samples(page, "istio_requests_total")
        .into_iter()
        .filter(|(l, _)| l["reporter"] == "source" && l["destination_cluster"] != own)
        .map(|(l, v)| {
            assert_eq!(l["source_cluster"], own);
            (
                l["destination_cluster"].clone(),
                l["response_code"].clone(),
                v,
            )
        })
        .collect()
}

#[test]
fn remotes_are_served_by_the_primary_and_traffic_crosses_clusters() {
    let sim = Sim::start(&["--clusters", "3", "--namespaces", "3"]);
    let all: Vec<(String, String)> = FLEET.iter().flat_map(|c| injected(&sim, c)).collect();
    let remote_pods = injected(&sim, "remote-1");
    assert!(!remote_pods.is_empty());
    assert!(pods(&sim, "remote-1", "app=istiod").is_empty());

    // The primary's istiods count every cluster's proxies and log the remotes' connections.
    let counted = eventually(Duration::from_secs(20), || {
        (connected_to_primary(&sim) == all.len() as f64).then_some(())
    });
    assert!(
        counted.is_some(),
        "{} of {}",
        connected_to_primary(&sim),
        all.len()
    );
    let logs: String = pods(&sim, "primary", "app=istiod")
        .iter()
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or_default();
            sim.kubectl_in("primary", &["logs", "-n", "istio-system", name])
        })
        .collect();
    let (ns, pod) = &remote_pods[0];
    assert!(
        logs.contains(&format!("~{pod}.{ns}~")),
        "the primary's istiod never names {pod}.{ns}"
    );

    // A remote sidecar calls other clusters, and its calls fail once its gateway is down.
    let remote_page = || page(&sim, "remote-1", ns, pod, 15020);
    let calls = eventually(Duration::from_secs(20), || {
        let cross = outbound_cross(&remote_page(), "remote-1");
        cross
            .iter()
            .any(|(_, code, _)| code == "200")
            .then_some(cross)
    })
    .expect("no cross-cluster calls from remote-1");
    assert!(calls.iter().all(|(d, _, _)| FLEET.contains(&d.as_str())));
    sim.set_faults_in("remote-1", r#"{"data":{"eastwest.down":"true"}}"#);
    let failing = eventually(Duration::from_secs(20), || {
        let failed: f64 = outbound_cross(&remote_page(), "remote-1")
            .iter()
            .filter(|(_, code, _)| code == "503")
            .map(|(_, _, n)| n)
            .sum();
        (failed > 0.0).then_some(())
    });
    assert!(failing.is_some(), "{}", remote_page());
}
