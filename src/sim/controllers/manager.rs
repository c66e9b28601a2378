//! The controllers' event loop: store changes mark objects dirty, dirty objects are reconciled
//! one at a time. Nothing runs while nothing changes; a lagging subscription resyncs everything.

use std::sync::Arc;

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::Env;
use super::disruption::{self, Budgets};
use super::kubelet::Kubelet;
use super::objects::controller_of;
use super::pods::Pod;
use super::queue::{Work, WorkQueue};
use super::quota::{self, Quotas};
use super::scheduler::Scheduler;
use super::{daemonset, deployment, gc, replicaset};
use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::store::{Change, ChangeType, Key, Stored};

/// Whether a node change made room for pods: a schedulable node joined, or one was uncordoned.
fn node_opened(change: &Change) -> bool {
    let cordoned = |s: &Stored| s.value()["spec"]["unschedulable"].as_bool() == Some(true);
    match (&change.previous, change.kind) {
        (_, ChangeType::Added) => !cordoned(&change.object),
        (Some(before), ChangeType::Modified) => cordoned(before) && !cordoned(&change.object),
        _ => false,
    }
}

/// Reconciles between two yields to the runtime, so a long resync does not hog a worker.
const BATCH: usize = 64;

pub struct Manager {
    env: Env,
    scheduler: Scheduler,
    kubelet: Kubelet,
    budgets: Budgets,
    quotas: Quotas,
    queue: WorkQueue,
    /// Budget and quota statuses only report, so they wait until the workloads have settled; a burst
    /// of pod changes then costs one recount per budget.
    recounts: WorkQueue,
}

impl Manager {
    pub fn new(env: Env) -> Manager {
        let scheduler = Scheduler::from_store(&env.store);
        let kubelet = Kubelet::new(env.clone(), env.store.count("pods"));
        let budgets = Budgets::from_store(&env.store);
        let quotas = Quotas::from_store(&env.store);
        Manager {
            env,
            scheduler,
            kubelet,
            budgets,
            quotas,
            queue: WorkQueue::default(),
            recounts: WorkQueue::default(),
        }
    }

    /// Runs until the store goes away. `changes` must be subscribed before `new` read the
    /// store, so nothing falls between the two.
    pub async fn run(mut self, mut changes: Receiver<Arc<Change>>) {
        self.start_pending_pods();
        loop {
            match changes.recv().await {
                Ok(change) => self.observe(&change),
                Err(RecvError::Lagged(missed)) => self.resync(missed),
                Err(RecvError::Closed) => return,
            }
            let mut done = 0;
            loop {
                if !self.drain(&mut changes) {
                    return;
                }
                let Some(work) = self.queue.pop().or_else(|| self.recounts.pop()) else {
                    break;
                };
                self.reconcile(work);
                done += 1;
                if done % BATCH == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }
    }

    /// Takes every change already waiting; false once the store is gone.
    fn drain(&mut self, changes: &mut Receiver<Arc<Change>>) -> bool {
        loop {
            match changes.try_recv() {
                Ok(change) => self.observe(&change),
                Err(TryRecvError::Lagged(missed)) => self.resync(missed),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Closed) => return false,
            }
        }
    }

