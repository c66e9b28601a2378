//! Histograms without per-request work: latencies follow a log-normal distribution, so `n`
//! requests fill bucket `b` with `n * cdf(b)` observations, and counts can be derived from a
//! request total whenever a page is rendered.

/// Istio's default buckets for `istio_request_duration_milliseconds`.
pub const REQUEST_MS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// istiod's buckets for `pilot_proxy_convergence_time` (seconds).
pub const CONVERGENCE_S: [f64; 8] = [0.1, 0.5, 1.0, 3.0, 5.0, 10.0, 20.0, 30.0];

/// istiod's buckets for `pilot_xds_push_time` (seconds).
pub const PUSH_TIME_S: [f64; 8] = [0.01, 0.1, 1.0, 3.0, 5.0, 10.0, 20.0, 30.0];

/// A log-normal distribution given by its median and the standard deviation of its log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub median: f64,
    pub sigma: f64,
}

impl LogNormal {
    pub fn new(median: f64, sigma: f64) -> LogNormal {
        LogNormal {
            median: median.max(1e-6),
            sigma: sigma.max(1e-3),
        }
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let z = (x.ln() - self.median.ln()) / (self.sigma * std::f64::consts::SQRT_2);
        (0.5 * (1.0 + erf(z))).clamp(0.0, 1.0)
    }

    pub fn mean(&self) -> f64 {
        self.median * (self.sigma * self.sigma / 2.0).exp()
    }
}

/// The error function (Abramowitz and Stegun 7.1.26; absolute error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// What a histogram series shows: cumulative bucket counts (one per bound, `+Inf` is
/// `count`), the observation count and the sum of observations.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot<const N: usize> {
    pub buckets: [u64; N],
    pub count: u64,
    pub sum: f64,
}

impl<const N: usize> Default for Snapshot<N> {
    fn default() -> Self {
        Snapshot {
            buckets: [0; N],
            count: 0,
            sum: 0.0,
        }
    }
}

impl<const N: usize> Snapshot<N> {
    /// `count` observations drawn from `dist`, spread over `bounds`.
    pub fn of(count: u64, dist: &LogNormal, bounds: &[f64; N]) -> Snapshot<N> {
        let mut buckets = [0; N];
        let mut previous = 0;
        for (slot, bound) in buckets.iter_mut().zip(bounds) {
            // Rounded, not floored: flooring pushed the last few requests of a quiet series
            // into the top buckets and made its p99 minutes long.
            let filled = ((count as f64) * dist.cdf(*bound)).round() as u64;
            previous = filled.clamp(previous, count);
            *slot = previous;
        }
        Snapshot {
            buckets,
            count,
            sum: count as f64 * dist.mean(),
        }
    }

    pub fn add(&mut self, other: &Snapshot<N>) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

/// A histogram fed in bulk with fractional observation counts (istiod's pushes), read as
/// whole numbers. Every bucket only grows, and never passes the ones above it.
#[derive(Debug, Clone)]
pub struct Accumulated<const N: usize> {
    buckets: [f64; N],
    count: f64,
    sum: f64,
}

impl<const N: usize> Default for Accumulated<N> {
    fn default() -> Self {
        Accumulated {
            buckets: [0.0; N],
            count: 0.0,
            sum: 0.0,
        }
    }
}

impl<const N: usize> Accumulated<N> {
    pub fn observe_many(&mut self, n: f64, dist: &LogNormal, bounds: &[f64; N]) {
        if n <= 0.0 {
            return;
        }
        for (slot, bound) in self.buckets.iter_mut().zip(bounds) {
            *slot += n * dist.cdf(*bound);
        }
        self.count += n;
        self.sum += n * dist.mean();
    }

    pub fn snapshot(&self) -> Snapshot<N> {
        let count = self.count.floor() as u64;
        let mut buckets = [0; N];
        let mut previous = 0;
        for (slot, value) in buckets.iter_mut().zip(&self.buckets) {
            previous = (value.floor() as u64).clamp(previous, count);
            *slot = previous;
        }
        Snapshot {
            buckets,
            count,
            sum: self.sum,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_normal_cdf_is_a_cdf() {
        let d = LogNormal::new(20.0, 0.6);
        assert!((d.cdf(20.0) - 0.5).abs() < 1e-6);
        assert!(d.cdf(1.0) < 0.01);
        assert!(d.cdf(1000.0) > 0.999);
        let mut last = 0.0;
        for b in REQUEST_MS {
            let c = d.cdf(b);
            assert!(c >= last);
            last = c;
        }
    }

    #[test]
    fn snapshots_are_cumulative_and_end_at_the_count() {
        let s = Snapshot::of(1234, &LogNormal::new(40.0, 0.8), &REQUEST_MS);
        assert!(s.buckets.windows(2).all(|w| w[0] <= w[1]));
        assert!(*s.buckets.last().unwrap() <= s.count);
        assert_eq!(s.count, 1234);
    }

    #[test]
    fn a_quiet_series_keeps_its_requests_where_the_distribution_puts_them() {
        // Three requests around 40 ms: none of them may land above a second.
        let s = Snapshot::of(3, &LogNormal::new(40.0, 0.5), &REQUEST_MS);
        let one_second = REQUEST_MS.iter().position(|b| *b == 1000.0).unwrap();
        assert_eq!(s.buckets[one_second], 3, "{:?}", s.buckets);
    }

    #[test]
    fn accumulated_buckets_only_grow() {
        let mut h = Accumulated::<8>::default();
        let mut before = h.snapshot();
        for i in 0..200 {
            let dist = LogNormal::new(0.05 * (1.0 + (i % 7) as f64), 0.9);
            h.observe_many(3.7, &dist, &CONVERGENCE_S);
            let now = h.snapshot();
            assert!(now.buckets.iter().zip(&before.buckets).all(|(a, b)| a >= b));
            assert!(now.buckets.windows(2).all(|w| w[0] <= w[1]));
            assert!(now.count >= *now.buckets.last().unwrap());
            before = now;
        }
    }
}
