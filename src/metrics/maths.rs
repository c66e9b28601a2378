//! The arithmetic of the panes and gates: what Prometheus computes server-side (`irate`,
//! `increase`, `histogram_quantile`), done here on two successive scrapes for the
//! direct-scrape mode, plus the sliding-window trigger every gate uses whatever the source.
//!
//! Nothing here answers 0 for "no data": no traffic, no observations or no points give `None`
//! or `TriggerState::Unknown`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Labels;
use super::exposition::Sample;

/// `value > limit`, false for NaN.
fn exceeds(value: f64, limit: f64) -> bool {
    value > limit
}

/// How much a counter grew between two readings. A drop means the process restarted and the
/// counter began again from zero, so everything it shows now is new (Prometheus' reset rule).
/// `None` when either reading is not a finite number.
pub fn counter_increase(before: f64, after: f64) -> Option<f64> {
    if !before.is_finite() || !after.is_finite() {
        return None;
    }
    Some(if after < before {
        after
    } else {
        after - before
    })
}

/// Per-second rate between two readings `(unix seconds, value)`, as Prometheus' `irate` over
/// exactly these two samples (no extrapolation). `None` when time did not move forward.
pub fn counter_rate(before: (f64, f64), after: (f64, f64)) -> Option<f64> {
    let dt = after.0 - before.0;
    if !exceeds(dt, 0.0) {
        return None;
    }
    counter_increase(before.1, after.1).map(|inc| inc / dt)
}

/// The increase of every series between two scrapes of the same target, keyed by whatever
/// names a series (its labels, or a reference to them). A series that is new in `after` counts
/// from zero (Envoy creates a series at its first request, so its whole value happened since
/// the last scrape); a series that went away is left out. A series listed twice counts with
/// its last reading.
pub fn increases_by_series<K: Ord>(
    before: impl IntoIterator<Item = (K, f64)>,
    after: impl IntoIterator<Item = (K, f64)>,
) -> BTreeMap<K, f64> {
    let old: BTreeMap<K, f64> = before.into_iter().collect();
    after
        .into_iter()
        .filter_map(|(series, value)| {
            let inc = counter_increase(old.get(&series).copied().unwrap_or(0.0), value)?;
            Some((series, inc))
        })
        .collect()
}

/// The increase of every series called `name` between two scrapes of the same target, keyed
/// by labels, as [`increases_by_series`] counts it.
pub fn counter_increases(before: &[Sample], after: &[Sample], name: &str) -> BTreeMap<Labels, f64> {
    fn readings<'a>(
        samples: &'a [Sample],
        name: &'a str,
    ) -> impl Iterator<Item = (&'a Labels, f64)> + 'a {
        samples
            .iter()
            .filter(move |s| s.name == name)
            .map(|s| (&s.labels, s.value))
    }
    increases_by_series(readings(before, name), readings(after, name))
        .into_iter()
        .map(|(labels, inc)| (labels.clone(), inc))
        .collect()
}

/// The share of requests answered with a 5xx `response_code`, over the series `keep` accepts
/// (pick one `reporter`, or both sides are counted twice; pick a namespace or a revision).
/// `None` when no request was made: no traffic is not a 0% error rate.
pub fn five_xx_ratio<'a>(
    increases: impl IntoIterator<Item = (&'a Labels, &'a f64)>,
    keep: impl Fn(&Labels) -> bool,
) -> Option<f64> {
    let (mut errors, mut total) = (0.0, 0.0);
    for (labels, inc) in increases {
        if !keep(labels) {
            continue;
        }
        total += inc;
        if labels
            .get("response_code")
            .is_some_and(|c| c.len() == 3 && c.starts_with('5'))
        {
            errors += inc;
        }
    }
    (total > 0.0).then(|| errors / total)
}

/// One histogram series: cumulative bucket counts by upper bound (`le`), with the `+Inf`
/// bucket last, and the `_count` and `_sum` (NaN when the page had none).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub buckets: Vec<(f64, f64)>,
    pub count: f64,
    pub sum: f64,
}

