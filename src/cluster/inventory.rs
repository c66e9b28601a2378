//! One cluster's precheck inventory, read once: a paginated LIST of each kind the checks
//! read and `/version`, a few lists at a time. Nothing here watches or writes.
//!
//! Objects are decoded page by page into the inventory's small values, so a cluster of
//! 50,000 pods never sits in memory as whole objects nor arrives in one body. A kind the API
//! server does not serve (404: no CRD API, no policy/v1) is an empty, listed collection and a
//! note; any other failure names the kind and why, in one line.

use std::fmt::Debug;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, ResourceQuota, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::cluster::decode::pod_fields::PodFields;
use crate::mesh::collection::Collection;
use crate::mesh::pod::PodInfo;
use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo};
use crate::precheck::inventory::{
    CrdInfo, ISTIO_SYSTEM, InjectorInfo, Inventory, IstiodInfo, Keyed, MeshConfigInfo, NodeInfo,
    PdbInfo, QuotaInfo, ServerVersion, ServiceInfo, WorkloadInfo, listed,
};

/// Objects per page: a LIST body stays a few MB even for pods.
const PAGE: u32 = 500;
/// How long one page (or `/version`) may take before the cluster counts as not answering.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Lists in flight at once: enough to overlap round trips without crowding the API server.
const IN_FLIGHT: usize = 4;
/// The DaemonSets of ambient mode, in `istio-system`.
const AMBIENT_DAEMONSETS: [&str; 2] = ["ztunnel", "istio-cni-node"];

/// A list that failed, by kind, in one line.
#[derive(Debug, thiserror::Error)]
#[error("cannot list {kind}: {why}")]
pub struct InventoryError {
    pub kind: &'static str,
    pub why: ListFailure,
}

/// Why a list failed.
#[derive(Debug, thiserror::Error)]
pub enum ListFailure {
    #[error("forbidden (the precheck needs get and list on it): {0}")]
    Forbidden(String),
    #[error("the API server rejected your credentials (401): log in again or refresh the token")]
    Unauthorized,
    #[error("the API server did not answer within {} s", PAGE_TIMEOUT.as_secs())]
    NoAnswer,
    #[error("the API server answered {code}: {message}")]
    Refused { code: u16, message: String },
    #[error("the API server is unreachable: {}", one_line(.0))]
    Unreachable(kube::Error),
}

/// The inventory, and what could not be read but did not stop the check.
#[derive(Debug, Default)]
pub struct Listed {
    pub inventory: Inventory,
    /// One line each, e.g. a kind the server does not serve.
    pub notes: Vec<String>,
}

/// Lists every kind the checks read, once.
pub async fn list(client: &Client) -> Result<Inventory, InventoryError> {
    list_noting(client).await.map(|l| l.inventory)
}

/// The same, with the notes on kinds the server does not serve.
pub async fn list_noting(client: &Client) -> Result<Listed, InventoryError> {
    let gate = Semaphore::new(IN_FLIGHT);
    let (
        server,
        namespaces,
        pods,
        injectors,
        services,
        deployments,
        statefulsets,
        daemonsets,
        pdbs,
        crds,
        quotas,
        nodes,
        mesh_configs,
    ) = tokio::try_join!(
        server_version(client),
        pages(
            &gate,
            "namespaces",
            Api::<Namespace>::all(client.clone()),
            |n| Some(NamespaceInfo::from_namespace(&n))
        ),
        pages(&gate, "pods", Api::<PodFields>::all(client.clone()), |p| {
            Some(PodInfo::from_pod(&p))
        }),
        pages(
            &gate,
            "mutatingwebhookconfigurations",
            Api::<MutatingWebhookConfiguration>::all(client.clone()),
            |c| InjectorInfo::from_config(&c)
        ),
        pages(
            &gate,
            "services",
            Api::<Service>::all(client.clone()),
            |s| { ServiceInfo::from_service(&s) }
        ),
        pages(
            &gate,
            "deployments",
            Api::<Deployment>::all(client.clone()),
            |d| Some((
                WorkloadInfo::from_deployment(&d),
                IstiodInfo::from_deployment(&d)
            ))
        ),
        pages(
            &gate,
            "statefulsets",
            Api::<StatefulSet>::all(client.clone()),
            |s| WorkloadInfo::from_statefulset(&s)
        ),
        pages(
            &gate,
            "daemonsets",
            Api::<DaemonSet>::all(client.clone()),
            |d| Some((WorkloadInfo::from_daemonset(&d), ambient(&d)))
        ),
        pages(
            &gate,
            "poddisruptionbudgets",
            Api::<PodDisruptionBudget>::all(client.clone()),
            |p| PdbInfo::from_pdb(&p)
        ),
        pages(
            &gate,
            "customresourcedefinitions",
            Api::<CustomResourceDefinition>::all(client.clone()),
            |c| CrdInfo::from_crd(&c)
        ),
        pages(
            &gate,
            "resourcequotas",
            Api::<ResourceQuota>::all(client.clone()),
            |q| QuotaInfo::from_quota(&q)
        ),
        pages(&gate, "nodes", Api::<Node>::all(client.clone()), |n| {
            NodeInfo::from_node(&n)
        }),
        pages(
            &gate,
            "configmaps in istio-system",
            Api::<ConfigMap>::namespaced(client.clone(), ISTIO_SYSTEM),
            |c| MeshConfigInfo::from_config_map(&c)
        ),
    )?;

    let mut notes = Vec::new();
    let namespaces = namespaces.take(&mut notes);
    let pods = pods.take(&mut notes);
    let injectors = injectors.take(&mut notes);
    let services = services.take(&mut notes);
    let (deploy_workloads, istiods): (Vec<_>, Vec<_>) =
        deployments.take(&mut notes).into_iter().unzip();
    let statefulsets = statefulsets.take(&mut notes);
    let (ds_workloads, ambient): (Vec<_>, Vec<_>) = daemonsets.take(&mut notes).into_iter().unzip();
    let pdbs = pdbs.take(&mut notes);
    let crds = crds.take(&mut notes);
    let quotas = quotas.take(&mut notes);
    let nodes = nodes.take(&mut notes);
    let mesh_configs = mesh_configs.take(&mut notes);

    let workloads = deploy_workloads
        .into_iter()
        .flatten()
        .chain(statefulsets)
        .chain(ds_workloads.into_iter().flatten());
    let inventory = Inventory {
        server,
        namespaces: collection(namespaces),
        pods: collection(pods),
        injectors: collection(injectors),
        services: collection(services),
        workloads: collection(workloads),
        pdbs: collection(pdbs),
        crds: collection(crds),
        quotas: collection(quotas),
        nodes: collection(nodes),
        mesh_configs: collection(mesh_configs),
        istiods: collection(istiods.into_iter().flatten()),
        ambient: collection(ambient.into_iter().flatten()),
    };
    Ok(Listed { inventory, notes })
}

