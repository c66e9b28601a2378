//! The pods' revisions as a Prometheus without the revision label needs them: per namespace
//! when its sidecars all run one revision, per pod only in the namespaces that run two, and
//! the revision each istiod pod serves. Read from the pod counts, so with 50,000 pods only
//! the namespaces on the move are walked pod by pod.

use std::collections::{BTreeMap, BTreeSet};

use crate::mesh::Cluster;
use crate::metrics::mapped_queries::PodRevisions;

pub fn of(cluster: &Cluster) -> PodRevisions {
    let mut out = PodRevisions::default();
    for (ns, tally) in &cluster.pod_tally.namespaces {
        let revisions: BTreeSet<&str> = tally.injected().filter_map(|(rev, _, _)| rev).collect();
        match revisions.len() {
            0 => {}
            1 => {
                if let Some(rev) = revisions.first() {
                    out.namespaces.insert(ns.clone(), (*rev).to_string());
                }
            }
            _ => {
                let pods: BTreeMap<String, String> = cluster
                    .pods_in(ns)
                    .filter_map(|p| Some((p.name.clone(), p.revision.clone()?)))
                    .collect();
                out.mixed.insert(ns.clone(), pods);
            }
        }
    }
    for key in &cluster.pod_tally.istiod {
        if let Some((rev, _)) = cluster.pods.get(key).and_then(|p| p.istiod.as_ref()) {
            out.istiod.insert(key.clone(), rev.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::collection::Watch;
    use crate::mesh::pod::PodInfo;
    use crate::mesh::tally;

    /// A running pod, injected by `rev` when it names one.
    fn pod(ns: &str, name: &str, rev: Option<&str>) -> PodInfo {
        crate::fixture::pod(ns, name, rev, None, true)
    }

    #[test]
    fn one_revision_namespaces_whole_two_revision_namespaces_by_pod() {
        let mut cluster = Cluster::new(10);
        let mut istiod = pod("istio-system", "istiod-new-x", None);
        istiod.istiod = Some(("1-25-0".into(), None));
        for p in [
            pod("shop", "web-1", Some("1-24-0")),
            pod("shop", "web-2", Some("1-24-0")),
            pod("moving", "api-1", Some("1-24-0")),
            pod("moving", "api-2", Some("1-25-0")),
            pod("moving", "job-1", None),
            pod("plain", "x", None),
            istiod,
        ] {
            tally::apply(&mut cluster.pods, &mut cluster.pod_tally, Watch::Apply(p));
        }
        let r = of(&cluster);
        assert_eq!(
            r.namespaces,
            BTreeMap::from([("shop".to_string(), "1-24-0".to_string())])
        );
        assert_eq!(
            r.mixed["moving"],
            BTreeMap::from([
                ("api-1".to_string(), "1-24-0".to_string()),
                ("api-2".to_string(), "1-25-0".to_string()),
            ])
        );
        assert_eq!(r.mixed.len(), 1);
        assert_eq!(
            r.istiod,
            BTreeMap::from([(
                ("istio-system".to_string(), "istiod-new-x".to_string()),
                "1-25-0".to_string()
            )])
        );
    }
}
