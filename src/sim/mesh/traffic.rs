//! The requests one sidecar handles. A pod receives requests from the workload before it in
//! its namespace and calls the one after it; a fault epoch (the faults of the pod's revision
//! staying the same) turns a running request total into four series with histograms. When
//! the faults change, the epoch's counts are frozen into a history and a new epoch starts,
//! so counters never go down.

use super::histogram::{LogNormal, REQUEST_MS, Snapshot};
use super::random;
use crate::sim::faults::FaultSet;

/// Outbound calls a pod makes per request it receives.
const OUTBOUND_SHARE: f64 = 0.6;

pub type RequestHistogram = Snapshot<19>;

/// The faults that shape the traffic of one revision's pods.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RevFaults {
    pub latency_ms: f64,
    pub errors: f64,
    pub mtls: f64,
}

impl RevFaults {
    pub fn of(set: &FaultSet, revision: &str) -> RevFaults {
        RevFaults {
            latency_ms: set.latency_ms.get(revision).copied().unwrap_or(0.0),
            errors: set.errors.get(revision).copied().unwrap_or(0.0),
            mtls: set.mtls.get(revision).copied().unwrap_or(0.0),
        }
    }
}

/// The series a sidecar reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Requests the pod answered (reporter=destination).
    InboundOk,
    /// Requests the pod answered with a 5xx (reporter=destination).
    InboundError,
    /// Calls to the next workload that succeeded (reporter=source).
    OutboundOk,
    /// Calls that failed the mTLS handshake: 503 with `UF,URX` (reporter=source).
    OutboundMtls,
}

impl Series {
    pub const ALL: [Series; 4] = [
        Series::InboundOk,
        Series::InboundError,
        Series::OutboundOk,
        Series::OutboundMtls,
    ];

    fn index(self) -> usize {
        self as usize
    }

    pub fn inbound(self) -> bool {
        matches!(self, Series::InboundOk | Series::InboundError)
    }

    pub fn response_code(self) -> &'static str {
        match self {
            Series::InboundOk | Series::OutboundOk => "200",
            Series::InboundError | Series::OutboundMtls => "503",
        }
    }

    pub fn response_flags(self) -> &'static str {
        match self {
            Series::OutboundMtls => "UF,URX",
            _ => "-",
        }
    }

    /// The share of the pod's inbound request total this series gets.
    fn share(self, f: &RevFaults) -> f64 {
        let errors = f.errors.clamp(0.0, 1.0);
        let mtls = f.mtls.clamp(0.0, 1.0);
        match self {
            Series::InboundOk => 1.0 - errors,
            Series::InboundError => errors,
            Series::OutboundOk => OUTBOUND_SHARE * (1.0 - mtls),
            Series::OutboundMtls => OUTBOUND_SHARE * mtls,
        }
    }

    fn latency(self, base_ms: f64, f: &RevFaults) -> LogNormal {
        let added = f.latency_ms.max(0.0);
        match self {
            Series::InboundOk => LogNormal::new(base_ms + added, 0.55),
            Series::InboundError => LogNormal::new(base_ms * 0.5 + added, 0.7),
            Series::OutboundOk => LogNormal::new(base_ms * 1.2 + 1.0 + added, 0.55),
            // A failed handshake fails fast.
            Series::OutboundMtls => LogNormal::new(2.0, 0.4),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Traffic {
    /// Inbound requests per second of one pod of the workload.
    pub rate: f32,
    /// Median latency of the workload's requests, in milliseconds.
    pub base_ms: f32,
    /// Inbound requests in the current fault epoch (fractional: counts are floors).
    requests: f64,
    /// What earlier epochs counted, once there was a fault change.
    history: Option<Box<[RequestHistogram; 4]>>,
}

impl Traffic {
    /// The traffic of a pod of `workload` in `namespace`, decided by the seed.
    pub fn for_workload(seed: u64, namespace: &str, workload: &str) -> Traffic {
        let h = random::hash_str(seed, &format!("{namespace}/{workload}"));
        let r = random::unit(h);
        let l = random::unit(random::mix(h));
        Traffic {
            rate: (0.5 + 14.5 * r * r) as f32,
            base_ms: (4.0 + 60.0 * l * l) as f32,
            requests: 0.0,
            history: None,
        }
    }

    /// One tick: `factor` scales the rate (time, daily wave, jitter).
    pub fn advance(&mut self, factor: f64) {
        self.requests += f64::from(self.rate) * factor.max(0.0);
    }

    fn count_now(&self, s: Series, f: &RevFaults) -> u64 {
        (self.requests * s.share(f)).floor() as u64
    }

    /// Calls that failed mTLS in the current epoch.
    pub fn mtls_failures(&self, f: &RevFaults) -> u64 {
        self.count_now(Series::OutboundMtls, f)
    }

    /// Everything a series has counted so far, under the current faults `f`.
    pub fn series(&self, s: Series, f: &RevFaults) -> RequestHistogram {
        let dist = s.latency(f64::from(self.base_ms), f);
        let mut snap = Snapshot::of(self.count_now(s, f), &dist, &REQUEST_MS);
        if let Some(h) = &self.history {
            snap.add(&h[s.index()]);
        }
        snap
    }

    /// Ends the epoch whose faults were `f`: its counts go into the history.
    pub fn fold(&mut self, f: &RevFaults) {
        if self.requests == 0.0 {
            return;
        }
        let current = Series::ALL.map(|s| self.series(s, f));
        self.history = Some(Box::new(current));
        self.requests = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_only_grow_across_fault_changes() {
        let mut t = Traffic::for_workload(1, "checkout", "cart");
        let calm = RevFaults::default();
        let broken = RevFaults {
            latency_ms: 250.0,
            errors: 0.3,
            mtls: 0.5,
        };
        let mut last: Vec<RequestHistogram> = Series::ALL.map(|s| t.series(s, &calm)).to_vec();
        let mut faults = calm;
        for tick in 0..60 {
            if tick == 20 {
                t.fold(&faults);
                faults = broken;
            }
            if tick == 40 {
                t.fold(&faults);
                faults = calm;
            }
            t.advance(1.0);
            for (i, s) in Series::ALL.into_iter().enumerate() {
                let now = t.series(s, &faults);
                assert!(now.count >= last[i].count, "{s:?} went down at tick {tick}");
                assert!(
                    now.buckets
                        .iter()
                        .zip(&last[i].buckets)
                        .all(|(a, b)| a >= b)
                );
                assert!(now.buckets.windows(2).all(|w| w[0] <= w[1]));
                last[i] = now;
            }
        }
        assert!(
            last[1].count > 0 && last[3].count > 0,
            "errors were counted"
        );
        assert!(last[0].count > last[1].count);
    }

    #[test]
    fn added_latency_moves_the_histogram() {
        let mut t = Traffic::for_workload(3, "payments", "ledger");
        t.advance(100.0);
        let fast = t.series(Series::InboundOk, &RevFaults::default());
        let slow = t.series(
            Series::InboundOk,
            &RevFaults {
                latency_ms: 400.0,
                ..RevFaults::default()
            },
        );
        // Bucket le=250: most fast requests, few slow ones.
        assert!(fast.buckets[7] > slow.buckets[7] * 2);
    }

    #[test]
    fn rates_depend_on_the_seed() {
        let a = Traffic::for_workload(1, "search", "indexer");
        let b = Traffic::for_workload(1, "search", "indexer");
        let c = Traffic::for_workload(2, "search", "indexer");
        assert_eq!(a.rate, b.rate);
        assert_ne!(a.rate, c.rate);
    }
}