impl Histogram {
    /// The `q` quantile (0 to 1) of the observations; see [`bucket_quantile`].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        bucket_quantile(q, &self.buckets)
    }

    /// What was observed between `earlier` and `self`, bucket by bucket. When any bucket or the
    /// count went down the process restarted, and `self` alone is the increase. Buckets are
    /// matched by bound; a bound missing from `earlier` counts from zero.
    pub fn increase_since(&self, earlier: &Histogram) -> Histogram {
        let old = |le: f64| {
            earlier
                .buckets
                .iter()
                .find(|b| b.0 == le || (b.0.is_infinite() && le.is_infinite()))
                .map_or(0.0, |b| b.1)
        };
        let reset = self.count < earlier.count || self.buckets.iter().any(|b| b.1 < old(b.0));
        if reset {
            return self.clone();
        }
        let minus = |now: f64, then: f64| if then.is_nan() { now } else { now - then };
        Histogram {
            buckets: self.buckets.iter().map(|b| (b.0, b.1 - old(b.0))).collect(),
            count: minus(self.count, earlier.count),
            sum: minus(self.sum, earlier.sum),
        }
    }

    /// Adds `other` into `self` (series of the same family from many pods, before a
    /// quantile over all of them). Bounds are matched exactly; one only `other` has is added.
    pub fn merge(&mut self, other: &Histogram) {
        for &(le, n) in &other.buckets {
            match self.buckets.iter_mut().find(|b| b.0 == le) {
                Some(b) => b.1 += n,
                None => self.buckets.push((le, n)),
            }
        }
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let add = |a: f64, b: f64| if a.is_nan() { b } else { a + b };
        self.count = add(self.count, other.count);
        self.sum = add(self.sum, other.sum);
    }

    /// The `q` quantile of what was observed between the two scrapes, the direct-scrape
    /// equivalent of `histogram_quantile(q, rate(x_bucket[...]))`.
    pub fn quantile_since(&self, earlier: &Histogram, q: f64) -> Option<f64> {
        self.increase_since(earlier).quantile(q)
    }
}

/// Prometheus' `histogram_quantile` on classic buckets `(upper bound, cumulative count)`:
/// buckets sorted by bound, equal bounds merged, counts forced to never decrease; the rank
/// `q * total` is found by linear interpolation inside its bucket (the first bucket starts at
/// 0); a rank in the `+Inf` bucket answers the highest finite bound.
///
/// `None` (where Prometheus says NaN) when: `q` is not within 0..=1, there is no `+Inf`
/// bucket, fewer than two buckets, or no observation at all.
pub fn bucket_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|b| !b.0.is_nan() && !b.1.is_nan())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    if sorted.len() < 2 || sorted.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return None;
    }
    let mut highest = f64::NEG_INFINITY;
    for b in &mut sorted {
        highest = highest.max(b.1);
        b.1 = highest;
    }
    let total = sorted[sorted.len() - 1].1;
    if !exceeds(total, 0.0) {
        return None;
    }
    let mut rank = q * total;
    let last = sorted.len() - 1;
    let b = sorted[..last]
        .iter()
        .position(|b| b.1 >= rank)
        .unwrap_or(last);
    if b == last {
        return Some(sorted[last - 1].0);
    }
    if b == 0 && sorted[0].0 <= 0.0 {
        return Some(sorted[0].0);
    }
    let (mut start, end, mut count) = (0.0, sorted[b].0, sorted[b].1);
    if b > 0 {
        start = sorted[b - 1].0;
        count -= sorted[b - 1].1;
        rank -= sorted[b - 1].1;
    }
    if count <= 0.0 {
        return Some(start);
    }
    Some(start + (end - start) * (rank / count))
}

