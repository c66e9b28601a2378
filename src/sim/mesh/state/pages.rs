//! The pages pods serve and the targets Prometheus scrapes.

use super::{State, Target, peers};
use crate::sim::mesh::exposition::{Labels, Page};
use crate::sim::mesh::sidecar::{ClusterNames, PageContext};
use crate::sim::mesh::sync_status::{ProxyIdentity, SyncRow};

impl State {
    /// The page a pod of `cluster` serves on `port`; `with_target_labels` adds `namespace`,
    /// `pod`, `app` and `istio_io_rev` to every sample.
    pub fn render_pod(
        &self,
        cluster: u16,
        ns: &str,
        pod: &str,
        port: u16,
        page: &mut Page,
        with_target_labels: bool,
    ) -> bool {
        match port {
            15014 => {
                let Some(d) = self
                    .istiod_slot(cluster, ns, pod)
                    .and_then(|i| self.istiods[i as usize].as_ref())
                    .filter(|d| d.running)
                else {
                    return false;
                };
                if with_target_labels {
                    page.set_extra(&target_labels(&d.ns, &d.name, &d.app, &d.revision_name));
                }
                let services = self.served_services(d.cluster);
                d.render(&|v| self.versions.name(v), services, page);
                true
            }
            15020 => {
                let Some(sc) = self
                    .slot_of(cluster, ns, pod)
                    .and_then(|slot| self.sidecars[slot as usize].as_ref())
                    .filter(|s| s.running)
                else {
                    return false;
                };
                if with_target_labels {
                    page.set_extra(&target_labels(
                        &sc.ns,
                        &sc.name,
                        &sc.app,
                        &self.revisions.name(sc.revision),
                    ));
                }
                let (caller, callee) = peers(&self.clusters, sc);
                let version = self.versions.name(sc.proxy_version);
                let own = &self.clusters[usize::from(sc.cluster)];
                let peer = sc
                    .cross
                    .as_ref()
                    .and_then(|c| self.clusters.get(usize::from(c.peer)))
                    .unwrap_or(own);
                let ctx = PageContext {
                    proxy_version: &version,
                    faults: own.rev_faults[usize::from(sc.revision)],
                    caller,
                    callee,
                    clusters: ClusterNames {
                        own: &own.name,
                        peer: &peer.name,
                    },
                };
                sc.render(&ctx, page);
                true
            }
            _ => false,
        }
    }

    /// Every scrape target of `cluster`: running istiod pods and running injected pods.
    pub fn targets(&self, cluster: u16) -> Vec<Target> {
        let istiods = self
            .istiods
            .iter()
            .flatten()
            .filter(|d| d.running && d.cluster == cluster)
            .map(|d| Target {
                namespace: d.ns.to_string(),
                pod: d.name.to_string(),
                app: d.app.to_string(),
                revision: d.revision_name.to_string(),
                ip: d.ip,
                port: 15014,
            });
        let sidecars = self
            .sidecars
            .iter()
            .flatten()
            .filter(|s| s.running && s.cluster == cluster)
            .map(|s| Target {
                namespace: s.ns.to_string(),
                pod: s.name.to_string(),
                app: s.app.to_string(),
                revision: self.revisions.name(s.revision).to_string(),
                ip: s.ip,
                port: 15020,
            });
        istiods.chain(sidecars).collect()
    }
}

fn target_labels(ns: &str, pod: &str, app: &str, rev: &str) -> Labels {
    Labels::new()
        .with("namespace", ns)
        .with("pod", pod)
        .with("app", app)
        .with("istio_io_rev", rev)
}

impl State {
    /// What the istiod pod `ns/pod` of `cluster` answers on `/debug/syncz`, or None when no
    /// running istiod has that name.
    pub fn syncz(
        &self,
        cluster: u16,
        ns: &str,
        pod: &str,
        namespace: Option<&str>,
    ) -> Option<Vec<SyncRow>> {
        let d = self
            .istiod_slot(cluster, ns, pod)
            .and_then(|i| self.istiods[i as usize].as_ref())
            .filter(|d| d.running)?;
        let own = &self.clusters[usize::from(d.cluster)];
        let cluster_id = if own.name.is_empty() {
            "Kubernetes"
        } else {
            &own.name
        };
        Some(d.syncz(namespace, &|slot| {
            let sc = self.sidecars.get(slot as usize)?.as_ref()?;
            Some(ProxyIdentity {
                cluster_id,
                pod: &sc.name,
                ns: &sc.ns,
                istio_version: self.versions.name(sc.proxy_version),
            })
        }))
    }
}
