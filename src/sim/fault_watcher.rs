//! Keeps the active fault set in step with ConfigMap `sim-system/faults`, and reports keys it
//! cannot use as Kubernetes Events on that ConfigMap.

use std::sync::Arc;

use serde_json::json;

use super::SimContext;
use super::faults::{self, FaultSet};
use super::fleet;
use super::store::now_rfc3339;

pub fn apply_current(ctx: &SimContext) {
    let cm = ctx
        .store
        .get_value("configmaps", faults::NAMESPACE, faults::CONFIGMAP);
    let data = cm.as_ref().map(|cm| cm["data"].clone()).unwrap_or_default();
    let (set, problems) = FaultSet::from_data(&data);
    let before = ctx.faults.snapshot();
    if set != before {
        log::info!("simulator faults now: {set:?}");
    }
    ctx.faults.set(set.clone());
    fleet::controller::faults_changed(ctx, &before, &set);
    if before.api_down_seconds == 0 && set.api_down_seconds > 0 {
        ctx.outage.request(ctx.store.clone(), set.api_down_seconds);
    }
    for problem in problems {
        report(ctx, &problem);
    }
}

fn report(ctx: &SimContext, message: &str) {
    let cm = ctx
        .store
        .get_value("configmaps", faults::NAMESPACE, faults::CONFIGMAP);
    let now = now_rfc3339();
    let _ = ctx.store.create(
        "events",
        faults::NAMESPACE,
        json!({
            "metadata": {"generateName": "faults."},
            "involvedObject": {"kind": "ConfigMap", "namespace": faults::NAMESPACE, "name": faults::CONFIGMAP,
                               "uid": cm.as_ref().map(|c| c["metadata"]["uid"].clone()), "apiVersion": "v1"},
            "reason": "InvalidFault",
            "message": message,
            "type": "Warning",
            "source": {"component": "istio-cockpit-sim"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }),
    );
}

pub async fn run(ctx: Arc<SimContext>) {
    let mut changes = ctx.store.subscribe();
    apply_current(&ctx);
    loop {
        match changes.recv().await {
            Ok(c)
                if c.resource == "configmaps"
                    && c.key.0 == faults::NAMESPACE
                    && c.key.1 == faults::CONFIGMAP =>
            {
                apply_current(&ctx);
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => apply_current(&ctx),
            Err(_) => return,
        }
    }
}
