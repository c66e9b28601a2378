//! The disruption controller's bookkeeping: each PodDisruptionBudget's status (healthy,
//! expected and desired pods, disruptions allowed) follows the pods it selects, so
//! `kubectl get pdb` and the cockpit's restart gates read real numbers.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use super::Env;
use super::objects::{controller_of, generation, name, spec_replicas, text, write_status};
use super::pods::{self, Pod};
use super::rolling::IntOrPercent;
use crate::sim::injection::selector_matches;
use crate::sim::store::{Change, ChangeType, Store, now_rfc3339};

/// Every budget's selector, by namespace, so a pod change finds the budgets it touches
/// without reading them from the store.
#[derive(Debug, Default)]
pub struct Budgets {
    by_namespace: HashMap<String, BTreeMap<String, Value>>,
}

impl Budgets {
    pub fn from_store(store: &Store) -> Budgets {
        let mut budgets = Budgets::default();
        for pdb in store.values("poddisruptionbudgets", None) {
            budgets.remember(text(&pdb, "namespace"), name(&pdb), &pdb);
        }
        budgets
    }

    fn remember(&mut self, ns: &str, pdb_name: &str, pdb: &Value) {
        self.by_namespace
            .entry(ns.to_string())
            .or_default()
            .insert(pdb_name.to_string(), pdb["spec"]["selector"].clone());
    }

    /// Follows changes to budgets.
    pub fn observe(&mut self, change: &Change) {
        let (ns, pdb_name) = &change.key;
        if change.kind == ChangeType::Deleted {
            if let Some(list) = self.by_namespace.get_mut(ns) {
                list.remove(pdb_name);
            }
        } else {
            self.remember(ns, pdb_name, &change.object.value());
        }
    }

    /// Budgets in `ns` whose selector matches any of the given pod label sets.
    pub fn affected(&self, ns: &str, labels: &[&BTreeMap<String, String>]) -> Vec<String> {
        self.by_namespace
            .get(ns)
            .into_iter()
            .flatten()
            .filter(|(_, selector)| {
                selector.is_object() && labels.iter().any(|l| selector_matches(selector, l))
            })
            .map(|(pdb_name, _)| pdb_name.clone())
            .collect()
    }
}

/// The replica count of the workload controlling `pod`, and that workload's identity, so
/// pods of one workload are counted once.
fn controller_scale(store: &Store, ns: &str, pod: &Pod) -> (String, i64) {
    let Some(owner) = pod.controller() else {
        return (format!("pod/{}", pod.metadata.name), 1);
    };
    let uid = owner.uid.clone();
    match owner.kind.as_str() {
        "ReplicaSet" => {
            let Some(rs) = store.get_value("replicasets", ns, &owner.name) else {
                return (uid, 1);
            };
            if let Some(("Deployment", deploy, deploy_uid)) = controller_of(&rs)
                && let Some(d) = store.get_value("deployments", ns, deploy)
            {
                return (deploy_uid.to_string(), spec_replicas(&d));
            }
            (uid, spec_replicas(&rs))
        }
        "StatefulSet" => {
            let replicas = store
                .get_value("statefulsets", ns, &owner.name)
                .map_or(1, |s| spec_replicas(&s));
            (uid, replicas)
        }
        "DaemonSet" => {
            let desired = store
                .get_value("daemonsets", ns, &owner.name)
                .and_then(|d| d["status"]["desiredNumberScheduled"].as_i64())
                .unwrap_or(1);
            (uid, desired)
        }
        _ => (format!("pod/{}", pod.metadata.name), 1),
    }
}

fn expected_by_controllers(store: &Store, ns: &str, pods: &[Pod]) -> i64 {
    let mut scales: HashMap<String, i64> = HashMap::new();
    let mut looked_up: HashSet<&str> = HashSet::new();
    for pod in pods {
        // Pods of one ReplicaSet share the answer; look it up once.
        if let Some(owner) = pod.controller()
            && !looked_up.insert(&owner.uid)
        {
            continue;
        }
        let (id, n) = controller_scale(store, ns, pod);
        scales.insert(id, n);
    }
    scales.values().sum()
}

/// (expected pods, desired healthy pods), as the disruption controller derives them.
fn targets(store: &Store, ns: &str, spec: &Value, pods: &[Pod]) -> (i64, i64) {
    if let Some(max_unavailable) = IntOrPercent::parse(&spec["maxUnavailable"]) {
        let expected = expected_by_controllers(store, ns, pods);
        let allowed = max_unavailable.scaled(expected, true);
        return (expected, (expected - allowed).max(0));
    }
    match IntOrPercent::parse(&spec["minAvailable"]) {
        Some(IntOrPercent::Int(n)) => (pods.len() as i64, n),
        Some(percent) => {
            let expected = expected_by_controllers(store, ns, pods);
            (expected, percent.scaled(expected, true))
        }
        None => (pods.len() as i64, pods.len() as i64),
    }
}

pub fn sync(env: &Env, ns: &str, pdb_name: &str) {
    let Some(pdb) = env.store.get_value("poddisruptionbudgets", ns, pdb_name) else {
        return;
    };
    let pods = pods::selected(&env.store, ns, &pdb["spec"]["selector"]);
    let healthy = pods.iter().filter(|p| p.ready()).count() as i64;
    let (expected, desired) = targets(&env.store, ns, &pdb["spec"], &pods);
    let allowed = (healthy - desired).max(0);
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let previous = pdb["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "DisruptionAllowed"));
    let since = match previous {
        Some(c) if c["status"] == status => c["lastTransitionTime"].clone(),
        _ => json!(now_rfc3339()),
    };
    let observed = generation(&pdb);
    let new_status = json!({
        "observedGeneration": observed,
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [{"type": "DisruptionAllowed", "status": status, "reason": reason, "message": "",
                        "observedGeneration": observed, "lastTransitionTime": since}],
    });
    if let Err(e) = write_status(&env.store, "poddisruptionbudgets", ns, pdb_name, new_status) {
        log::debug!("poddisruptionbudget {ns}/{pdb_name}: status not written: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::kubelet;
    use crate::sim::controllers::testing::{cluster, pods_of};

    #[tokio::test]
    async fn a_budget_counts_its_deployments_replicas_and_healthy_pods() {
        let env = cluster();
        let ns = "staging-web";
        let budgets = Budgets::from_store(&env.store);
        let frontend = pods_of(&env, ns, "frontend");
        let labels = env
            .store
            .get("pods", ns, name(&frontend[0]))
            .unwrap()
            .labels;
        assert_eq!(budgets.affected(ns, &[&labels]), ["frontend"]);

        sync(&env, ns, "frontend");
        let status = &env
            .store
            .get_value("poddisruptionbudgets", ns, "frontend")
            .unwrap()["status"];
        assert_eq!(
            (
                &status["expectedPods"],
                &status["currentHealthy"],
                &status["desiredHealthy"],
                &status["disruptionsAllowed"]
            ),
            (&json!(3), &json!(3), &json!(2), &json!(1))
        );
        kubelet::terminate(&env, &Pod::from_value(&frontend[0]));
        sync(&env, ns, "frontend");
        let status = &env
            .store
            .get_value("poddisruptionbudgets", ns, "frontend")
            .unwrap()["status"];
        assert_eq!(status["disruptionsAllowed"], 0);
        assert_eq!(status["conditions"][0]["reason"], "InsufficientPods");
    }
}
