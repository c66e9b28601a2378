//! The garbage collector's part the simulator needs: when a Deployment, ReplicaSet or
//! DaemonSet is deleted, what it controlled goes too (background propagation).

use serde_json::{Value, json};

use super::Env;
use super::kubelet;
use super::objects::{controlled_by, name};
use super::pods;

/// Removes the dependents of a deleted owner: ReplicaSets at once (their own deletion then
/// removes their pods), pods gracefully.
pub fn collect(env: &Env, resource: &str, owner: &Value) {
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or_default();
    let owner_uid = owner["metadata"]["uid"].as_str().unwrap_or_default();
    if owner_uid.is_empty() {
        return;
    }
    let dependents = match resource {
        "deployments" => "replicasets",
        "replicasets" | "daemonsets" | "statefulsets" => "pods",
        _ => return,
    };
    if dependents == "pods" {
        let everything = json!({});
        for pod in pods::selected(&env.store, ns, &everything) {
            if pod.controlled_by(owner_uid) {
                kubelet::terminate(env, &pod);
            }
        }
        return;
    }
    for dependent in env.store.values(dependents, Some(ns)) {
        if controlled_by(&dependent, owner_uid) {
            let _ = env.store.delete(dependents, ns, name(&dependent), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testing::{availability, cluster};

    #[tokio::test]
    async fn deleting_a_deployment_takes_its_replicasets_and_their_pods() {
        let env = cluster();
        let ns = "staging-web";
        let deploy = env.store.delete("deployments", ns, "bff", None).unwrap();
        collect(&env, "deployments", &deploy.value());
        let left: Vec<Value> = env
            .store
            .values("replicasets", Some(ns))
            .into_iter()
            .filter(|rs| rs["metadata"]["labels"]["app"] == "bff")
            .collect();
        assert!(left.is_empty());
        // The ReplicaSet's own deletion event removes its pods.
        let frontend_rs = env
            .store
            .values("replicasets", Some(ns))
            .into_iter()
            .find(|rs| rs["metadata"]["labels"]["app"] == "frontend")
            .unwrap();
        let gone = env
            .store
            .delete("replicasets", ns, name(&frontend_rs), None)
            .unwrap();
        collect(&env, "replicasets", &gone.value());
        assert_eq!(availability(&env, ns, "frontend"), (0, 0));
    }
}
