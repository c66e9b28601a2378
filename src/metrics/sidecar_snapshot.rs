//! What a scrape of a sidecar's page leaves for the next round: only the series that
//! `data_plane::pod_increase` reads, copied out of the page as it is read (the rest is checked
//! and dropped where it lies), with the duration histograms already put together.
//!
//! Inbound requests are the series the pod reports as `reporter="destination"` (it served
//! them); mTLS failures are its outbound calls (`reporter="source"`) that ended `503` with
//! `response_flags="UF,URX"`: the connection to the peer failed before any response.
//! Outbound series between two clusters are kept too, for `cross_cluster`.

use std::collections::BTreeMap;

use super::Labels;
use super::cross_cluster::route;
use super::exposition::{self, ParseError};
use super::histogram_series::HistogramSeries;
use super::maths::Histogram;

const REQUESTS: &str = "istio_requests_total";
const DURATION: &str = "istio_request_duration_milliseconds";
const MTLS_FLAGS: &str = "UF,URX";

/// What a request counter series counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    /// Requests the pod served; `error` when they were answered with a 5xx.
    Served { error: bool },
    /// Outbound calls of the pod that failed before any response.
    MtlsFailure,
}

fn label_is(labels: &Labels, key: &str, value: &str) -> bool {
    labels.get(key).is_some_and(|v| v == value)
}

pub(crate) fn is_5xx(labels: &Labels) -> bool {
    labels
        .get("response_code")
        .is_some_and(|c| c.len() == 3 && c.starts_with('5'))
}

fn is_served(labels: &Labels) -> bool {
    label_is(labels, "reporter", "destination")
}

/// What a request counter series with these labels counts toward, if anything.
pub(crate) fn counted(labels: &Labels) -> Option<Counted> {
    if is_served(labels) {
        Some(Counted::Served {
            error: is_5xx(labels),
        })
    } else if label_is(labels, "reporter", "source")
        && label_is(labels, "response_flags", MTLS_FLAGS)
    {
        Some(Counted::MtlsFailure)
    } else {
        None
    }
}

/// One scrape of a sidecar's page, reduced to what the increase since it needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SidecarSnapshot {
    /// The request counter series that count toward something (`counted`, or a cross-cluster
    /// `route`), in page order.
    requests: Vec<(Labels, f64)>,
    /// The duration histograms of the requests the pod served, by labels without `le`.
    durations: BTreeMap<Labels, Histogram>,
}

impl SidecarSnapshot {
    /// Reads a sidecar's page, copying only the series kept: the rest is checked as `parse`
    /// checks it, and dropped where it lies.
    pub fn read(page: &str) -> Result<SidecarSnapshot, ParseError> {
        let mut requests = Vec::new();
        let mut durations = HistogramSeries::default();
        exposition::visit(page, |sample| {
            if sample.name == REQUESTS {
                let labels = sample.owned_labels();
                if counted(&labels).is_some() || route(&labels).is_some() {
                    requests.push((labels, sample.value));
                }
            } else if let Some(suffix) = sample.name.strip_prefix(DURATION)
                && sample.label("reporter") == Some("destination")
            {
                durations.add_in_place(suffix, &sample);
            }
        })?;
        Ok(SidecarSnapshot {
            requests,
            durations: durations.finish(),
        })
    }

    /// The request counter series kept, as `(labels, value)`.
    pub(crate) fn requests(&self) -> impl Iterator<Item = (&Labels, f64)> {
        self.requests.iter().map(|(labels, value)| (labels, *value))
    }

    /// The duration histograms of the requests the pod served, by labels without `le`.
    pub(crate) fn durations(&self) -> &BTreeMap<Labels, Histogram> {
        &self.durations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::parse;
    use crate::metrics::labels;

    #[test]
    fn a_page_read_in_place_is_refused_as_a_parsed_one_is() {
        for page in [
            "# TYPE istio_requests_total counter\nistio_requests_total{a=\"1\",a=\"2\"} 1\n",
            "istio_build 1\nistio_request_duration_milliseconds_bucket{reporter=\"destination\"",
            "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
        ] {
            let parsed = parse(page).expect_err(page);
            assert_eq!(SidecarSnapshot::read(page), Err(parsed), "{page:?}");
        }
    }

    #[test]
    fn only_served_requests_mtls_failures_and_served_durations_are_kept() {
        let page = concat!(
            "# TYPE istio_requests_total counter\n",
            "istio_requests_total{reporter=\"destination\",response_code=\"200\"} 10\n",
            "istio_requests_total{reporter=\"destination\",response_code=\"503\"} 2\n",
            "istio_requests_total{reporter=\"source\",response_code=\"200\",response_flags=\"-\"} 7\n",
            "istio_requests_total{reporter=\"source\",response_code=\"503\",response_flags=\"UF,URX\"} 1\n",
            "# TYPE istio_request_duration_milliseconds histogram\n",
            "istio_request_duration_milliseconds_bucket{reporter=\"destination\",le=\"10\"} 9\n",
            "istio_request_duration_milliseconds_bucket{reporter=\"destination\",le=\"+Inf\"} 12\n",
            "istio_request_duration_milliseconds_sum{reporter=\"destination\"} 80\n",
            "istio_request_duration_milliseconds_count{reporter=\"destination\"} 12\n",
            "istio_request_duration_milliseconds_bucket{reporter=\"source\",le=\"+Inf\"} 8\n",
            "istio_request_duration_milliseconds_count{reporter=\"source\"} 8\n",
            "istio_build{component=\"proxy\"} 1\n",
        );
        let snapshot = SidecarSnapshot::read(page).unwrap();
        let kept: Vec<(Option<Counted>, f64)> = snapshot
            .requests()
            .map(|(labels, value)| (counted(labels), value))
            .collect();
        assert_eq!(
            kept,
            vec![
                (Some(Counted::Served { error: false }), 10.0),
                (Some(Counted::Served { error: true }), 2.0),
                (Some(Counted::MtlsFailure), 1.0),
            ]
        );
        let served = labels(&[("reporter", "destination")]);
        assert_eq!(snapshot.durations().len(), 1);
        let h = &snapshot.durations()[&served];
        assert_eq!(h.buckets, vec![(10.0, 9.0), (f64::INFINITY, 12.0)]);
        assert_eq!((h.sum, h.count), (80.0, 12.0));
    }

    #[test]
    fn a_reporter_or_flag_that_is_not_exact_counts_toward_nothing() {
        for pairs in [
            vec![("response_code", "200")],
            vec![("reporter", "Destination"), ("response_code", "200")],
            vec![("reporter", "source"), ("response_flags", "UF")],
            vec![("reporter", "source"), ("response_flags", "UF,URX,")],
        ] {
            assert_eq!(counted(&labels(&pairs)), None, "{pairs:?}");
        }
        let served = |code| {
            counted(&labels(&[
                ("reporter", "destination"),
                ("response_code", code),
            ]))
        };
        assert_eq!(served("5xx"), Some(Counted::Served { error: true }));
        assert_eq!(served("50"), Some(Counted::Served { error: false }));
        assert_eq!(served("404"), Some(Counted::Served { error: false }));
    }
}
