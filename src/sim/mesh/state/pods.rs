//! Pods and services coming and going, in any cluster of the fleet.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{State, WorkloadEntry};
use crate::sim::mesh::cross::{CrossTraffic, LinkState};
use crate::sim::mesh::istiod::{Istiod, PodName};
use crate::sim::mesh::log_lines;
use crate::sim::mesh::pod_info::{PodInfo, Role};
use crate::sim::mesh::random;
use crate::sim::mesh::sidecar::Sidecar;
use crate::sim::mesh::traffic::Traffic;

impl State {
    /// Adds or updates a pod of `cluster`. Pods that are not part of the mesh are forgotten.
    pub fn upsert(&mut self, cluster: u16, info: PodInfo, now: DateTime<Utc>) {
        if usize::from(cluster) >= self.clusters.len() {
            return;
        }
        match info.role.clone() {
            Role::Sidecar { revision, version } => {
                if self
                    .istiod_slot(cluster, &info.namespace, &info.name)
                    .is_some()
                {
                    self.remove(cluster, &info.namespace, &info.name, now);
                }
                self.upsert_sidecar(cluster, info, &revision, &version, now);
            }
            Role::Istiod { revision, version } => {
                if self
                    .sidecar_running(cluster, &info.namespace, &info.name)
                    .is_some()
                {
                    self.remove(cluster, &info.namespace, &info.name, now);
                }
                self.upsert_istiod(cluster, info, &revision, version, now);
            }
            Role::Other => self.remove(cluster, &info.namespace, &info.name, now),
        }
    }

    pub(super) fn istiod_slot(&self, cluster: u16, ns: &str, name: &str) -> Option<u32> {
        self.istiod_by_name
            .iter()
            .find(|((c, n, p), _)| *c == cluster && &**n == ns && &**p == name)
            .map(|(_, i)| *i)
    }

    /// The cross-cluster traffic of a new pod of `cluster` whose hash is `id`.
    fn cross_for(&self, cluster: u16, id: u64) -> Option<Box<CrossTraffic>> {
        let peer = CrossTraffic::peer_of(cluster, self.clusters.len(), id)?;
        let link = LinkState::between(
            self.clusters[usize::from(cluster)].gateway,
            self.clusters[usize::from(peer)].gateway,
        );
        Some(Box::new(CrossTraffic::new(peer, link)))
    }

