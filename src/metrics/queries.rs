//! The PromQL the cockpit asks a Prometheus every round, and how the decoded answers become
//! one `Reading`.
//!
//! Every series is keyed by the target labels Prometheus' pod relabelling adds: `istio_io_rev`
//! (istiod's `istio.io/rev` pod label, or the injector's `istio.io/rev` annotation on a
//! sidecar) and, for the data plane, `namespace` (of the pod that reported).
//!
//! No answer never turns into a healthy number:
//! - a query that fails leaves its numbers unknown (`None`; `NaN` for the two counters the
//!   `Reading` holds as plain numbers, rejects/s and mTLS failures/s) and says why in `errors`;
//! - an empty answer is zero only where the query that matched nothing is a subset of one that
//!   did answer for the same key: no 5xx series where requests were counted means 0 5xx/s, no
//!   mTLS failure series means none. Without requests there is no error ratio and no p99.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};

use super::Labels;
use super::control_plane::Rates;
use super::promql::{QueryError, QueryResult};
use super::reading::{Reading, Traffic};

/// What a round says when no istiod series could be placed under a revision.
pub const NO_ISTIOD: &str = "control plane: this Prometheus has no istiod series with an \
     istio_io_rev label (does it scrape istiod on :15014 and copy the pods' istio.io/rev label?)";

/// The range every rate and quantile is taken over: at least four scrapes at Istio's usual
/// 15 s interval, short enough to show a change within a minute.
pub const WINDOW: &str = "1m";

/// What the cockpit asks, one query each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Query {
    Pushes,
    Rejects,
    Convergence,
    Proxies,
    Requests,
    ServerErrors,
    Latency,
    MtlsFailures,
    Cpu,
    Memory,
}

/// Inbound requests, as the serving pod's proxy counts them.
pub(crate) const INBOUND: &str = r#"reporter="destination""#;
pub(crate) const SERVER_ERROR: &str = r#"response_code=~"5..""#;
pub(crate) const ISTIOD_APP: &str = r#"app="istiod""#;

/// Calls a pod's proxy could not connect for: Envoy's `UF` (upstream connection failure),
/// alone or with `URX` once retries ran out, answered locally with a 503. A failed mTLS
/// handshake (a peer that does not trust the caller's certificate, or the reverse) shows
/// exactly so; Envoy cannot tell it from an upstream that refuses connections, which during an
/// upgrade is just as worth seeing. `=~` is anchored, so `UF,URX` and `UF` match and flags
/// that merely contain the letters do not.
pub(crate) const CONNECT_FAILURES: &str =
    r#"reporter="source",response_code="503",response_flags=~"UF|UF,URX""#;

impl Query {
    pub const ALL: [Query; 10] = [
        Query::Pushes,
        Query::Rejects,
        Query::Convergence,
        Query::Proxies,
        Query::Requests,
        Query::ServerErrors,
        Query::Latency,
        Query::MtlsFailures,
        Query::Cpu,
        Query::Memory,
    ];

