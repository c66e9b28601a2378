//! Everything that can change the cockpit's state arrives as an `Event`.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::actions::Action;
pub use crate::mesh::collection::Watch;
use crate::mesh::pod::PodInfo;
use crate::mesh::records::{Driver, JournalEntry, UpgradeRecord};
use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    Namespaces,
    Pods,
    Webhooks,
    DaemonSets,
    IstiodLogs,
    Records,
}

impl Stream {
    pub const ALL: [Stream; 6] = [
        Stream::Namespaces,
        Stream::Pods,
        Stream::Webhooks,
        Stream::DaemonSets,
        Stream::IstiodLogs,
        Stream::Records,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Namespaces => "namespaces",
            Stream::Pods => "pods",
            Stream::Webhooks => "webhooks",
            Stream::DaemonSets => "daemonsets",
            Stream::IstiodLogs => "istiod logs",
            Stream::Records => "upgrade records",
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
    IstiodLog(IstiodLogLine),
    Stream(Stream, StreamStatus),
    /// The cockpit's objects in the cluster: upgrade record, journal, driver lease.
    Records(Watch<Record>),
    /// A write finished (or failed): what the executor reports back.
    ActionDone {
        action: Action,
        result: Result<String, ActionError>,
    },
    /// This cockpit's hold on the driver lease changed.
    Lease(LeaseStatus),
    /// A new round of metrics.
    Metrics(crate::metrics::reading::Reading),
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
pub enum ActionError {
    /// The object changed since the preview: preview again.
    Conflict(String),
    Forbidden(String),
    Failed(String),
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionError::Conflict(m) => {
                write!(f, "changed since the preview ({m}): review it again")
            }
            ActionError::Forbidden(m) => write!(f, "refused by RBAC: {m}; nothing was changed"),
            ActionError::Failed(m) => write!(f, "failed: {m}"),
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
