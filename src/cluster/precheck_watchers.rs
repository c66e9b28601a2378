//! The streams only the precheck reads, beside the cockpit's own (pods, namespaces and the
//! ambient DaemonSets come from those): injectors, Services, workloads, disruption budgets,
//! CRDs, istio-system's quotas, mesh configs and istiods, nodes, and the server's version
//! once. Each is listed then watched like the others; nothing here writes.

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Node, ResourceQuota, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch_loop::{Convert, Source};
use crate::app::event::{Event, InventoryChange as Change, Stream, Watch};
use crate::precheck::inventory::{
    CrdInfo, ISTIO_SYSTEM, InjectorInfo, IstiodInfo, MeshConfigInfo, NodeInfo, PdbInfo, QuotaInfo,
    ServerVersion, ServiceInfo, WorkloadInfo, WorkloadKind as Kind,
};

fn source<K, T>(
    api: Api<K>,
    labels: Option<&str>,
    to_info: Convert<K, T>,
    wrap: fn(Watch<T>) -> Event,
) -> Source<K, T> {
    Source {
        api,
        labels: labels.map(str::to_string),
        fields: None,
        id: Stream::Objects,
        to_info,
        wrap,
    }
}

/// Starts every stream of the precheck. They stop when the receiver is dropped.
pub fn spawn(client: &Client, tx: &mpsc::Sender<Event>) -> Vec<JoinHandle<()>> {
    let c = client;
    vec![
        tokio::spawn(
            source(
                Api::<MutatingWebhookConfiguration>::all(c.clone()),
                None,
                Box::new(InjectorInfo::from_config),
                |w| Event::Inventory(Change::Injectors(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<Service>::all(c.clone()),
                None,
                Box::new(ServiceInfo::from_service),
                |w| Event::Inventory(Change::Services(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<Deployment>::all(c.clone()),
                None,
                Box::new(WorkloadInfo::from_deployment),
                |w| Event::Inventory(Change::Workloads(Kind::Deployment, w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<StatefulSet>::all(c.clone()),
                None,
                Box::new(WorkloadInfo::from_statefulset),
                |w| Event::Inventory(Change::Workloads(Kind::StatefulSet, w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<DaemonSet>::all(c.clone()),
                None,
                Box::new(WorkloadInfo::from_daemonset),
                |w| Event::Inventory(Change::Workloads(Kind::DaemonSet, w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<PodDisruptionBudget>::all(c.clone()),
                None,
                Box::new(PdbInfo::from_pdb),
                |w| Event::Inventory(Change::Pdbs(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<CustomResourceDefinition>::all(c.clone()),
                None,
                Box::new(CrdInfo::from_crd),
                |w| Event::Inventory(Change::Crds(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<ResourceQuota>::namespaced(c.clone(), ISTIO_SYSTEM),
                None,
                Box::new(QuotaInfo::from_quota),
                |w| Event::Inventory(Change::Quotas(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<Node>::all(c.clone()),
                None,
                Box::new(NodeInfo::from_node),
                |w| Event::Inventory(Change::Nodes(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<ConfigMap>::namespaced(c.clone(), ISTIO_SYSTEM),
                None,
                Box::new(MeshConfigInfo::from_config_map),
                |w| Event::Inventory(Change::MeshConfigs(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(
            source(
                Api::<Deployment>::namespaced(c.clone(), ISTIO_SYSTEM),
                Some("app=istiod"),
                Box::new(IstiodInfo::from_deployment),
                |w| Event::Inventory(Change::Istiods(w)),
            )
            .run(tx.clone()),
        ),
        tokio::spawn(server_version(c.clone(), tx.clone())),
    ]
}

/// The server's version, read once; None when it cannot be read or parsed.
async fn server_version(client: Client, tx: mpsc::Sender<Event>) {
    let version = client
        .apiserver_version()
        .await
        .ok()
        .and_then(|info| ServerVersion::from_info(&info));
    let _ = tx.send(Event::Inventory(Change::Server(version))).await;
}