    /// What the numbers are, as an error message names them.
    pub fn purpose(self) -> &'static str {
        match self {
            Query::Pushes => "control plane pushes",
            Query::Rejects => "control plane rejects",
            Query::Convergence => "control plane convergence p99",
            Query::Proxies => "control plane proxies",
            Query::Requests => "data plane requests",
            Query::ServerErrors => "data plane 5xx",
            Query::Latency => "data plane p99",
            Query::MtlsFailures => "data plane mTLS failures",
            Query::Cpu => "istiod CPU",
            Query::Memory => "istiod memory",
        }
    }

    pub fn promql(self) -> String {
        self.promql_in(None)
    }

    /// The query, every selector also given `cluster_matcher` (`cluster="<name>"`) when the
    /// Prometheus holds several clusters.
    pub fn promql_in(self, cluster_matcher: Option<&str>) -> String {
        let w = WINDOW;
        let s = |inner: &str| selector(inner, cluster_matcher);
        match self {
            Query::Pushes => format!(
                "sum by (istio_io_rev, type) (rate(pilot_xds_pushes{}[{w}]))",
                s("")
            ),
            // istiod writes its reject counter only once it is non-zero: every revision whose
            // istiod is scraped (its always-present build info) reads 0 without one.
            Query::Rejects => format!(
                "sum by (istio_io_rev) (rate(pilot_total_xds_rejects{}[{w}])) \
                 or (sum by (istio_io_rev) (istio_build{}) * 0)",
                s(""),
                s("component=\"pilot\"")
            ),
            Query::Convergence => format!(
                "histogram_quantile(0.99, sum by (istio_io_rev, le) \
                 (rate(pilot_proxy_convergence_time_bucket{}[{w}])))",
                s("")
            ),
            Query::Proxies => format!("sum by (istio_io_rev, version) (pilot_xds{})", s("")),
            Query::Requests => format!(
                "sum by (namespace, istio_io_rev) (rate(istio_requests_total{}[{w}]))",
                s(INBOUND)
            ),
            Query::ServerErrors => format!(
                "sum by (namespace, istio_io_rev) \
                 (rate(istio_requests_total{}[{w}]))",
                s(&format!("{INBOUND},{SERVER_ERROR}"))
            ),
            Query::Latency => format!(
                "histogram_quantile(0.99, sum by (namespace, istio_io_rev, le) \
                 (rate(istio_request_duration_milliseconds_bucket{}[{w}])))",
                s(INBOUND)
            ),
            Query::MtlsFailures => format!(
                "sum by (namespace, istio_io_rev) \
                 (rate(istio_requests_total{}[{w}]))",
                s(CONNECT_FAILURES)
            ),
            Query::Cpu => format!(
                "sum by (istio_io_rev) (rate(process_cpu_seconds_total{}[{w}]))",
                s(ISTIOD_APP)
            ),
            Query::Memory => format!(
                "sum by (istio_io_rev) (process_resident_memory_bytes{})",
                s(ISTIOD_APP)
            ),
        }
    }
}

/// `{matchers}`, with the cluster's matcher added when there is one; nothing when both are
/// empty.
pub(crate) fn selector(matchers: &str, cluster_matcher: Option<&str>) -> String {
    let all: Vec<&str> = [Some(matchers), cluster_matcher]
        .into_iter()
        .flatten()
        .filter(|m| !m.is_empty())
        .collect();
    if all.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", all.join(","))
    }
}

/// Why a query has no result.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No Prometheus answer came back: connection refused, timeout, an error page.
    Fetch(String),
    /// Prometheus answered, with an error or with no series.
    Query(QueryError),
}

impl From<QueryError> for Failure {
    fn from(e: QueryError) -> Failure {
        Failure::Query(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Fetch(why) => f.write_str(why),
            Failure::Query(e) => e.fmt(f),
        }
    }
}

pub type Answer = Result<QueryResult, Failure>;

