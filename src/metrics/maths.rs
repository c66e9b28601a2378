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
mod tests;
