//! `istio-cockpit bench`: the real cockpit (watchers, `update`, drawing) on the simulated mesh
//! at scale, measured against the budget of DESIGN §6, with kubectl timed on the same mesh.
//!
//! - `sim_child`: the mesh in its own process, so the figures are the cockpit's alone
//! - `sim_probe`: the mesh's own answer time while the cockpit and the load run
//! - `clusters`: the cockpit started on every cluster of the mesh, as the real one starts
//! - `driver`: the cockpit's loop on any backend, timing frames and key waits
//! - `phases`: each measurement; `latency`: changes timed until the screen shows them
//! - `process`, `pty`, `kubectl`, `report`: what the measurements read and print

mod clusters;
mod driver;
mod error;
mod kubectl;
mod latency;
mod phases;
pub mod process;
pub mod pty;
pub mod report;
mod sim_child;
mod sim_probe;

use std::time::Duration;

pub use error::BenchError;
pub use report::Report;

#[derive(Debug, Clone)]
pub struct Options {
    /// Clusters in the simulated mesh: 1, or a fleet the cockpit watches whole.
    pub clusters: u32,
    /// Application namespaces in each cluster.
    pub namespaces: u32,
    pub pods_per_namespace: u32,
    /// How long each steady-state measurement (idle, churn, log ingest, terminal bytes) runs.
    pub seconds: u64,
}

/// The rendered size the budget is set for.
pub const WIDTH: u16 = 250;
pub const HEIGHT: u16 = 70;

/// Percentile `p` (0-100) of `values`, by nearest rank; None when empty.
pub fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub async fn run(opts: Options) -> Result<Report, BenchError> {
    phases::run(opts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let values: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&values, 50.0), Some(ms(50)));
        assert_eq!(percentile(&values, 99.0), Some(ms(99)));
        assert_eq!(percentile(&values, 100.0), Some(ms(100)));
        assert_eq!(percentile(&[ms(7)], 99.0), Some(ms(7)));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
