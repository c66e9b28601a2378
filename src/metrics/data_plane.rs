//! Mesh traffic from a sample of sidecars scraped directly (`:15020/stats/prometheus`): what
//! each pod counted between two scrapes of its own page, then those pods added up per
//! namespace and revision into the `Traffic` the pane and the gates read. Which series count
//! toward what is `sidecar_snapshot`'s to say.

use std::collections::{BTreeMap, HashMap};

use super::cross_cluster::{self, Counts, Route};
use super::maths::{Histogram, increases_by_series};
use super::reading::Traffic;
use super::sidecar_snapshot::{Counted, SidecarSnapshot, counted, is_5xx};

/// One sidecar to scrape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleTarget {
    pub namespace: String,
    pub pod: String,
    /// The revision that injected it: where its numbers are added.
    pub revision: String,
}

/// What one pod's sidecar counted between two scrapes of its page.
#[derive(Debug, Clone, PartialEq)]
pub struct PodIncrease {
    /// Time between the two scrapes.
    pub seconds: f64,
    /// Requests the pod served.
    pub requests: f64,
    /// Of those, answered with a 5xx.
    pub errors: f64,
    /// Durations of the requests it served; None when the page has no such histogram.
    pub duration: Option<Histogram>,
    /// Its outbound calls that failed before any response.
    pub mtls_failures: f64,
    /// Its outbound requests to other clusters, by route; empty when its page names no
    /// cluster pair.
    pub cross_cluster: BTreeMap<Route, Counts>,
}

/// The increase between two scrapes of one pod taken `seconds` apart; None when time did not
/// move forward. A restarted proxy (counters lower than before) counts from zero again, as
/// `counter_increase` and `Histogram::increase_since` decide.
pub fn pod_increase(
    before: &SidecarSnapshot,
    after: &SidecarSnapshot,
    seconds: f64,
) -> Option<PodIncrease> {
    if seconds.is_nan() || seconds <= 0.0 {
        return None;
    }
    let mut inc = PodIncrease {
        seconds,
        requests: 0.0,
        errors: 0.0,
        duration: None,
        mtls_failures: 0.0,
        cross_cluster: BTreeMap::new(),
    };
    for (labels, n) in increases_by_series(before.requests(), after.requests()) {
        if let Some(route) = cross_cluster::route(labels) {
            let counts = inc.cross_cluster.entry(route).or_default();
            counts.requests += n;
            if is_5xx(labels) {
                counts.errors += n;
            }
        }
        match counted(labels) {
            Some(Counted::Served { error }) => {
                inc.requests += n;
                if error {
                    inc.errors += n;
                }
            }
            Some(Counted::MtlsFailure) => inc.mtls_failures += n,
            None => {}
        }
    }
    for (labels, now) in after.durations() {
        // A series new since the last scrape counts from zero, like the request counters.
        let grown = match before.durations().get(labels) {
            Some(then) => now.increase_since(then),
            None => now.clone(),
        };
        match &mut inc.duration {
            Some(total) => total.merge(&grown),
            None => inc.duration = Some(grown),
        }
    }
    Some(inc)
}

/// What the last scrape of each sampled pod, `(namespace, pod)`, left for the next one, with
/// when it was taken (seconds on any monotonic clock).
#[derive(Debug, Default)]
pub struct LastScrapes {
    pods: HashMap<(String, String), (f64, SidecarSnapshot)>,
}

impl LastScrapes {
    /// Keeps `now`, the pod's page taken `at`, as its latest, and
    /// returns what the pod counted since its previous one. A pod seen for the first time has
    /// nothing to compare with: its counters hold its whole life, not the interval, so it
    /// contributes nothing until its second scrape.
    pub fn record(
        &mut self,
        namespace: &str,
        pod: &str,
        at: f64,
        now: SidecarSnapshot,
    ) -> Option<PodIncrease> {
        let key = (namespace.to_string(), pod.to_string());
        let increase = self
            .pods
            .get(&key)
            .and_then(|(then, before)| pod_increase(before, &now, at - then));
        self.pods.insert(key, (at, now));
        increase
    }

    /// Forgets the pods `keep` refuses (no longer sampled, or gone).
    pub fn retain(&mut self, keep: impl Fn(&str, &str) -> bool) {
        self.pods.retain(|(ns, pod), _| keep(ns, pod));
    }
}

/// Where a sampled pod's numbers belong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub namespace: &'a str,
    pub revision: &'a str,
}

#[derive(Default)]
struct Sum {
    requests_per_s: f64,
    errors_per_s: f64,
    mtls_per_s: f64,
    duration: Option<Histogram>,
    pods: usize,
}