/// One round's answers turned into a `Reading`. A query missing from `answers` counts as not
/// asked, like a failed one. When no query got any answer, the one error says the source is
/// not answering.
pub fn reading(mut answers: BTreeMap<Query, Answer>, source: String, at: DateTime<Utc>) -> Reading {
    const REV: &str = "istio_io_rev";
    let unreachable = Query::ALL
        .iter()
        .map(|q| answers.get(q))
        .all(|a| matches!(a, None | Some(Err(Failure::Fetch(_)))));
    if unreachable {
        let why = Query::ALL
            .iter()
            .find_map(|q| match answers.get(q) {
                Some(Err(Failure::Fetch(why))) => Some(why.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "nothing was asked".into());
        // The source's name, without how its revisions are mapped.
        let name = source.split(" · ").next().unwrap_or(&source);
        return Reading {
            at,
            errors: vec![format!("no usable answer from {name}: {why}")],
            source,
            control_plane: BTreeMap::new(),
            data_plane: BTreeMap::new(),
            cross_cluster: None,
        };
    }
    let mut errors = Vec::new();
    let mut take = |q: Query, keys: &[&str]| {
        let answer = answers
            .remove(&q)
            .unwrap_or_else(|| Err(Failure::Fetch("not asked".into())));
        rows(q, answer, keys, &mut errors)
    };
    let pushes = take(Query::Pushes, &[REV, "type"]);
    let rejects = take(Query::Rejects, &[REV]);
    let convergence = take(Query::Convergence, &[REV]);
    let proxies = take(Query::Proxies, &[REV, "version"]);
    let requests = take(Query::Requests, &["namespace", REV]);
    let server_errors = take(Query::ServerErrors, &["namespace", REV]);
    let latency = take(Query::Latency, &["namespace", REV]);
    let mtls = take(Query::MtlsFailures, &["namespace", REV]);
    // Process figures are extras: where a Prometheus lacks them they stay unknown, unreported.
    let mut extra = |q: Query| {
        let answer = answers
            .remove(&q)
            .unwrap_or_else(|| Err(Failure::Fetch("not asked".into())));
        rows(q, answer, &[REV], &mut Vec::new())
    };
    let (cpu, memory) = (extra(Query::Cpu), extra(Query::Memory));
    let mut control_plane = control_plane(pushes, rejects, convergence, proxies);
    let cpu = cpu.as_deref().map(by_first).unwrap_or_default();
    let memory = memory.as_deref().map(by_first).unwrap_or_default();
    for (rev, rates) in &mut control_plane {
        rates.cpu_cores = cpu.get(rev.as_str()).copied();
        rates.memory_bytes = memory.get(rev.as_str()).copied();
    }
    let data_plane = data_plane(requests, server_errors, latency, mtls);
    if control_plane.is_empty() && errors.is_empty() {
        errors.push(NO_ISTIOD.to_string());
    }
    Reading {
        at,
        source,
        control_plane,
        data_plane,
        cross_cluster: None,
        errors,
    }
}

/// A series' key (the values of the labels asked for) and its value.
type Row = (Vec<String>, f64);

/// The rows of an instant vector, or None when the query has no usable answer (the reason
/// goes to `errors`). An empty answer is no rows. The first key label is required: series
/// without it cannot be placed and are reported; the others default to `unknown`.
fn rows(q: Query, answer: Answer, keys: &[&str], errors: &mut Vec<String>) -> Option<Vec<Row>> {
    let series = match answer {
        Ok(QueryResult::Vector(series)) => series,
        Ok(QueryResult::Matrix(_)) => {
            errors.push(format!(
                "{}: expected an instant vector, got a range vector",
                q.purpose()
            ));
            return None;
        }
        Ok(QueryResult::Scalar(..)) => {
            errors.push(format!(
                "{}: expected an instant vector, got a scalar",
                q.purpose()
            ));
            return None;
        }
        Err(Failure::Query(QueryError::Empty(_))) => return Some(Vec::new()),
        Err(e) => {
            errors.push(format!("{}: {e}", q.purpose()));
            return None;
        }
    };
    let mut unplaced = 0;
    let mut out = Vec::with_capacity(series.len());
    for (labels, _, value) in series {
        match key(&labels, keys) {
            Some(k) => out.push((k, value)),
            None => unplaced += 1,
        }
    }
    if unplaced > 0 {
        errors.push(format!(
            "{}: {unplaced} series without the labels {} (Prometheus' pod relabelling must \
             add namespace and istio_io_rev)",
            q.purpose(),
            keys.join(", ")
        ));
    }
    Some(out)
}

/// Only the label that names the revision is required to be there; `namespace` too for the
/// data plane. Grouping labels that a series lacks (`type`, `version`) read `unknown`.
fn key(labels: &Labels, keys: &[&str]) -> Option<Vec<String>> {
    keys.iter()
        .map(|k| match labels.get(*k).filter(|v| !v.is_empty()) {
            Some(v) => Some(v.clone()),
            None if matches!(*k, "namespace" | "istio_io_rev") => None,
            None => Some("unknown".to_string()),
        })
        .collect()
}

fn by_first(rows: &[Row]) -> BTreeMap<&str, f64> {
    rows.iter().map(|(k, v)| (k[0].as_str(), *v)).collect()
}

fn control_plane(
    pushes: Option<Vec<Row>>,
    rejects: Option<Vec<Row>>,
    convergence: Option<Vec<Row>>,
    proxies: Option<Vec<Row>>,
) -> BTreeMap<String, Rates> {
    // The rejects answer lists every revision whose istiod is scraped now. Rates over the
    // window still show an istiod removed less than a minute ago; that one is left out.
    let revisions: BTreeSet<String> = match &rejects {
        Some(rows) => rows.iter().map(|(k, _)| k[0].clone()).collect(),
        None => [&pushes, &convergence, &proxies]
            .into_iter()
            .flatten()
            .flatten()
            .map(|(k, _)| k[0].clone())
            .collect(),
    };
    let rejects = rejects.as_deref().map(by_first);
    let convergence = convergence.as_deref().map(by_first);
    let grouped = |rows: &Option<Vec<Row>>, rev: &str| -> BTreeMap<String, f64> {
        rows.iter()
            .flatten()
            .filter(|(k, _)| k[0] == rev)
            .map(|(k, v)| (k[1].clone(), *v))
            .collect()
    };
    revisions
        .into_iter()
        .map(|rev| {
            let rates = Rates {
                pushes_per_s: grouped(&pushes, &rev),
                rejects_per_s: rejects.as_ref().map_or(f64::NAN, |r| {
                    r.get(rev.as_str()).copied().unwrap_or(f64::NAN)
                }),
                convergence_p99: convergence
                    .as_ref()
                    .and_then(|c| c.get(rev.as_str()).copied())
                    .filter(|v| !v.is_nan()),
                proxies: grouped(&proxies, &rev),
                cpu_cores: None,
                memory_bytes: None,
            };
            (rev, rates)
        })
        .collect()
}

type NsRev = (String, String);

fn by_ns_rev(rows: &[Row]) -> BTreeMap<NsRev, f64> {
    rows.iter()
        .map(|(k, v)| ((k[0].clone(), k[1].clone()), *v))
        .collect()
}

fn data_plane(
    requests: Option<Vec<Row>>,
    server_errors: Option<Vec<Row>>,
    latency: Option<Vec<Row>>,
    mtls: Option<Vec<Row>>,
) -> BTreeMap<String, BTreeMap<String, Traffic>> {
    // Without the request rates there is nothing to put a ratio or a latency against.
    let Some(requests) = requests.as_deref().map(by_ns_rev) else {
        return BTreeMap::new();
    };
    let server_errors = server_errors.as_deref().map(by_ns_rev);
    let latency = latency.as_deref().map(by_ns_rev);
    let mtls = mtls.as_deref().map(by_ns_rev);
    let keys: BTreeSet<&NsRev> = requests
        .keys()
        .chain(mtls.iter().flat_map(|m| m.keys()))
        .collect();
    let mut out: BTreeMap<String, BTreeMap<String, Traffic>> = BTreeMap::new();
    for key in keys {
        // Both queries answered, so a pod pair missing from one of them had none of it.
        let requests_per_s = requests.get(key).copied().unwrap_or(0.0);
        let error_ratio = match &server_errors {
            Some(e) if requests_per_s > 0.0 => {
                Some((e.get(key).copied().unwrap_or(0.0) / requests_per_s).clamp(0.0, 1.0))
            }
            _ => None,
        };
        let p99_ms = latency
            .as_ref()
            .and_then(|l| l.get(key).copied())
            .filter(|v| !v.is_nan() && requests_per_s > 0.0);
        let mtls_failures_per_s = mtls
            .as_ref()
            .map_or(f64::NAN, |m| m.get(key).copied().unwrap_or(0.0));
        out.entry(key.0.clone()).or_default().insert(
            key.1.clone(),
            Traffic {
                requests_per_s,
                error_ratio,
                p99_ms,
                mtls_failures_per_s,
                sampled_pods: None,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests;
