//! The simulator's controllers, doing what Kubernetes' controller manager, scheduler and
//! kubelet do for the objects an Istio upgrade touches:
//!
//! - `manager`: the event loop; store changes mark objects dirty, dirty objects are reconciled
//! - `deployment`, `replicaset`, `daemonset`: workloads and their rollouts
//! - `rolling`: maxSurge/maxUnavailable arithmetic
//! - `scheduler`, `kubelet`: a pod's node, IP, readiness and graceful end
//! - `events`: the events they record about pods, the newest few thousand kept
//! - `disruption`: PodDisruptionBudget status
//! - `quota`: ResourceQuota status
//! - `gc`: dependents of deleted workloads
//! - `objects`, `pods`, `queue`: helpers

mod daemonset;
mod deployment;
mod disruption;
mod events;
mod gc;
mod kubelet;
mod manager;
mod objects;
mod pods;
mod queue;
mod quota;
mod replicaset;
mod rolling;
mod scheduler;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use super::store::Store;
use super::{SimContext, Timing};

/// What every controller works with.
#[derive(Clone)]
pub struct Env {
    pub store: Arc<Store>,
    pub timing: Timing,
    pub events: events::Shared,
}

/// Starts the controllers; call once, inside the runtime, after the scenario is loaded.
pub fn spawn(ctx: Arc<SimContext>) {
    let env = Env {
        store: ctx.store.clone(),
        timing: ctx.timing,
        events: events::Shared::default(),
    };
    // Subscribed before the manager reads the store, so no change falls in between.
    let changes = env.store.subscribe();
    let manager = manager::Manager::new(env);
    // Before the API serves anything, so no client ever sees a budget or quota without status.
    manager.count_reports();
    tokio::spawn(manager.run(changes));
}
