//! The mesh's bookkeeping: sidecars and istiods by pod, workloads per namespace, pods coming
//! and going.
//!
//! - `links`: which proxy is connected to which istiod
//! - `tick`: one second of traffic, pushes, NACKs
//! - `pages`: the metrics pages and scrape targets

mod links;
mod pages;
mod tick;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::istiod::{Istiod, PodName, ProxyRef};
use super::log_lines::{self, Entry};
use super::pod_info::{PodInfo, Role};
use super::random::{self, Draw};
use super::sidecar::{Peer, Sidecar};
use super::traffic::{RevFaults, Traffic};

/// Sidecar access-log lines about mTLS failures, mesh-wide, per tick.
const MTLS_LINES_PER_TICK: usize = 25;

/// A pod Prometheus should scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub app: String,
    pub revision: String,
    pub ip: Option<std::net::Ipv4Addr>,
    pub port: u16,
}

/// A line for the log hub, appended once the mesh's lock is released.
pub struct LogOut {
    pub ns: Arc<str>,
    pub pod: Arc<str>,
    pub container: &'static str,
    pub at: DateTime<Utc>,
    pub line: String,
}

#[derive(Debug, Clone)]
struct WorkloadEntry {
    pods: u32,
    version: Arc<str>,
}

/// Interned names with small indexes (revisions, proxy versions).
#[derive(Default)]
struct Names {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u16>,
}

impl Names {
    fn id(&mut self, name: &str) -> u16 {
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        let name: Arc<str> = Arc::from(name);
        let i = self.names.len() as u16;
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }

    fn name(&self, id: u16) -> Arc<str> {
        self.names
            .get(usize::from(id))
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }
}

pub struct State {
    seed: u64,
    tick: u64,
    draw: Draw,
    sidecars: Vec<Option<Sidecar>>,
    free: Vec<u32>,
    /// namespace -> pod -> sidecar slot
    by_name: HashMap<Arc<str>, HashMap<Arc<str>, u32>>,
    istiods: Vec<Option<Istiod>>,
    istiod_by_name: HashMap<(Arc<str>, Arc<str>), u32>,
    revisions: Names,
    versions: Names,
    rev_faults: Vec<RevFaults>,
    strings: HashSet<Arc<str>>,
    workloads: HashMap<Arc<str>, BTreeMap<Arc<str>, WorkloadEntry>>,
    services: usize,
    out: Vec<LogOut>,
}

impl State {
    pub fn new(seed: u64) -> State {
        State {
            seed,
            tick: 0,
            draw: Draw::new(seed ^ 0x15710),
            sidecars: Vec::new(),
            free: Vec::new(),
            by_name: HashMap::new(),
            istiods: Vec::new(),
            istiod_by_name: HashMap::new(),
            revisions: Names::default(),
            versions: Names::default(),
            rev_faults: Vec::new(),
            strings: HashSet::new(),
            workloads: HashMap::new(),
            services: 0,
            out: Vec::new(),
        }
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(v) = self.strings.get(s) {
            return v.clone();
        }
        let v: Arc<str> = Arc::from(s);
        self.strings.insert(v.clone());
        v
    }

    fn revision_id(&mut self, name: &str) -> u16 {
        let id = self.revisions.id(name);
        while self.rev_faults.len() <= usize::from(id) {
            self.rev_faults.push(RevFaults::default());
        }
        id
    }

    pub fn set_services(&mut self, n: usize) {
        self.services = n;
    }

    pub fn take_logs(&mut self) -> Vec<LogOut> {
        std::mem::take(&mut self.out)
    }

    fn log_istiod(&mut self, index: u32, entries: Vec<Entry>, at: DateTime<Utc>) {
        let Some(d) = self.istiods.get(index as usize).and_then(Option::as_ref) else {
            return;
        };
        let (ns, pod) = (d.ns.clone(), d.name.clone());
        for (i, e) in entries.into_iter().enumerate() {
            // Lines logged together still get distinct, increasing times.
            let at = at + chrono::Duration::microseconds(i as i64 * 37);
            self.out.push(LogOut {
                ns: ns.clone(),
                pod: pod.clone(),
                container: "discovery",
                at,
                line: e.format(at),
            });
        }
    }

    /// Whether `ns/name` is a sidecar the mesh knows, running as `running` says.
    pub fn sidecar_running(&self, ns: &str, name: &str) -> Option<bool> {
        let slot = *self.by_name.get(ns)?.get(name)?;
        self.sidecars[slot as usize].as_ref().map(|s| s.running)
    }

    /// Every pod the mesh tracks, as (namespace, name).
    pub fn pod_keys(&self) -> Vec<(Arc<str>, Arc<str>)> {
        let sidecars = self
            .sidecars
            .iter()
            .flatten()
            .map(|s| (s.ns.clone(), s.name.clone()));
        let istiods = self
            .istiods
            .iter()
            .flatten()
            .map(|d| (d.ns.clone(), d.name.clone()));
        sidecars.chain(istiods).collect()
    }

    /// Adds or updates a pod. Pods that are not part of the mesh are forgotten.
    pub fn upsert(&mut self, info: PodInfo, now: DateTime<Utc>) {
        match info.role.clone() {
            Role::Sidecar { revision, version } => {
                if self.istiod_slot(&info.namespace, &info.name).is_some() {
                    self.remove(&info.namespace, &info.name, now);
                }
                self.upsert_sidecar(info, &revision, &version, now);
            }
            Role::Istiod { revision, version } => {
                if self.sidecar_running(&info.namespace, &info.name).is_some() {
                    self.remove(&info.namespace, &info.name, now);
                }
                self.upsert_istiod(info, &revision, version, now);
            }
            Role::Other => self.remove(&info.namespace, &info.name, now),
        }
    }

