//! The ReplicaSet controller: keeps `spec.replicas` live pods, creating them from the template
//! (admission injects the sidecar the namespace resolves to at that moment) and removing the
//! least useful ones first, and reports what it sees in `status`.

use std::cmp::Reverse;

use serde_json::{Map, Value, json};

use super::Env;
use super::kubelet;
use super::objects::{generation, name, spec_replicas, write_status};
use super::pods::{self, Pod};
use crate::sim::store::{StoreError, now_rfc3339};
use crate::sim::workloads;

/// Attempts to create a pod when its generated name happens to be taken.
const NAME_ATTEMPTS: usize = 5;

pub fn sync(env: &Env, ns: &str, rs_name: &str) {
    let Some(rs) = env.store.get_value("replicasets", ns, rs_name) else {
        return;
    };
    let mut pods = pods::owned(&env.store, &rs);
    let live: Vec<&Pod> = pods.iter().filter(|p| !p.terminating()).collect();
    let want = spec_replicas(&rs) as usize;
    if live.len() != want {
        if live.len() < want {
            for _ in live.len()..want {
                create_pod(env, ns, &rs);
            }
        } else {
            let surplus = live.len() - want;
            for pod in deletion_order(live).into_iter().take(surplus) {
                kubelet::terminate(env, pod);
            }
        }
        pods = pods::owned(&env.store, &rs);
    }
    let status = status_of(&rs, &pods);
    if let Err(e) = write_status(&env.store, "replicasets", ns, rs_name, status) {
        log::debug!("replicaset {ns}/{rs_name}: status not written: {e:?}");
    }
}

fn create_pod(env: &Env, ns: &str, rs: &Value) {
    let mut pod = workloads::pod_from_template(rs, "", "", &now_rfc3339());
    // Created unscheduled: the scheduler binds it.
    if let Some(spec) = pod["spec"].as_object_mut() {
        spec.remove("nodeName");
    }
    for _ in 0..NAME_ATTEMPTS {
        match env.store.create("pods", ns, pod.clone()) {
            Err(StoreError::AlreadyExists(_)) => continue,
            Err(e) => {
                log::debug!("replicaset {}: cannot create a pod: {e:?}", name(rs));
                return;
            }
            Ok(_) => return,
        }
    }
}

fn phase_rank(pod: &Pod) -> u8 {
    match pod.status.phase.as_deref() {
        Some("Pending") | None => 0,
        Some("Running") => 2,
        _ => 1,
    }
}

/// Live pods, the first to delete first: unscheduled, then pending, then not ready, then the
/// most recently created.
fn deletion_order(mut pods: Vec<&Pod>) -> Vec<&Pod> {
    pods.sort_by_key(|p| {
        (
            p.scheduled(),
            phase_rank(p),
            p.ready(),
            Reverse(p.metadata.creation_timestamp.clone()),
            Reverse(p.metadata.name.clone()),
        )
    });
    pods
}

fn status_of(rs: &Value, pods: &[Pod]) -> Value {
    let live = pods.iter().filter(|p| !p.terminating()).count();
    let ready = pods.iter().filter(|p| p.ready()).count();
    let mut status = Map::new();
    status.insert("replicas".into(), json!(live));
    for (key, n) in [
        ("fullyLabeledReplicas", live),
        ("readyReplicas", ready),
        ("availableReplicas", ready),
    ] {
        if n > 0 {
            status.insert(key.into(), json!(n));
        }
    }
    status.insert("observedGeneration".into(), json!(generation(rs)));
    Value::Object(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, node: &str, phase: &str, ready: bool, created: &str) -> Pod {
        let raw = json!({"metadata": {"name": name, "creationTimestamp": created},
               "spec": {"nodeName": node},
               "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}});
        Pod::parse(raw.to_string().as_bytes())
    }

    #[test]
    fn unscheduled_pending_and_unready_pods_go_before_ready_ones_and_newest_first() {
        let pods = [
            pod("old-ready", "n1", "Running", true, "2024-01-01T00:00:00Z"),
            pod("new-ready", "n1", "Running", true, "2024-01-02T00:00:00Z"),
            pod("unready", "n1", "Running", false, "2024-01-01T00:00:00Z"),
            pod("pending", "n1", "Pending", false, "2024-01-01T00:00:00Z"),
            pod("unscheduled", "", "Pending", false, "2024-01-01T00:00:00Z"),
        ];
        let order: Vec<&str> = deletion_order(pods.iter().collect())
            .into_iter()
            .map(|p| p.metadata.name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "unscheduled",
                "pending",
                "unready",
                "new-ready",
                "old-ready"
            ]
        );
    }

    #[test]
    fn status_counts_live_and_ready_pods_and_omits_zeroes() {
        let rs = json!({"metadata": {"generation": 4}});
        let mut terminating = pod("t", "n", "Running", true, "");
        terminating.metadata.deletion_timestamp = Some("now".into());
        let pods = [
            pod("a", "n", "Running", true, ""),
            pod("b", "n", "Pending", false, ""),
            terminating,
        ];
        assert_eq!(
            status_of(&rs, &pods),
            json!({"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 4})
        );
        assert_eq!(
            status_of(&rs, &[]),
            json!({"replicas": 0, "observedGeneration": 4})
        );
    }
}
