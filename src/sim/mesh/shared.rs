//! What the meshes of a fleet share: its members, one state, and the tick that advances
//! every cluster at once.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;

use super::state::State;
use crate::sim::faults::Faults;
use crate::sim::logs::LogHub;
use crate::sim::store::Store;

const TICK: Duration = Duration::from_secs(1);

/// One cluster of a fleet, as the mesh needs it.
pub struct FleetMember {
    pub name: String,
    pub store: Arc<Store>,
    pub logs: Arc<LogHub>,
    pub faults: Arc<Faults>,
}

/// What a fleet's meshes share: the members and one state.
pub(super) struct Core {
    pub(super) members: Vec<FleetMember>,
    pub(super) state: Mutex<State>,
    /// Whether the one-second tick runs (started by the first `spawn`).
    pub(super) ticking: AtomicBool,
}

impl Core {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn tick(&self) {
        let faults: Vec<_> = self.members.iter().map(|m| m.faults.snapshot()).collect();
        let services: Vec<usize> = self
            .members
            .iter()
            .map(|m| m.store.count("services"))
            .collect();
        {
            let mut state = self.state();
            for (cluster, n) in services.into_iter().enumerate() {
                state.set_services(cluster as u16, n);
            }
            state.tick(&faults, Utc::now());
        }
        self.flush_logs();
    }

    pub(super) async fn run_ticks(self: Arc<Self>) {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            // A tick visits every sidecar: on the blocking pool, away from the API's workers.
            let core = self.clone();
            if tokio::task::spawn_blocking(move || core.tick())
                .await
                .is_err()
            {
                log::error!("a mesh tick failed; the next one starts afresh");
            }
        }
    }

    /// Appends the lines the state wrote to the log hub of the cluster each is about.
    pub(super) fn flush_logs(&self) {
        let lines = self.state().take_logs();
        for l in lines {
            if let Some(m) = self.members.get(usize::from(l.cluster)) {
                m.logs.append(&l.ns, &l.pod, l.container, l.at, l.line);
            }
        }
    }
}
