//! Everything that can change the cockpit's state arrives as an `Event`.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::actions::Action;
pub use super::triage::{
    Answer as TriageAnswer, EventRow, Part as TriagePart, ProxyStatus, Request as TriageRequest,
    Sync, View as TriageView,
};
pub use super::write_error::WriteError;
pub use crate::mesh::collection::Watch;
use crate::mesh::pod::PodInfo;
use crate::mesh::records::{Driver, JournalEntry, UpgradeRecord};
use crate::mesh::resources::{
    DaemonSetInfo, NamespaceInfo, RemoteSecretInfo, RootCaInfo, WebhookInfo,
};
use crate::precheck::inventory as inv;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    Namespaces,
    Pods,
    Webhooks,
    DaemonSets,
    IstiodLogs,
    Records,
    /// In a fleet only: remote secrets.
    RemoteSecrets,
    /// In a fleet only: the root CA ConfigMap.
    RootCa,
    /// The objects only the precheck reads: workloads, budgets, CRDs, quotas, nodes, ...
    Objects,
}

impl Stream {
    /// The streams every cockpit watches (the status bar lists these).
    pub const ALL: [Stream; 6] = [
        Stream::Namespaces,
        Stream::Pods,
        Stream::Webhooks,
        Stream::DaemonSets,
        Stream::IstiodLogs,
        Stream::Records,
    ];

    /// The streams the fleet layer adds for each member of a fleet.
    pub const FLEET: [Stream; 2] = [Stream::RemoteSecrets, Stream::RootCa];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Namespaces => "namespaces",
            Stream::Pods => "pods",
            Stream::Webhooks => "webhooks",
            Stream::DaemonSets => "daemonsets",
            Stream::IstiodLogs => "istiod logs",
            Stream::Records => "upgrade records",
            Stream::RemoteSecrets => "remote secrets",
            Stream::RootCa => "root CA",
            Stream::Objects => "precheck objects",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StreamStatus {
    Connected,
    /// The stream failed and will be retried; the message says why.
    Retrying(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct IstiodLogLine {
    pub pod: String,
    pub revision: String,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Key(KeyEvent),
    Resize(u16, u16),
    /// The clock moved on: ages and staleness are redrawn.
    Tick(DateTime<Utc>),
    Namespaces(Watch<NamespaceInfo>),
    Pods(Watch<PodInfo>),
    Webhooks(Watch<WebhookInfo>),
    DaemonSets(Watch<DaemonSetInfo>),
    /// In a fleet: the cluster's remote secrets, never their data.
    RemoteSecrets(Watch<RemoteSecretInfo>),
    /// In a fleet: the root CA ConfigMap of `istio-system`.
    RootCa(Watch<RootCaInfo>),
    IstiodLog(IstiodLogLine),
    Stream(Stream, StreamStatus),
    /// The cockpit's objects in the cluster: upgrade record, journal, driver lease.
    Records(Watch<Record>),
    /// A write finished (or failed): what the executor reports back.
    ActionDone {
        action: Action,
        result: Result<String, WriteError>,
    },
    /// This cockpit's hold on the driver lease changed.
    Lease(LeaseStatus),
    /// A new round of metrics.
    Metrics(crate::metrics::reading::Reading),
    /// An object only the precheck reads changed.
    Inventory(InventoryChange),
    /// What was fetched for the pod under triage.
    Triage(TriageAnswer),
}

/// A change to what the precheck reads beyond the cockpit's own streams.
#[derive(Debug, Clone, PartialEq)]
pub enum InventoryChange {
    Server(Option<inv::ServerVersion>),
    Injectors(Watch<inv::InjectorInfo>),
    Services(Watch<inv::ServiceInfo>),
    /// Each kind from its own stream, so that its list markers are told apart.
    Workloads(inv::WorkloadKind, Watch<inv::WorkloadInfo>),
    Pdbs(Watch<inv::PdbInfo>),
    Crds(Watch<inv::CrdInfo>),
    Quotas(Watch<inv::QuotaInfo>),
    Nodes(Watch<inv::NodeInfo>),
    MeshConfigs(Watch<inv::MeshConfigInfo>),
    Istiods(Watch<inv::IstiodInfo>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Upgrade(UpgradeRecord),
    Journal(Vec<JournalEntry>),
    Driver(Option<Driver>),
}

impl Record {
    pub fn key(&self) -> &'static str {
        match self {
            Record::Upgrade(_) => "upgrade",
            Record::Journal(_) => "journal",
            Record::Driver(_) => "driver",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LeaseStatus {
    Held,
    /// Someone else drives (shown as `user@host`).
    HeldBy(String),
    /// This cockpit's hold ran out without a successful renewal, and nobody else holds it.
    Expired,
}
