//! The round's queries for whatever `label_mapping::Layout` a Prometheus has, and, where the
//! series name their pod but not their revision, how their answers become the answers the
//! revision label would have given (so `queries::reading` turns them into the same `Reading`).
//!
//! Sidecars, without the revision label: everything is asked by namespace, and a namespace
//! whose sidecars are all of one revision gives its whole traffic to it. Only the namespaces
//! that have sidecars of two revisions at once are asked by pod, and their pods' numbers are
//! summed per revision here; their p99 comes from the summed buckets. istiod is asked by pod
//! (a few pods), its revision from the pod watch.

use std::collections::BTreeMap;

use super::label_mapping::{Layout, PodLabels, REVISION_LABEL, Revisions, cluster_matcher};
use super::maths::bucket_quantile;
use super::parse_float;
use super::promql::{QueryError, QueryResult, ResultType};
use super::queries::{
    Answer, CONNECT_FAILURES, INBOUND, ISTIOD_APP, Query, SERVER_ERROR, WINDOW, selector,
};
use super::{Labels, queries};

/// At most this many namespaces of two revisions are asked by pod in a round: each costs
/// about 20 bucket series per pod in the latency answer.
pub const MAX_MIXED_NAMESPACES: usize = 32;

/// What the pod watch says of revisions, for a Prometheus whose series lack the label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRevisions {
    /// Namespaces whose sidecars all run one revision: that revision.
    pub namespaces: BTreeMap<String, String>,
    /// Namespaces with sidecars of two revisions or more: each such pod's revision.
    pub mixed: BTreeMap<String, BTreeMap<String, String>>,
    /// istiod pods, by (namespace, pod): the revision each serves.
    pub istiod: BTreeMap<(String, String), String>,
}

/// One query of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ask {
    /// Asked as `Query::promql_in` says: the family carries the revision label.
    Labelled(Query),
    /// A data-plane query by namespace.
    ByNamespace(Query),
    /// A data-plane query by pod, in the namespaces of two revisions.
    ByPod(Query),
    /// A control-plane query by istiod pod.
    ByIstiod(Query),
}

const SIDECAR_QUERIES: [Query; 4] = [
    Query::Requests,
    Query::ServerErrors,
    Query::Latency,
    Query::MtlsFailures,
];

fn is_sidecar(q: Query) -> bool {
    SIDECAR_QUERIES.contains(&q)
}

/// The namespaces asked by pod this round, and how many more were left out.
fn mixed_asked(pods: &PodRevisions) -> (Vec<&str>, usize) {
    let asked: Vec<&str> = pods
        .mixed
        .keys()
        .take(MAX_MIXED_NAMESPACES)
        .map(String::as_str)
        .collect();
    let left = pods.mixed.len() - asked.len();
    (asked, left)
}

/// Every query of a round, with its PromQL.
pub fn plan(layout: &Layout, pods: &PodRevisions) -> Vec<(Ask, String)> {
    let cluster = layout.cluster.as_deref().map(cluster_matcher);
    let cluster = cluster.as_deref();
    let mut out = Vec::new();
    for q in Query::ALL {
        let revisions = if is_sidecar(q) {
            layout.sidecars
        } else {
            layout.istiod
        };
        match revisions {
            Revisions::Label => out.push((Ask::Labelled(q), q.promql_in(cluster))),
            Revisions::Pods(labels) if is_sidecar(q) => {
                out.push((Ask::ByNamespace(q), by_namespace(q, labels, cluster)));
                let (mixed, _) = mixed_asked(pods);
                if !mixed.is_empty() {
                    out.push((Ask::ByPod(q), by_pod(q, labels, cluster, &mixed)));
                }
            }
            Revisions::Pods(labels) => out.push((Ask::ByIstiod(q), by_istiod(q, labels, cluster))),
        }
    }
    out
}

fn sidecar_matchers(q: Query) -> String {
    match q {
        Query::ServerErrors => format!("{INBOUND},{SERVER_ERROR}"),
        Query::MtlsFailures => CONNECT_FAILURES.to_string(),
        _ => INBOUND.to_string(),
    }
}

