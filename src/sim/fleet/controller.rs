//! Keeps a fleet cluster's objects true to the fleet and its faults: every new namespace gets
//! `istio-ca-root-cert`, an edited or deleted one is put back, and east-west gateway pods
//! started while `eastwest.down` is on come up not ready.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use super::{Member, eastwest, root_cert};
use crate::sim::SimContext;
use crate::sim::faults::FaultSet;
use crate::sim::store::{Change, ChangeType};

/// The root CA the cluster should show under `faults`.
fn root_pem<'a>(member: &'a Member, faults: &FaultSet) -> &'a str {
    if faults.ca_mismatch {
        &member.mismatched_root_cert_pem
    } else {
        &member.root_cert_pem
    }
}

/// Applies the fleet faults that changed between `before` and `after`.
pub fn faults_changed(ctx: &SimContext, before: &FaultSet, after: &FaultSet) {
    let Some(member) = &ctx.fleet else {
        return;
    };
    if before.ca_mismatch != after.ca_mismatch {
        root_cert::reconcile_all(&ctx.store, root_pem(member, after));
    }
    if before.eastwest_down != after.eastwest_down {
        eastwest::set_all(&ctx.store, !after.eastwest_down);
    }
}

fn observe(ctx: &SimContext, member: &Member, change: &Change) {
    let (namespace, name) = (&change.key.0, &change.key.1);
    match change.resource {
        "namespaces" if change.kind == ChangeType::Added => {
            root_cert::ensure(&ctx.store, name, root_pem(member, &ctx.faults.snapshot()));
        }
        "configmaps" if name == root_cert::CONFIGMAP && change.kind != ChangeType::Added => {
            root_cert::ensure(
                &ctx.store,
                namespace,
                root_pem(member, &ctx.faults.snapshot()),
            );
        }
        "pods"
            if change.kind != ChangeType::Deleted
                && eastwest::is_gateway_pod(namespace, &change.object.labels)
                && ctx.faults.snapshot().eastwest_down =>
        {
            eastwest::set_one(&ctx.store, name, false);
        }
        _ => {}
    }
}

pub async fn run(ctx: Arc<SimContext>) {
    let Some(member) = ctx.fleet.clone() else {
        return;
    };
    let mut changes = ctx.store.subscribe();
    loop {
        match changes.recv().await {
            Ok(change) => observe(&ctx, &member, &change),
            Err(RecvError::Lagged(_)) => {
                let faults = ctx.faults.snapshot();
                root_cert::reconcile_all(&ctx.store, root_pem(&member, &faults));
                if faults.eastwest_down {
                    eastwest::set_all(&ctx.store, false);
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}
