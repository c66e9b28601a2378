//! What the watchers saw of one cluster: its namespaces, pods (with their tally), injector
//! webhooks, ambient DaemonSets, istiod's log, and the cockpit's own records.

use super::collection::Collection;
use super::logs::LogBuffer;
use super::namespace_facts::FactsCache;
use super::pod::PodInfo;
use super::records::Records;
use super::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};
use super::tally::PodTally;

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
        }
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