fn sidecar_metric(q: Query) -> &'static str {
    match q {
        Query::Latency => "istio_request_duration_milliseconds_bucket",
        _ => "istio_requests_total",
    }
}

fn by_namespace(q: Query, l: PodLabels, cluster: Option<&str>) -> String {
    let (w, ns) = (WINDOW, l.namespace);
    let s = selector(&sidecar_matchers(q), cluster);
    let metric = sidecar_metric(q);
    match q {
        Query::Latency => {
            format!("histogram_quantile(0.99, sum by ({ns}, le) (rate({metric}{s}[{w}])))")
        }
        _ => format!("sum by ({ns}) (rate({metric}{s}[{w}]))"),
    }
}

fn by_pod(q: Query, l: PodLabels, cluster: Option<&str>, mixed: &[&str]) -> String {
    let (w, ns, pod) = (WINDOW, l.namespace, l.pod);
    let within = format!("{ns}=~\"{}\"", mixed.join("|"));
    let s = selector(&format!("{},{within}", sidecar_matchers(q)), cluster);
    let metric = sidecar_metric(q);
    let le = if q == Query::Latency { ", le" } else { "" };
    format!("sum by ({ns}, {pod}{le}) (rate({metric}{s}[{w}]))")
}

fn by_istiod(q: Query, l: PodLabels, cluster: Option<&str>) -> String {
    let (w, by) = (WINDOW, format!("{}, {}", l.namespace, l.pod));
    let s = |inner: &str| selector(inner, cluster);
    match q {
        Query::Pushes => format!("sum by ({by}, type) (rate(pilot_xds_pushes{}[{w}]))", s("")),
        Query::Rejects => format!(
            "sum by ({by}) (rate(pilot_total_xds_rejects{}[{w}])) \
             or (sum by ({by}) (istio_build{}) * 0)",
            s(""),
            s("component=\"pilot\"")
        ),
        Query::Convergence => format!(
            "sum by ({by}, le) (rate(pilot_proxy_convergence_time_bucket{}[{w}]))",
            s("")
        ),
        Query::Proxies => format!("sum by ({by}, version) (pilot_xds{})", s("")),
        Query::Cpu => format!(
            "sum by ({by}) (rate(process_cpu_seconds_total{}[{w}]))",
            s(ISTIOD_APP)
        ),
        _ => format!(
            "sum by ({by}) (process_resident_memory_bytes{})",
            s(ISTIOD_APP)
        ),
    }
}

/// The round's answers as `queries::reading` takes them, keyed by revision, and what could
/// not be asked (namespaces of two revisions beyond `MAX_MIXED_NAMESPACES`).
pub fn answers(
    layout: &Layout,
    pods: &PodRevisions,
    mut got: BTreeMap<Ask, Answer>,
) -> (BTreeMap<Query, Answer>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut notes = Vec::new();
    for q in Query::ALL {
        let mut take = |a: Ask| got.remove(&a);
        let answer = if let Some(a) = take(Ask::Labelled(q)) {
            a
        } else if let Some(a) = take(Ask::ByIstiod(q)) {
            let Revisions::Pods(l) = layout.istiod else {
                continue;
            };
            istiod_answer(q, l, pods, a)
        } else if let Some(a) = take(Ask::ByNamespace(q)) {
            let Revisions::Pods(l) = layout.sidecars else {
                continue;
            };
            sidecar_answer(q, l, pods, a, take(Ask::ByPod(q)))
        } else {
            continue;
        };
        out.insert(q, answer);
    }
    let (_, left) = mixed_asked(pods);
    if left > 0 && matches!(layout.sidecars, Revisions::Pods(_)) {
        notes.push(format!(
            "{left} namespaces with sidecars of two revisions were not asked by pod (at most \
             {MAX_MIXED_NAMESPACES} a round): their traffic is unknown"
        ));
    }
    (out, notes)
}

/// The label set the revision label would have given a series.
fn keyed(namespace: Option<&str>, revision: &str, extra: &[(&str, &str)]) -> Labels {
    let mut labels = Labels::new();
    if let Some(ns) = namespace {
        labels.insert("namespace".into(), ns.into());
    }
    labels.insert(REVISION_LABEL.into(), revision.into());
    for (k, v) in extra {
        labels.insert((*k).into(), (*v).into());
    }
    labels
}

