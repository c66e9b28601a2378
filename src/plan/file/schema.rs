//! A plan file's tables as serde reads and writes them. Unknown keys are refused; the values
//! that errors found after reading must point at keep their span.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::k8s::selector::LabelSelector;
use crate::plan::model::{PacingOverride, Thresholds};
use crate::toml_file::{Expecting, Table};

use super::numbers::{
    Concurrency, Count, ErrorRatio, LatencyIncrease, PlanDuration, PositiveDuration, Switch,
};
use super::values::{
    ClusterName, ClusterRole, Clusters, ContextName, Namespaces, PrometheusUrl, Revision,
    ServiceRef, Tags, WaveName, Waves,
};

/// The whole file. Keys keep the order a user reads them in: unknown-key errors list them so.
/// The settings `resolve` may refuse keep their span, for its errors' lines.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanToml {
    pub from: Option<Spanned<Revision>>,
    pub to: Option<Spanned<Revision>>,
    pub tags: Option<Spanned<Tags>>,
    pub tag_soak: Option<PlanDuration>,
    pub keep_old: Option<PlanDuration>,
    pub prometheus_service: Option<ServiceRef>,
    pub clusters: Option<Spanned<Clusters>>,
    pub wave_concurrency: Option<Concurrency>,
    pub namespace_bake: Option<PlanDuration>,
    pub namespace_timeout: Option<PositiveDuration>,
    pub waves: Option<Spanned<Waves>>,
    pub rollback: Option<Table<RollbackToml>>,
}

/// One `[[waves]]` table. `namespaces` or `selector`, exactly one, is checked after reading.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(in crate::plan::file) struct WaveToml {
    pub name: Option<Spanned<WaveName>>,
    pub namespaces: Option<Spanned<Namespaces>>,
    pub selector: Option<Spanned<LabelSelector>>,
    pub soak: Option<PlanDuration>,
    pub wave_concurrency: Option<Concurrency>,
    pub namespace_bake: Option<PlanDuration>,
    pub namespace_timeout: Option<PositiveDuration>,
}

/// One `[[clusters]]` table. `context` is checked after reading, to point at the table
/// when it is missing.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(in crate::plan::file) struct ClusterToml {
    pub context: Option<Spanned<ContextName>>,
    pub role: Option<Spanned<ClusterRole>>,
    pub name: Option<Spanned<ClusterName>>,
    pub prometheus: Option<PrometheusUrl>,
}

/// `[rollback]`: what it leaves out keeps its default.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackToml {
    pub p99_latency_increase: Option<LatencyIncrease>,
    pub p99_latency_for: Option<PlanDuration>,
    pub error_ratio: Option<ErrorRatio>,
    pub error_ratio_for: Option<PlanDuration>,
    pub xds_rejects: Option<Count>,
    pub mtls_errors: Option<Count>,
    pub convergence_p99: Option<PositiveDuration>,
    pub convergence_p99_for: Option<PlanDuration>,
    pub cross_cluster_error_ratio: Option<ErrorRatio>,
    pub cross_cluster_error_ratio_for: Option<PlanDuration>,
    pub auto_rollback: Option<Switch>,
}

impl Expecting for WaveToml {
    const EXPECTING: &'static str = "[[waves]] tables, one per wave";
}

impl Expecting for ClusterToml {
    const EXPECTING: &'static str = "[[clusters]] tables, one per cluster";
}

impl Expecting for RollbackToml {
    const EXPECTING: &'static str = "a [rollback] table";
}

/// The pacing keys as a plan or a wave sets them.
pub(super) fn pacing(
    concurrency: Option<Concurrency>,
    bake: Option<PlanDuration>,
    timeout: Option<PositiveDuration>,
) -> PacingOverride {
    PacingOverride {
        concurrency: concurrency.map(|c| usize::try_from(c.0).unwrap_or(usize::MAX)),
        bake: bake.map(|d| d.0),
        timeout: timeout.map(|d| d.0),
    }
}

impl RollbackToml {
    pub(super) fn thresholds(self) -> Thresholds {
        let d = Thresholds::default();
        Thresholds {
            p99_latency_increase: self
                .p99_latency_increase
                .map_or(d.p99_latency_increase, |s| s.0),
            p99_latency_for: self.p99_latency_for.map_or(d.p99_latency_for, |t| t.0),
            error_ratio: self.error_ratio.map_or(d.error_ratio, |s| s.0),
            error_ratio_for: self.error_ratio_for.map_or(d.error_ratio_for, |t| t.0),
            xds_rejects: self.xds_rejects.map_or(d.xds_rejects, |n| n.0),
            mtls_errors: self.mtls_errors.map_or(d.mtls_errors, |n| n.0),
            convergence_p99_seconds: self
                .convergence_p99
                .map_or(d.convergence_p99_seconds, |t| t.0.as_secs_f64()),
            convergence_p99_for: self
                .convergence_p99_for
                .map_or(d.convergence_p99_for, |t| t.0),
            cross_cluster_error_ratio: self
                .cross_cluster_error_ratio
                .map_or(d.cross_cluster_error_ratio, |s| s.0),
            cross_cluster_error_ratio_for: self
                .cross_cluster_error_ratio_for
                .map_or(d.cross_cluster_error_ratio_for, |t| t.0),
            auto_rollback: self.auto_rollback.map_or(d.auto_rollback, |b| b.0),
        }
    }

    /// Every threshold written out, defaults included.
    pub(super) fn from_thresholds(t: &Thresholds) -> RollbackToml {
        RollbackToml {
            p99_latency_increase: Some(LatencyIncrease(t.p99_latency_increase)),
            p99_latency_for: Some(PlanDuration(t.p99_latency_for)),
            error_ratio: Some(ErrorRatio(t.error_ratio)),
            error_ratio_for: Some(PlanDuration(t.error_ratio_for)),
            xds_rejects: Some(Count(t.xds_rejects)),
            mtls_errors: Some(Count(t.mtls_errors)),
            convergence_p99: Some(PositiveDuration(std::time::Duration::from_secs_f64(
                t.convergence_p99_seconds,
            ))),
            convergence_p99_for: Some(PlanDuration(t.convergence_p99_for)),
            cross_cluster_error_ratio: Some(ErrorRatio(t.cross_cluster_error_ratio)),
            cross_cluster_error_ratio_for: Some(PlanDuration(t.cross_cluster_error_ratio_for)),
            auto_rollback: Some(Switch(t.auto_rollback)),
        }
    }
}
