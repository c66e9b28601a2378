//! istiod's numbers per revision, from the pages of its pods: pushes and rejects as rates
//! between two scrapes, proxy convergence p99 over the interval, connected proxies by version,
//! CPU (the rate of `process_cpu_seconds_total`) and resident memory.

use std::collections::BTreeMap;

use super::exposition::Scrape;
use super::maths::{Histogram, counter_increase};

/// Counters and histograms summed over every istiod pod of one revision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub pushes: BTreeMap<String, f64>,
    pub rejects: f64,
    pub convergence: Option<Histogram>,
    /// Connected proxies by proxy version (`pilot_xds`, a gauge).
    pub proxies: BTreeMap<String, f64>,
    /// `process_cpu_seconds_total`; None when no page has it.
    pub cpu_seconds: Option<f64>,
    /// `process_resident_memory_bytes`; None when no page has it.
    pub memory_bytes: Option<f64>,
}

/// Adds `value` to a total that stays None until something is added.
fn add(total: &mut Option<f64>, value: f64) {
    *total = Some(total.unwrap_or(0.0) + value);
}

pub fn totals<'a>(pages: impl IntoIterator<Item = &'a Scrape>) -> Totals {
    let mut t = Totals::default();
    for page in pages {
        for s in page.named("pilot_xds_pushes") {
            let ty = s.labels.get("type").cloned().unwrap_or_default();
            *t.pushes.entry(ty).or_default() += s.value;
        }
        t.rejects += page
            .named("pilot_total_xds_rejects")
            .map(|s| s.value)
            .sum::<f64>();
        for s in page.named("pilot_xds") {
            let version = s
                .labels
                .get("version")
                .cloned()
                .unwrap_or_else(|| "unknown".into());
            *t.proxies.entry(version).or_default() += s.value;
        }
        for s in page.named("process_cpu_seconds_total") {
            add(&mut t.cpu_seconds, s.value);
        }
        for s in page.named("process_resident_memory_bytes") {
            add(&mut t.memory_bytes, s.value);
        }
        for h in page.histograms("pilot_proxy_convergence_time").values() {
            match &mut t.convergence {
                Some(total) => total.merge(h),
                None => t.convergence = Some(h.clone()),
            }
        }
    }
    t
}

/// What a revision did between two scrapes `seconds` apart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates {
    pub pushes_per_s: BTreeMap<String, f64>,
    pub rejects_per_s: f64,
    /// p99 of proxy convergence over the interval, in seconds; None without pushes.
    pub convergence_p99: Option<f64>,
    pub proxies: BTreeMap<String, f64>,
    /// CPU used over the interval, in cores; None without two readings of the counter.
    pub cpu_cores: Option<f64>,
    /// Resident memory of the revision's istiod pods at the latest scrape.
    pub memory_bytes: Option<f64>,
}

pub fn rates(before: &Totals, after: &Totals, seconds: f64) -> Option<Rates> {
    if seconds <= 0.0 {
        return None;
    }
    let rate = |b: f64, a: f64| counter_increase(b, a).map_or(0.0, |inc| inc / seconds);
    let pushes_per_s = after
        .pushes
        .iter()
        .map(|(ty, a)| {
            (
                ty.clone(),
                rate(before.pushes.get(ty).copied().unwrap_or(0.0), *a),
            )
        })
        .collect();
    let convergence_p99 = match (&before.convergence, &after.convergence) {
        (Some(b), Some(a)) => a.quantile_since(b, 0.99),
        (None, Some(a)) => a.quantile(0.99),
        _ => None,
    };
    let cpu_cores = before
        .cpu_seconds
        .zip(after.cpu_seconds)
        .and_then(|(b, a)| counter_increase(b, a))
        .map(|inc| inc / seconds);
    Some(Rates {
        pushes_per_s,
        rejects_per_s: rate(before.rejects, after.rejects),
        convergence_p99,
        proxies: after.proxies.clone(),
        cpu_cores,
        memory_bytes: after.memory_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::parse;

    fn page(pushes: f64, rejects: f64, buckets: [f64; 3]) -> Scrape {
        let text = format!(
            "# TYPE pilot_xds_pushes counter\npilot_xds_pushes{{type=\"lds\"}} {pushes}\n\
             # TYPE pilot_total_xds_rejects counter\npilot_total_xds_rejects{{type=\"lds\"}} {rejects}\n\
             # TYPE pilot_xds gauge\npilot_xds{{version=\"1.25.0\"}} 7\n\
             # TYPE pilot_proxy_convergence_time histogram\n\
             pilot_proxy_convergence_time_bucket{{le=\"0.1\"}} {}\n\
             pilot_proxy_convergence_time_bucket{{le=\"1\"}} {}\n\
             pilot_proxy_convergence_time_bucket{{le=\"+Inf\"}} {}\n\
             pilot_proxy_convergence_time_sum 1\npilot_proxy_convergence_time_count {}\n",
            buckets[0], buckets[1], buckets[2], buckets[2]
        );
        parse(&text).unwrap()
    }

    #[test]
    fn two_pods_add_up_and_rates_come_from_the_interval() {
        let before = totals([
            &page(100.0, 0.0, [10.0, 10.0, 10.0]),
            &page(50.0, 0.0, [5.0, 5.0, 5.0]),
        ]);
        assert_eq!(before.pushes["lds"], 150.0);
        assert_eq!(before.proxies["1.25.0"], 14.0);
        let after = totals([
            &page(110.0, 3.0, [10.0, 20.0, 20.0]),
            &page(60.0, 1.0, [5.0, 15.0, 15.0]),
        ]);
        let r = rates(&before, &after, 10.0).unwrap();
        assert_eq!(r.pushes_per_s["lds"], 2.0);
        assert_eq!(r.rejects_per_s, 0.4);
        // All 20 new pushes converged between 0.1 s and 1 s.
        let p99 = r.convergence_p99.unwrap();
        assert!(p99 > 0.1 && p99 <= 1.0, "{p99}");
        assert!(rates(&before, &after, 0.0).is_none());
    }

    fn process(cpu: f64, memory: f64) -> Scrape {
        parse(&format!(
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}\n\
             # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {memory}\n"
        ))
        .unwrap()
    }

    #[test]
    fn cpu_is_the_rate_of_its_counter_and_memory_adds_up() {
        let before = totals([&process(100.0, 1e8), &process(40.0, 2e8)]);
        let after = totals([&process(103.0, 1.5e8), &process(42.0, 2e8)]);
        assert_eq!(after.memory_bytes, Some(3.5e8));
        let r = rates(&before, &after, 10.0).unwrap();
        // 5 CPU seconds in 10 s: half a core.
        assert_eq!(r.cpu_cores, Some(0.5));
        assert_eq!(r.memory_bytes, Some(3.5e8));
        // Pages without them: unknown, not zero.
        let bare = totals([&page(1.0, 0.0, [0.0, 0.0, 0.0])]);
        assert_eq!((bare.cpu_seconds, bare.memory_bytes), (None, None));
        let r = rates(&bare, &bare, 10.0).unwrap();
        assert_eq!((r.cpu_cores, r.memory_bytes), (None, None));
        // A first reading has no rate yet.
        assert_eq!(rates(&bare, &after, 10.0).unwrap().cpu_cores, None);
    }
}
