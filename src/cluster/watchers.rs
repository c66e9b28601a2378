//! The streams behind the panes: namespaces, pods, injector webhooks and the ambient
//! DaemonSets, each listed then watched, turned into app events; in a fleet also each
//! cluster's remote secrets and root CA. Nothing here writes.

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};

use crate::cluster::decode::fleet::{REMOTE_SECRET_LABEL, ROOT_CA_CONFIGMAP, SecretMetadata};
use crate::mesh::cluster::ROOT_CA_NAMESPACE;
use crate::mesh::resources::{RemoteSecretInfo, RootCaInfo};
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch_loop::Source;
use crate::app::event::{Event, Record, Stream};
use crate::cluster::decode::pod_fields::PodFields;
use crate::mesh::pod::PodInfo;
use crate::mesh::records::{self, Driver, UpgradeRecord};
use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};

/// Starts every stream. They stop when the receiver is dropped.
pub fn spawn(client: &Client, tx: &mpsc::Sender<Event>) -> Vec<JoinHandle<()>> {
    let namespaces = Source {
        api: Api::<Namespace>::all(client.clone()),
        labels: None,
        fields: None,
        id: Stream::Namespaces,
        to_info: Box::new(|n: &Namespace| Some(NamespaceInfo::from_namespace(n))),
        wrap: Event::Namespaces,
    };
    let pods = Source {
        api: Api::<PodFields>::all(client.clone()),
        labels: None,
        fields: None,
        id: Stream::Pods,
        to_info: Box::new(|p: &PodFields| Some(PodInfo::from_pod(p))),
        wrap: Event::Pods,
    };
    let webhooks = Source {
        api: Api::<MutatingWebhookConfiguration>::all(client.clone()),
        labels: Some("istio.io/rev".into()),
        fields: None,
        id: Stream::Webhooks,
        to_info: Box::new(WebhookInfo::from_config),
        wrap: Event::Webhooks,
    };
    let daemonsets = Source {
        api: Api::<DaemonSet>::namespaced(client.clone(), "istio-system"),
        labels: None,
        fields: None,
        id: Stream::DaemonSets,
        to_info: Box::new(|d: &DaemonSet| {
            let name = d.metadata.name.as_deref()?;
            matches!(name, "ztunnel" | "istio-cni-node").then(|| DaemonSetInfo::from_daemonset(d))
        }),
        wrap: Event::DaemonSets,
    };
    let configmaps = Source {
        api: Api::<ConfigMap>::namespaced(client.clone(), records::NAMESPACE),
        labels: Some(records::MANAGED_BY.into()),
        fields: None,
        id: Stream::Records,
        to_info: Box::new(|cm: &ConfigMap| match cm.metadata.name.as_deref()? {
            records::UPGRADE => UpgradeRecord::from_configmap(cm).map(Record::Upgrade),
            records::JOURNAL => Some(Record::Journal(
                crate::cluster::decode::journal_from_configmap(cm),
            )),
            _ => None,
        }),
        wrap: Event::Records,
    };
    let lease = Source {
        api: Api::<Lease>::namespaced(client.clone(), records::NAMESPACE),
        labels: Some(records::MANAGED_BY.into()),
        fields: None,
        id: Stream::Records,
        to_info: Box::new(|l: &Lease| {
            (l.metadata.name.as_deref()? == records::LEASE)
                .then(|| Record::Driver(Driver::from_lease(l)))
        }),
        wrap: Event::Records,
    };
    vec![
        tokio::spawn(configmaps.run(tx.clone())),
        tokio::spawn(lease.run(tx.clone())),
        tokio::spawn(namespaces.run(tx.clone())),
        tokio::spawn(pods.run(tx.clone())),
        tokio::spawn(webhooks.run(tx.clone())),
        tokio::spawn(daemonsets.run(tx.clone())),
    ]
}

/// Starts the streams only a fleet needs: remote secrets (their metadata alone) and the root
/// CA ConfigMap of `istio-system`. A cockpit of one cluster never starts them.
pub fn spawn_fleet(client: &Client, tx: &mpsc::Sender<Event>) -> Vec<JoinHandle<()>> {
    let secrets = Source {
        api: Api::<SecretMetadata>::namespaced(client.clone(), ROOT_CA_NAMESPACE),
        labels: Some(REMOTE_SECRET_LABEL.into()),
        fields: None,
        id: Stream::RemoteSecrets,
        to_info: Box::new(RemoteSecretInfo::from_secret),
        wrap: Event::RemoteSecrets,
    };
    let root_ca = Source {
        api: Api::<ConfigMap>::namespaced(client.clone(), ROOT_CA_NAMESPACE),
        labels: None,
        fields: Some(format!("metadata.name={ROOT_CA_CONFIGMAP}")),
        id: Stream::RootCa,
        to_info: Box::new(RootCaInfo::from_configmap),
        wrap: Event::RootCa,
    };
    vec![
        tokio::spawn(secrets.run(tx.clone())),
        tokio::spawn(root_ca.run(tx.clone())),
    ]
}