/// A gate: the value must stay above `threshold` for `for_` before it counts as breached, like
/// a Prometheus alert's `for`. Points further apart than `stale_after` do not make one
/// continuous stretch, and a latest point older than `stale_after` (or NaN) means the gate
/// cannot tell: `Unknown`, which must hold an advance just like a breach.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub threshold: f64,
    pub for_: Duration,
    pub stale_after: Duration,
    /// `(unix seconds, value)`, sorted by time, trimmed to what the window needs.
    points: Vec<(f64, f64)>,
}

/// Why a gate cannot tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnknownReason {
    /// Nothing was ever fed.
    NoData,
    /// The latest point, at this time, is older than `stale_after`.
    Stale { last: f64 },
    /// The latest value is NaN (for example a ratio with no traffic, or a broken series).
    NotANumber,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TriggerState {
    Unknown(UnknownReason),
    /// The latest value is at or under the threshold.
    Healthy {
        value: f64,
    },
    /// Above the threshold since `since`, for less than `for_` so far.
    Pending {
        since: f64,
        value: f64,
    },
    /// Above the threshold without a break since `since`, for at least `for_`.
    Breached {
        since: f64,
        value: f64,
    },
}

impl TriggerState {
    pub fn is_breached(&self) -> bool {
        matches!(self, TriggerState::Breached { .. })
    }

    /// Only an explicit, fresh, under-threshold reading is healthy.
    pub fn is_healthy(&self) -> bool {
        matches!(self, TriggerState::Healthy { .. })
    }
}

impl Trigger {
    pub fn new(threshold: f64, for_: Duration, stale_after: Duration) -> Trigger {
        Trigger {
            threshold,
            for_,
            stale_after,
            points: Vec::new(),
        }
    }

    /// Adds a reading; points may come out of order, and a second point at the same time
    /// replaces the first.
    pub fn feed(&mut self, at: f64, value: f64) {
        if at.is_nan() {
            return;
        }
        match self.points.binary_search_by(|p| p.0.total_cmp(&at)) {
            Ok(i) => self.points[i].1 = value,
            Err(i) => self.points.insert(i, (at, value)),
        }
        // Keep what the window and the gap check can still use.
        let horizon = self.points[self.points.len() - 1].0
            - self.for_.as_secs_f64()
            - 2.0 * self.stale_after.as_secs_f64();
        let old = self.points.partition_point(|p| p.0 < horizon);
        self.points.drain(..old.min(self.points.len() - 1));
    }