    /// One object; a bug that panics costs that object's reconcile, not every later one.
    fn reconcile(&self, work: Work) {
        let env = &self.env;
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match work {
            Work::Deployment((ns, name)) => deployment::sync(env, &ns, &name),
            Work::ReplicaSet((ns, name)) => replicaset::sync(env, &ns, &name),
            Work::DaemonSet((ns, name)) => daemonset::sync(env, &ns, &name),
            Work::DisruptionBudget((ns, name)) => disruption::sync(env, &ns, &name),
            Work::Quota((ns, name)) => quota::sync(env, &ns, &name),
        }));
        if done.is_err() {
            log::error!("a controller failed on one object; it is retried on its next change");
        }
    }

    fn keys(&self, resource: &str) -> Vec<Key> {
        self.env
            .store
            .list(
                resource,
                None,
                &LabelSelector::default(),
                &FieldSelector::default(),
                None,
                None,
            )
            .items
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    /// Pods nobody runs yet (or whose start-up timer was lost) get their lifecycle.
    fn start_pending_pods(&mut self) {
        let all = self.env.store.list(
            "pods",
            None,
            &LabelSelector::default(),
            &FieldSelector::default(),
            None,
            None,
        );
        for (_, pod) in all.items {
            if matches!(pod.phase.as_deref(), None | Some("Pending")) {
                self.kubelet.start(&mut self.scheduler, &pod.value());
            }
        }
    }

    /// Budgets and quotas the scenario made get their status before anyone asks.
    pub fn count_reports(&self) {
        for (ns, name) in self.keys("poddisruptionbudgets") {
            disruption::sync(&self.env, &ns, &name);
        }
        for (ns, name) in self.keys("resourcequotas") {
            quota::sync(&self.env, &ns, &name);
        }
    }

    fn resync(&mut self, missed: u64) {
        log::warn!("controllers missed {missed} changes; resyncing every workload");
        self.scheduler = Scheduler::from_store(&self.env.store);
        self.budgets = Budgets::from_store(&self.env.store);
        self.quotas = Quotas::from_store(&self.env.store);
        self.start_pending_pods();
        for key in self.keys("deployments") {
            self.queue.push(Work::Deployment(key));
        }
        for key in self.keys("replicasets") {
            self.queue.push(Work::ReplicaSet(key));
        }
        for key in self.keys("daemonsets") {
            self.queue.push(Work::DaemonSet(key));
        }
        for key in self.keys("poddisruptionbudgets") {
            self.recounts.push(Work::DisruptionBudget(key));
        }
        for key in self.keys("resourcequotas") {
            self.recounts.push(Work::Quota(key));
        }
    }

    fn observe(&mut self, change: &Change) {
        self.scheduler.observe(change);
        let key = change.key.clone();
        let deleted = change.kind == ChangeType::Deleted;
        match change.resource {
            "deployments" if deleted => {
                gc::collect(&self.env, "deployments", &change.object.value());
            }
            "deployments" => self.queue.push(Work::Deployment(key)),
            "replicasets" => {
                let rs = change.object.value();
                if let Some(("Deployment", owner, _)) = controller_of(&rs) {
                    self.queue
                        .push(Work::Deployment((key.0.clone(), owner.to_string())));
                }
                if deleted {
                    gc::collect(&self.env, "replicasets", &rs);
                } else {
                    self.queue.push(Work::ReplicaSet(key));
                }
            }
            "daemonsets" if deleted => gc::collect(&self.env, "daemonsets", &change.object.value()),
            "daemonsets" => self.queue.push(Work::DaemonSet(key)),
            "pods" => self.observe_pod(change),
            "nodes" => {
                if change.kind != ChangeType::Modified {
                    for ds in self.keys("daemonsets") {
                        self.queue.push(Work::DaemonSet(ds));
                    }
                }
                // Pods that found no node may find one now.
                if node_opened(change) {
                    self.start_pending_pods();
                }
            }
            "poddisruptionbudgets" => {
                self.budgets.observe(change);
                if !deleted {
                    self.recounts.push(Work::DisruptionBudget(key));
                }
            }
            "resourcequotas" => {
                self.quotas.observe(change);
                if !deleted {
                    self.recounts.push(Work::Quota(key));
                }
            }
            _ => {}
        }
    }

    fn observe_pod(&mut self, change: &Change) {
        let ns = change.key.0.clone();
        if change.kind == ChangeType::Added {
            self.kubelet
                .start(&mut self.scheduler, &change.object.value());
        }
        let pod = Pod::parse(&change.object.raw);
        match pod.controller().map(|o| (o.kind.as_str(), o.name.as_str())) {
            Some(("ReplicaSet", owner)) => {
                // A pod gone for good may be what a Recreate rollout waits on.
                if change.kind == ChangeType::Deleted
                    && let Some(rs) = self.env.store.get_value("replicasets", &ns, owner)
                    && let Some(("Deployment", deploy, _)) = controller_of(&rs)
                {
                    self.queue
                        .push(Work::Deployment((ns.clone(), deploy.to_string())));
                }
                self.queue
                    .push(Work::ReplicaSet((ns.clone(), owner.to_string())));
            }
            Some(("DaemonSet", owner)) => {
                self.queue
                    .push(Work::DaemonSet((ns.clone(), owner.to_string())));
            }
            _ => {}
        }
        let mut labels = vec![&*change.object.labels];
        if let Some(previous) = &change.previous {
            labels.push(&*previous.labels);
        }
        for budget in self.budgets.affected(&ns, &labels) {
            self.recounts
                .push(Work::DisruptionBudget((ns.clone(), budget)));
        }
        for quota in self.quotas.in_namespace(&ns) {
            self.recounts.push(Work::Quota((ns.clone(), quota)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testing::cluster;

    fn pod_versions(env: &Env) -> Vec<(Key, u64)> {
        env.store
            .list(
                "pods",
                None,
                &LabelSelector::default(),
                &FieldSelector::default(),
                None,
                None,
            )
            .items
            .into_iter()
            .map(|(k, s)| (k, s.rv))
            .collect()
    }

    #[tokio::test]
    async fn a_resync_of_a_settled_cluster_leaves_every_pod_alone() {
        let env = cluster();
        let before = pod_versions(&env);
        let mut manager = Manager::new(env.clone());
        manager.resync(1);
        while let Some(work) = manager.queue.pop().or_else(|| manager.recounts.pop()) {
            manager.reconcile(work);
        }
        assert_eq!(pod_versions(&env), before);
        let d = env
            .store
            .get_value("deployments", "staging-web", "frontend")
            .unwrap();
        assert_eq!(
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "1"
        );
        assert_eq!(d["status"]["availableReplicas"], 3);
        let pdb = env
            .store
            .get_value("poddisruptionbudgets", "staging-web", "frontend")
            .unwrap();
        assert_eq!(pdb["status"]["disruptionsAllowed"], 1);
    }
}
