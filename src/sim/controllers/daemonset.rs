//! The DaemonSet controller: one live pod on every node the template's `nodeSelector` admits,
//! a rolling replacement of outdated pods at most `maxUnavailable` nodes at a time (or none,
//! with `OnDelete`), and the status `kubectl rollout status ds/...` waits on.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::Env;
use super::kubelet;
use super::objects::{generation, is_ready, is_terminating, name, owned, text, uid, write_status};
use super::pods::Pod;
use super::rolling;
use crate::sim::injection::selector_matches;
use crate::sim::names;
use crate::sim::store::{StoreError, now_rfc3339};
use crate::sim::workloads;

pub const HASH_LABEL: &str = "controller-revision-hash";

fn node_labels(node: &Value) -> BTreeMap<String, String> {
    node["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Nodes the DaemonSet's pods belong on, by name.
fn eligible_nodes(env: &Env, ds: &Value) -> Vec<String> {
    let node_selector = &ds["spec"]["template"]["spec"]["nodeSelector"];
    let wanted = json!({"matchLabels": node_selector});
    env.store
        .values("nodes", None)
        .into_iter()
        .filter(|n| !node_selector.is_object() || selector_matches(&wanted, &node_labels(n)))
        .map(|n| name(&n).to_string())
        .collect()
}

/// Whether a pod runs the DaemonSet's current template: by its revision label, or, for pods
/// created without one, by the template's labels, annotations and container images.
pub fn is_current(pod: &Value, template: &Value, hash: &str) -> bool {
    if let Some(label) = pod["metadata"]["labels"][HASH_LABEL].as_str() {
        return label == hash;
    }
    let subset = |field: &str| {
        template["metadata"][field]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(k, v)| pod["metadata"][field][k] == *v)
    };
    let images = |spec: &Value| -> Vec<(Value, Value)> {
        spec["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (c["name"].clone(), c["image"].clone()))
            .collect()
    };
    let pod_images = images(&pod["spec"]);
    subset("labels")
        && subset("annotations")
        && images(&template["spec"])
            .iter()
            .all(|c| pod_images.contains(c))
}

pub fn sync(env: &Env, ns: &str, ds_name: &str) {
    let Some(ds) = env.store.get_value("daemonsets", ns, ds_name) else {
        return;
    };
    let template = &ds["spec"]["template"];
    let hash = names::template_hash(template);
    let nodes = eligible_nodes(env, &ds);
    let pods = owned(&env.store, "pods", &ds);

    let mut by_node: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for pod in pods.iter().filter(|p| !is_terminating(p)) {
        by_node
            .entry(pod["spec"]["nodeName"].as_str().unwrap_or_default())
            .or_default()
            .push(pod);
    }
    let mut doomed: Vec<&Value> = Vec::new();
    // Pods on nodes they no longer belong on go; of several on one node, the most useful
    // (current, ready, oldest) stays.
    for (node, list) in &mut by_node {
        if !nodes.iter().any(|n| n == node) {
            doomed.append(list);
            continue;
        }
        list.sort_by_key(|p| {
            (
                !is_current(p, template, &hash),
                !is_ready(p),
                text(p, "creationTimestamp").to_string(),
            )
        });
        doomed.extend(list.drain(1..));
    }

    let rolling = ds["spec"]["updateStrategy"]["type"].as_str() != Some("OnDelete");
    if rolling {
        let max_unavailable = rolling::daemonset_max_unavailable(
            &ds["spec"]["updateStrategy"]["rollingUpdate"],
            nodes.len() as i64,
        );
        let mut unavailable = nodes
            .iter()
            .filter(|n| {
                by_node
                    .get(n.as_str())
                    .is_none_or(|l| l.is_empty() || !is_ready(l[0]))
            })
            .count() as i64;
        let outdated: Vec<&Value> = nodes
            .iter()
            .filter_map(|n| by_node.get(n.as_str()).and_then(|l| l.first().copied()))
            .filter(|p| !is_current(p, template, &hash))
            .collect();
        // Outdated pods that are not ready cost nothing to replace; ready ones only within
        // the budget.
        for pod in outdated {
            if !is_ready(pod) {
                doomed.push(pod);
            } else if unavailable < max_unavailable {
                unavailable += 1;
                doomed.push(pod);
            }
        }
    }
    for pod in &doomed {
        kubelet::terminate(env, &Pod::from_value(pod));
    }
    let doomed: HashSet<&str> = doomed.iter().map(|p| uid(p)).collect();
    for node in &nodes {
        let stays = by_node
            .get(node.as_str())
            .and_then(|l| l.first())
            .is_some_and(|p| !doomed.contains(uid(p)));
        if !stays {
            create_pod(env, &ds, node, &hash);
        }
    }

    let pods = owned(&env.store, "pods", &ds);
    let status = status_of(&ds, &nodes, &pods, &hash);
    if let Err(e) = write_status(&env.store, "daemonsets", ns, ds_name, status) {
        log::debug!("daemonset {ns}/{ds_name}: status not written: {e:?}");
    }
}

fn create_pod(env: &Env, ds: &Value, node: &str, hash: &str) {
    let mut pod = workloads::pod_from_template(ds, "", node, &now_rfc3339());
    pod["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let ns = text(ds, "namespace");
    for _ in 0..5 {
        match env.store.create("pods", ns, pod.clone()) {
            Err(StoreError::AlreadyExists(_)) => continue,
            Err(e) => {
                log::debug!(
                    "daemonset {}: cannot create a pod on {node}: {e:?}",
                    name(ds)
                );
                return;
            }
            Ok(_) => return,
        }
    }
}

fn status_of(ds: &Value, nodes: &[String], pods: &[Value], hash: &str) -> Value {
    let template = &ds["spec"]["template"];
    let live: Vec<&Value> = pods.iter().filter(|p| !is_terminating(p)).collect();
    let on = |node: &str| -> Vec<&Value> {
        live.iter()
            .copied()
            .filter(|p| p["spec"]["nodeName"] == node)
            .collect()
    };
    let desired = nodes.len() as i64;
    let mut scheduled = 0;
    let mut ready = 0;
    let mut updated = 0;
    for node in nodes {
        let here = on(node);
        scheduled += i64::from(!here.is_empty());
        ready += i64::from(here.iter().any(|p| is_ready(p)));
        updated += i64::from(here.iter().any(|p| is_current(p, template, hash)));
    }
    let misscheduled = live
        .iter()
        .filter(|p| {
            let node = p["spec"]["nodeName"].as_str().unwrap_or_default();
            !nodes.iter().any(|n| n == node)
        })
        .count();
    let mut status = Map::new();
    status.insert("currentNumberScheduled".into(), json!(scheduled));
    status.insert("desiredNumberScheduled".into(), json!(desired));
    status.insert("numberMisscheduled".into(), json!(misscheduled));
    status.insert("numberReady".into(), json!(ready));
    status.insert("observedGeneration".into(), json!(generation(ds)));
    for (key, n) in [
        ("updatedNumberScheduled", updated),
        ("numberAvailable", ready),
        ("numberUnavailable", desired - ready),
    ] {
        if n > 0 {
            status.insert(key.into(), json!(n));
        }
    }
    Value::Object(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testing::{availability, cluster, kubelet_step, restart};

    #[tokio::test]
    async fn a_restart_replaces_one_node_at_a_time() {
        let env = cluster();
        let ns = "istio-system";
        let nodes = env.store.count("nodes") as i64;
        let old: Vec<String> = crate::sim::controllers::testing::pods_of(&env, ns, "ztunnel")
            .iter()
            .map(|p| name(p).to_string())
            .collect();
        restart(&env, "daemonsets", ns, "ztunnel", "t1");
        let mut rounds = 0;
        loop {
            let before = env.store.current_rv();
            sync(&env, ns, "ztunnel");
            let (live, ready) = availability(&env, ns, "ztunnel");
            assert!(ready >= nodes - 1, "{ready} of {nodes} ready");
            assert!(live <= nodes);
            kubelet_step(&env, ns);
            if env.store.current_rv() == before {
                break;
            }
            rounds += 1;
            assert!(rounds < 40, "did not converge");
        }
        let pods = crate::sim::controllers::testing::pods_of(&env, ns, "ztunnel");
        assert_eq!(pods.len() as i64, nodes);
        assert!(pods.iter().all(|p| !old.iter().any(|o| o == name(p))));
        let ds = env.store.get_value("daemonsets", ns, "ztunnel").unwrap();
        assert_eq!(ds["status"]["updatedNumberScheduled"], nodes);
        assert_eq!(ds["status"]["numberAvailable"], nodes);
        assert_eq!(
            ds["status"]["observedGeneration"],
            ds["metadata"]["generation"]
        );
    }

    #[test]
    fn pods_without_a_revision_label_are_compared_with_the_template() {
        let template = json!({"metadata": {"labels": {"app": "z"}, "annotations": {"a": "1"}},
                              "spec": {"containers": [{"name": "z", "image": "z:1"}]}});
        let pod = json!({"metadata": {"labels": {"app": "z", "extra": "x"}, "annotations": {"a": "1"}},
                         "spec": {"containers": [{"name": "z", "image": "z:1", "resources": {}}]}});
        assert!(is_current(&pod, &template, "h"));
        let mut restarted = template.clone();
        restarted["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = json!("now");
        assert!(!is_current(&pod, &restarted, "h"));
        let mut labelled = pod.clone();
        labelled["metadata"]["labels"][HASH_LABEL] = json!("h");
        assert!(is_current(&labelled, &restarted, "h"));
        assert!(!is_current(&labelled, &template, "other"));
    }

    #[test]
    fn status_counts_nodes_not_pods() {
        let ds = json!({"metadata": {"generation": 2}, "spec": {"template": {}}});
        let pod = |node: &str, ready: bool| {
            json!({"metadata": {"labels": {HASH_LABEL: "h"}}, "spec": {"nodeName": node},
                   "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
        };
        let nodes = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let status = status_of(&ds, &nodes, &[pod("a", true), pod("b", false)], "h");
        assert_eq!(
            status,
            json!({"currentNumberScheduled": 2, "desiredNumberScheduled": 3, "numberMisscheduled": 0,
                   "numberReady": 1, "observedGeneration": 2, "updatedNumberScheduled": 2,
                   "numberAvailable": 1, "numberUnavailable": 2})
        );
    }
}