fn sidecar_answer(
    q: Query,
    l: PodLabels,
    pods: &PodRevisions,
    by_namespace: Answer,
    by_pod: Option<Answer>,
) -> Answer {
    let whole = regroup(by_namespace, |s| {
        let ns = s.get(l.namespace)?;
        Some(keyed(Some(ns), pods.namespaces.get(ns)?, &[]))
    })?;
    let le = |s: &Labels| s.get("le").cloned().unwrap_or_default();
    let split = match by_pod {
        None => Vec::new(),
        Some(answer) => regroup(answer, |s| {
            let ns = s.get(l.namespace)?;
            let rev = pods.mixed.get(ns)?.get(s.get(l.pod)?)?;
            if q == Query::Latency {
                Some(keyed(Some(ns), rev, &[("le", &le(s))]))
            } else {
                Some(keyed(Some(ns), rev, &[]))
            }
        })?,
    };
    let split = if q == Query::Latency {
        p99_of_buckets(split)
    } else {
        split
    };
    vector(whole.into_iter().chain(split).collect())
}

fn istiod_answer(q: Query, l: PodLabels, pods: &PodRevisions, answer: Answer) -> Answer {
    let extra = match q {
        Query::Pushes => Some("type"),
        Query::Proxies => Some("version"),
        Query::Convergence => Some("le"),
        _ => None,
    };
    let series = regroup(answer, |s| {
        let key = (s.get(l.namespace)?.clone(), s.get(l.pod)?.clone());
        let rev = pods.istiod.get(&key)?;
        let extra: Vec<(&str, &str)> = extra
            .map(|k| (k, s.get(k).map_or("unknown", String::as_str)))
            .into_iter()
            .collect();
        Some(keyed(None, rev, &extra))
    })?;
    if q == Query::Convergence {
        vector(p99_of_buckets(series))
    } else {
        vector(series)
    }
}

type Series = (Labels, f64);

/// Each series of an answer given a new label set by `place` (dropped when it has none),
/// values summed per label set. An empty answer is no series; a failed one stays failed.
fn regroup(
    answer: Answer,
    place: impl Fn(&Labels) -> Option<Labels>,
) -> Result<Vec<Series>, queries::Failure> {
    let series = match answer {
        Ok(QueryResult::Vector(series)) => series,
        Err(queries::Failure::Query(QueryError::Empty(_))) => return Ok(Vec::new()),
        Ok(other) => {
            return Err(queries::Failure::Query(QueryError::Malformed(format!(
                "expected an instant vector, got {}",
                match other {
                    QueryResult::Matrix(_) => "a range vector",
                    _ => "a scalar",
                }
            ))));
        }
        Err(e) => return Err(e),
    };
    let mut sums: BTreeMap<Labels, f64> = BTreeMap::new();
    for (labels, _, value) in series {
        if let Some(key) = place(&labels) {
            *sums.entry(key).or_default() += value;
        }
    }
    Ok(sums.into_iter().collect())
}

/// Bucket series (each with `le`) turned into one p99 per label set without `le`.
fn p99_of_buckets(buckets: Vec<Series>) -> Vec<Series> {
    let mut by_key: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for (mut labels, count) in buckets {
        let Some(le) = labels.remove("le").as_deref().and_then(parse_float) else {
            continue;
        };
        by_key.entry(labels).or_default().push((le, count));
    }
    by_key
        .into_iter()
        .map(|(labels, buckets)| (labels, bucket_quantile(0.99, &buckets).unwrap_or(f64::NAN)))
        .collect()
}

fn vector(series: Vec<Series>) -> Answer {
    if series.is_empty() {
        return Err(queries::Failure::Query(QueryError::Empty(
            ResultType::Vector,
        )));
    }
    Ok(QueryResult::Vector(
        series.into_iter().map(|(l, v)| (l, 0.0, v)).collect(),
    ))
}

#[cfg(test)]
mod tests;
