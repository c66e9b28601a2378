//! The mesh of a fleet: built from scenario stores, one per cluster, whose pods are renamed
//! per cluster (pod names are unique across a fleet) and whose remotes have no istiod.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::exposition::check;
use super::*;
use crate::sim::faults::FaultSet;
use crate::sim::{injection, scenario};

impl Mesh {
    /// Applies the changes to this cluster made since the last call, as `follow` would.
    fn catch_up(&self) {
        let mut guard = self.changes.lock().unwrap();
        let rx = guard.as_mut().unwrap();
        while let Ok(change) = rx.try_recv() {
            self.apply(&change);
        }
    }
}

struct Cluster {
    name: String,
    store: Arc<Store>,
    logs: Arc<LogHub>,
    faults: Arc<Faults>,
}

/// A scenario cluster; its pods are prefixed with its name but for the primary's, and a
/// remote of primary-remote keeps no istiod pod.
fn cluster(name: &str, with_istiod: bool) -> Cluster {
    let store = Arc::new(Store::default());
    store.set_admission(Box::new(|view, resource, obj| {
        if resource == "pods" {
            injection::admit_pod(view, obj);
        }
    }));
    scenario::load(&store, &scenario::Options::default()).expect("scenario");
    if name != "primary" {
        // Injected already: recreated as they are, under their new names.
        store.set_admission(Box::new(|_, _, _| {}));
        for pod in store.values("pods", None) {
            let (ns, old) = (
                pod["metadata"]["namespace"].as_str().unwrap().to_string(),
                pod["metadata"]["name"].as_str().unwrap().to_string(),
            );
            store.delete("pods", &ns, &old, None).unwrap();
            if pod["metadata"]["labels"]["app"] == "istiod" && !with_istiod {
                continue;
            }
            let mut renamed = pod.clone();
            let meta = renamed["metadata"].as_object_mut().unwrap();
            for field in ["resourceVersion", "uid", "creationTimestamp"] {
                meta.remove(field);
            }
            meta.insert("name".into(), json!(format!("{name}-{old}")));
            store.create("pods", &ns, renamed).unwrap();
        }
    }
    Cluster {
        name: name.to_string(),
        store,
        logs: Arc::new(LogHub::new(5000)),
        faults: Arc::new(Faults::default()),
    }
}

fn fleet(n: usize, topology: Topology) -> (Vec<Cluster>, Vec<Arc<Mesh>>) {
    let clusters: Vec<Cluster> = (0..n)
        .map(|i| {
            let name = if i == 0 {
                "primary".to_string()
            } else {
                format!("remote-{i}")
            };
            cluster(&name, i == 0 || topology == Topology::MultiPrimary)
        })
        .collect();
    let members = clusters
        .iter()
        .map(|c| FleetMember {
            name: c.name.clone(),
            store: c.store.clone(),
            logs: c.logs.clone(),
            faults: c.faults.clone(),
        })
        .collect();
    let meshes = Mesh::fleet(members, topology, 1);
    (clusters, meshes)
}

fn pods(store: &Store) -> Vec<Value> {
    store.values("pods", None)
}

fn name_of(pod: &Value) -> String {
    pod["metadata"]["name"].as_str().unwrap().to_string()
}

fn istiod_pods(store: &Store) -> Vec<String> {
    pods(store)
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "istiod")
        .map(name_of)
        .collect()
}

/// `sum by (version) (pilot_xds)` over a cluster's istiod pages.
fn pilot_xds(c: &Cluster, mesh: &Mesh) -> BTreeMap<String, f64> {
    let mut got = BTreeMap::new();
    for pod in istiod_pods(&c.store) {
        let page = mesh.pod_metrics("istio-system", &pod, 15014).unwrap();
        for s in check::parse(&page).samples {
            if s.name == "pilot_xds" {
                *got.entry(s.labels["version"].clone()).or_insert(0.0) += s.value;
            }
        }
    }
    got.retain(|_, v| *v > 0.0);
    got
}

fn sum(maps: impl IntoIterator<Item = BTreeMap<String, f64>>) -> BTreeMap<String, f64> {
    let mut total = BTreeMap::new();
    for m in maps {
        for (k, v) in m {
            *total.entry(k).or_insert(0.0) += v;
        }
    }
    total
}