    fn istiod_slot(&self, ns: &str, name: &str) -> Option<u32> {
        self.istiod_by_name
            .iter()
            .find(|((n, p), _)| &**n == ns && &**p == name)
            .map(|(_, i)| *i)
    }

    fn upsert_sidecar(&mut self, info: PodInfo, revision: &str, version: &str, now: DateTime<Utc>) {
        let rev = self.revision_id(revision);
        let ver = self.versions.id(version);
        if let Some(slot) = self
            .by_name
            .get(info.namespace.as_str())
            .and_then(|m| m.get(info.name.as_str()))
            .copied()
        {
            let same = self.sidecars[slot as usize]
                .as_ref()
                .is_some_and(|s| s.revision == rev && s.proxy_version == ver);
            if !same {
                // A different proxy in a pod of the same name: start over.
                self.remove(&info.namespace, &info.name, now);
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
        let entry = self
            .workloads
            .entry(ns.clone())
            .or_default()
            .entry(workload.clone())
            .or_insert_with(|| WorkloadEntry {
                pods: 0,
                version: app_version.clone(),
            });
        entry.pods += 1;
        let sidecar = Sidecar {
            traffic: Traffic::for_workload(self.seed, &ns, &workload),
            id: random::hash_str(self.seed, &format!("{ns}/{name}")),
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
        self.by_name.entry(ns).or_default().insert(name, slot);
        if info.running {
            self.connect(slot, now);
        }
    }

    fn upsert_istiod(
        &mut self,
        info: PodInfo,
        revision: &str,
        version: String,
        now: DateTime<Utc>,
    ) {
        let rev = self.revision_id(revision);
        let index = match self.istiod_slot(&info.namespace, &info.name) {
            Some(i) => i,
            None => {
                let pod = PodName {
                    ns: self.intern(&info.namespace),
                    name: Arc::from(info.name.as_str()),
                    app: self.intern(&info.app),
                };
                let key = (pod.ns.clone(), pod.name.clone());
                let istiod = Istiod::new(
                    pod,
                    (rev, self.revisions.name(rev)),
                    version,
                    self.tick,
                    now,
                );
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
    pub fn remove(&mut self, ns: &str, name: &str, now: DateTime<Utc>) {
        if let Some(slot) = self.by_name.get_mut(ns).and_then(|m| m.remove(name)) {
            self.disconnect(slot, true, now);
            if let Some(sc) = self.sidecars[slot as usize].take() {
                if let Some(workloads) = self.workloads.get_mut(&sc.ns) {
                    if let Some(w) = workloads.get_mut(&sc.workload) {
                        w.pods -= 1;
                        if w.pods == 0 {
                            workloads.remove(&sc.workload);
                        }
                    }
                    if workloads.is_empty() {
                        self.workloads.remove(&sc.ns);
                    }
                }
                self.free.push(slot);
            }
            if self.by_name.get(ns).is_some_and(HashMap::is_empty) {
                self.by_name.remove(ns);
            }
            self.note_change(ns, name);
            return;
        }
        if let Some(index) = self.istiod_slot(ns, name) {
            if let Some(d) = self.istiods[index as usize].as_mut() {
                d.serving = false;
            }
            self.release(index, now);
            self.istiods[index as usize] = None;
            self.istiod_by_name.retain(|_, i| *i != index);
        }
    }

    /// A pod changed: every serving istiod pushes endpoints on its next tick.
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

fn proxy_ref_of(sc: &Sidecar, versions: &Names, connection: u64) -> ProxyRef {
    ProxyRef {
        connection_id: log_lines::connection_id(sc.ip, &sc.name, &sc.ns, connection),
        pod: sc.name.clone(),
        ns: sc.ns.clone(),
        service: format!("{}.{}.svc.cluster.local", sc.workload, sc.ns),
        delta: log_lines::uses_delta(&versions.name(sc.proxy_version)),
    }
}

/// The workload before this one in its namespace (its caller) and the one after (its
/// callee), wrapping around; a lone workload talks to itself.
fn peers(
    workloads: &HashMap<Arc<str>, BTreeMap<Arc<str>, WorkloadEntry>>,
    sc: &Sidecar,
) -> (Peer, Peer) {
    let me = Peer {
        workload: sc.workload.clone(),
        version: sc.app_version.clone(),
    };
    let Some(map) = workloads.get(&sc.ns) else {
        return (me.clone(), me);
    };
    let as_peer = |(w, e): (&Arc<str>, &WorkloadEntry)| Peer {
        workload: w.clone(),
        version: e.version.clone(),
    };
    let key: &str = &sc.workload;
    let before = map
        .range::<str, _>((Bound::Unbounded, Bound::Excluded(key)))
        .next_back()
        .or_else(|| map.iter().next_back())
        .map_or_else(|| me.clone(), as_peer);
    let after = map
        .range::<str, _>((Bound::Excluded(key), Bound::Unbounded))
        .next()
        .or_else(|| map.iter().next())
        .map(as_peer)
        .unwrap_or(me);
    (before, after)
}
