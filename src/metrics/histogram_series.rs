//! The samples of one histogram family put back together: each series' `_bucket`, `_sum` and
//! `_count` into one `Histogram`, keyed by its labels without `le`.
//!
//! A page writes a series' buckets one after the other, so a bucket is first compared with the
//! series the previous one opened; only a bucket that starts another series pays for a key.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::exposition::SampleRef;
use super::maths::Histogram;
use super::{Labels, parse_float};

/// Histogram series under construction, fed sample by sample in page order.
#[derive(Debug, Default)]
pub(crate) struct HistogramSeries {
    done: BTreeMap<Labels, Histogram>,
    /// The series the last bucket belonged to (its key) and its buckets not yet in `done`.
    open: Option<(Labels, Vec<(f64, f64)>)>,
}

fn empty(buckets: Vec<(f64, f64)>) -> Histogram {
    Histogram {
        buckets,
        count: f64::NAN,
        sum: f64::NAN,
    }
}

/// Whether the labels of a bucket read in place are `key` once `le` is left out. Label names
/// of a sample are unique, so as many labels, each in `key` with the same value, is equality.
fn same_series_in_place(bucket: &[(&str, Cow<'_, str>)], key: &Labels) -> bool {
    let mut others = 0;
    for (k, v) in bucket.iter().filter(|(k, _)| *k != "le") {
        if key.get(*k).map(String::as_str) != Some(v.as_ref()) {
            return false;
        }
        others += 1;
    }
    others == key.len()
}

/// Whether a bucket's labels are `key` once `le` is left out.
fn same_series(bucket: &Labels, key: &Labels) -> bool {
    bucket.iter().filter(|(k, _)| *k != "le").eq(key.iter())
}

fn without_le(labels: Cow<'_, Labels>) -> Labels {
    match labels {
        Cow::Borrowed(labels) => labels
            .iter()
            .filter(|(k, _)| *k != "le")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Cow::Owned(mut labels) => {
            labels.remove("le");
            labels
        }
    }
}

impl HistogramSeries {
    /// Takes a sample of the family: `suffix` is what its name has after the family's name
    /// (`_bucket`, `_sum`, `_count`; anything else is not part of it). A bucket without a
    /// numeric `le` is left out.
    pub fn add(&mut self, suffix: &str, labels: Cow<'_, Labels>, value: f64) {
        match suffix {
            "_bucket" => self.bucket(labels, value),
            "_sum" => self.series(labels, |h| h.sum = value),
            "_count" => self.series(labels, |h| h.count = value),
            _ => {}
        }
    }

    /// `add` for a sample read in place: of a series' buckets only the first copies its
    /// labels, the others are compared where they lie.
    pub fn add_in_place(&mut self, suffix: &str, sample: &SampleRef<'_, '_>) {
        if suffix != "_bucket" {
            return self.add(suffix, Cow::Owned(sample.owned_labels()), sample.value);
        }
        let Some(le) = sample.label("le").and_then(parse_float) else {
            return;
        };
        match &mut self.open {
            Some((key, buckets)) if same_series_in_place(sample.labels, key) => {
                buckets.push((le, sample.value));
            }
            _ => {
                self.close();
                let mut key = sample.owned_labels();
                key.remove("le");
                self.open = Some((key, vec![(le, sample.value)]));
            }
        }
    }

    fn bucket(&mut self, labels: Cow<'_, Labels>, value: f64) {
        let Some(le) = labels.get("le").and_then(|le| parse_float(le)) else {
            return;
        };
        match &mut self.open {
            Some((key, buckets)) if same_series(&labels, key) => buckets.push((le, value)),
            _ => {
                self.close();
                self.open = Some((without_le(labels), vec![(le, value)]));
            }
        }
    }

    fn series(&mut self, labels: Cow<'_, Labels>, set: impl FnOnce(&mut Histogram)) {
        match self.done.get_mut(&*labels) {
            Some(h) => set(h),
            None => {
                let mut h = empty(Vec::new());
                set(&mut h);
                self.done.insert(labels.into_owned(), h);
            }
        }
    }

    fn close(&mut self) {
        let Some((key, buckets)) = self.open.take() else {
            return;
        };
        match self.done.entry(key) {
            Entry::Vacant(v) => {
                v.insert(empty(buckets));
            }
            Entry::Occupied(mut o) => o.get_mut().buckets.extend(buckets),
        }
    }

    /// Every series, its buckets sorted by bound. A series without `_sum` or `_count` has NaN
    /// there (the `+Inf` bucket carries the count anyway).
    pub fn finish(mut self) -> BTreeMap<Labels, Histogram> {
        self.close();
        for h in self.done.values_mut() {
            h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::labels;

    /// `(suffix, labels, value)` in page order.
    type Samples<'a> = [(&'a str, Labels, f64)];

    fn borrowed(samples: &Samples<'_>) -> BTreeMap<Labels, Histogram> {
        let mut series = HistogramSeries::default();
        for (suffix, labels, value) in samples {
            series.add(suffix, Cow::Borrowed(labels), *value);
        }
        series.finish()
    }

    fn owned(samples: &Samples<'_>) -> BTreeMap<Labels, Histogram> {
        let mut series = HistogramSeries::default();
        for (suffix, labels, value) in samples.iter().cloned() {
            series.add(suffix, Cow::Owned(labels), value);
        }
        series.finish()
    }

    #[test]
    fn interleaved_series_sums_first_and_bad_buckets() {
        let a = |le: &str| labels(&[("code", "200"), ("le", le), ("x", "1")]);
        let b = |le: &str| labels(&[("code", "503"), ("le", le), ("x", "1")]);
        let samples = [
            // A sum may come before its buckets.
            ("_sum", labels(&[("code", "200"), ("x", "1")]), 12.0),
            ("_bucket", a("+Inf"), 4.0),
            ("_bucket", a("10"), 3.0),
            ("_bucket", b("10"), 1.0),
            // Back to the first series: its buckets join those it had.
            ("_bucket", a("1"), 2.0),
            ("_bucket", a("fast"), 9.0),
            ("_bucket", labels(&[("code", "200"), ("x", "1")]), 9.0),
            ("_bucket", b("+Inf"), 1.0),
            ("_count", labels(&[("code", "503"), ("x", "1")]), 1.0),
            ("_created", labels(&[("code", "503"), ("x", "1")]), 1.7e9),
            // A sum of a series without buckets still makes one.
            ("_sum", labels(&[("code", "404")]), 5.0),
        ];
        for all in [borrowed(&samples), owned(&samples)] {
            assert_eq!(all.len(), 3);
            let first = &all[&labels(&[("code", "200"), ("x", "1")])];
            assert_eq!(
                first.buckets,
                vec![(1.0, 2.0), (10.0, 3.0), (f64::INFINITY, 4.0)]
            );
            assert_eq!(first.sum, 12.0);
            assert!(first.count.is_nan());
            let second = &all[&labels(&[("code", "503"), ("x", "1")])];
            assert_eq!(second.buckets, vec![(10.0, 1.0), (f64::INFINITY, 1.0)]);
            assert_eq!(second.count, 1.0);
            assert!(second.sum.is_nan());
            let bare = &all[&labels(&[("code", "404")])];
            assert!(bare.buckets.is_empty());
            assert_eq!(bare.sum, 5.0);
        }
    }

    #[test]
    fn equal_bounds_keep_page_order_and_a_later_sum_wins() {
        let bucket = |le: &str| labels(&[("le", le)]);
        let samples = [
            ("_bucket", bucket("1"), 1.0),
            ("_bucket", bucket("1.0"), 2.0),
            ("_sum", Labels::new(), 3.0),
            ("_sum", Labels::new(), 4.0),
            ("_count", Labels::new(), 2.0),
        ];
        let all = borrowed(&samples);
        let h = &all[&Labels::new()];
        assert_eq!(h.buckets, vec![(1.0, 1.0), (1.0, 2.0)]);
        assert_eq!(h.sum, 4.0);
        assert_eq!(owned(&samples), all);
    }
}