/// Every discovery line of a cluster's istiod pods.
fn istiod_lines(c: &Cluster) -> Vec<String> {
    istiod_pods(&c.store)
        .iter()
        .flat_map(|pod| c.logs.read("istio-system", pod, "discovery", None, None).0)
        .map(|(_, line)| line.to_string())
        .collect()
}

#[test]
fn the_primary_serves_every_cluster_in_primary_remote() {
    let (clusters, meshes) = fleet(3, Topology::PrimaryRemote);
    let want = sum(clusters
        .iter()
        .map(|c| super::tests::expected_versions(&c.store)));
    assert!(
        super::tests::expected_versions(&clusters[2].store)
            .values()
            .sum::<f64>()
            > 10.0
    );
    assert_eq!(pilot_xds(&clusters[0], &meshes[0]), want);

    for (c, mesh) in clusters.iter().zip(&meshes).skip(1) {
        assert!(istiod_pods(&c.store).is_empty());
        let targets = mesh.targets();
        let own: f64 = super::tests::expected_versions(&c.store).values().sum();
        assert_eq!(
            targets.len() as f64,
            own,
            "{}: only its own sidecars",
            c.name
        );
        for t in &targets {
            assert_eq!(t.port, 15020);
            assert!(t.pod.starts_with(&format!("{}-", c.name)), "{t:?}");
            assert!(c.store.get_value("pods", &t.namespace, &t.pod).is_some());
        }
        assert_eq!(mesh.cluster_name(), c.name);
    }
    // The primary's targets are its own pods: its istiods and its sidecars.
    let primary = meshes[0].targets();
    assert!(primary.iter().all(|t| !t.pod.starts_with("remote-")));
    assert_eq!(
        primary.iter().filter(|t| t.port == 15014).count(),
        istiod_pods(&clusters[0].store).len()
    );

    // A new pod in a remote connects to the primary's istiod, which logs it there.
    let remote = &clusters[1];
    let mut pod = json!({"metadata": {"name": "remote-1-web-1", "labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
    injection::inject(&mut pod, "1-24-0", "1.24.0");
    pod["status"] = json!({"phase": "Running", "podIP": "10.245.0.9",
                           "conditions": [{"type": "Ready", "status": "True"}]});
    remote.store.create("pods", "checkout", pod).unwrap();
    meshes[0].tick();
    meshes[1].catch_up();
    let lines = istiod_lines(&clusters[0]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("for node:sidecar~10.245.0.9~remote-1-web-1.checkout~")),
        "no connection line for the remote pod"
    );
    assert!(
        meshes[1]
            .pod_metrics("checkout", "remote-1-web-1", 15020)
            .is_some()
    );
    assert!(
        meshes[0]
            .pod_metrics("checkout", "remote-1-web-1", 15020)
            .is_none()
    );
    let want = sum(clusters
        .iter()
        .map(|c| super::tests::expected_versions(&c.store)));
    assert_eq!(pilot_xds(&clusters[0], &meshes[0]), want);

    // A deleted remote pod's connection ends on the primary's istiod.
    remote
        .store
        .delete("pods", "checkout", "remote-1-web-1", None)
        .unwrap();
    meshes[1].catch_up();
    assert!(istiod_lines(&clusters[0]).iter().any(|l| {
        l.contains("~remote-1-web-1.checkout~checkout.svc.cluster.local-")
            && l.ends_with("terminated")
    }));
}

#[test]
fn nacks_on_the_primary_name_remote_pods_in_the_primary_log() {
    let (clusters, meshes) = fleet(2, Topology::PrimaryRemote);
    let (set, _) = FaultSet::from_data(&json!({"nacks.1-24-0": "3000"}));
    clusters[0].faults.set(set);
    for _ in 0..5 {
        meshes[1].tick();
    }
    let mut remote_nacks = 0;
    for line in istiod_lines(&clusters[0]) {
        let Some(at) = line.find("ACK ERROR ") else {
            continue;
        };
        let id = line[at + "ACK ERROR ".len()..].split(' ').next().unwrap();
        let node = id.split('~').nth(2).unwrap();
        let (pod, ns) = node.split_once('.').unwrap();
        let owner = clusters
            .iter()
            .find(|c| c.store.get_value("pods", ns, pod).is_some())
            .expect("the NACK names a pod of the fleet");
        if owner.name == "remote-1" {
            remote_nacks += 1;
        }
    }
    assert!(remote_nacks > 20, "{remote_nacks} NACKs named remote pods");
    // The remote's own fault set has no NACKs and the remote has no istiod to log any.
    assert!(
        clusters[1]
            .logs
            .read("istio-system", "x", "discovery", None, None)
            .0
            .is_empty()
    );
}

#[test]
fn each_primary_serves_its_own_proxies_in_multi_primary() {
    let (clusters, meshes) = fleet(3, Topology::MultiPrimary);
    for (c, mesh) in clusters.iter().zip(&meshes) {
        assert!(!istiod_pods(&c.store).is_empty());
        assert_eq!(
            pilot_xds(c, mesh),
            super::tests::expected_versions(&c.store),
            "{}",
            c.name
        );
    }
    // NACKs of remote-2's istiods name remote-2's pods only.
    let (set, _) = FaultSet::from_data(&json!({"nacks.1-24-0": "3000"}));
    clusters[2].faults.set(set);
    meshes[0].tick();
    meshes[0].tick();
    let nacks: Vec<String> = istiod_lines(&clusters[2])
        .into_iter()
        .filter(|l| l.contains("ACK ERROR"))
        .collect();
    assert!(!nacks.is_empty());
    assert!(nacks.iter().all(|l| l.contains("~remote-2-")), "{nacks:?}");
    assert!(
        istiod_lines(&clusters[0])
            .iter()
            .chain(&istiod_lines(&clusters[1]))
            .all(|l| !l.contains("ACK ERROR"))
    );
}

/// The page of a running sidecar of the mesh's cluster, parsed.
fn sidecar_page(mesh: &Mesh) -> check::Parsed {
    let t = mesh
        .targets()
        .into_iter()
        .find(|t| t.port == 15020 && t.namespace == "payments")
        .expect("a sidecar");
    check::parse(&mesh.pod_metrics(&t.namespace, &t.pod, t.port).unwrap())
}

fn requests(page: &check::Parsed, cross: bool) -> Vec<&check::Sample> {
    page.samples
        .iter()
        .filter(|s| s.name == "istio_requests_total")
        .filter(|s| (s.labels["source_cluster"] != s.labels["destination_cluster"]) == cross)
        .collect()
}

#[test]
fn cross_cluster_requests_carry_both_clusters_and_fail_with_a_broken_link() {
    let (clusters, meshes) = fleet(3, Topology::PrimaryRemote);
    for _ in 0..10 {
        meshes[0].tick();
    }
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    for (c, mesh) in clusters.iter().zip(&meshes) {
        let page = sidecar_page(mesh);
        check::histograms_are_consistent(&page);
        let local = requests(&page, false);
        assert!(local.iter().all(|s| s.labels["source_cluster"] == c.name));
        let cross = requests(&page, true);
        assert!(
            cross.iter().any(|s| s.labels["reporter"] == "source"
                && s.labels["source_cluster"] == c.name
                && s.labels["response_code"] == "200"),
            "{}: no outbound cross-cluster requests",
            c.name
        );
        assert!(
            cross.iter().any(|s| s.labels["reporter"] == "destination"
                && s.labels["destination_cluster"] == c.name)
        );
        for s in &cross {
            assert!(names.contains(&s.labels["source_cluster"].as_str()));
            assert!(names.contains(&s.labels["destination_cluster"].as_str()));
        }
    }

    // remote-1's east-west gateway goes down: its calls to other clusters fail with 503 UH,
    // and so do the other clusters' calls to it; a pod of remote-2 calling the primary is fine.
    let (set, _) = FaultSet::from_data(&json!({"eastwest.down": "true"}));
    clusters[1].faults.set(set);
    let before = failed_cross(&clusters, &meshes, "UH");
    for _ in 0..10 {
        meshes[0].tick();
    }
    let after = failed_cross(&clusters, &meshes, "UH");
    assert_eq!(before, FailedCross::default());
    assert!(after.from_broken > 0.0, "{after:?}");
    assert!(after.to_broken > 0.0, "{after:?}");
    assert_eq!(after.elsewhere, 0.0, "{after:?}");

    // Back up, then remote-2's root CA differs: handshakes with it fail (503 UF,URX), and its
    // pods log the failures.
    clusters[1].faults.set(FaultSet::default());
    let (set, _) = FaultSet::from_data(&json!({"ca.mismatch": "true"}));
    clusters[2].faults.set(set);
    for _ in 0..10 {
        meshes[0].tick();
    }
    let mtls = failed_cross(&clusters, &meshes, "UF,URX");
    assert!(mtls.from_broken > 0.0 && mtls.to_broken > 0.0, "{mtls:?}");
    assert_eq!(mtls.elsewhere, 0.0);
    let logged = meshes[2].targets().iter().any(|t| {
        clusters[2]
            .logs
            .read(&t.namespace, &t.pod, "istio-proxy", None, None)
            .0
            .iter()
            .any(|(_, l)| l.contains("\" 503 UF,URX ") && l.contains("CERTIFICATE_VERIFY_FAILED"))
    });
    assert!(
        logged,
        "no access-log line for a failed cross-cluster handshake"
    );
}

/// 503s with `flags` reported by callers, summed over every sidecar page of the fleet:
/// from the cluster whose link is broken (the one with faults), to it, and between others.
#[derive(Debug, Default, PartialEq)]
struct FailedCross {
    from_broken: f64,
    to_broken: f64,
    elsewhere: f64,
}

fn failed_cross(clusters: &[Cluster], meshes: &[Arc<Mesh>], flags: &str) -> FailedCross {
    let broken = clusters
        .iter()
        .find(|c| c.faults.snapshot() != FaultSet::default())
        .map_or("", |c| c.name.as_str());
    let mut out = FailedCross::default();
    for mesh in meshes {
        for t in mesh.targets().into_iter().filter(|t| t.port == 15020) {
            let page = check::parse(&mesh.pod_metrics(&t.namespace, &t.pod, t.port).unwrap());
            for s in requests(&page, true) {
                if s.labels["reporter"] != "source"
                    || s.labels["response_code"] != "503"
                    || s.labels["response_flags"] != flags
                {
                    continue;
                }
                if s.labels["source_cluster"] == broken {
                    out.from_broken += s.value;
                } else if s.labels["destination_cluster"] == broken {
                    out.to_broken += s.value;
                } else {
                    out.elsewhere += s.value;
                }
            }
        }
    }
    out
}

#[test]
fn a_fleet_of_one_reports_the_default_cluster_and_no_cross_traffic() {
    let (_, meshes) = fleet(1, Topology::PrimaryRemote);
    for _ in 0..5 {
        meshes[0].tick();
    }
    let page = sidecar_page(&meshes[0]);
    assert!(requests(&page, true).is_empty());
    assert!(
        requests(&page, false)
            .iter()
            .all(|s| s.labels["source_cluster"] == "Kubernetes"
                && s.labels["destination_cluster"] == "Kubernetes")
    );
}

#[tokio::test]
async fn spawned_meshes_follow_their_own_stores() {
    let (clusters, meshes) = fleet(2, Topology::PrimaryRemote);
    for mesh in &meshes {
        mesh.clone().spawn();
    }
    let mut pod = json!({"metadata": {"name": "remote-1-api-1", "labels": {"app": "api"}},
                         "spec": {"containers": [{"name": "api", "image": "api:1"}]}});
    injection::inject(&mut pod, "1-24-0", "1.24.0");
    pod["status"] = json!({"phase": "Running", "podIP": "10.245.0.10"});
    clusters[1].store.create("pods", "payments", pod).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        // The next tick resets the connection-line budget of the primary's istiods.
        let logged = istiod_lines(&clusters[0])
            .iter()
            .any(|l| l.contains("~remote-1-api-1.payments~"));
        if logged
            && meshes[1]
                .pod_metrics("payments", "remote-1-api-1", 15020)
                .is_some()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the remote pod never connected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        meshes[0]
            .pod_metrics("payments", "remote-1-api-1", 15020)
            .is_none()
    );
}
