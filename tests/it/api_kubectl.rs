//! The real kubectl against the simulated API server, each test with its own discovery cache.

use serde_json::Value;

use crate::common;
use crate::common::cluster::{json, label_for};

fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn namespaces_show_their_injection_labels() {
    let sim = common::Sim::start(&[]);
    let out = sim.kubectl(&["get", "ns", "--show-labels"]);
    assert!(out.starts_with("NAME"), "{out}");
    let find = |name: &str| {
        rows(&out)
            .into_iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} missing from\n{out}"))
    };
    assert!(
        find("staging-web")
            .last()
            .unwrap()
            .contains("istio-injection=enabled")
    );
    assert!(
        find("checkout")
            .last()
            .unwrap()
            .contains("istio.io/rev=stable")
    );
    assert!(
        find("identity")
            .last()
            .unwrap()
            .contains("istio.io/rev=1-24-0")
    );
    assert!(
        find("edge-ambient")
            .last()
            .unwrap()
            .contains("istio.io/dataplane-mode=ambient")
    );
    let both = find("notifications");
    assert!(both.last().unwrap().contains("istio-injection=enabled"));
    assert!(both.last().unwrap().contains("istio.io/rev=1-25-0"));
    assert_eq!(find("staging-web")[1], "Active");
}

#[test]
fn pods_list_across_namespaces_and_by_label() {
    let sim = common::Sim::start(&[]);
    let all = sim.kubectl(&["get", "pods", "-A"]);
    let header: Vec<&str> = all.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let list: Value = json(&sim, &["get", "pods", "-A", "-o", "json"]);
    let items = list["items"].as_array().unwrap();
    assert_eq!(rows(&all).len(), items.len());
    assert!(items.len() > 50, "{}", items.len());
    // Injected pods run two containers; the ambient and uninjected ones one.
    for row in rows(&all) {
        let expected = match row[0].as_str() {
            "edge-ambient" | "legacy-batch" | "istio-system" => "1/1",
            _ => "2/2",
        };
        assert_eq!(row[2], expected, "{row:?}");
        assert_eq!(row[3], "Running", "{row:?}");
    }
    let cart = sim.kubectl(&["get", "pods", "-n", "checkout", "-l", "app=cart"]);
    assert_eq!(rows(&cart).len(), 3, "{cart}");
    let none = sim.kubectl(&[
        "get",
        "pods",
        "-n",
        "checkout",
        "-l",
        "app notin (cart,checkout)",
    ]);
    assert!(rows(&none).is_empty(), "{none}");
    let istiod = sim.kubectl(&[
        "get",
        "pods",
        "-n",
        "istio-system",
        "-l",
        "app=istiod,istio.io/rev=1-25-0",
        "-o",
        "wide",
    ]);
    assert_eq!(rows(&istiod).len(), 2, "{istiod}");
    assert!(istiod.lines().next().unwrap().contains("NODE"));
}

#[test]
fn injected_pods_carry_istios_annotations_not_a_rev_label() {
    let sim = common::Sim::start(&[]);
    let list: Value = json(&sim, &["get", "pods", "-n", "payments", "-o", "json"]);
    for pod in list["items"].as_array().unwrap() {
        let ann = &pod["metadata"]["annotations"];
        let status: Value =
            serde_json::from_str(ann["sidecar.istio.io/status"].as_str().unwrap()).unwrap();
        assert_eq!(status["revision"], "1-24-0");
        assert_eq!(ann["istio.io/rev"], "1-24-0");
        assert!(pod["metadata"]["labels"].get("istio.io/rev").is_none());
        let images: Vec<&str> = pod["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["image"].as_str())
            .collect();
        assert!(images.contains(&"istio/proxyv2:1.24.0"), "{images:?}");
    }
    let search: Value = json(&sim, &["get", "pods", "-n", "search", "-o", "json"]);
    let skewed = search["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.to_string().contains("istio/proxyv2:1.22.4"))
        .count();
    assert_eq!(skewed, 1);
}

#[test]
fn revision_tags_list_with_their_revisions() {
    let sim = common::Sim::start(&[]);
    let out = sim.kubectl(&[
        "get",
        "mutatingwebhookconfigurations",
        "-l",
        "istio.io/tag",
        "-L",
        "istio.io/tag,istio.io/rev",
    ]);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "WEBHOOKS", "AGE", "TAG", "REV"]);
    let mut tags: Vec<(String, String, String)> = rows(&out)
        .into_iter()
        .map(|r| (r[0].clone(), r[3].clone(), r[4].clone()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            (
                "istio-revision-tag-default".to_string(),
                "default".to_string(),
                "1-24-0".to_string()
            ),
            (
                "istio-revision-tag-stable".to_string(),
                "stable".to_string(),
                "1-24-0".to_string()
            ),
        ]
    );
}

#[test]
fn labels_change_and_the_viewer_is_refused() {
    let sim = common::Sim::start(&[]);
    label_for(&sim, "staging-web", "1-25-0");
    let labels: Value = json(
        &sim,
        &[
            "get",
            "ns",
            "staging-web",
            "-o",
            "jsonpath={.metadata.labels}",
        ],
    );
    assert_eq!(labels["istio.io/rev"], "1-25-0");
    assert!(labels.get("istio-injection").is_none());

    let refused = sim.kubectl_as(
        "sim-viewer",
        &[
            "label",
            "ns",
            "checkout",
            "istio.io/rev=1-25-0",
            "--overwrite",
        ],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("forbidden"), "{stderr}");
    let labels: Value = json(
        &sim,
        &["get", "ns", "checkout", "-o", "jsonpath={.metadata.labels}"],
    );
    assert_eq!(labels["istio.io/rev"], "stable");
    // The viewer still reads.
    let ok = sim.kubectl_as("sim-viewer", &["get", "pods", "-n", "checkout"]);
    assert!(ok.status.success());
}

#[test]
fn discovery_serves_short_names_and_version() {
    let sim = common::Sim::start(&[]);
    let resources = sim.kubectl(&["api-resources"]);
    for needle in [
        "pods",
        "po",
        "deployments",
        "deploy",
        "mutatingwebhookconfigurations",
        "leases",
        "pdb",
    ] {
        assert!(
            resources.split_whitespace().any(|w| w == needle),
            "{needle} missing:\n{resources}"
        );
    }
    let version: Value = json(&sim, &["get", "--raw", "/version"]);
    assert_eq!(version["minor"], "32");
    let deploys = sim.kubectl(&["get", "deploy", "-n", "istio-system"]);
    let header: Vec<&str> = deploys.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert!(
        rows(&deploys)
            .iter()
            .any(|r| r[0] == "istiod-1-25-0" && r[1] == "2/2")
    );
}
