//! istiod's numbers per revision, from the pages of its pods: pushes and rejects as rates
//! between two scrapes, proxy convergence p99 over the interval, connected proxies by version.

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
    Some(Rates {
        pushes_per_s,
        rejects_per_s: rate(before.rejects, after.rejects),
        convergence_p99,
        proxies: after.proxies.clone(),
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
}
