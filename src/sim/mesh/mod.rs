//! Traffic, metrics and istiod logs of the simulated mesh.

use std::sync::Arc;

use super::faults::Faults;
use super::logs::LogHub;
use super::store::Store;

pub struct Mesh {}

impl Mesh {
    pub fn new(
        _store: Arc<Store>,
        _logs: Arc<LogHub>,
        _faults: Arc<Faults>,
        _seed: u64,
    ) -> Arc<Mesh> {
        Arc::new(Mesh {})
    }

    pub fn spawn(self: Arc<Self>) {}

    /// The metrics page a pod serves on `port` (15014 for istiod, 15020 for sidecars).
    pub fn pod_metrics(&self, _ns: &str, _pod: &str, _port: u16) -> Option<String> {
        None
    }
}
