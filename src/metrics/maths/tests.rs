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
