//! The Deployment controller: one ReplicaSet per pod template, rolled as `strategy` says
//! (RollingUpdate within maxSurge/maxUnavailable, or Recreate), revisions numbered the way
//! `kubectl rollout history/undo` reads them, old ReplicaSets pruned to `revisionHistoryLimit`,
//! and the status `kubectl rollout status` waits on.

use serde_json::{Map, Value, json};

use super::Env;
use super::objects::{generation, name, normalized, owned, set_condition, spec_replicas, text};
use super::pods;
use super::replicaset;
use super::rolling::{self, Limits, RsCounts};
use crate::sim::store::now_rfc3339;
use crate::sim::workloads;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const HASH_LABEL: &str = "pod-template-hash";

/// One of the Deployment's ReplicaSets. Its pod counts come from its status, which the
/// ReplicaSet controller keeps current (and updates at once whenever this controller scales).
struct Set {
    rs: Value,
}

impl Set {
    fn name(&self) -> &str {
        name(&self.rs)
    }

    fn replicas(&self) -> i64 {
        spec_replicas(&self.rs)
    }

    fn counted(&self, field: &str) -> i64 {
        // Status is writable through the API: bounded like an int32, so sums cannot overflow.
        self.rs["status"][field]
            .as_i64()
            .unwrap_or(0)
            .clamp(0, i64::from(i32::MAX))
    }

    fn live(&self) -> i64 {
        self.counted("replicas")
    }

    fn ready(&self) -> i64 {
        self.counted("readyReplicas")
    }

    fn counts(&self) -> RsCounts {
        RsCounts {
            replicas: self.replicas(),
            available: self.counted("availableReplicas").min(self.replicas()),
        }
    }
}

/// The `deployment.kubernetes.io/revision` annotation; one nobody could have counted up to
/// (it is writable through the API) is treated as absent, so `+ 1` cannot overflow.
fn revision(rs: &Value) -> Option<i64> {
    rs["metadata"]["annotations"][REVISION]
        .as_str()?
        .parse()
        .ok()
        .filter(|r| (0..i64::from(u32::MAX)).contains(r))
}

/// The rollout parameters of a Deployment: the limits for scaling and, separately, how many
/// pods must be available for it to count as Available.
struct Plan {
    desired: i64,
    rolling: bool,
    limits: Limits,
    min_available: i64,
}

impl Plan {
    fn of(deploy: &Value) -> Plan {
        let desired = spec_replicas(deploy);
        let strategy = &deploy["spec"]["strategy"];
        let rolling = strategy["type"].as_str() != Some("Recreate");
        let limits = rolling::deployment_limits(&strategy["rollingUpdate"], desired);
        Plan {
            desired,
            rolling,
            limits,
            min_available: if rolling {
                desired - limits.unavailable
            } else {
                desired
            },
        }
    }
}

pub fn sync(env: &Env, ns: &str, deploy_name: &str) {
    let Some(deploy) = env.store.get_value("deployments", ns, deploy_name) else {
        return;
    };
    let plan = Plan::of(&deploy);
    let hash = workloads::template_hash_of(&deploy);
    let paused = deploy["spec"]["paused"].as_bool() == Some(true);

    let (mut new, mut old) = load_sets(env, &deploy);
    let deploy_revision = number_revisions(env, &mut old, new.as_mut());
    if !paused {
        if new.is_none() {
            new = create_new_set(env, &deploy, &hash, &plan, &old, deploy_revision + 1);
        }
        if let Some(new) = &new {
            if plan.rolling {
                roll(env, &deploy, &plan, new, &old);
            } else {
                recreate(env, &deploy, &plan, new, &old);
            }
        }
    }

    let (new, old) = load_sets(env, &deploy);
    let revision_now = new
        .as_ref()
        .and_then(|s| revision(&s.rs))
        .unwrap_or(deploy_revision);
    let (status, complete) = status_of(&deploy, &plan, new.as_ref(), &old, paused);
    let written = env.store.modify("deployments", ns, deploy_name, |current| {
        let mut d = current.clone();
        d["status"] = status;
        if revision_now > 0 {
            d["metadata"]["annotations"][REVISION] = json!(revision_now.to_string());
        }
        Ok(d)
    });
    if let Err(e) = written {
        log::debug!("deployment {ns}/{deploy_name}: status not written: {e:?}");
    }
    if complete {
        prune_history(env, &deploy, &old);
    }
}

