//! Traffic, metrics and istiod logs of the simulated mesh, for one cluster or a fleet.
//!
//! - `pod_info`: what a pod is to the mesh (istiod, injected workload, neither)
//! - `state`: sidecars, istiods, who is connected to whom, the one-second tick
//! - `shared`: what a fleet's meshes share, and the tick that runs once for all of them
//! - `traffic`: one sidecar's requests, shaped by its revision's faults
//! - `cross`: a fleet sidecar's requests to and from another cluster
//! - `sidecar`, `istiod`: the pages they serve (port 15020 and 15014)
//! - `log_lines`: istiod's console lines and the sidecars' access-log and rejection lines
//! - `sync_status`: what istiod's `/debug/syncz` says of each proxy (synced or stale)
//! - `histogram`, `exposition`, `random`: the arithmetic underneath
//!
//! The mesh follows the store through its change broadcast, so pods appear and disappear
//! as the controllers create and delete them; a pod's JSON is read when it is added and
//! when its phase changes, never on a tick. A fleet's clusters share one state, ticked once
//! a second for all of them, and each cluster's `Mesh` answers for that cluster's pods.

mod cross;
mod exposition;
mod histogram;
mod istiod;
mod log_lines;
mod pod_info;
mod random;
mod shared;
mod sidecar;
mod state;
mod sync_status;
mod traffic;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use tokio::sync::broadcast::{self, error::RecvError};

use super::faults::Faults;
use super::logs::LogHub;
use super::store::{Change, ChangeType, Store};
use super::topology::Topology;
pub use exposition::CONTENT_TYPE;
use exposition::Page;
use shared::Core;
pub use shared::FleetMember;
use state::State;
pub use state::Target;

/// The most pods `/sim/metrics` puts on one page (each sidecar adds about 40 KB).
pub const COMBINED_PAGE_TARGETS: usize = 1_000;

/// The mesh of one cluster: its pods' pages, targets and logs.
pub struct Mesh {
    core: Arc<Core>,
    cluster: u16,
    /// Changes after the snapshot the state was built from, until `spawn` follows them.
    changes: Mutex<Option<broadcast::Receiver<Arc<Change>>>>,
}

impl Mesh {
    /// The mesh of one cluster: a fleet of one.
    pub fn new(store: Arc<Store>, logs: Arc<LogHub>, faults: Arc<Faults>, seed: u64) -> Arc<Mesh> {
        let member = FleetMember {
            name: String::new(),
            store,
            logs,
            faults,
        };
        Mesh::fleet(vec![member], Topology::default(), seed)
            .pop()
            .expect("a fleet of one has one mesh")
    }

    /// The meshes of a fleet, one per member in the members' order; the first member is the
    /// primary. Each answers for its own cluster's pods; `tick` on any of them advances all.
    pub fn fleet(members: Vec<FleetMember>, topology: Topology, seed: u64) -> Vec<Arc<Mesh>> {
        let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        let mut state = State::new(seed, &names, topology);
        let now = Utc::now();
        let mut receivers = Vec::with_capacity(members.len());
        for (cluster, m) in members.iter().enumerate() {
            let cluster = cluster as u16;
            let (_, pods, changes) = m.store.watch_with_snapshot("pods", None);
            state.set_services(cluster, m.store.count("services"));
            for (_, stored) in &pods {
                if let Some(info) = pod_info::parse(&stored.raw) {
                    state.upsert(cluster, info, now);
                }
            }
            receivers.push(changes);
        }
        let core = Arc::new(Core {
            members,
            state: Mutex::new(state),
            ticking: AtomicBool::new(false),
        });
        core.flush_logs();
        receivers
            .into_iter()
            .enumerate()
            .map(|(cluster, changes)| {
                Arc::new(Mesh {
                    core: core.clone(),
                    cluster: cluster as u16,
                    changes: Mutex::new(Some(changes)),
                })
            })
            .collect()
    }

    fn member(&self) -> &FleetMember {
        &self.core.members[usize::from(self.cluster)]
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.core.state()
    }

    /// Starts following this cluster's store, and the fleet's tick if it is not running yet.
    /// Call once per mesh, inside a tokio runtime.
    pub fn spawn(self: Arc<Self>) {
        let Some(changes) = self.changes.lock().ok().and_then(|mut c| c.take()) else {
            return;
        };
        if !self.core.ticking.swap(true, Ordering::SeqCst) {
            tokio::spawn(self.core.clone().run_ticks());
        }
        tokio::spawn(self.follow(changes));
    }

