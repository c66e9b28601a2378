//! Which clusters the cockpit watches: `--context` (repeated or comma-separated),
//! `--all-contexts`, or the plan's `[[clusters]]`; else the current context. One cluster is
//! connected as always (an unreachable one is an error); in a fleet a cluster that does not
//! answer is watched all the same, read-only, so it never keeps the others from the screen.

use std::collections::{BTreeMap, BTreeSet};

use super::error::CliError;
use super::settings;
use crate::cluster::connect::{self, ConnectError, Target};
use crate::cluster::prometheus_source::{PrometheusAuth, PrometheusTarget};
use crate::cockpit::ClusterTarget;
use crate::plan::file::{FleetCluster, PlanFile};

/// Why the flags and the plan do not name a fleet the cockpit can watch.
#[derive(Debug, thiserror::Error)]
pub enum FleetChoiceError {
    #[error("--context {0:?} is named twice")]
    Twice(String),
    #[error(
        "--prometheus names one Prometheus, but the cockpit watches {0} clusters: give each its own with `prometheus` in the plan's [[clusters]], or leave it out to find one in each cluster"
    )]
    OnePrometheus(usize),
}

/// The clusters chosen, in order, with what the plan says of each.
pub fn choose(
    contexts: &[String],
    all_contexts: bool,
    kubeconfig: &Target,
    plan: Option<&PlanFile>,
) -> Result<Vec<FleetCluster>, CliError> {
    let planned = plan.map_or(&[][..], |p| p.clusters.as_slice());
    let named: Vec<String> = if all_contexts {
        one_context_per_cluster(connect::contexts(kubeconfig)?)
    } else if !contexts.is_empty() {
        let mut seen = BTreeSet::new();
        for c in contexts {
            if !seen.insert(c) {
                return Err(FleetChoiceError::Twice(c.clone()).into());
            }
        }
        contexts.to_vec()
    } else if !planned.is_empty() {
        return Ok(planned.to_vec());
    } else {
        return Ok(Vec::new());
    };
    Ok(named
        .into_iter()
        .map(|context| {
            planned
                .iter()
                .find(|p| p.context == context)
                .cloned()
                .unwrap_or(FleetCluster {
                    context,
                    role: None,
                    name: None,
                    prometheus: None,
                })
        })
        .collect())
}

/// The first context of each cluster entry: a kubeconfig often has several per cluster
/// (an admin and a viewer), and watching one cluster twice would be no fleet.
fn one_context_per_cluster(contexts: Vec<(String, String)>) -> Vec<String> {
    let mut clusters = BTreeSet::new();
    contexts
        .into_iter()
        .filter(|(_, cluster)| clusters.insert(cluster.clone()))
        .map(|(context, _)| context)
        .collect()
}

/// Connects the chosen clusters. None chosen: the kubeconfig's current context. One: as
/// always. Several: each built from the kubeconfig (a mistake there is an error), then asked
/// whether it answers (one that does not is watched, read-only).
///
/// Each cluster's Prometheus: `--prometheus`, else the plan's, else the config file's for
/// its context, else none given (the cockpit looks for one).
pub async fn connect_all(
    kubeconfig: &Target,
    chosen: Vec<FleetCluster>,
    flag_prometheus: Option<PrometheusTarget>,
    config_prometheus: &BTreeMap<String, reqwest::Url>,
) -> Result<Vec<ClusterTarget>, CliError> {
    if chosen.len() > 1 && flag_prometheus.is_some() {
        return Err(FleetChoiceError::OnePrometheus(chosen.len()).into());
    }
    if chosen.len() <= 1 {
        let first = chosen.into_iter().next();
        let target = Target {
            kubeconfig: kubeconfig.kubeconfig.clone(),
            context: first
                .as_ref()
                .map(|c| c.context.clone())
                .or(kubeconfig.context.clone()),
        };
        let conn = connect::connect(&target).await?;
        log::info!("connected to {} ({})", conn.server, conn.context);
        let planned_prometheus = first.as_ref().and_then(prometheus_of);
        let configured = settings::prometheus_for(config_prometheus, &conn.context);
        return Ok(vec![ClusterTarget {
            name: first
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| conn.context.clone()),
            role: first.as_ref().and_then(|c| c.role),
            prometheus: flag_prometheus.or(planned_prometheus).or(configured),
            unreachable: None,
            conn,
        }]);
    }
    let connections = chosen.iter().map(|c| {
        let target = Target {
            kubeconfig: kubeconfig.kubeconfig.clone(),
            context: Some(c.context.clone()),
        };
        async move {
            let conn = connect::client(&target).await?;
            let unreachable = connect::probe(&conn).await.err().map(|e| e.to_string());
            Ok::<_, ConnectError>((conn, unreachable))
        }
    });
    let connected = futures::future::join_all(connections).await;
    let mut targets = Vec::new();
    for (cluster, connected) in chosen.into_iter().zip(connected) {
        let (conn, unreachable) = connected?;
        match &unreachable {
            Some(why) => log::warn!("{}: {why}", cluster.context),
            None => log::info!("connected to {} ({})", conn.server, conn.context),
        }
        targets.push(ClusterTarget {
            name: cluster
                .name
                .clone()
                .unwrap_or_else(|| cluster.context.clone()),
            role: cluster.role,
            prometheus: prometheus_of(&cluster)
                .or_else(|| settings::prometheus_for(config_prometheus, &cluster.context)),
            unreachable,
            conn,
        });
    }
    Ok(targets)
}

fn prometheus_of(cluster: &FleetCluster) -> Option<PrometheusTarget> {
    cluster.prometheus.clone().map(|url| PrometheusTarget::Url {
        url,
        auth: PrometheusAuth::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_contexts_takes_one_context_per_cluster_in_file_order() {
        let contexts = [
            ("primary", "primary"),
            ("primary-viewer", "primary"),
            ("remote-1", "remote-1"),
            ("remote-1-viewer", "remote-1"),
        ]
        .map(|(c, k)| (c.to_string(), k.to_string()));
        assert_eq!(
            one_context_per_cluster(contexts.to_vec()),
            ["primary", "remote-1"]
        );
    }

    #[test]
    fn a_context_named_twice_is_refused() {
        let target = Target::default();
        let twice = ["a".to_string(), "b".to_string(), "a".to_string()];
        let err = choose(&twice, false, &target, None).unwrap_err();
        assert_eq!(err.to_string(), "--context \"a\" is named twice");
    }
}
