//! Requests a cluster's sidecars send to services in other clusters (through the east-west
//! gateway): their rate and 5xx share, per route (source cluster -> destination cluster) and in
//! all, from a Prometheus or from a sample of sidecars' pages.
//!
//! Istio labels each request series with `source_cluster` and `destination_cluster`; the
//! calling proxy reports it as `reporter="source"`. A series is cross-cluster when both labels
//! name a cluster and they differ. `unknown` names no cluster (a request that found no
//! upstream), so it never makes a route. Pages or answers without such series tell nothing
//! about cross-cluster traffic: the result is `None`, never a zero.

use std::collections::BTreeMap;
use std::fmt;

use super::Labels;
use super::promql::{QueryError, QueryResult};
use super::queries::{Answer, Failure, WINDOW};

/// Requests from one cluster to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    pub source: String,
    pub destination: String,
}

impl fmt::Display for Route {
    /// `remote-1 -> primary`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.source, self.destination)
    }
}

/// Cross-cluster requests over the last interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrossTraffic {
    pub requests_per_s: f64,
    /// Share of 5xx responses; None without requests, or when the 5xx could not be counted.
    pub error_ratio: Option<f64>,
}

/// A cluster's cross-cluster requests: all of them, and by route.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrossCluster {
    pub requests_per_s: f64,
    pub error_ratio: Option<f64>,
    pub routes: BTreeMap<Route, CrossTraffic>,
}

/// The route of a request series, when it is an outbound series between two named clusters.
pub fn route(labels: &Labels) -> Option<Route> {
    if labels.get("reporter").map(String::as_str) != Some("source") {
        return None;
    }
    let named = |key: &str| {
        labels
            .get(key)
            .filter(|v| !v.is_empty() && v.as_str() != "unknown")
    };
    let (source, destination) = (named("source_cluster")?, named("destination_cluster")?);
    (source != destination).then(|| Route {
        source: source.clone(),
        destination: destination.clone(),
    })
}

/// Requests and, of those, 5xx: per second (Prometheus) or counted between two scrapes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub requests: f64,
    /// NaN when the 5xx could not be counted.
    pub errors: f64,
}

/// Rates per route into the totals and ratios; None without any route.
pub fn from_rates(rates: BTreeMap<Route, Counts>) -> Option<CrossCluster> {
    if rates.is_empty() {
        return None;
    }
    let ratio =
        |c: &Counts| (c.requests > 0.0 && !c.errors.is_nan()).then(|| c.errors / c.requests);
    let mut total = Counts::default();
    let routes = rates
        .into_iter()
        .map(|(route, c)| {
            total.requests += c.requests;
            total.errors += c.errors;
            let traffic = CrossTraffic {
                requests_per_s: c.requests,
                error_ratio: ratio(&c),
            };
            (route, traffic)
        })
        .collect();
    Some(CrossCluster {
        requests_per_s: total.requests,
        error_ratio: ratio(&total),
        routes,
    })
}

/// What each sampled pod counted per route over its own interval (`seconds`), added up as
/// rates; None when no sampled page had a cross-cluster series.
pub fn from_pods<'a>(
    pods: impl IntoIterator<Item = (f64, &'a BTreeMap<Route, Counts>)>,
) -> Option<CrossCluster> {
    let mut rates: BTreeMap<Route, Counts> = BTreeMap::new();
    for (seconds, routes) in pods {
        for (route, c) in routes {
            let sum = rates.entry(route.clone()).or_default();
            sum.requests += c.requests / seconds;
            sum.errors += c.errors / seconds;
        }
    }
    from_rates(rates)
}

const SELECTOR: &str = r#"reporter="source",source_cluster!="",destination_cluster!="""#;

/// Outbound requests per second by cluster pair, same-cluster pairs included (PromQL cannot
/// compare two labels; `route` drops them).
pub fn requests_promql() -> String {
    format!(
        "sum by (source_cluster, destination_cluster) \
         (rate(istio_requests_total{{{SELECTOR}}}[{WINDOW}]))"
    )
}

/// The 5xx of those, per second.
pub fn errors_promql() -> String {
    format!(
        "sum by (source_cluster, destination_cluster) \
         (rate(istio_requests_total{{{SELECTOR},response_code=~\"5..\"}}[{WINDOW}]))"
    )
}

/// The series of an answer by route; None when it is not a usable answer (an empty one is
/// no series).
fn by_route(answer: Answer) -> Option<BTreeMap<Route, f64>> {
    let series = match answer {
        Ok(QueryResult::Vector(series)) => series,
        Err(Failure::Query(QueryError::Empty(_))) => Vec::new(),
        _ => return None,
    };
    let mut out = BTreeMap::new();
    for (mut labels, _, value) in series {
        // Grouped answers drop `reporter`; the selector asked for it.
        labels.insert("reporter".into(), "source".into());
        if let Some(route) = route(&labels) {
            *out.entry(route).or_insert(0.0) += value;
        }
    }
    Some(out)
}

/// The answers to `requests_promql` and `errors_promql`. Without a usable requests answer, or
/// without cross-cluster series in it, nothing is known (None). Without a usable 5xx answer the
/// ratios are unknown; an empty one means no 5xx.
pub fn from_prometheus(requests: Answer, errors: Answer) -> Option<CrossCluster> {
    let requests = by_route(requests)?;
    let errors = by_route(errors);
    let rates = requests
        .into_iter()
        .map(|(route, requests)| {
            let errors = match &errors {
                Some(e) => e.get(&route).copied().unwrap_or(0.0),
                None => f64::NAN,
            };
            (route, Counts { requests, errors })
        })
        .collect();
    from_rates(rates)
}

#[cfg(test)]
mod tests;