/// The Deployment's ReplicaSets, split into the one whose template is the Deployment's (by
/// content, as Kubernetes compares them, so a rollback finds its old ReplicaSet even when the
/// template came back through a typed client) and the others, oldest first.
fn load_sets(env: &Env, deploy: &Value) -> (Option<Set>, Vec<Set>) {
    let mut all = owned(&env.store, "replicasets", deploy);
    all.sort_by(|a, b| {
        text(a, "creationTimestamp")
            .cmp(text(b, "creationTimestamp"))
            .then_with(|| name(a).cmp(name(b)))
    });
    let wanted = normalized(&deploy["spec"]["template"]);
    let mut new = None;
    let mut old = Vec::new();
    for rs in all {
        if new.is_none() && template_without_hash(&rs) == wanted {
            new = Some(Set { rs });
        } else {
            old.push(Set { rs });
        }
    }
    (new, old)
}

fn template_without_hash(rs: &Value) -> Value {
    let mut template = rs["spec"]["template"].clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(HASH_LABEL);
    }
    normalized(&template)
}

fn annotate(env: &Env, set: &mut Set, key: &str, value: String) {
    let ns = text(&set.rs, "namespace").to_string();
    let rs_name = set.name().to_string();
    let result = env.store.modify("replicasets", &ns, &rs_name, |current| {
        let mut rs = current.clone();
        rs["metadata"]["annotations"][key] = json!(value);
        Ok(rs)
    });
    if let Ok(stored) = result {
        set.rs = stored.value();
    }
}

/// Gives old ReplicaSets without a revision one (oldest first), and the current template's
/// ReplicaSet the next revision unless it already holds the highest (a rollback reuses an old
/// ReplicaSet and moves it to the top). Returns the highest revision in use.
fn number_revisions(env: &Env, old: &mut [Set], new: Option<&mut Set>) -> i64 {
    let mut highest = old
        .iter()
        .filter_map(|s| revision(&s.rs))
        .max()
        .unwrap_or(0);
    for set in old.iter_mut().filter(|s| revision(&s.rs).is_none()) {
        highest += 1;
        annotate(env, set, REVISION, highest.to_string());
    }
    if let Some(new) = new {
        match revision(&new.rs) {
            Some(r) if r > highest => highest = r,
            _ => {
                highest += 1;
                annotate(env, new, REVISION, highest.to_string());
            }
        }
    }
    highest
}

fn create_new_set(
    env: &Env,
    deploy: &Value,
    hash: &str,
    plan: &Plan,
    old: &[Set],
    revision: i64,
) -> Option<Set> {
    let ns = text(deploy, "namespace");
    let old_replicas: i64 = old.iter().map(Set::replicas).sum();
    let old_pods = old
        .iter()
        .any(|s| !pods::owned(&env.store, &s.rs).is_empty());
    let replicas = if plan.rolling {
        let empty = RsCounts {
            replicas: 0,
            available: 0,
        };
        rolling::new_replicas(plan.desired, plan.limits, empty, old_replicas)
    } else if old_replicas > 0 || old_pods {
        0
    } else {
        plan.desired
    };
    let mut rs = workloads::replicaset(deploy, hash, replicas as u32, &now_rfc3339());
    let annotations = &mut rs["metadata"]["annotations"];
    annotations[REVISION] = json!(revision.to_string());
    annotations[DESIRED_REPLICAS] = json!(plan.desired.to_string());
    annotations[MAX_REPLICAS] = json!((plan.desired + plan.limits.surge).to_string());
    match env.store.create("replicasets", ns, rs) {
        Ok(stored) => {
            let set = Set { rs: stored.value() };
            replicaset::sync(env, ns, set.name());
            Some(set)
        }
        Err(e) => {
            log::warn!(
                "deployment {ns}/{}: cannot create its ReplicaSet: {e:?}",
                name(deploy)
            );
            None
        }
    }
}