/// The pods' increases added up per namespace and revision. Each pod's counts become rates over
/// its own interval before they are added (a pod whose scrape failed last round has a longer
/// one); the error ratio is 5xx over all requests, the p99 comes from the merged histogram
/// increases, and both are None without requests. Only pods with an increase count, so a
/// pod scraped for the first time is not in `sampled_pods` yet.
pub fn traffic<'a>(
    pods: impl IntoIterator<Item = (Place<'a>, &'a PodIncrease)>,
) -> BTreeMap<String, BTreeMap<String, Traffic>> {
    let mut sums: BTreeMap<(&str, &str), Sum> = BTreeMap::new();
    for (place, inc) in pods {
        let sum = sums.entry((place.namespace, place.revision)).or_default();
        sum.requests_per_s += inc.requests / inc.seconds;
        sum.errors_per_s += inc.errors / inc.seconds;
        sum.mtls_per_s += inc.mtls_failures / inc.seconds;
        sum.pods += 1;
        if let Some(h) = &inc.duration {
            match &mut sum.duration {
                Some(total) => total.merge(h),
                None => sum.duration = Some(h.clone()),
            }
        }
    }
    let mut out: BTreeMap<String, BTreeMap<String, Traffic>> = BTreeMap::new();
    for ((namespace, revision), sum) in sums {
        let served = sum.requests_per_s > 0.0;
        let traffic = Traffic {
            requests_per_s: sum.requests_per_s,
            error_ratio: served.then(|| sum.errors_per_s / sum.requests_per_s),
            p99_ms: sum
                .duration
                .filter(|_| served)
                .and_then(|h| h.quantile(0.99)),
            mtls_failures_per_s: sum.mtls_per_s,
            sampled_pods: Some(sum.pods),
        };
        out.entry(namespace.to_string())
            .or_default()
            .insert(revision.to_string(), traffic);
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::metrics::Labels;
    use crate::metrics::exposition::{Scrape, parse};
    use crate::metrics::maths::counter_increases;

    const BOUNDS: [f64; 6] = [10.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

    /// One series of a sidecar page as the simulator writes it: the request counter and its
    /// duration histogram, `durations` being how many requests took each bound's worth.
    struct Series {
        reporter: &'static str,
        code: &'static str,
        flags: &'static str,
        durations: [u64; 6],
    }

    impl Series {
        fn count(&self) -> u64 {
            self.durations.iter().sum()
        }
    }

    fn page(series: &[Series]) -> SidecarSnapshot {
        SidecarSnapshot::read(&page_text(series)).unwrap()
    }

    fn page_text(series: &[Series]) -> String {
        let mut text = String::from(
            "# HELP istio_requests_total Requests handled by the proxy.\n\
             # TYPE istio_requests_total counter\n",
        );
        let labels = |s: &Series| {
            format!(
                "reporter=\"{}\",source_workload=\"caller\",destination_workload=\"cart\",\
                 destination_workload_namespace=\"shop\",response_code=\"{}\",\
                 response_flags=\"{}\",connection_security_policy=\"mutual_tls\"",
                s.reporter, s.code, s.flags
            )
        };
        for s in series {
            text += &format!("istio_requests_total{{{}}} {}\n", labels(s), s.count());
        }
        text += "# HELP istio_request_duration_milliseconds Request durations.\n\
                 # TYPE istio_request_duration_milliseconds histogram\n";
        for s in series {
            let mut cumulative = 0;
            for (bound, n) in BOUNDS.iter().zip(s.durations) {
                cumulative += n;
                text += &format!(
                    "istio_request_duration_milliseconds_bucket{{{},le=\"{bound}\"}} {cumulative}\n",
                    labels(s)
                );
            }
            text += &format!(
                "istio_request_duration_milliseconds_bucket{{{},le=\"+Inf\"}} {cumulative}\n\
                 istio_request_duration_milliseconds_sum{{{}}} {}\n\
                 istio_request_duration_milliseconds_count{{{}}} {cumulative}\n",
                labels(s),
                labels(s),
                cumulative * 20,
                labels(s)
            );
        }
        text += "# TYPE istio_build gauge\nistio_build{component=\"proxy\",tag=\"1.24.0\"} 1\n";
        text
    }

    /// The increase between two pages, through the snapshots the cockpit keeps.
    fn increase(
        before: &SidecarSnapshot,
        after: &SidecarSnapshot,
        seconds: f64,
    ) -> Option<PodIncrease> {
        pod_increase(before, after, seconds)
    }

    fn served(code: &'static str, durations: [u64; 6]) -> Series {
        Series {
            reporter: "destination",
            code,
            flags: "-",
            durations,
        }
    }

    fn called(code: &'static str, flags: &'static str, n: u64) -> Series {
        Series {
            reporter: "source",
            code,
            flags,
            durations: [n, 0, 0, 0, 0, 0],
        }
    }

    #[test]
    fn inbound_requests_errors_durations_and_outbound_mtls_failures() {
        let before = page(&[
            served("200", [100, 50, 0, 0, 0, 0]),
            served("503", [5, 0, 0, 0, 0, 0]),
            called("200", "-", 90),
            called("503", "UF,URX", 2),
        ]);
        let after = page(&[
            served("200", [100, 130, 0, 10, 0, 0]),
            served("503", [15, 0, 0, 0, 0, 0]),
            // An outbound 503 the peer answered is not an mTLS failure.
            called("200", "-", 150),
            called("503", "UF,URX", 12),
            called("503", "-", 7),
        ]);
        let inc = increase(&before, &after, 10.0).unwrap();
        // 80 + 10 served OK and 10 more 5xx; outbound calls are not served requests.
        assert_eq!(inc.requests, 100.0);
        assert_eq!(inc.errors, 10.0);
        assert_eq!(inc.mtls_failures, 10.0);
        let h = inc.duration.clone().unwrap();
        assert_eq!(h.count, 100.0);
        // 10 under 10 ms, 80 in (10, 50], 10 in (100, 250]: p99 is in the last of those.
        let p99 = h.quantile(0.99).unwrap();
        assert!(p99 > 100.0 && p99 <= 250.0, "{p99}");
        assert!(increase(&before, &after, 0.0).is_none());
    }

    #[test]
    fn a_restarted_proxy_counts_from_zero() {
        let before = page(&[
            served("200", [500, 500, 0, 0, 0, 0]),
            served("503", [40, 0, 0, 0, 0, 0]),
        ]);
        // The proxy restarted: its counters began again and show 30 requests, 3 of them 5xx.
        let after = page(&[
            served("200", [0, 0, 0, 27, 0, 0]),
            served("503", [3, 0, 0, 0, 0, 0]),
        ]);
        let inc = increase(&before, &after, 5.0).unwrap();
        assert_eq!((inc.requests, inc.errors), (30.0, 3.0));
        let h = inc.duration.unwrap();
        assert_eq!(h.count, 30.0);
        let p99 = h.quantile(0.99).unwrap();
        assert!(p99 > 100.0 && p99 <= 250.0, "{p99}");
    }

    #[test]
    fn pods_add_up_per_namespace_and_revision_over_their_own_intervals() {
        let quiet = page(&[]);
        let a = increase(
            &quiet,
            &page(&[
                served("200", [40, 0, 0, 0, 0, 0]),
                called("503", "UF,URX", 5),
            ]),
            5.0,
        )
        .unwrap();
        // Its scrape failed last round: 10 s since the one before.
        let b = increase(
            &quiet,
            &page(&[
                served("200", [0, 0, 0, 0, 60, 0]),
                served("500", [20, 0, 0, 0, 0, 0]),
            ]),
            10.0,
        )
        .unwrap();
        let idle = increase(&quiet, &quiet, 5.0).unwrap();
        let on = |namespace, revision| Place {
            namespace,
            revision,
        };
        let data = traffic([
            (on("shop", "1-24-0"), &a),
            (on("shop", "1-24-0"), &b),
            (on("shop", "1-25-0"), &idle),
        ]);
        let old = &data["shop"]["1-24-0"];
        // 40/5 + 80/10 = 16 requests/s, 2 of them 5xx; 1 mTLS failure/s.
        assert_eq!(old.requests_per_s, 16.0);
        assert_eq!(old.error_ratio, Some(2.0 / 16.0));
        assert_eq!(old.mtls_failures_per_s, 1.0);
        assert_eq!(old.sampled_pods, Some(2));
        // 60 of the 120 merged observations are in (250, 500]: p99 is there.
        let p99 = old.p99_ms.unwrap();
        assert!(p99 > 250.0 && p99 <= 500.0, "{p99}");
        // A pod that served nothing: measured, but no ratio and no latency.
        let new = &data["shop"]["1-25-0"];
        assert_eq!(new.requests_per_s, 0.0);
        assert_eq!((new.error_ratio, new.p99_ms), (None, None));
        assert_eq!(new.sampled_pods, Some(1));
    }

    #[test]
    fn a_pod_counts_from_its_second_scrape_and_forgotten_pods_start_over() {
        let mut last = LastScrapes::default();
        let first = page(&[served("200", [1000, 0, 0, 0, 0, 0])]);
        let second = page(&[served("200", [1050, 0, 0, 0, 0, 0])]);
        // Seen for the first time: its 1000 requests are its whole life, not this interval.
        assert_eq!(last.record("shop", "cart-1", 100.0, first.clone()), None);
        let inc = last
            .record("shop", "cart-1", 105.0, second.clone())
            .expect("an increase from the second scrape");
        assert_eq!((inc.seconds, inc.requests), (5.0, 50.0));
        let place = Place {
            namespace: "shop",
            revision: "1-25-0",
        };
        let data = traffic([(place, &inc)]);
        assert_eq!(data["shop"]["1-25-0"].requests_per_s, 10.0);
        assert_eq!(data["shop"]["1-25-0"].error_ratio, Some(0.0));
        // Another pod of the same name elsewhere is another pod.
        assert_eq!(last.record("other", "cart-1", 105.0, first), None);
        // Dropped from the sample, then sampled again: it starts over; the one kept does not.
        last.retain(|ns, _| ns != "shop");
        assert_eq!(last.record("shop", "cart-1", 110.0, second.clone()), None);
        let kept = last.record("other", "cart-1", 110.0, second).unwrap();
        assert_eq!(kept.requests, 50.0);
    }

    /// The increase as it is computed from two whole pages, without snapshots: the increase of
    /// every request series, and the duration histograms of both pages put together.
    fn whole_page_increase(before: &Scrape, after: &Scrape, seconds: f64) -> Option<PodIncrease> {
        if seconds.is_nan() || seconds <= 0.0 {
            return None;
        }
        let is = |labels: &Labels, key: &str, value: &str| {
            labels.get(key).map(String::as_str) == Some(value)
        };
        let mut inc = PodIncrease {
            seconds,
            requests: 0.0,
            errors: 0.0,
            duration: None,
            mtls_failures: 0.0,
            cross_cluster: BTreeMap::new(),
        };
        for (labels, n) in
            counter_increases(&before.samples, &after.samples, "istio_requests_total")
        {
            if is(&labels, "reporter", "destination") {
                inc.requests += n;
                let code = labels.get("response_code");
                if code.is_some_and(|c| c.len() == 3 && c.starts_with('5')) {
                    inc.errors += n;
                }
            } else if is(&labels, "reporter", "source") && is(&labels, "response_flags", "UF,URX") {
                inc.mtls_failures += n;
            }
        }
        let family = "istio_request_duration_milliseconds";
        let earlier = before.histograms(family);
        for (labels, now) in after.histograms(family) {
            if !is(&labels, "reporter", "destination") {
                continue;
            }
            let grown = match earlier.get(&labels) {
                Some(then) => now.increase_since(then),
                None => now,
            };
            match &mut inc.duration {
                Some(total) => total.merge(&grown),
                None => inc.duration = Some(grown),
            }
        }
        Some(inc)
    }

    /// A page of a few series drawn from a small pool, so that pages share, repeat, gain and
    /// lose series.
    fn random_series(rng: &mut SmallRng) -> Vec<Series> {
        (0..rng.random_range(0..7))
            .map(|_| Series {
                reporter: ["destination", "source"][rng.random_range(0..2)],
                code: ["200", "404", "500", "503"][rng.random_range(0..4)],
                flags: ["-", "UF,URX"][rng.random_range(0..2)],
                durations: std::array::from_fn(|_| rng.random_range(0..40)),
            })
            .collect()
    }

    /// The next page of the same pod: most series grew, some restarted from zero, some are
    /// new, some went away.
    fn next_page(rng: &mut SmallRng, before: &[Series]) -> Vec<Series> {
        let mut after = Vec::new();
        for s in before {
            if rng.random_range(0..8) == 0 {
                continue;
            }
            let restarted = rng.random_range(0..6) == 0;
            let durations = std::array::from_fn(|i| {
                let more = rng.random_range(0..20);
                if restarted {
                    more
                } else {
                    s.durations[i] + more
                }
            });
            after.push(Series { durations, ..*s });
        }
        after.extend(random_series(rng).into_iter().take(2));
        after
    }

    #[test]
    fn snapshots_give_what_whole_pages_give() {
        let mut rng = SmallRng::seed_from_u64(7);
        for round in 0..500 {
            let before = random_series(&mut rng);
            let after = next_page(&mut rng, &before);
            let seconds = [5.0, 10.0, 0.0, -1.0, f64::NAN][round % 5];
            let (before, after) = (page_text(&before), page_text(&after));
            let read = |text: &str| SidecarSnapshot::read(text).unwrap();
            let whole = |text: &str| parse(text).unwrap();
            // Debug output tells NaN from NaN as equal and 0 from -0 as different.
            assert_eq!(
                format!("{:?}", increase(&read(&before), &read(&after), seconds)),
                format!(
                    "{:?}",
                    whole_page_increase(&whole(&before), &whole(&after), seconds)
                ),
                "round {round}"
            );
        }
    }
}