/// One kind's objects, or None when the server does not serve the kind.
struct Fetched<T> {
    kind: &'static str,
    items: Option<Vec<T>>,
}

impl<T> Fetched<T> {
    /// The objects; a kind not served counts as none, with a note saying so.
    fn take(self, notes: &mut Vec<String>) -> Vec<T> {
        self.items.unwrap_or_else(|| {
            notes.push(format!(
                "{}: not served by this API server; checked as if there were none",
                self.kind
            ));
            Vec::new()
        })
    }
}

fn collection<T: Keyed>(items: impl IntoIterator<Item = T>) -> Collection<T::Key, T> {
    listed(items)
}

fn ambient(set: &DaemonSet) -> Option<DaemonSetInfo> {
    let name = set.metadata.name.as_deref()?;
    (set.metadata.namespace.as_deref() == Some(ISTIO_SYSTEM) && AMBIENT_DAEMONSETS.contains(&name))
        .then(|| DaemonSetInfo::from_daemonset(set))
}

/// `/version`, as the support matrix reads it; None when it cannot be parsed.
async fn server_version(client: &Client) -> Result<Option<ServerVersion>, InventoryError> {
    let fail = |why| InventoryError {
        kind: "the server version (/version)",
        why,
    };
    match tokio::time::timeout(PAGE_TIMEOUT, client.apiserver_version()).await {
        Err(_) => Err(fail(ListFailure::NoAnswer)),
        Ok(Err(e)) => Err(fail(failure(e))),
        Ok(Ok(info)) => Ok(ServerVersion::from_info(&info)),
    }
}

/// Every object of one kind, page by page, decoded as it arrives; None when the server does
/// not serve the kind.
async fn pages<K, T>(
    gate: &Semaphore,
    kind: &'static str,
    api: Api<K>,
    decode: impl Fn(K) -> Option<T>,
) -> Result<Fetched<T>, InventoryError>
where
    K: Clone + DeserializeOwned + Debug,
{
    let fail = |why| InventoryError { kind, why };
    // The semaphore is never closed: a permit always comes.
    let _permit = gate.acquire().await.ok();
    let mut params = ListParams::default().limit(PAGE);
    let mut items = Vec::new();
    loop {
        let page = match tokio::time::timeout(PAGE_TIMEOUT, api.list(&params)).await {
            Err(_) => return Err(fail(ListFailure::NoAnswer)),
            Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
                return Ok(Fetched { kind, items: None });
            }
            Ok(Err(e)) => return Err(fail(failure(e))),
            Ok(Ok(page)) => page,
        };
        items.extend(page.items.into_iter().filter_map(&decode));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => {
                return Ok(Fetched {
                    kind,
                    items: Some(items),
                });
            }
        }
    }
}

fn failure(error: kube::Error) -> ListFailure {
    match error {
        kube::Error::Api(s) if s.code == 401 => ListFailure::Unauthorized,
        kube::Error::Api(s) if s.code == 403 => ListFailure::Forbidden(s.message),
        kube::Error::Api(s) => ListFailure::Refused {
            code: s.code,
            message: s.message,
        },
        other => ListFailure::Unreachable(other),
    }
}

/// An error and its causes on one line.
fn one_line(error: &kube::Error) -> String {
    use std::error::Error;
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ").replace('\n', " ")
}
