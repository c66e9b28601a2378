//! Faults switched on at run time through the API: the keys of ConfigMap `sim-system/faults`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{PoisonError, RwLock};

use serde_json::Value;

pub const NAMESPACE: &str = "sim-system";
pub const CONFIGMAP: &str = "faults";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSet {
    /// Milliseconds added to the request latency of pods on a revision.
    pub latency_ms: BTreeMap<String, f64>,
    /// Fraction of requests answered 5xx by pods on a revision.
    pub errors: BTreeMap<String, f64>,
    /// NACKs per minute logged by a revision's istiod.
    pub nacks_per_minute: BTreeMap<String, f64>,
    /// Fraction of mTLS handshakes failing for pods on a revision.
    pub mtls: BTreeMap<String, f64>,
    pub api_error_rate: f64,
    pub api_latency_ms: u64,
    pub watch_drop_seconds: u64,
    /// Pod updates per second, spread over every pod: load for a watcher (`churn.pods-per-second`).
    pub churn_pods_per_second: f64,
    /// Revisions whose sidecars serve a stats page that never ends (`stats.endless.<rev>`).
    pub stats_endless: BTreeSet<String>,
    /// This cluster's `istio-ca-root-cert` holds a root CA other than the fleet's (`ca.mismatch`).
    pub ca_mismatch: bool,
    /// This cluster's east-west gateway has no ready pods (`eastwest.down`).
    pub eastwest_down: bool,
    /// Setting `api.down-s` takes this cluster's API server down for that many seconds; the
    /// key is removed (and this is 0 again) once it is back.
    pub api_down_seconds: u64,
}

impl FaultSet {
    /// Reads the ConfigMap's `data`. Every key that is unknown or whose value does not parse
    /// is reported and otherwise ignored.
    pub fn from_data(data: &Value) -> (FaultSet, Vec<String>) {
        let mut set = FaultSet::default();
        let mut problems = Vec::new();
        let Some(map) = data.as_object() else {
            return (set, problems);
        };
        for (key, raw) in map {
            let text = raw.as_str().unwrap_or_default().trim();
            let number = text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0);
            let fraction = number.filter(|n| *n <= 1.0);
            let mut bad = |why: &str| problems.push(format!("fault {key}={text:?} ignored: {why}"));
            match key.split_once('.') {
                Some(("api", "error-rate")) => match fraction {
                    Some(f) => set.api_error_rate = f,
                    None => bad("expected a fraction between 0 and 1"),
                },
                Some(("api", "latency-ms")) => match number {
                    Some(n) => set.api_latency_ms = n as u64,
                    None => bad("expected milliseconds (a number >= 0)"),
                },
                Some(("watch", "drop-seconds")) => match number {
                    Some(n) => set.watch_drop_seconds = n as u64,
                    None => bad("expected seconds (a number >= 0)"),
                },
                Some(("api", "down-s")) => match number.filter(|n| *n <= 3_600.0) {
                    Some(n) => set.api_down_seconds = n as u64,
                    None => bad("expected seconds, 0 to 3600"),
                },
                Some((flag @ ("ca" | "eastwest"), rest))
                    if (flag, rest) == ("ca", "mismatch")
                        || (flag, rest) == ("eastwest", "down") =>
                {
                    let on = match text {
                        "true" => true,
                        "false" => false,
                        _ => {
                            bad("expected true or false");
                            continue;
                        }
                    };
                    if flag == "ca" {
                        set.ca_mismatch = on;
                    } else {
                        set.eastwest_down = on;
                    }
                }
                Some(("churn", "pods-per-second")) => match number.filter(|n| *n <= 10_000.0) {
                    Some(n) => set.churn_pods_per_second = n,
                    None => bad("expected pod updates per second, 0 to 10000"),
                },
                Some(("stats", rest)) => match rest.split_once('.') {
                    Some(("endless", rev)) if !rev.is_empty() => match text {
                        "true" => {
                            set.stats_endless.insert(rev.to_string());
                        }
                        "false" => {}
                        _ => bad("expected true or false"),
                    },
                    _ => bad("unknown key (known: stats.endless.<rev>)"),
                },
                Some((kind @ ("latency" | "errors" | "nacks" | "mtls"), rev))
                    if !rev.is_empty() =>
                {
                    let value = if matches!(kind, "errors" | "mtls") {
                        fraction
                    } else {
                        number
                    };
                    let Some(v) = value else {
                        bad(if matches!(kind, "errors" | "mtls") {
                            "expected a fraction between 0 and 1"
                        } else {
                            "expected a number >= 0"
                        });
                        continue;
                    };
                    let target = match kind {
                        "latency" => &mut set.latency_ms,
                        "errors" => &mut set.errors,
                        "nacks" => &mut set.nacks_per_minute,
                        _ => &mut set.mtls,
                    };
                    target.insert(rev.to_string(), v);
                }
                _ => bad(
                    "unknown key (known: latency.<rev>, errors.<rev>, nacks.<rev>, mtls.<rev>, stats.endless.<rev>, api.error-rate, api.latency-ms, api.down-s, watch.drop-seconds, churn.pods-per-second, ca.mismatch, eastwest.down)",
                ),
            }
        }
        (set, problems)
    }
}

#[derive(Default)]
pub struct Faults {
    current: RwLock<FaultSet>,
}

impl Faults {
    pub fn snapshot(&self) -> FaultSet {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set(&self, set: FaultSet) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = set;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_keys_parse_and_bad_ones_are_reported() {
        let (set, problems) = FaultSet::from_data(&json!({
            "latency.1-25-0": "250",
            "errors.1-25-0": "0.05",
            "nacks.1-25-0": "30",
            "mtls.1-24-0": "0.1",
            "api.error-rate": "0.2",
            "api.latency-ms": "40",
            "watch.drop-seconds": "5",
            "churn.pods-per-second": "100",
            "stats.endless.1-25-0": "true",
            "stats.endless.1-24-0": "false",
            "stats.endless.1-23-0": "yes",
            "errors.1-24-0": "7",
            "frobnicate": "1",
            "latency.x": "fast",
        }));
        assert_eq!(set.latency_ms["1-25-0"], 250.0);
        assert_eq!(set.errors["1-25-0"], 0.05);
        assert!(!set.errors.contains_key("1-24-0"));
        assert_eq!(set.nacks_per_minute["1-25-0"], 30.0);
        assert_eq!(set.mtls["1-24-0"], 0.1);
        assert_eq!(
            (
                set.api_error_rate,
                set.api_latency_ms,
                set.watch_drop_seconds
            ),
            (0.2, 40, 5)
        );
        assert_eq!(set.churn_pods_per_second, 100.0);
        assert_eq!(set.stats_endless.iter().collect::<Vec<_>>(), ["1-25-0"]);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("frobnicate")));
    }

    #[test]
    fn fleet_keys_parse() {
        let (set, problems) = FaultSet::from_data(&json!({
            "ca.mismatch": "true",
            "eastwest.down": "false",
            "api.down-s": "4",
        }));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(set.ca_mismatch && !set.eastwest_down);
        assert_eq!(set.api_down_seconds, 4);
        let (set, problems) =
            FaultSet::from_data(&json!({"eastwest.down": "yes", "ca.other": "true"}));
        assert!(!set.eastwest_down);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
