//! The pure core of the metrics panes and rollback triggers: no I/O, no clocks.
//!
//! - `control_plane`: istiod's pushes, rejects, convergence and proxies per revision
//! - `cross_cluster`: requests to other clusters of the fleet, per route, from either source
//! - `data_plane`: inbound traffic per namespace and revision from a sample of sidecars'
//!   pages, for the direct-scrape mode
//! - `exposition`: the Prometheus text format that istiod (`:15014/metrics`) and sidecars
//!   (`:15020/stats/prometheus`) serve, for the direct-scrape mode
//! - `histogram_series`: a histogram family's samples put back together, series by series
//! - `label_mapping`: which labels a Prometheus's series carry (the revision label, or only
//!   their pod's), decided from a small probe, and the cluster filter
//! - `mapped_queries`: the round's PromQL for that layout, and series keyed by pod turned
//!   into per-revision answers with the pod watch's revisions
//! - `prometheus_url`: the Prometheus base URL a flag or a plan file gives, checked
//! - `promql`: the answers of Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`)
//! - `queries`: the PromQL asked every round and how its answers become a `Reading`
//! - `reading`: one round of numbers from any source, control plane and data plane
//! - `sidecar_snapshot`: the series of a sidecar's page the data plane reads, kept between
//!   scrapes
//! - `maths`: counter increases and rates between scrapes, histogram quantiles, the 5xx ratio,
//!   and the sliding-window trigger that decides a breach
//!
//! Every "no data" case is an explicit value (`None`, `QueryError::Empty`,
//! `TriggerState::Unknown`), never a zero that could pass for healthy.

use std::collections::BTreeMap;

pub mod control_plane;
pub mod cross_cluster;
pub mod data_plane;
pub mod exposition;
mod histogram_series;
pub mod label_mapping;
pub mod mapped_queries;
pub mod maths;
pub mod prometheus_url;
pub mod promql;
pub mod queries;
pub mod reading;
pub mod sidecar_snapshot;

/// A series' label set, ordered so that it can key maps and print the same way every time.
pub type Labels = BTreeMap<String, String>;

/// Reads a sample value as Prometheus writes it: Go's float syntax, including `+Inf`, `-Inf`
/// and `NaN`.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if text.is_empty() || text.contains('_') => None,
        _ => text.parse().ok(),
    }
}

/// A label set from pairs, for tests.
#[cfg(test)]
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_float;

    #[test]
    fn floats_read_as_go_writes_them() {
        assert_eq!(parse_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_float("1.5e+06"), Some(1_500_000.0));
        assert_eq!(parse_float("-0.25"), Some(-0.25));
        assert_eq!(parse_float("3600000"), Some(3_600_000.0));
        assert_eq!(parse_float(""), None);
        assert_eq!(parse_float("1_000"), None);
        assert_eq!(parse_float("fast"), None);
    }
}
