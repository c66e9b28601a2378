//! The mesh's bookkeeping: sidecars and istiods by pod, workloads per namespace, pods coming
//! and going.
//!
//! One state serves a whole fleet: every pod belongs to a cluster (its index among the
//! fleet's members), names are unique within a cluster, and a proxy connects to an istiod of
//! the cluster that serves its own (the primary, or its own cluster).
//!
//! - `pods`: pods and services coming and going
//! - `links`: which proxy is connected to which istiod
//! - `tick`: one second of traffic, pushes, NACKs
//! - `pages`: the metrics pages and scrape targets

mod links;
mod pages;
mod pods;
mod tick;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cross::Gateway;
use super::istiod::{Istiod, ProxyRef};
use super::log_lines::{self, Entry};
use super::random::{self, Draw};
use super::sidecar::{ClusterNames, Peer, Sidecar};
use super::traffic::RevFaults;
use crate::sim::topology::Topology;

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
    /// The cluster whose log hub takes the line.
    pub cluster: u16,
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

/// What the state keeps per cluster of the fleet.
struct Cluster {
    /// The name its telemetry carries (Istio's default, `Kubernetes`, outside a fleet).
    name: Arc<str>,
    /// The seed of its pods' traffic: the fleet's for the first cluster.
    seed: u64,
    /// namespace -> pod -> sidecar slot
    by_name: HashMap<Arc<str>, HashMap<Arc<str>, u32>>,
    workloads: HashMap<Arc<str>, BTreeMap<Arc<str>, WorkloadEntry>>,
    services: usize,
    /// By revision id.
    rev_faults: Vec<RevFaults>,
    gateway: Gateway,
}

pub struct State {
    tick: u64,
    draw: Draw,
    topology: Topology,
    clusters: Vec<Cluster>,
    sidecars: Vec<Option<Sidecar>>,
    free: Vec<u32>,
    istiods: Vec<Option<Istiod>>,
    istiod_by_name: HashMap<(u16, Arc<str>, Arc<str>), u32>,
    revisions: Names,
    versions: Names,
    strings: HashSet<Arc<str>>,
    out: Vec<LogOut>,
}

impl State {
    /// The state of a fleet whose clusters are `names` (at least one), in that order; the
    /// first is the primary.
    pub fn new(seed: u64, names: &[String], topology: Topology) -> State {
        let alone = names.len() <= 1;
        let names: Vec<&str> = if alone {
            vec![ClusterNames::ALONE.own]
        } else {
            names.iter().map(String::as_str).collect()
        };
        let clusters = names
            .iter()
            .enumerate()
            .map(|(i, name)| Cluster {
                name: Arc::from(*name),
                seed: if i == 0 {
                    seed
                } else {
                    random::pair(seed, i as u64)
                },
                by_name: HashMap::new(),
                workloads: HashMap::new(),
                services: 0,
                rev_faults: Vec::new(),
                gateway: Gateway::default(),
            })
            .collect();
        State {
            tick: 0,
            draw: Draw::new(seed ^ 0x15710),
            topology,
            clusters,
            sidecars: Vec::new(),
            free: Vec::new(),
            istiods: Vec::new(),
            istiod_by_name: HashMap::new(),
            revisions: Names::default(),
            versions: Names::default(),
            strings: HashSet::new(),
            out: Vec::new(),
        }
    }

    /// The cluster whose istiods serve the proxies of `cluster`.
    fn server_of(&self, cluster: u16) -> u16 {
        match self.topology {
            Topology::PrimaryRemote => 0,
            Topology::MultiPrimary => cluster,
        }
    }

    /// Services an istiod of `cluster` knows: those of every cluster it serves.
    fn served_services(&self, cluster: u16) -> usize {
        (0..self.clusters.len() as u16)
            .filter(|c| self.server_of(*c) == cluster)
            .map(|c| self.clusters[usize::from(c)].services)
            .sum()
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
        for c in &mut self.clusters {
            while c.rev_faults.len() <= usize::from(id) {
                c.rev_faults.push(RevFaults::default());
            }
        }
        id
    }

    pub fn set_services(&mut self, cluster: u16, n: usize) {
        if let Some(c) = self.clusters.get_mut(usize::from(cluster)) {
            c.services = n;
        }
    }

    pub fn take_logs(&mut self) -> Vec<LogOut> {
        std::mem::take(&mut self.out)
    }

    fn log_istiod(&mut self, index: u32, entries: Vec<Entry>, at: DateTime<Utc>) {
        let Some(d) = self.istiods.get(index as usize).and_then(Option::as_ref) else {
            return;
        };
        let (cluster, ns, pod) = (d.cluster, d.ns.clone(), d.name.clone());
        for (i, e) in entries.into_iter().enumerate() {
            // Lines logged together still get distinct, increasing times.
            let at = at + chrono::Duration::microseconds(i as i64 * 37);
            self.out.push(LogOut {
                cluster,
                ns: ns.clone(),
                pod: pod.clone(),
                container: "discovery",
                at,
                line: e.format(at),
            });
        }
    }

    fn slot_of(&self, cluster: u16, ns: &str, name: &str) -> Option<u32> {
        let c = self.clusters.get(usize::from(cluster))?;
        c.by_name.get(ns)?.get(name).copied()
    }

    /// Whether `ns/name` of `cluster` is a sidecar the mesh knows, running as `running` says.
    pub fn sidecar_running(&self, cluster: u16, ns: &str, name: &str) -> Option<bool> {
        let slot = self.slot_of(cluster, ns, name)?;
        self.sidecars[slot as usize].as_ref().map(|s| s.running)
    }

    /// Every pod the mesh tracks in `cluster`, as (namespace, name).
    pub fn pod_keys(&self, cluster: u16) -> Vec<(Arc<str>, Arc<str>)> {
        let sidecars = self
            .sidecars
            .iter()
            .flatten()
            .filter(|s| s.cluster == cluster)
            .map(|s| (s.ns.clone(), s.name.clone()));
        let istiods = self
            .istiods
            .iter()
            .flatten()
            .filter(|d| d.cluster == cluster)
            .map(|d| (d.ns.clone(), d.name.clone()));
        sidecars.chain(istiods).collect()
    }
}

fn proxy_ref_of(slot: u32, sc: &Sidecar, versions: &Names, connection: u64) -> ProxyRef {
    ProxyRef {
        slot,
        connection_id: log_lines::connection_id(sc.ip, &sc.name, &sc.ns, connection),
        pod: sc.name.clone(),
        ns: sc.ns.clone(),
        service: format!("{}.{}.svc.cluster.local", sc.workload, sc.ns),
        delta: log_lines::uses_delta(&versions.name(sc.proxy_version)),
    }
}

/// The workload before this one in its namespace (its caller) and the one after (its
/// callee), wrapping around; a lone workload talks to itself.
fn peers(clusters: &[Cluster], sc: &Sidecar) -> (Peer, Peer) {
    let me = Peer {
        workload: sc.workload.clone(),
        version: sc.app_version.clone(),
    };
    let Some(map) = clusters
        .get(usize::from(sc.cluster))
        .and_then(|c| c.workloads.get(&sc.ns))
    else {
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
