//! What the cockpit keeps of namespaces, webhook configurations and DaemonSets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::version::Version;

/// Where a moved tag keeps the revision it pointed at before.
pub const PREVIOUS_REVISION: &str = "istio-cockpit.io/previous-revision";

#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub created: Option<DateTime<Utc>>,
}

impl NamespaceInfo {
    /// The criticality tier the namespace is labelled with, if any.
    pub fn tier(&self) -> Option<&str> {
        self.labels.get("tier").map(String::as_str)
    }
}

/// An injector MutatingWebhookConfiguration: a revision's own (`istio.io/rev`, no tag) or a
/// revision tag's (`istio.io/tag`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookInfo {
    pub name: String,
    pub revision: String,
    pub tag: Option<String>,
    /// For a tag the cockpit moved: the revision it pointed at before (the webhook's
    /// `istio-cockpit.io/previous-revision` annotation), so the move can be reverted without
    /// the journal.
    pub previous_revision: Option<String>,
}

/// The ambient DaemonSets (`ztunnel`, `istio-cni-node`).
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSetInfo {
    pub namespace: String,
    pub name: String,
    pub version: Option<Version>,
    pub revision: Option<String>,
    pub ready: i32,
    pub desired: i32,
}

/// A remote secret (a Secret labelled `istio/multiCluster=true` in `istio-system`): it lets
/// this cluster's istiod read another cluster's API server. Only its name and the cluster it
/// names are kept; its data is never decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSecretInfo {
    pub name: String,
    /// The cluster it gives access to.
    pub cluster: String,
}

/// The mesh's root certificate as one namespace's `istio-ca-root-cert` ConfigMap holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCaInfo {
    pub namespace: String,
    /// A short fingerprint of the certificate; None when it is missing or unreadable.
    pub fingerprint: Option<String>,
}
