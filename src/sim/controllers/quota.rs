//! The resource quota controller's bookkeeping: each ResourceQuota's status repeats its hard
//! limits and says how much of each the namespace's pods use (requests, limits, pod count),
//! so a check can tell whether another istiod still fits. The simulator does not refuse pods
//! over quota.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::Env;
use super::objects::{name, text, write_status};
use crate::sim::quantity;
use crate::sim::store::{Change, ChangeType, Store};

/// Which namespaces have quotas, so a pod change finds the quotas to recount cheaply.
#[derive(Debug, Default)]
pub struct Quotas {
    by_namespace: HashMap<String, BTreeSet<String>>,
}

impl Quotas {
    pub fn from_store(store: &Store) -> Quotas {
        let mut quotas = Quotas::default();
        for quota in store.values("resourcequotas", None) {
            quotas
                .by_namespace
                .entry(text(&quota, "namespace").to_string())
                .or_default()
                .insert(name(&quota).to_string());
        }
        quotas
    }

    /// Follows changes to quotas.
    pub fn observe(&mut self, change: &Change) {
        let (ns, quota) = &change.key;
        let names = self.by_namespace.entry(ns.clone()).or_default();
        if change.kind == ChangeType::Deleted {
            names.remove(quota);
        } else {
            names.insert(quota.clone());
        }
    }

    pub fn in_namespace(&self, ns: &str) -> Vec<String> {
        self.by_namespace
            .get(ns)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// What the namespace's live pods add up to, per quota resource name.
#[derive(Debug, Default)]
struct Usage {
    pods: u64,
    /// ("requests" | "limits", "cpu" | "memory") -> millicores or bytes
    sums: BTreeMap<(&'static str, &'static str), u64>,
}

impl Usage {
    fn of(pods: &[Value]) -> Usage {
        let mut usage = Usage::default();
        let live = pods
            .iter()
            .filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")));
        for pod in live {
            usage.pods += 1;
            let spec = &pod["spec"];
            // Native sidecars run beside the app, so they count; other init containers do not.
            let sidecars = spec["initContainers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["restartPolicy"] == "Always");
            let containers = spec["containers"].as_array().into_iter().flatten();
            for c in containers.chain(sidecars) {
                for kind in ["requests", "limits"] {
                    let amounts = &c["resources"][kind];
                    let cpu = amounts["cpu"].as_str().and_then(quantity::cpu_millis);
                    let memory = amounts["memory"].as_str().and_then(quantity::bytes);
                    *usage.sums.entry((kind, "cpu")).or_default() += cpu.unwrap_or(0);
                    *usage.sums.entry((kind, "memory")).or_default() += memory.unwrap_or(0);
                }
            }
        }
        usage
    }

    /// The used amount of one quota resource name, printed as the API server prints it.
    fn used(&self, resource: &str) -> String {
        let (kind, what) = match resource {
            "pods" | "count/pods" => return self.pods.to_string(),
            "cpu" | "requests.cpu" => ("requests", "cpu"),
            "memory" | "requests.memory" => ("requests", "memory"),
            "limits.cpu" => ("limits", "cpu"),
            "limits.memory" => ("limits", "memory"),
            _ => return "0".to_string(),
        };
        let amount = self.sums.get(&(kind, what)).copied().unwrap_or(0);
        if what == "cpu" {
            quantity::format_cpu(amount)
        } else {
            quantity::format_bytes(amount)
        }
    }
}

/// The status a quota would have now.
pub fn status_of(store: &Store, quota: &Value) -> Value {
    let ns = text(quota, "namespace");
    let hard = quota["spec"]["hard"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let usage = Usage::of(&store.values("pods", Some(ns)));
    let used: Map<String, Value> = hard
        .keys()
        .map(|resource| (resource.clone(), json!(usage.used(resource))))
        .collect();
    json!({"hard": hard, "used": used})
}

pub fn sync(env: &Env, ns: &str, quota_name: &str) {
    let Some(quota) = env.store.get_value("resourcequotas", ns, quota_name) else {
        return;
    };
    let status = status_of(&env.store, &quota);
    if let Err(e) = write_status(&env.store, "resourcequotas", ns, quota_name, status) {
        log::debug!("resourcequota {ns}/{quota_name}: status not written: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testing::cluster;

    #[test]
    fn a_quota_adds_up_the_requests_of_its_namespaces_pods() {
        let env = cluster();
        env.store
            .create(
                "resourcequotas",
                "staging-web",
                json!({"metadata": {"name": "compute"},
                       "spec": {"hard": {"requests.cpu": "10", "requests.memory": "20Gi", "pods": "20", "services": "5"}}}),
            )
            .unwrap();
        sync(&env, "staging-web", "compute");
        let quota = env
            .store
            .get_value("resourcequotas", "staging-web", "compute")
            .unwrap();
        // frontend (3) and bff (2): 250m and 256Mi each, plus a 100m/128Mi sidecar each.
        assert_eq!(
            quota["status"]["used"],
            json!({"requests.cpu": "1750m", "requests.memory": "1920Mi", "pods": "5", "services": "0"})
        );
        assert_eq!(quota["status"]["hard"]["requests.cpu"], "10");
        let mut quotas = Quotas::from_store(&env.store);
        assert_eq!(quotas.in_namespace("staging-web"), ["compute"]);
        let deleted = env
            .store
            .delete("resourcequotas", "staging-web", "compute", None)
            .unwrap();
        quotas.observe(&Change {
            rv: deleted.rv,
            kind: ChangeType::Deleted,
            resource: "resourcequotas",
            key: ("staging-web".into(), "compute".into()),
            object: deleted,
            previous: None,
        });
        assert!(quotas.in_namespace("staging-web").is_empty());
    }
}
