//! `istio-cockpit sim --clusters N`: kubectl against every context of a fleet, the remotes
//! injected by the primary's revisions, the fleet's secrets and root certificates, and
//! Prometheus scraping every cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use crate::common::prometheus::Prometheus;
use crate::common::{Sim, eventually};

const FLEET: [&str; 3] = ["primary", "remote-1", "remote-2"];

/// `name image revision` of each pod in `namespace`: the istio-proxy container's image and
/// the revision in `sidecar.istio.io/status`.
fn sidecars(sim: &Sim, context: &str, namespace: &str) -> Vec<(String, String, String)> {
    let out = sim.kubectl_in(
        context,
        &[
            "get",
            "pods",
            "-n",
            namespace,
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name}{"\t"}{.spec.containers[?(@.name=="istio-proxy")].image}{"\t"}{.metadata.annotations.sidecar\.istio\.io/status}{"\n"}{end}"#,
        ],
    );
    out.lines()
        .map(|line| {
            let mut parts = line.split('\t');
            let name = parts.next().unwrap_or_default().to_string();
            let image = parts.next().unwrap_or_default().to_string();
            let status: serde_json::Value =
                serde_json::from_str(parts.next().unwrap_or("null")).unwrap_or_default();
            let revision = status["revision"].as_str().unwrap_or_default().to_string();
            (name, image, revision)
        })
        .collect()
}