    async fn follow(self: Arc<Self>, mut changes: broadcast::Receiver<Arc<Change>>) {
        loop {
            match changes.recv().await {
                Ok(change) => self.apply(&change),
                Err(RecvError::Lagged(_)) => changes = self.resync(),
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// One second of the whole fleet, as `spawn` runs it every second; for callers that
    /// keep the clock themselves.
    pub fn tick(&self) {
        self.core.tick();
    }

    fn apply(&self, change: &Change) {
        let now = Utc::now();
        let cluster = self.cluster;
        let (ns, name) = (&change.key.0, &change.key.1);
        match (change.resource, change.kind) {
            ("pods", ChangeType::Deleted) => self.state().remove(cluster, ns, name, now),
            ("pods", kind) => {
                // A known sidecar is read again only when its phase changes.
                let phase_same = kind == ChangeType::Modified
                    && change
                        .previous
                        .as_ref()
                        .is_some_and(|p| p.phase == change.object.phase);
                if phase_same && self.state().sidecar_running(cluster, ns, name).is_some() {
                    return;
                }
                if let Some(info) = pod_info::parse(&change.object.raw) {
                    self.state().upsert(cluster, info, now);
                }
            }
            ("services", ChangeType::Added) => self.state().new_service(ns, name, now),
            _ => return,
        }
        self.core.flush_logs();
    }

    /// After falling behind the change stream: compare with a fresh snapshot.
    fn resync(&self) -> broadcast::Receiver<Arc<Change>> {
        let cluster = self.cluster;
        let (_, pods, changes) = self.member().store.watch_with_snapshot("pods", None);
        let now = Utc::now();
        let mut state = self.state();
        let present: std::collections::HashSet<(&str, &str)> = pods
            .iter()
            .map(|(k, _)| (k.0.as_str(), k.1.as_str()))
            .collect();
        for (ns, name) in state.pod_keys(cluster) {
            if !present.contains(&(&*ns, &*name)) {
                state.remove(cluster, &ns, &name, now);
            }
        }
        for ((ns, name), stored) in &pods {
            let running = stored.phase.as_deref() == Some("Running");
            if state.sidecar_running(cluster, ns, name) == Some(running) {
                continue;
            }
            if let Some(info) = pod_info::parse(&stored.raw) {
                state.upsert(cluster, info, now);
            }
        }
        drop(state);
        self.core.flush_logs();
        changes
    }

    /// The metrics page a pod of this cluster serves on `port` (15014 for istiod, 15020 for
    /// sidecars).
    pub fn pod_metrics(&self, ns: &str, pod: &str, port: u16) -> Option<String> {
        let mut page = Page::new();
        self.state()
            .render_pod(self.cluster, ns, pod, port, &mut page, false)
            .then(|| page.render())
    }

    /// Every istiod and sidecar series of this cluster on one page, each with the labels
    /// Prometheus' pod relabelling would add: `namespace`, `pod`, `app`, `istio_io_rev`. A
    /// cluster of more than `COMBINED_PAGE_TARGETS` pods is refused with its size (the page
    /// would take gigabytes).
    pub fn all_metrics(&self) -> Result<String, usize> {
        let state = self.state();
        let targets = state.targets(self.cluster);
        if targets.len() > COMBINED_PAGE_TARGETS {
            return Err(targets.len());
        }
        let mut page = Page::new();
        for t in targets {
            state.render_pod(self.cluster, &t.namespace, &t.pod, t.port, &mut page, true);
        }
        Ok(page.render())
    }

    /// The pods of this cluster Prometheus should scrape.
    pub fn targets(&self) -> Vec<Target> {
        self.state().targets(self.cluster)
    }

    /// The JSON istiod pod `ns/pod` serves on `:15014/debug/syncz`, its proxies of
    /// `namespace` only when that is given; None when no running istiod has that name.
    pub fn syncz(&self, ns: &str, pod: &str, namespace: Option<&str>) -> Option<String> {
        let rows = self.state().syncz(self.cluster, ns, pod, namespace)?;
        serde_json::to_string(&rows).ok()
    }

    /// The name of this mesh's cluster in the fleet (empty for a mesh made by `new`).
    pub fn cluster_name(&self) -> &str {
        &self.member().name
    }
}

#[cfg(test)]
mod fleet_tests;
#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::exposition::check;
    use super::*;
    use crate::sim::faults::FaultSet;
    use crate::sim::{injection, scenario};

    fn mesh() -> (Arc<Store>, Arc<LogHub>, Arc<Faults>, Arc<Mesh>) {
        let store = Arc::new(Store::default());
        store.set_admission(Box::new(|view, resource, obj| {
            if resource == "pods" {
                injection::admit_pod(view, obj);
            }
        }));
        scenario::load(&store, &scenario::Options::default()).expect("scenario");
        let logs = Arc::new(LogHub::new(1000));
        let faults = Arc::new(Faults::default());
        let mesh = Mesh::new(store.clone(), logs.clone(), faults.clone(), 1);
        (store, logs, faults, mesh)
    }

    impl Mesh {
        /// Applies the changes made since the last call, as `follow` would.
        fn drain(&self) {
            let mut guard = self.changes.lock().unwrap();
            let rx = guard.as_mut().unwrap();
            while let Ok(change) = rx.try_recv() {
                self.apply(&change);
            }
        }
    }

    fn pods(store: &Store) -> Vec<serde_json::Value> {
        store.values("pods", None)
    }

    fn istiod_pods(store: &Store) -> Vec<(String, String)> {
        pods(store)
            .iter()
            .filter(|p| p["metadata"]["labels"]["app"] == "istiod")
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                    p["metadata"]["labels"]["istio.io/rev"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    }

    /// Injected, running pods by proxy version, from the store.
    pub(super) fn expected_versions(store: &Store) -> BTreeMap<String, f64> {
        let mut want = BTreeMap::new();
        for p in pods(store) {
            if p["metadata"]["annotations"]["sidecar.istio.io/status"].is_null()
                || p["status"]["phase"] != "Running"
            {
                continue;
            }
            let image = p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "istio-proxy")
                .unwrap()["image"]
                .as_str()
                .unwrap()
                .to_string();
            *want
                .entry(injection::image_tag(&image).unwrap())
                .or_insert(0.0) += 1.0;
        }
        want
    }

    /// `sum by (version) (pilot_xds)` over every istiod page.
    fn pilot_xds(store: &Store, mesh: &Mesh) -> BTreeMap<String, f64> {
        let mut got = BTreeMap::new();
        for (pod, _) in istiod_pods(store) {
            let page = mesh
                .pod_metrics("istio-system", &pod, 15014)
                .expect("istiod page");
            for s in check::parse(&page)
                .samples
                .into_iter()
                .filter(|s| s.name == "pilot_xds")
            {
                *got.entry(s.labels["version"].clone()).or_insert(0.0) += s.value;
            }
        }
        got.retain(|_, v| *v > 0.0);
        got
    }

    #[test]
    fn connected_proxies_match_the_injected_pods() {
        let (store, _, _, mesh) = mesh();
        let want = expected_versions(&store);
        assert_eq!(
            want.get("1.22.4"),
            Some(&1.0),
            "the scenario has one skewed pod"
        );
        assert_eq!(pilot_xds(&store, &mesh), want);
        // Nothing runs on the new revision yet, and its istiods serve no pilot_xds series.
        for (pod, rev) in istiod_pods(&store) {
            let page = mesh.pod_metrics("istio-system", &pod, 15014).unwrap();
            assert!(page.contains(&format!(
                "istio_build{{component=\"pilot\",tag=\"{}\"}} 1",
                rev.replace('-', ".")
            )));
            assert_eq!(rev == "1-25-0", !page.contains("pilot_xds{"), "{pod}");
            let parsed = check::parse(&page);
            check::histograms_are_consistent(&parsed);
        }
    }

    #[test]
    fn proxies_follow_pods_and_istiods_as_they_come_and_go() {
        let (store, logs, _, mesh) = mesh();
        let victim = pods(&store)
            .into_iter()
            .find(|p| p["metadata"]["namespace"] == "checkout")
            .unwrap();
        let name = victim["metadata"]["name"].as_str().unwrap().to_string();
        store.delete("pods", "checkout", &name, None).unwrap();
        // An istiod of the old revision goes away: its proxies move to the other one.
        let (gone, _) = istiod_pods(&store)
            .into_iter()
            .find(|(_, r)| r == "1-24-0")
            .unwrap();
        store.delete("pods", "istio-system", &gone, None).unwrap();
        mesh.drain();
        assert!(mesh.pod_metrics("checkout", &name, 15020).is_none());
        assert!(mesh.pod_metrics("istio-system", &gone, 15014).is_none());
        assert_eq!(pilot_xds(&store, &mesh), expected_versions(&store));
        let (other, _) = istiod_pods(&store)
            .into_iter()
            .find(|(_, r)| r == "1-24-0")
            .unwrap();
        let (lines, _) = logs.read("istio-system", &other, "discovery", None, None);
        assert!(lines.iter().any(|l| {
            l.1.contains("\tdelta\tADS: new delta connection for node:sidecar~")
        }));
        let (before, _) = logs.read("istio-system", &gone, "discovery", None, None);
        assert!(lines.iter().chain(&before).any(|l| {
            l.1.contains(&format!("~{name}.checkout~checkout.svc.cluster.local-"))
                && l.1.ends_with("terminated")
        }));

        // A new pod in a namespace on the new revision connects to a new-revision istiod.
        store
            .create(
                "namespaces",
                "",
                json!({"metadata": {"name": "canary", "labels": {"istio.io/rev": "1-25-0"}}}),
            )
            .unwrap();
        let mut pod = json!({"metadata": {"name": "web-1", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
        pod["status"] = json!({"phase": "Pending"});
        store.create("pods", "canary", pod).unwrap();
        mesh.drain();
        assert!(
            mesh.pod_metrics("canary", "web-1", 15020).is_none(),
            "not running yet"
        );
        run(&store, "canary", "web-1", "10.244.250.9");
        mesh.drain();
        assert!(mesh.pod_metrics("canary", "web-1", 15020).is_some());
        assert_eq!(pilot_xds(&store, &mesh), expected_versions(&store));
    }

    fn run(store: &Store, ns: &str, name: &str, ip: &str) {
        store
            .modify("pods", ns, name, |p| {
                let mut p = p.clone();
                p["status"] = json!({"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]});
                Ok(p)
            })
            .unwrap();
    }

    #[test]
    fn a_nacking_proxy_logs_the_rejection_and_reads_stale_until_the_fault_ends() {
        let (store, logs, faults, mesh) = mesh();
        let (set, _) = FaultSet::from_data(&json!({"nacks.1-24-0": "600"}));
        faults.set(set);
        for _ in 0..3 {
            mesh.tick();
        }
        let (istiod, _) = istiod_pods(&store)
            .into_iter()
            .find(|(_, rev)| rev == "1-24-0")
            .unwrap();
        let (lines, _) = logs.read("istio-system", &istiod, "discovery", None, None);
        let id = lines
            .iter()
            .find_map(|(_, l)| l.split("ACK ERROR ").nth(1))
            .and_then(|rest| rest.split(' ').next())
            .expect("a NACK line");
        let node = id.split('~').nth(2).unwrap();
        let (pod, ns) = node.split_once('.').unwrap();
        let (own, _) = logs.read(ns, pod, "istio-proxy", None, None);
        assert!(
            own.iter()
                .any(|(_, l)| l.contains("\twarning\tenvoy config") && l.contains(" rejected: ")),
            "the proxy logs what it rejected"
        );
        let stale_types = |mesh: &Mesh| -> Vec<String> {
            let rows: Vec<serde_json::Value> = istiod_pods(&store)
                .iter()
                .filter_map(|(d, _)| mesh.syncz("istio-system", d, Some(ns)))
                .flat_map(|body| serde_json::from_str::<Vec<serde_json::Value>>(&body).unwrap())
                .filter(|r| r["proxy"] == format!("{pod}.{ns}"))
                .collect();
            assert_eq!(rows.len(), 1, "exactly one istiod serves the proxy");
            ["cluster", "listener", "route", "endpoint"]
                .iter()
                .filter(|t| rows[0][format!("{t}_sent")] != rows[0][format!("{t}_acked")])
                .map(ToString::to_string)
                .collect()
        };
        assert!(
            !stale_types(&mesh).is_empty(),
            "the NACKed proxy reads stale"
        );
        assert!(
            mesh.syncz("istio-system", &istiod, Some("no-such-namespace"))
                .is_some_and(|b| b == "[]")
        );
        assert!(
            mesh.syncz(ns, pod, None).is_none(),
            "a sidecar serves no syncz"
        );
        faults.set(FaultSet::default());
        for _ in 0..25 {
            mesh.tick();
        }
        assert!(
            stale_types(&mesh).is_empty(),
            "a full push without NACKs syncs it"
        );
    }

    #[test]
    fn nacks_name_real_pods_and_count_as_rejects() {
        let (store, logs, faults, mesh) = mesh();
        let (set, _) = FaultSet::from_data(
            &json!({"nacks.1-24-0": "600", "mtls.1-24-0": "0.5", "errors.1-24-0": "0.2"}),
        );
        faults.set(set);
        for _ in 0..5 {
            mesh.tick();
        }
        let mut nacks = 0;
        let mut rejects = 0.0;
        for (pod, rev) in istiod_pods(&store) {
            let (lines, _) = logs.read("istio-system", &pod, "discovery", None, None);
            for (_, line) in &lines {
                let fields: Vec<&str> = line.split('\t').collect();
                assert_eq!(fields.len(), 4, "{line}");
                if !fields[3].contains("ACK ERROR") {
                    continue;
                }
                assert_eq!(rev, "1-24-0");
                nacks += 1;
                assert_eq!(fields[1], "warn");
                let id = fields[3].split(' ').nth(3).unwrap();
                let node = id.split('~').nth(2).unwrap();
                let (pod_name, ns) = node.split_once('.').unwrap();
                let target = store
                    .get_value("pods", ns, pod_name)
                    .expect("the NACK names a pod that exists");
                assert_eq!(target["metadata"]["annotations"]["istio.io/rev"], "1-24-0");
            }
            let page = mesh.pod_metrics("istio-system", &pod, 15014).unwrap();
            let parsed = check::parse(&page);
            rejects += parsed
                .samples
                .iter()
                .filter(|s| s.name == "pilot_total_xds_rejects")
                .map(|s| s.value)
                .sum::<f64>();
        }
        assert!(
            (45..=55).contains(&nacks),
            "10 a second for 5 seconds, got {nacks}"
        );
        assert_eq!(rejects, nacks as f64);

        // mTLS failures: 503 UF,URX reported by the calling side, and an access-log line.
        let pod = pods(&store)
            .into_iter()
            .find(|p| p["metadata"]["namespace"] == "payments")
            .unwrap();
        let name = pod["metadata"]["name"].as_str().unwrap();
        let page = mesh.pod_metrics("payments", name, 15020).unwrap();
        let parsed = check::parse(&page);
        check::histograms_are_consistent(&parsed);
        let failed = parsed
            .samples
            .iter()
            .find(|s| s.name == "istio_requests_total" && s.labels["response_flags"] == "UF,URX")
            .expect("mTLS failures");
        assert_eq!(failed.labels["response_code"], "503");
        assert!(
            parsed
                .samples
                .iter()
                .any(|s| s.name == "istio_requests_total"
                    && s.labels["reporter"] == "destination"
                    && s.labels["response_code"] == "503")
        );
        let (lines, _) = logs.read("payments", name, "istio-proxy", None, None);
        assert!(
            lines.iter().any(|l| l.1.contains("\" 503 UF,URX ")),
            "{lines:?}"
        );
    }

    #[test]
    fn the_combined_page_labels_every_sample_with_its_target() {
        let (_, _, _, mesh) = mesh();
        mesh.tick();
        mesh.tick();
        let parsed = check::parse(&mesh.all_metrics().unwrap());
        check::histograms_are_consistent(&parsed);
        for s in &parsed.samples {
            for key in ["namespace", "pod", "app", "istio_io_rev"] {
                assert!(
                    s.labels.get(key).is_some_and(|v| !v.is_empty()),
                    "{key} missing on {s:?}"
                );
            }
        }
        assert!(parsed.samples.iter().any(|s| s.name == "pilot_xds"));
        assert!(
            parsed
                .samples
                .iter()
                .any(|s| s.name == "istio_requests_total")
        );
    }
}