    /// The points kept, oldest first.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The gate at `now` (unix seconds).
    pub fn state(&self, now: f64) -> TriggerState {
        let Some(&(last_at, value)) = self.points.last() else {
            return TriggerState::Unknown(UnknownReason::NoData);
        };
        let stale = self.stale_after.as_secs_f64();
        if now - last_at > stale {
            return TriggerState::Unknown(UnknownReason::Stale { last: last_at });
        }
        if value.is_nan() {
            return TriggerState::Unknown(UnknownReason::NotANumber);
        }
        if !exceeds(value, self.threshold) {
            return TriggerState::Healthy { value };
        }
        // Walk back over the unbroken stretch of points above the threshold.
        let mut since = last_at;
        for pair in self.points.windows(2).rev() {
            let (before, after) = (pair[0], pair[1]);
            if after.0 - before.0 > stale || !exceeds(before.1, self.threshold) {
                break;
            }
            since = before.0;
        }
        if last_at - since >= self.for_.as_secs_f64() {
            TriggerState::Breached { since, value }
        } else {
            TriggerState::Pending { since, value }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::labels;

    fn sample(name: &str, pairs: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            name: name.to_string(),
            labels: labels(pairs),
            value,
        }
    }

    #[test]
    fn increases_and_rates_follow_the_reset_rule() {
        assert_eq!(counter_increase(10.0, 25.0), Some(15.0));
        assert_eq!(counter_increase(25.0, 25.0), Some(0.0));
        // Restarted and counted 4 since: the increase is 4, not -21.
        assert_eq!(counter_increase(25.0, 4.0), Some(4.0));
        assert_eq!(counter_increase(f64::NAN, 4.0), None);
        assert_eq!(counter_increase(1.0, f64::INFINITY), None);
        assert_eq!(counter_rate((100.0, 10.0), (115.0, 40.0)), Some(2.0));
        assert_eq!(counter_rate((100.0, 50.0), (110.0, 5.0)), Some(0.5));
        assert_eq!(counter_rate((100.0, 1.0), (100.0, 2.0)), None);
        assert_eq!(counter_rate((100.0, 1.0), (90.0, 2.0)), None);
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        // 100 observations: 40 <= 0.1, 30 in (0.1, 0.5], 20 in (0.5, 1], 10 in (1, 3].
        let b = [
            (0.1, 40.0),
            (0.5, 70.0),
            (1.0, 90.0),
            (3.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        // Rank 50: 10 into the 30 of (0.1, 0.5] -> 0.1 + 0.4 * 10/30.
        let p50 = bucket_quantile(0.5, &b).unwrap();
        assert!((p50 - (0.1 + 0.4 / 3.0)).abs() < 1e-12, "{p50}");
        // Rank 99: 9 into the 10 of (1, 3] -> 1 + 2 * 0.9 = 2.8.
        assert!((bucket_quantile(0.99, &b).unwrap() - 2.8).abs() < 1e-12);
        // Rank 20 in the first bucket, which starts at 0 -> 0.1 * 20/40.
        assert!((bucket_quantile(0.2, &b).unwrap() - 0.05).abs() < 1e-12);
        assert_eq!(bucket_quantile(1.0, &b), Some(3.0));
        // Order of the input does not matter.
        let mut shuffled = b;
        shuffled.reverse();
        assert_eq!(bucket_quantile(0.5, &shuffled), Some(p50));
    }

    #[test]
    fn the_inf_bucket_and_the_edges() {
        // 10 of 100 beyond the last finite bound: p99 is that bound, as in Prometheus.
        let b = [(100.0, 90.0), (250.0, 90.0), (f64::INFINITY, 100.0)];
        assert_eq!(bucket_quantile(0.99, &b), Some(250.0));
        // Empty histograms, missing +Inf, a lone bucket, bad q.
        let empty = [(1.0, 0.0), (f64::INFINITY, 0.0)];
        assert_eq!(bucket_quantile(0.99, &empty), None);
        assert_eq!(bucket_quantile(0.5, &[(1.0, 3.0), (2.0, 5.0)]), None);
        assert_eq!(bucket_quantile(0.5, &[(f64::INFINITY, 5.0)]), None);
        assert_eq!(bucket_quantile(0.5, &[]), None);
        assert_eq!(bucket_quantile(1.5, &b), None);
        assert_eq!(bucket_quantile(f64::NAN, &b), None);
        // A bucket below the one before it is lifted (Prometheus' monotonic fix):
        // (1, 6) (2, 4->6) (4, 10): rank 8 is 2 into the 4 of (2, 4] -> 3.
        let bumpy = [(1.0, 6.0), (2.0, 4.0), (4.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.8, &bumpy), Some(3.0));
        // A first bound at or below zero is answered as is.
        let negative = [(0.0, 5.0), (1.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.1, &negative), Some(0.0));
    }

    #[test]
    fn quantile_of_what_happened_between_two_scrapes() {
        let before = Histogram {
            buckets: vec![(10.0, 100.0), (100.0, 100.0), (f64::INFINITY, 100.0)],
            count: 100.0,
            sum: 500.0,
        };
        // Since then: 10 more under 10 ms and 10 between 10 and 100 ms.
        let after = Histogram {
            buckets: vec![(10.0, 110.0), (100.0, 120.0), (f64::INFINITY, 120.0)],
            count: 120.0,
            sum: 1200.0,
        };
        let inc = after.increase_since(&before);
        assert_eq!(
            inc.buckets,
            vec![(10.0, 10.0), (100.0, 20.0), (f64::INFINITY, 20.0)]
        );
        assert_eq!((inc.count, inc.sum), (20.0, 700.0));
        // Over the whole life p90 is under 10 ms; over the last interval it is 82 ms:
        // rank 18 is 8 into the 10 of (10, 100] -> 10 + 90 * 0.8.
        assert!(after.quantile(0.9).unwrap() < 10.0);
        assert!((after.quantile_since(&before, 0.9).unwrap() - 82.0).abs() < 1e-9);
        // Nothing observed in between: no answer, not 0.
        assert_eq!(after.quantile_since(&after, 0.9), None);
        // A restart: the new life is the increase.
        let restarted = Histogram {
            buckets: vec![(10.0, 0.0), (100.0, 4.0), (f64::INFINITY, 4.0)],
            count: 4.0,
            sum: 200.0,
        };
        assert_eq!(restarted.increase_since(&after), restarted);
    }

    #[test]
    fn merged_histograms_add_bucket_by_bucket() {
        let mut total = Histogram {
            buckets: Vec::new(),
            count: f64::NAN,
            sum: f64::NAN,
        };
        let a = Histogram {
            buckets: vec![(10.0, 3.0), (f64::INFINITY, 4.0)],
            count: 4.0,
            sum: 30.0,
        };
        let b = Histogram {
            buckets: vec![(10.0, 1.0), (f64::INFINITY, 6.0)],
            count: 6.0,
            sum: 100.0,
        };
        total.merge(&a);
        total.merge(&b);
        assert_eq!(total.buckets, vec![(10.0, 4.0), (f64::INFINITY, 10.0)]);
        assert_eq!((total.count, total.sum), (10.0, 130.0));
        // Rank 5 is past the 4 under 10: the +Inf bucket answers the highest finite bound.
        assert_eq!(total.quantile(0.5), Some(10.0));
    }

    #[test]
    fn five_xx_ratio_from_request_counters() {
        let src = |code: &'static str| vec![("reporter", "source"), ("response_code", code)];
        let before = vec![
            sample("istio_requests_total", &src("200"), 1000.0),
            sample("istio_requests_total", &src("503"), 10.0),
            sample("istio_requests_total", &src("404"), 5.0),
            sample("istio_build", &[], 1.0),
        ];
        let after = vec![
            sample("istio_requests_total", &src("200"), 1090.0),
            sample("istio_requests_total", &src("503"), 14.0),
            sample("istio_requests_total", &src("404"), 5.0),
            // Appeared since: all 6 are new.
            sample("istio_requests_total", &src("500"), 6.0),
            sample(
                "istio_requests_total",
                &[("reporter", "destination"), ("response_code", "200")],
                500.0,
            ),
        ];
        let inc = counter_increases(&before, &after, "istio_requests_total");
        assert_eq!(inc.len(), 5);
        assert_eq!(inc[&labels(&src("500"))], 6.0);
        // Source side: 90 + 4 + 0 + 6 = 100 requests, 10 of them 5xx.
        let ratio = five_xx_ratio(&inc, |l| l["reporter"] == "source").unwrap();
        assert!((ratio - 0.1).abs() < 1e-12);
        // No traffic is not a 0% error rate.
        let still = counter_increases(&after, &after, "istio_requests_total");
        assert_eq!(five_xx_ratio(&still, |_| true), None);
        assert_eq!(five_xx_ratio(&inc, |_| false), None);
    }

    #[test]
    fn increases_by_any_series_key_and_a_repeated_series_counts_with_its_last_reading() {
        let inc = increases_by_series(
            [("a", 10.0), ("b", 5.0), ("gone", 1.0)],
            [("a", 12.0), ("b", 2.0), ("new", 3.0), ("bad", f64::NAN)],
        );
        let expected: BTreeMap<&str, f64> = [("a", 2.0), ("b", 2.0), ("new", 3.0)].into();
        assert_eq!(inc, expected);
        let twice = |first, last| {
            vec![
                sample("x", &[("a", "1")], first),
                sample("x", &[("a", "1")], last),
            ]
        };
        let inc = counter_increases(&twice(50.0, 20.0), &twice(10.0, 25.0), "x");
        assert_eq!(inc[&labels(&[("a", "1")])], 5.0);
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_trigger_needs_the_whole_window_above_the_threshold() {
        let mut t = Trigger::new(0.01, 120 * S, 30 * S);
        assert_eq!(
            t.state(1000.0),
            TriggerState::Unknown(UnknownReason::NoData)
        );
        t.feed(1000.0, 0.005);
        assert_eq!(t.state(1000.0), TriggerState::Healthy { value: 0.005 });
        for i in 1..=8 {
            t.feed(1000.0 + 15.0 * i as f64, 0.05);
        }
        // Above since 1015, last point at 1120: 105 s < 120 s.
        assert_eq!(
            t.state(1120.0),
            TriggerState::Pending {
                since: 1015.0,
                value: 0.05
            }
        );
        t.feed(1135.0, 0.06);
        assert_eq!(
            t.state(1135.0),
            TriggerState::Breached {
                since: 1015.0,
                value: 0.06
            }
        );
        assert!(t.state(1135.0).is_breached());
        // One point under the threshold ends the stretch; the next one starts anew.
        t.feed(1150.0, 0.01);
        assert!(t.state(1150.0).is_healthy());
        t.feed(1165.0, 0.02);
        assert_eq!(
            t.state(1165.0),
            TriggerState::Pending {
                since: 1165.0,
                value: 0.02
            }
        );
    }

    #[test]
    fn stale_nan_and_gaps_are_never_healthy() {
        let mut t = Trigger::new(5.0, 60 * S, 30 * S);
        t.feed(0.0, 1.0);
        assert_eq!(
            t.state(31.0),
            TriggerState::Unknown(UnknownReason::Stale { last: 0.0 })
        );
        t.feed(30.0, f64::NAN);
        assert_eq!(
            t.state(30.0),
            TriggerState::Unknown(UnknownReason::NotANumber)
        );
        assert!(!t.state(30.0).is_healthy());
        // Above at 100 and at 200, nothing in between: not one stretch of 100 s.
        t.feed(100.0, 9.0);
        t.feed(200.0, 9.0);
        assert_eq!(
            t.state(200.0),
            TriggerState::Pending {
                since: 200.0,
                value: 9.0
            }
        );
    }

    #[test]
    fn zero_duration_out_of_order_and_trimming() {
        // "Any reject": above 0 once is enough.
        let mut t = Trigger::new(0.0, Duration::ZERO, 30 * S);
        t.feed(10.0, 0.0);
        assert!(t.state(10.0).is_healthy());
        t.feed(20.0, 0.2);
        assert_eq!(
            t.state(25.0),
            TriggerState::Breached {
                since: 20.0,
                value: 0.2
            }
        );
        // A late point slots into place; a repeated time replaces the value.
        let mut t = Trigger::new(1.0, 20 * S, 15 * S);
        for at in [30.0, 10.0, 20.0, 0.0] {
            t.feed(at, 2.0);
        }
        assert_eq!(
            t.state(30.0),
            TriggerState::Breached {
                since: 0.0,
                value: 2.0
            }
        );
        t.feed(20.0, 0.5);
        assert_eq!(
            t.state(30.0),
            TriggerState::Pending {
                since: 30.0,
                value: 2.0
            }
        );
        // Points older than the window and twice the staleness are dropped.
        for i in 0..1000 {
            t.feed(100.0 + i as f64, 2.0);
        }
        assert!(t.points().len() <= 20 + 2 * 15 + 2, "{}", t.points().len());
        assert!(t.state(1099.0).is_breached());
    }
}