/// Sets a ReplicaSet's size and lets its controller act on it at once, so the next decision
/// sees the pods it removed as gone.
fn scale(env: &Env, deploy: &Value, plan: &Plan, set: &Set, replicas: i64) {
    let ns = text(deploy, "namespace");
    let result = env.store.modify("replicasets", ns, set.name(), |current| {
        let mut rs = current.clone();
        rs["spec"]["replicas"] = json!(replicas);
        let annotations = &mut rs["metadata"]["annotations"];
        annotations[DESIRED_REPLICAS] = json!(plan.desired.to_string());
        annotations[MAX_REPLICAS] = json!((plan.desired + plan.limits.surge).to_string());
        Ok(rs)
    });
    match result {
        Ok(_) => replicaset::sync(env, ns, set.name()),
        Err(e) => log::debug!(
            "deployment {ns}/{}: cannot scale {}: {e:?}",
            name(deploy),
            set.name()
        ),
    }
}

/// One step of a rolling update: grow the new ReplicaSet if the surge allows, otherwise
/// shrink old ones as far as availability allows.
fn roll(env: &Env, deploy: &Value, plan: &Plan, new: &Set, old: &[Set]) {
    let new_counts = new.counts();
    let all: i64 = new.replicas() + old.iter().map(Set::replicas).sum::<i64>();
    let target = rolling::new_replicas(plan.desired, plan.limits, new_counts, all);
    if target != new.replicas() {
        scale(env, deploy, plan, new, target);
        return;
    }
    let old_counts: Vec<RsCounts> = old.iter().map(Set::counts).collect();
    let next = rolling::old_replicas(plan.desired, plan.limits, new_counts, &old_counts);
    for (set, replicas) in old.iter().zip(next) {
        if replicas != set.replicas() {
            scale(env, deploy, plan, set, replicas);
        }
    }
}

/// Recreate: every old pod goes, and only once they are all gone does the new ReplicaSet grow.
fn recreate(env: &Env, deploy: &Value, plan: &Plan, new: &Set, old: &[Set]) {
    let mut waiting = false;
    for set in old {
        if set.replicas() > 0 {
            scale(env, deploy, plan, set, 0);
            waiting = true;
        }
        waiting |= !pods::owned(&env.store, &set.rs).is_empty();
    }
    if !waiting && new.replicas() != plan.desired {
        scale(env, deploy, plan, new, plan.desired);
    }
}