fn names(sim: &Sim, context: &str, args: &[&str]) -> Vec<String> {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend(["-o", "name"]);
    sim.kubectl_in(context, &full)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_primary_remote_fleet_serves_every_context_and_the_remotes_use_the_primarys_istiod() {
    let sim = Sim::start(&["--clusters", "3"]);
    assert_eq!(sim.clusters, FLEET);

    let mut pod_names = BTreeSet::new();
    for cluster in FLEET {
        let viewer = format!("{cluster}-viewer");
        let pods = sim.kubectl_in(cluster, &["get", "pods", "-A", "--no-headers"]);
        let viewed = sim.kubectl_in(&viewer, &["get", "pods", "-A", "--no-headers"]);
        assert_eq!(pods.lines().count(), viewed.lines().count(), "{cluster}");
        for line in pods.lines() {
            let mut cols = line.split_whitespace();
            let key = format!("{}/{}", cols.next().unwrap(), cols.next().unwrap());
            assert!(pod_names.insert(key.clone()), "{key} in two clusters");
        }
        let write = sim.kubectl_as(&viewer, &["label", "ns", "checkout", "x=y"]);
        assert!(!write.status.success(), "{viewer} wrote");
        assert!(String::from_utf8_lossy(&write.stderr).contains("forbidden"));

        let istiod = names(
            &sim,
            cluster,
            &["pods", "-n", "istio-system", "-l", "app=istiod"],
        );
        assert_eq!(
            istiod.len(),
            if cluster == "primary" { 4 } else { 0 },
            "{cluster}: {istiod:?}"
        );
        let gateway = sim.kubectl_in(
            cluster,
            &[
                "get",
                "deploy",
                "istio-eastwestgateway",
                "-n",
                "istio-system",
                "-o",
                "jsonpath={.status.readyReplicas} {.spec.template.spec.containers[0].image}",
            ],
        );
        assert_eq!(gateway, "2 istio/proxyv2:1.24.0", "{cluster}");

        // Remote secrets name every other cluster, and the viewer may list them.
        let secrets = sim.kubectl_in(
            &viewer,
            &["get", "secrets", "-A", "-l", "istio/multiCluster=true", "-o",
              r#"jsonpath={range .items[*]}{.metadata.annotations.networking\.istio\.io/cluster}{" "}{end}"#],
        );
        let named: BTreeSet<&str> = secrets.split_whitespace().collect();
        let others: BTreeSet<&str> = FLEET.iter().copied().filter(|c| *c != cluster).collect();
        assert_eq!(named, others, "{cluster}");
    }

    // A remote's sidecars carry the primary's revisions' versions.
    for cluster in ["remote-1", "remote-2"] {
        let pods = sidecars(&sim, cluster, "checkout");
        assert!(!pods.is_empty());
        for (name, image, revision) in &pods {
            assert_eq!(
                (image.as_str(), revision.as_str()),
                ("istio/proxyv2:1.24.0", "1-24-0"),
                "{cluster} {name}"
            );
        }
    }
    let hooks = sim.kubectl_in(
        "remote-1",
        &[
            "get",
            "mutatingwebhookconfigurations",
            "istio-sidecar-injector-1-25-0",
            "-o",
            "jsonpath={.webhooks[0].clientConfig.url}",
        ],
    );
    let gateway_ip = sim.kubectl_in(
        "primary",
        &[
            "get",
            "svc",
            "istio-eastwestgateway",
            "-n",
            "istio-system",
            "-o",
            "jsonpath={.status.loadBalancer.ingress[0].ip}",
        ],
    );
    assert!(
        hooks.starts_with(&format!("https://{gateway_ip}:15017/inject/")),
        "{hooks}"
    );

    // Moving a remote namespace to the new revision injects the new revision's proxy there.
    sim.kubectl_in(
        "remote-1",
        &[
            "label",
            "ns",
            "checkout",
            "istio.io/rev=1-25-0",
            "--overwrite",
        ],
    );
    sim.kubectl_in(
        "remote-1",
        &[
            "delete",
            "pods",
            "-n",
            "checkout",
            "-l",
            "app=cart",
            "--wait=false",
        ],
    );
    let moved = eventually(Duration::from_secs(20), || {
        let pods: Vec<_> = sidecars(&sim, "remote-1", "checkout")
            .into_iter()
            .filter(|p| p.0.starts_with("cart-"))
            .collect();
        (pods.len() == 3
            && pods
                .iter()
                .all(|p| p.1 == "istio/proxyv2:1.25.0" && p.2 == "1-25-0"))
        .then_some(())
    });
    assert!(
        moved.is_some(),
        "{:?}",
        sidecars(&sim, "remote-1", "checkout")
    );
    // The primary's pods in the same namespace did not move.
    assert!(
        sidecars(&sim, "primary", "checkout")
            .iter()
            .all(|p| p.2 == "1-24-0")
    );
}

/// Every namespace Istio serves, and its `root-cert.pem`.
fn root_certs(sim: &Sim, context: &str) -> BTreeMap<String, String> {
    let out = sim.kubectl_in(
        context,
        &["get", "configmaps", "-A", "--field-selector", "metadata.name=istio-ca-root-cert", "-o",
          r#"jsonpath={range .items[*]}{.metadata.namespace}{"\t"}{.data.root-cert\.pem}{"\x1e"}{end}"#],
    );
    out.split('\x1e')
        .filter_map(|entry| entry.split_once('\t'))
        .map(|(ns, pem)| (ns.to_string(), pem.to_string()))
        .collect()
}

#[test]
fn every_namespace_has_the_shared_root_ca_and_a_new_one_gets_it() {
    let sim = Sim::start(&["--clusters", "3", "--namespaces", "4"]);
    let primary = root_certs(&sim, "primary");
    let namespaces = names(&sim, "primary", &["namespaces"]);
    let served: Vec<&String> = namespaces
        .iter()
        .filter(|n| !n.starts_with("namespace/kube-"))
        .collect();
    assert_eq!(primary.len(), served.len(), "{primary:?}");
    let pems: BTreeSet<&String> = primary.values().collect();
    assert_eq!(pems.len(), 1);
    assert!(
        pems.iter()
            .all(|p| p.starts_with("-----BEGIN CERTIFICATE-----"))
    );
    for cluster in ["remote-1", "remote-2"] {
        let theirs = root_certs(&sim, cluster);
        assert_eq!(theirs.values().collect::<BTreeSet<_>>(), pems, "{cluster}");
    }
    sim.kubectl_stdin(
        "remote-2",
        &["apply", "--validate=false", "-f", "-"],
        br#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "late-comer"}}"#,
    );
    let got = eventually(Duration::from_secs(10), || {
        root_certs(&sim, "remote-2").remove("late-comer")
    });
    assert_eq!(got.as_ref(), pems.iter().next().copied());
    // Edited by hand, it is put back.
    sim.kubectl_in(
        "remote-2",
        &[
            "patch",
            "configmap",
            "istio-ca-root-cert",
            "-n",
            "late-comer",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"root-cert.pem":"x"}}"#,
        ],
    );
    let back = eventually(Duration::from_secs(10), || {
        (root_certs(&sim, "remote-2").get("late-comer") == pems.iter().next().copied())
            .then_some(())
    });
    assert!(back.is_some());
}

#[test]
fn multi_primary_runs_istiod_in_every_cluster() {
    let sim = Sim::start(&[
        "--clusters",
        "2",
        "--topology",
        "multi-primary",
        "--namespaces",
        "2",
    ]);
    assert_eq!(sim.clusters, ["primary", "remote-1"]);
    for cluster in ["primary", "remote-1"] {
        let istiod = names(
            &sim,
            cluster,
            &["pods", "-n", "istio-system", "-l", "app=istiod"],
        );
        assert_eq!(istiod.len(), 4, "{cluster}: {istiod:?}");
        let service = sim.kubectl_in(
            cluster,
            &[
                "get",
                "mutatingwebhookconfigurations",
                "istio-revision-tag-default",
                "-o",
                "jsonpath={.webhooks[0].clientConfig.service.name}",
            ],
        );
        assert_eq!(service, "istiod-1-24-0");
        assert!(
            sidecars(&sim, cluster, "staging-web")
                .iter()
                .all(|p| p.2 == "1-24-0")
        );
    }
}

#[test]
fn topology_without_a_fleet_is_refused_and_one_cluster_has_no_fleet_objects() {
    let out = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .args(["sim", "--topology", "multi-primary"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--topology") && stderr.contains("--clusters 2"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let help = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "--clusters",
        "--topology",
        "multi-primary",
        "`remote-1`",
        "`<name>-viewer`",
    ] {
        assert!(help.contains(needle), "{needle} missing from sim --help");
    }

    let sim = Sim::start(&["--namespaces", "2"]);
    assert!(sim.clusters.is_empty());
    let secrets = sim.kubectl(&["get", "secrets", "-A", "-o", "name"]);
    assert!(secrets.trim().is_empty(), "{secrets}");
    let roots = sim.kubectl(&[
        "get",
        "configmaps",
        "-A",
        "--field-selector",
        "metadata.name=istio-ca-root-cert",
        "-o",
        "name",
    ]);
    assert!(roots.trim().is_empty(), "{roots}");
    let gateway = sim.kubectl_output(&[
        "get",
        "deploy",
        "istio-eastwestgateway",
        "-n",
        "istio-system",
    ]);
    assert!(!gateway.status.success());
}

#[test]
fn prometheus_scrapes_every_cluster_labelled_with_its_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    let sim = Sim::start(&[
        "--clusters",
        "3",
        "--namespaces",
        "3",
        "--prometheus-config-out",
        config.to_str().unwrap(),
    ]);
    if let Ok(out) = Command::new("promtool")
        .arg("check")
        .arg("config")
        .arg(&config)
        .output()
    {
        assert!(
            out.status.success(),
            "promtool: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let prom = Prometheus::start(&config);
    let mut last = BTreeMap::new();
    let seen = eventually(Duration::from_secs(60), || {
        last = prom.by(
            "cluster",
            r#"count by (cluster) (up{job="envoy-stats"} == 1)"#,
        );
        (last.len() == 3).then_some(())
    });
    assert!(seen.is_some(), "{last:?}\n{}", prom.log_tail());
    for cluster in FLEET {
        let injected = sim
            .kubectl_in(
                cluster,
                &[
                    "get",
                    "pods",
                    "-A",
                    "-o",
                    "jsonpath={.items[*].metadata.annotations.sidecar\\.istio\\.io/status}",
                ],
            )
            .matches("revision")
            .count();
        let scraped = eventually(Duration::from_secs(30), || {
            let up = prom.by(
                "cluster",
                r#"count by (cluster) (up{job="envoy-stats"} == 1)"#,
            );
            (up.get(cluster).copied() == Some(injected as f64)).then_some(())
        });
        assert!(
            scraped.is_some(),
            "{cluster}: {injected} injected, {last:?}"
        );
    }
    let istiod = prom.by("cluster", r#"count by (cluster) (up{job="istiod"} == 1)"#);
    assert_eq!(istiod.get("primary"), Some(&4.0), "{istiod:?}");
    assert_eq!(istiod.len(), 1, "only the primary runs istiod: {istiod:?}");
}