    fn upsert_sidecar(
        &mut self,
        cluster: u16,
        info: PodInfo,
        revision: &str,
        version: &str,
        now: DateTime<Utc>,
    ) {
        let rev = self.revision_id(revision);
        let ver = self.versions.id(version);
        if let Some(slot) = self.slot_of(cluster, &info.namespace, &info.name) {
            let same = self.sidecars[slot as usize]
                .as_ref()
                .is_some_and(|s| s.revision == rev && s.proxy_version == ver);
            if !same {
                // A different proxy in a pod of the same name: start over.
                self.remove(cluster, &info.namespace, &info.name, now);
            } else {
                let sc = self.sidecars[slot as usize].as_mut().expect("slot in use");
                sc.ip = info.ip.or(sc.ip);
                let was = std::mem::replace(&mut sc.running, info.running);
                match (was, info.running) {
                    (false, true) => self.connect(slot, now),
                    (true, false) => self.disconnect(slot, true, now),
                    _ => {}
                }
                return;
            }
        }
        let ns = self.intern(&info.namespace);
        let workload = self.intern(&info.workload);
        let app = self.intern(&info.app);
        let app_version = self.intern(&info.app_version);
        let name: Arc<str> = Arc::from(info.name.as_str());
        let seed = self.clusters[usize::from(cluster)].seed;
        let entry = self.clusters[usize::from(cluster)]
            .workloads
            .entry(ns.clone())
            .or_default()
            .entry(workload.clone())
            .or_insert_with(|| WorkloadEntry {
                pods: 0,
                version: app_version.clone(),
            });
        entry.pods += 1;
        let id = random::hash_str(seed, &format!("{ns}/{name}"));
        let sidecar = Sidecar {
            traffic: Traffic::for_workload(seed, &ns, &workload),
            id,
            ns: ns.clone(),
            name: name.clone(),
            workload,
            app,
            app_version,
            revision: rev,
            proxy_version: ver,
            ip: info.ip,
            running: info.running,
            link: None,
            cluster,
            cross: self.cross_for(cluster, id),
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.sidecars[slot as usize] = Some(sidecar);
                slot
            }
            None => {
                self.sidecars.push(Some(sidecar));
                (self.sidecars.len() - 1) as u32
            }
        };
        self.clusters[usize::from(cluster)]
            .by_name
            .entry(ns)
            .or_default()
            .insert(name, slot);
        if info.running {
            self.connect(slot, now);
        }
    }

    fn upsert_istiod(
        &mut self,
        cluster: u16,
        info: PodInfo,
        revision: &str,
        version: String,
        now: DateTime<Utc>,
    ) {
        let rev = self.revision_id(revision);
        let index = match self.istiod_slot(cluster, &info.namespace, &info.name) {
            Some(i) => i,
            None => {
                let pod = PodName {
                    ns: self.intern(&info.namespace),
                    name: Arc::from(info.name.as_str()),
                    app: self.intern(&info.app),
                };
                let key = (cluster, pod.ns.clone(), pod.name.clone());
                let mut istiod = Istiod::new(
                    pod,
                    (rev, self.revisions.name(rev)),
                    version,
                    self.tick,
                    now,
                );
                istiod.cluster = cluster;
                let i = match self.istiods.iter().position(Option::is_none) {
                    Some(i) => {
                        self.istiods[i] = Some(istiod);
                        i as u32
                    }
                    None => {
                        self.istiods.push(Some(istiod));
                        (self.istiods.len() - 1) as u32
                    }
                };
                self.istiod_by_name.insert(key, i);
                i
            }
        };
        let d = self.istiods[index as usize].as_mut().expect("istiod slot");
        d.ip = info.ip.or(d.ip);
        d.running = info.running;
        let announce = info.running && !d.announced;
        d.announced |= info.running;
        let was = std::mem::replace(&mut d.serving, info.serving);
        if announce {
            let lines = d.startup_lines(&mut self.draw);
            self.log_istiod(index, lines, now);
        }
        match (was, info.serving) {
            (false, true) => self.adopt(index, now),
            (true, false) => self.release(index, now),
            _ => {}
        }
    }

    /// Forgets a pod: its proxy disconnects, or its istiod's proxies move elsewhere.
    pub fn remove(&mut self, cluster: u16, ns: &str, name: &str, now: DateTime<Utc>) {
        let Some(c) = self.clusters.get_mut(usize::from(cluster)) else {
            return;
        };
        if let Some(slot) = c.by_name.get_mut(ns).and_then(|m| m.remove(name)) {
            if c.by_name.get(ns).is_some_and(HashMap::is_empty) {
                c.by_name.remove(ns);
            }
            self.disconnect(slot, true, now);
            if let Some(sc) = self.sidecars[slot as usize].take() {
                let workloads = &mut self.clusters[usize::from(cluster)].workloads;
                if let Some(in_ns) = workloads.get_mut(&sc.ns) {
                    if let Some(w) = in_ns.get_mut(&sc.workload) {
                        w.pods -= 1;
                        if w.pods == 0 {
                            in_ns.remove(&sc.workload);
                        }
                    }
                    if in_ns.is_empty() {
                        workloads.remove(&sc.ns);
                    }
                }
                self.free.push(slot);
            }
            self.note_change(ns, name);
            return;
        }
        if let Some(index) = self.istiod_slot(cluster, ns, name) {
            if let Some(d) = self.istiods[index as usize].as_mut() {
                d.serving = false;
            }
            self.release(index, now);
            self.istiods[index as usize] = None;
            self.istiod_by_name.retain(|_, i| *i != index);
        }
    }

    /// A pod changed: every serving istiod pushes endpoints on its next tick (each one
    /// watches every cluster of the fleet, as remote secrets make it).
    fn note_change(&mut self, ns: &str, name: &str) {
        for d in self.istiods.iter_mut().flatten().filter(|d| d.serving) {
            d.pending_changes += 1;
            if d.pending_config.is_none() {
                d.pending_config = Some(format!("Pod/{ns}/{name}"));
            }
        }
    }

    /// A new Service: istiod pushes everything and says why.
    pub fn new_service(&mut self, ns: &str, name: &str, now: DateTime<Utc>) {
        let serving: Vec<u32> = (0..self.istiods.len() as u32)
            .filter(|i| {
                self.istiods[*i as usize]
                    .as_ref()
                    .is_some_and(|d| d.serving)
            })
            .collect();
        for i in serving {
            if let Some(d) = self.istiods[i as usize].as_mut() {
                d.pending_changes += 1;
                d.pending_config = Some(format!("ServiceEntry/{ns}/{name}.{ns}.svc.cluster.local"));
            }
            self.log_istiod(i, vec![log_lines::new_service(ns, name)], now);
        }
    }
}