/// The Deployment's status as Kubernetes computes it (zero counts omitted, as the API does),
/// and whether the rollout is complete.
fn status_of(
    deploy: &Value,
    plan: &Plan,
    new: Option<&Set>,
    old: &[Set],
    paused: bool,
) -> (Value, bool) {
    let sets: Vec<&Set> = new.into_iter().chain(old).collect();
    let replicas: i64 = sets.iter().map(|s| s.live()).sum();
    let updated = new.map_or(0, Set::live);
    let ready: i64 = sets.iter().map(|s| s.ready()).sum();
    let available = ready;
    let wanted: i64 = sets.iter().map(|s| s.replicas()).sum();
    let unavailable = (wanted - available).max(0);
    let complete = updated == plan.desired && replicas == plan.desired && available == plan.desired;

    let now = now_rfc3339();
    let mut conditions: Vec<Value> = deploy["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if available >= plan.min_available {
        set_condition(
            &mut conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            &now,
        );
    } else {
        set_condition(
            &mut conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            &now,
        );
    }
    let rs_name = new.map_or_else(|| name(deploy).to_string(), |s| s.name().to_string());
    let (status, reason, message) = if paused {
        (
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused".to_string(),
        )
    } else if complete {
        (
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else {
        (
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    };
    set_condition(
        &mut conditions,
        "Progressing",
        status,
        reason,
        &message,
        &now,
    );

    let mut out = Map::new();
    out.insert("observedGeneration".into(), json!(generation(deploy)));
    for (key, n) in [
        ("replicas", replicas),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    ] {
        if n > 0 {
            out.insert(key.into(), json!(n));
        }
    }
    out.insert("conditions".into(), json!(conditions));
    if let Some(c) = deploy["status"].get("collisionCount") {
        out.insert("collisionCount".into(), c.clone());
    }
    (Value::Object(out), complete)
}

/// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit` (default 10).
fn prune_history(env: &Env, deploy: &Value, old: &[Set]) {
    let limit = deploy["spec"]["revisionHistoryLimit"]
        .as_u64()
        .unwrap_or(10) as usize;
    let idle: Vec<&Set> = old
        .iter()
        .filter(|s| s.replicas() == 0 && s.live() == 0)
        .collect();
    let ns = text(deploy, "namespace");
    for set in idle.iter().take(idle.len().saturating_sub(limit)) {
        let _ = env.store.delete("replicasets", ns, set.name(), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testing::{availability, cluster, kubelet_step, restart};

    const NS: &str = "staging-web";

    fn replicasets(env: &Env, deploy: &str) -> Vec<Value> {
        let d = env.store.get_value("deployments", NS, deploy).unwrap();
        let mut all = owned(&env.store, "replicasets", &d);
        all.sort_by_key(revision);
        all
    }

    /// Runs the controllers and the kubelet in turns until nothing changes, checking the
    /// rollout's bounds after every controller pass. Returns (lowest availability, most live).
    fn converge(env: &Env, deploy: &str) -> (i64, i64) {
        let (mut lowest, mut most) = (i64::MAX, 0);
        for _ in 0..40 {
            let before = env.store.current_rv();
            sync(env, NS, deploy);
            for rs in replicasets(env, deploy) {
                replicaset::sync(env, NS, name(&rs));
            }
            sync(env, NS, deploy);
            let (live, available) = availability(env, NS, deploy);
            lowest = lowest.min(available);
            most = most.max(live);
            kubelet_step(env, NS);
            if env.store.current_rv() == before {
                return (lowest, most);
            }
        }
        panic!("{deploy} did not converge");
    }

    fn deployment(env: &Env, deploy: &str) -> Value {
        env.store.get_value("deployments", NS, deploy).unwrap()
    }

    #[tokio::test]
    async fn a_restart_rolls_within_surge_and_unavailability_and_numbers_revisions() {
        let env = cluster();
        restart(&env, "deployments", NS, "frontend", "t1");
        let (lowest, most) = converge(&env, "frontend");
        // 3 replicas, maxSurge 25% (rounds up to 1), maxUnavailable 0.
        assert_eq!((lowest, most), (3, 4));

        let rs = replicasets(&env, "frontend");
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0]["metadata"]["annotations"][REVISION], "1");
        assert_eq!(rs[0]["spec"]["replicas"], 0);
        assert_eq!(rs[1]["metadata"]["annotations"][REVISION], "2");
        assert_eq!(rs[1]["spec"]["replicas"], 3);
        let d = deployment(&env, "frontend");
        assert_eq!(d["metadata"]["annotations"][REVISION], "2");
        assert_eq!(
            d["status"]["observedGeneration"],
            d["metadata"]["generation"]
        );
        assert_eq!(d["status"]["updatedReplicas"], 3);
        assert_eq!(d["status"]["availableReplicas"], 3);
        assert!(d["status"].get("unavailableReplicas").is_none());
        let progressing = d["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Progressing")
            .unwrap()
            .clone();
        assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
    }

    #[tokio::test]
    async fn a_rollout_with_no_surge_takes_pods_down_within_max_unavailable() {
        let env = cluster();
        env.store
            .modify("deployments", NS, "frontend", |old| {
                let mut new = old.clone();
                new["spec"]["strategy"]["rollingUpdate"] =
                    json!({"maxSurge": 0, "maxUnavailable": "34%"});
                Ok(new)
            })
            .unwrap();
        restart(&env, "deployments", NS, "frontend", "t1");
        assert_eq!(converge(&env, "frontend"), (2, 3));
    }

    #[tokio::test]
    async fn history_is_pruned_and_a_rollback_reuses_the_old_replicaset() {
        let env = cluster();
        env.store
            .modify("deployments", NS, "bff", |old| {
                let mut new = old.clone();
                new["spec"]["revisionHistoryLimit"] = json!(1);
                Ok(new)
            })
            .unwrap();
        let original = deployment(&env, "bff")["spec"]["template"].clone();
        restart(&env, "deployments", NS, "bff", "t1");
        converge(&env, "bff");
        restart(&env, "deployments", NS, "bff", "t2");
        converge(&env, "bff");
        let revisions: Vec<Value> = replicasets(&env, "bff")
            .iter()
            .map(|rs| rs["metadata"]["annotations"][REVISION].clone())
            .collect();
        assert_eq!(revisions, [json!("2"), json!("3")]);

        // Back to the template of revision 2, the way `kubectl rollout undo` does it: through
        // Go's types, which add an empty creation time.
        let second = replicasets(&env, "bff")[0].clone();
        let mut template = second["spec"]["template"].clone();
        template["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove(HASH_LABEL);
        template["metadata"]["creationTimestamp"] = Value::Null;
        assert_ne!(template, original);
        env.store
            .modify("deployments", NS, "bff", |old| {
                let mut new = old.clone();
                new["spec"]["template"] = template;
                Ok(new)
            })
            .unwrap();
        converge(&env, "bff");
        let rs = replicasets(&env, "bff");
        let reused = rs.iter().find(|r| name(r) == name(&second)).unwrap();
        assert_eq!(reused["metadata"]["annotations"][REVISION], "4");
        assert_eq!(reused["spec"]["replicas"], 2);
        assert_eq!(
            deployment(&env, "bff")["metadata"]["annotations"][REVISION],
            "4"
        );
    }

    #[tokio::test]
    async fn recreate_removes_every_old_pod_before_starting_new_ones() {
        let env = cluster();
        env.store
            .modify("deployments", NS, "frontend", |old| {
                let mut new = old.clone();
                new["spec"]["strategy"] = json!({"type": "Recreate"});
                Ok(new)
            })
            .unwrap();
        restart(&env, "deployments", NS, "frontend", "t1");
        sync(&env, NS, "frontend");
        let rs = replicasets(&env, "frontend");
        assert_eq!(rs.iter().map(spec_replicas).sum::<i64>(), 0);
        assert_eq!(availability(&env, NS, "frontend"), (0, 0));
        assert_eq!(converge(&env, "frontend").1, 3);
        assert_eq!(availability(&env, NS, "frontend"), (3, 3));
    }

    #[tokio::test]
    async fn scaling_changes_only_the_current_replicaset() {
        let env = cluster();
        env.store
            .modify("deployments", NS, "frontend", |old| {
                let mut new = old.clone();
                new["spec"]["replicas"] = json!(7);
                Ok(new)
            })
            .unwrap();
        converge(&env, "frontend");
        assert_eq!(replicasets(&env, "frontend").len(), 1);
        assert_eq!(availability(&env, NS, "frontend"), (7, 7));
        assert_eq!(deployment(&env, "frontend")["status"]["readyReplicas"], 7);
    }
}
