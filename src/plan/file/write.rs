//! Writing a plan back as a plan file, through the same tables `parse` reads.

use toml::Spanned;

use crate::plan::model::{FleetCluster, NamespaceSelector, Plan, Wave};
use crate::toml_file::Table;

use super::numbers::{Concurrency, PlanDuration, PositiveDuration};
use super::schema::{ClusterToml, PlanToml, RollbackToml, WaveToml};
use super::values::{
    ClusterName, ClusterRole, Clusters, ContextName, NamespaceName, Namespaces, PrometheusUrl,
    Revision, ServiceRef, TagName, Tags, WaveName, Waves,
};

/// Writes a plan as a plan file that `parse` reads back to the same plan (every field
/// explicit), e.g. to keep it in the cluster next to the upgrade's phase.
pub fn to_toml(plan: &Plan) -> String {
    fleet_to_toml(plan, &[])
}

/// `to_toml` for a plan across a fleet: the file also keeps its `[[clusters]]`, in order
/// (none written when `clusters` is empty).
pub fn fleet_to_toml(plan: &Plan, clusters: &[FleetCluster]) -> String {
    let pacing = plan.pacing;
    let file = PlanToml {
        from: Some(unplaced(Revision(plan.from.clone()))),
        to: Some(unplaced(Revision(plan.to.clone()))),
        tags: Some(unplaced(Tags(
            plan.tags
                .iter()
                .map(|t| unplaced(TagName(t.clone())))
                .collect(),
        ))),
        tag_soak: Some(PlanDuration(plan.tag_soak)),
        keep_old: Some(PlanDuration(plan.keep_old)),
        prometheus_service: plan.prometheus_service.clone().map(ServiceRef),
        clusters: (!clusters.is_empty()).then(|| {
            unplaced(Clusters(
                clusters
                    .iter()
                    .map(|c| unplaced(Table(cluster(c))))
                    .collect(),
            ))
        }),
        wave_concurrency: Some(Concurrency(pacing.concurrency as u64)),
        namespace_bake: Some(PlanDuration(pacing.bake)),
        namespace_timeout: Some(PositiveDuration(pacing.timeout)),
        waves: Some(unplaced(Waves(
            plan.waves
                .iter()
                .map(|w| unplaced(Table(wave(w))))
                .collect(),
        ))),
        rollback: Some(Table(RollbackToml::from_thresholds(&plan.thresholds))),
    };
    toml::to_string(&file).expect("a plan's tables hold only strings, numbers and booleans")
}

fn wave(wave: &Wave) -> WaveToml {
    let (namespaces, selector) = match &wave.selector {
        NamespaceSelector::Names(names) => {
            let names = names.iter().map(|n| unplaced(NamespaceName(n.clone())));
            (Some(unplaced(Namespaces(names.collect()))), None)
        }
        NamespaceSelector::Labels(selector) => (None, Some(unplaced(selector.clone()))),
    };
    WaveToml {
        name: Some(unplaced(WaveName(wave.name.clone()))),
        namespaces,
        selector,
        soak: Some(PlanDuration(wave.soak)),
        wave_concurrency: wave.pacing.concurrency.map(|n| Concurrency(n as u64)),
        namespace_bake: wave.pacing.bake.map(PlanDuration),
        namespace_timeout: wave.pacing.timeout.map(PositiveDuration),
    }
}

fn cluster(cluster: &FleetCluster) -> ClusterToml {
    ClusterToml {
        context: Some(unplaced(ContextName(cluster.context.clone()))),
        role: cluster.role.map(|r| unplaced(ClusterRole(r))),
        name: cluster.name.clone().map(|n| unplaced(ClusterName(n))),
        prometheus: cluster.prometheus.clone().map(PrometheusUrl),
    }
}

/// A value to write: it has no place in a file yet.
fn unplaced<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}
