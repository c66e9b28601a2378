//! What the watchers saw of one cluster: its namespaces, pods (with their tally), injector
//! webhooks, ambient DaemonSets, istiod's log, and the cockpit's own records; in a fleet also
//! its remote secrets, its root CA, and the istiod pods of the primary that serves it.

use super::collection::Collection;
use super::fleet::ServedBy;
use super::logs::LogBuffer;
use super::namespace_facts::FactsCache;
use super::pod::PodInfo;
use super::records::Records;
use super::resources::{DaemonSetInfo, NamespaceInfo, RemoteSecretInfo, RootCaInfo, WebhookInfo};
use super::tally::PodTally;

/// Where the root CA the fleet compares is read.
pub const ROOT_CA_NAMESPACE: &str = "istio-system";

#[derive(Debug, Clone)]
pub struct Cluster {
    pub namespaces: Collection<String, NamespaceInfo>,
    pub pods: Collection<(String, String), PodInfo>,
    /// Counts of `pods`, kept in step with them.
    pub pod_tally: PodTally,
    pub webhooks: Collection<String, WebhookInfo>,
    pub daemonsets: Collection<(String, String), DaemonSetInfo>,
    pub logs: LogBuffer,
    /// The cockpit's records in the cluster: driver, upgrade phase, journal.
    pub records: Records,
    /// What the namespaces' labels select, kept until they, the injectors or the waves change.
    pub namespace_facts: FactsCache,
    /// Remote secrets by name (watched only in a fleet).
    pub remote_secrets: Collection<String, RemoteSecretInfo>,
    /// The root CA ConfigMap by namespace (watched only in a fleet, in `istio-system`).
    pub root_ca: Collection<String, RootCaInfo>,
    /// For a remote without istiod of its own: the primary's istiod pods, which serve it.
    pub served_by: Option<ServedBy>,
    served_by_changes: u64,
}

impl Cluster {
    pub fn new(log_capacity: usize) -> Cluster {
        Cluster {
            namespaces: Collection::default(),
            pods: Collection::default(),
            pod_tally: PodTally::default(),
            webhooks: Collection::default(),
            daemonsets: Collection::default(),
            logs: LogBuffer::new(log_capacity),
            records: Records::default(),
            namespace_facts: FactsCache::default(),
            remote_secrets: Collection::default(),
            root_ca: Collection::default(),
            served_by: None,
            served_by_changes: 0,
        }
    }

    /// Sets the control plane that serves this cluster from elsewhere. Returns whether it
    /// changed. Everything derived from istiod pods (the mesh's versions, the namespaces'
    /// facts keyed by the revisions) is computed from them on demand, so nothing else needs
    /// forgetting.
    pub fn set_served_by(&mut self, served_by: Option<ServedBy>) -> bool {
        if self.served_by == served_by {
            return false;
        }
        self.served_by = served_by;
        self.served_by_changes += 1;
        true
    }

    /// Different after every change of what the cluster's streams hold or of who serves it,
    /// so that what is derived from it can tell it is stale.
    pub fn generation(&self) -> u64 {
        self.namespaces.generation()
            + self.pods.generation()
            + self.webhooks.generation()
            + self.daemonsets.generation()
            + self.remote_secrets.generation()
            + self.root_ca.generation()
            + self.served_by_changes
    }

    /// The fingerprint of the mesh's root CA as `istio-system` holds it, once seen.
    pub fn root_ca_fingerprint(&self) -> Option<&str> {
        self.root_ca
            .get(&ROOT_CA_NAMESPACE.to_string())
            .and_then(|ca| ca.fingerprint.as_deref())
    }

    /// Pods of one namespace, in name order.
    pub fn pods_in<'a>(
        &'a self,
        namespace: &str,
    ) -> impl DoubleEndedIterator<Item = &'a PodInfo> + 'a {
        // Every key of this namespace sorts between (ns, "") and (ns + "\0", "").
        let start = (namespace.to_string(), String::new());
        let end = (format!("{namespace}\0"), String::new());
        self.pods.range(start..end)
    }
}
