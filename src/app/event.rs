//! Everything that can change the cockpit's state arrives as an `Event`.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::pod::PodInfo;
use super::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};

/// A watcher's stream, as kube-rs' watcher reports it: a (re)list is `Init`, its objects, then
/// `InitDone`, after which `Apply`/`Delete` follow live.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch<T> {
    Init,
    InitApply(T),
    InitDone,
    Apply(T),
    Delete(T),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    Namespaces,
    Pods,
    Webhooks,
    DaemonSets,
    IstiodLogs,
}

impl Stream {
    pub const ALL: [Stream; 5] = [
        Stream::Namespaces,
        Stream::Pods,
        Stream::Webhooks,
        Stream::DaemonSets,
        Stream::IstiodLogs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Namespaces => "namespaces",
            Stream::Pods => "pods",
            Stream::Webhooks => "webhooks",
            Stream::DaemonSets => "daemonsets",
            Stream::IstiodLogs => "istiod logs",
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
}
