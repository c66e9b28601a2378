//! The cross-cluster trigger: each route's (this cluster -> another, through the east-west
//! gateway) 5xx share over `cross_cluster_error_ratio` for `cross_cluster_error_ratio_for` is a
//! breach, and so is a route that carries no requests while it did before the move (the
//! gateway carries nothing): that counts as every request failing.
//!
//! A route's baseline is its requests per second over the last minute of readings before any
//! of the measured namespaces had pods on the new revision. Routes are judged from the first
//! reading that names them, whatever the phase: cross-cluster traffic that fails before a
//! wave is reason not to start it. Readings without cross-cluster numbers feed nothing, so a
//! mesh that never had them has no such trigger at all. A quiet route with no baseline that
//! had requests is healthy: nothing on it fails.

use std::collections::{BTreeMap, VecDeque};

use super::{BASELINE_READINGS, median, percent};
use crate::metrics::cross_cluster::{CrossCluster, Route};

/// What the last reading said of a route, for the finding's text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Latest {
    requests_per_s: f64,
    /// The baseline's requests per second, when there is one.
    baseline: Option<f64>,
}

/// Baselines of the routes and their latest numbers.
#[derive(Debug, Clone, Default)]
pub(super) struct CrossClusterWatch {
    /// Each reading's requests per second by route, before the move, newest last.
    before: VecDeque<BTreeMap<Route, f64>>,
    latest: BTreeMap<Route, Latest>,
}

impl CrossClusterWatch {
    /// The value each route's trigger takes from this reading: its 5xx share; 1 for a drop to
    /// no requests from a baseline that had some; 0 for no requests without such a baseline
    /// (a measured quiet route, nothing failing on it); NaN when its 5xx were not counted.
    /// `before_move` readings go into the baseline after they are judged.
    pub(super) fn observe(
        &mut self,
        cross: Option<&CrossCluster>,
        before_move: bool,
    ) -> Vec<(Route, f64)> {
        let Some(cross) = cross else {
            return Vec::new();
        };
        let mut routes: Vec<&Route> = cross.routes.keys().collect();
        let earlier: Vec<&Route> = self.before.iter().flat_map(|r| r.keys()).collect();
        routes.extend(earlier);
        routes.sort();
        routes.dedup();
        let mut values = Vec::with_capacity(routes.len());
        for route in routes {
            let now = cross.routes.get(route);
            let requests_per_s = now.map_or(0.0, |t| t.requests_per_s);
            let baseline = self.baseline(route);
            let value = if requests_per_s > 0.0 {
                now.and_then(|t| t.error_ratio).unwrap_or(f64::NAN)
            } else {
                match baseline {
                    Some(b) if b > 0.0 => 1.0,
                    _ => 0.0,
                }
            };
            let latest = Latest {
                requests_per_s,
                baseline,
            };
            self.latest.insert(route.clone(), latest);
            values.push((route.clone(), value));
        }
        if before_move {
            if self.before.len() == BASELINE_READINGS {
                self.before.pop_front();
            }
            let rates = cross
                .routes
                .iter()
                .map(|(route, t)| (route.clone(), t.requests_per_s))
                .collect();
            self.before.push_back(rates);
        }
        values
    }

    /// The median requests per second of a route over the readings before the move (a
    /// reading without the route counts as none); None without such readings.
    fn baseline(&self, route: &Route) -> Option<f64> {
        let rates = self
            .before
            .iter()
            .map(|r| r.get(route).copied().unwrap_or(0.0))
            .collect();
        median(rates)
    }

    /// `100% 5xx`, `no requests (had 4.2/s)` for a drop, `no requests` for a quiet route.
    pub(super) fn describe(&self, route: &Route, value: f64) -> String {
        match self.latest.get(route) {
            Some(Latest {
                requests_per_s,
                baseline,
            }) if *requests_per_s <= 0.0 => match baseline {
                Some(b) if *b > 0.0 => format!("no requests (had {b:.1}/s)"),
                _ => "no requests".to_string(),
            },
            _ => format!("{} 5xx", percent(value)),
        }
    }
}

#[cfg(test)]
mod tests;
