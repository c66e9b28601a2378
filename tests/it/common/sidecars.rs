//! The sidecars a test has the direct-scrape source read, chosen as the cockpit chooses them:
//! ready pods of one namespace injected by one revision.

use istio_cockpit::app::metrics_sample::SampleTarget;
use istio_cockpit::cluster::decode::pod_fields::PodFields;
use istio_cockpit::mesh::pod::PodInfo;
use kube::api::{Api, ListParams};

/// Up to three ready, running pods of `ns` injected by `revision`, by name.
pub async fn sample_targets(client: &kube::Client, ns: &str, revision: &str) -> Vec<SampleTarget> {
    let pods: Api<PodFields> = Api::namespaced(client.clone(), ns);
    let list = pods.list(&ListParams::default()).await.expect("list pods");
    let mut infos: Vec<PodInfo> = list.items.iter().map(PodInfo::from_pod).collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    let chosen: Vec<SampleTarget> = infos
        .into_iter()
        .filter(|p| p.is_ready() && p.phase == "Running")
        .filter(|p| p.revision.as_deref() == Some(revision))
        .take(3)
        .map(|p| SampleTarget {
            namespace: p.namespace,
            pod: p.name,
            revision: revision.into(),
        })
        .collect();
    assert!(!chosen.is_empty(), "no ready pod of {ns} on {revision}");
    chosen
}
