//! Which labels a Prometheus puts on the series the cockpit asks for, decided from a small
//! probe: one series of each family (sidecars, istiod) and the values of `cluster`.
//!
//! - `istio_io_rev` present: today's queries, grouped by it.
//! - Else a pair of pod-identity labels: `namespace`/`pod` (Istio's Prometheus addon, a
//!   Prometheus Operator PodMonitor), `kubernetes_namespace`/`kubernetes_pod_name` (older
//!   configurations), `namespace`/`pod_name`. The series are grouped by those and each pod is
//!   given its revision from the cockpit's own pod watch.
//! - A `cluster` label (Thanos, a Prometheus shared by several clusters): every selector gets
//!   `cluster="<this cluster>"` when some series carry that value.
//!
//! A probe that did not answer decides nothing: the revision label is assumed, as always.

use std::collections::BTreeSet;

use super::Labels;
use super::promql::QueryResult;
use super::queries::Answer;

pub const REVISION_LABEL: &str = "istio_io_rev";
pub const CLUSTER_LABEL: &str = "cluster";

/// The labels that name a series' pod: its namespace and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodLabels {
    pub namespace: &'static str,
    pub pod: &'static str,
}

/// The pod-identity pairs recognised, in the order they are tried.
pub const POD_LABELS: [PodLabels; 3] = [
    PodLabels {
        namespace: "namespace",
        pod: "pod",
    },
    PodLabels {
        namespace: "kubernetes_namespace",
        pod: "kubernetes_pod_name",
    },
    PodLabels {
        namespace: "namespace",
        pod: "pod_name",
    },
];

/// How a family's series say which revision they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Revisions {
    /// Each series carries `istio_io_rev`.
    #[default]
    Label,
    /// Each series names its pod; the pod watch knows the pod's revision.
    Pods(PodLabels),
}

impl Revisions {
    /// From one series of the family; None when it has neither the revision label nor a pod
    /// pair (nothing to go by).
    pub fn of(series: &Labels) -> Option<Revisions> {
        let has = |k: &str| series.get(k).is_some_and(|v| !v.is_empty());
        if has(REVISION_LABEL) {
            return Some(Revisions::Label);
        }
        POD_LABELS
            .iter()
            .find(|p| has(p.namespace) && has(p.pod))
            .map(|p| Revisions::Pods(*p))
    }

    fn describe(self) -> String {
        match self {
            Revisions::Label => format!("the {REVISION_LABEL} label"),
            Revisions::Pods(p) => format!("pods by {}/{} via the pod watch", p.namespace, p.pod),
        }
    }
}

/// What the cockpit asks a Prometheus with: how each family names its revision, and the
/// cluster filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub sidecars: Revisions,
    pub istiod: Revisions,
    /// The value of `cluster` every selector is given, when the series carry one.
    pub cluster: Option<String>,
    /// Why the cluster could not be picked out, said every round until the next probe.
    pub warning: Option<String>,
}

impl Layout {
    /// What the metrics pane says of the mapping: where the revisions come from, and the
    /// cluster filter.
    pub fn describe(&self) -> String {
        let mapping = if self.sidecars == self.istiod {
            format!("revisions: {}", self.sidecars.describe())
        } else {
            format!(
                "revisions: sidecars from {}, istiod from {}",
                self.sidecars.describe(),
                self.istiod.describe()
            )
        };
        match &self.cluster {
            Some(c) => format!("{mapping} · only series with {CLUSTER_LABEL}=\"{c}\""),
            None => mapping,
        }
    }

    /// True when a family needs the pod watch's revisions.
    pub fn maps_pods(&self) -> bool {
        matches!(self.sidecars, Revisions::Pods(_)) || matches!(self.istiod, Revisions::Pods(_))
    }
}

/// The probe's three queries, in the order `decide` takes their answers.
pub fn probe_promql() -> [String; 3] {
    [
        r#"topk(1, istio_requests_total{reporter="destination"})"#.to_string(),
        r#"topk(1, istio_build{component="pilot"})"#.to_string(),
        format!(
            "count by ({CLUSTER_LABEL}) (istio_requests_total) \
             or count by ({CLUSTER_LABEL}) (istio_build{{component=\"pilot\"}})"
        ),
    ]
}

fn first_series(answer: &Answer) -> Option<&Labels> {
    match answer {
        Ok(QueryResult::Vector(series)) => series.first().map(|(labels, _, _)| labels),
        _ => None,
    }
}

/// The layout from the probe's answers, and whether the probe told anything (a family with
/// no series yet, or a probe that failed, keeps the revision label and is asked again).
pub fn decide(sidecars: &Answer, istiod: &Answer, clusters: &Answer, ours: &str) -> (Layout, bool) {
    let side = first_series(sidecars).and_then(Revisions::of);
    let control = first_series(istiod).and_then(Revisions::of);
    let (cluster, warning) = cluster_filter(clusters, ours);
    let layout = Layout {
        sidecars: side.unwrap_or_default(),
        istiod: control.unwrap_or_default(),
        cluster,
        warning,
    };
    (layout, side.is_some() && control.is_some())
}

/// The cluster filter: our name when the series carry it; none when they carry no cluster,
/// or only one (that Prometheus holds one cluster, whatever it calls it); none and a warning
/// when they carry several and ours is not among them.
fn cluster_filter(clusters: &Answer, ours: &str) -> (Option<String>, Option<String>) {
    let Ok(QueryResult::Vector(series)) = clusters else {
        return (None, None);
    };
    let values: BTreeSet<&str> = series
        .iter()
        .filter_map(|(labels, _, _)| labels.get(CLUSTER_LABEL))
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .collect();
    if values.contains(ours) {
        return (Some(ours.to_string()), None);
    }
    if values.len() < 2 {
        return (None, None);
    }
    let seen: Vec<&str> = values.into_iter().collect();
    let warning = format!(
        "this Prometheus holds the clusters {} (its `{CLUSTER_LABEL}` label) and none is named \
         {ours:?}: the numbers of all of them are summed",
        seen.join(", ")
    );
    (None, Some(warning))
}

/// `cluster="<value>"` as a matcher, the value escaped for a PromQL string.
pub fn cluster_matcher(cluster: &str) -> String {
    format!(
        "{CLUSTER_LABEL}=\"{}\"",
        cluster.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

#[cfg(test)]
mod tests;
