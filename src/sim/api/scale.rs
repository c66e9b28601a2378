//! The `scale` subresource of Deployments, ReplicaSets and StatefulSets (`kubectl scale`).

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use super::status::ApiError;
use super::{Request, ok};
use crate::sim::SimContext;
use crate::sim::patch::{self, PatchKind};
use crate::sim::store::StoreError;

fn selector_text(obj: &Value) -> String {
    obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_u64().unwrap_or(0)},
        "status": {"replicas": obj["status"]["replicas"].as_u64().unwrap_or(0), "selector": selector_text(obj)},
    })
}

fn name(req: &Request) -> &str {
    req.target.name.as_deref().unwrap_or_default()
}

pub fn get(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    let obj = ctx
        .store
        .get_value(req.target.def.plural, req.namespace(), name(req))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} \"{}\" not found",
                req.target.def.plural,
                name(req)
            ))
        })?;
    Ok(ok(&scale_of(&obj)))
}

/// PUT or PATCH of a Scale: only `spec.replicas` reaches the object.
pub fn write(
    ctx: &Arc<SimContext>,
    req: &Request,
    patch_kind: Option<PatchKind>,
) -> Result<Response, ApiError> {
    let stored = ctx
        .store
        .modify(req.target.def.plural, req.namespace(), name(req), |old| {
            let current = scale_of(old);
            let wanted = match patch_kind {
                Some(kind) => patch::apply(&current, kind, &req.body).map_err(|e| match e {
                    patch::PatchError::BadBody(m) => StoreError::BadRequest(m),
                    patch::PatchError::Invalid(m) => StoreError::Invalid(m),
                })?,
                None => serde_json::from_slice(&req.body).map_err(|e| {
                    StoreError::BadRequest(format!("the request body is not valid JSON: {e}"))
                })?,
            };
            let replicas = wanted["spec"]["replicas"]
                .as_i64()
                .filter(|r| *r >= 0)
                .ok_or_else(|| {
                    StoreError::Invalid("spec.replicas: must be a whole number >= 0".into())
                })?;
            let mut new = old.clone();
            new["spec"]["replicas"] = json!(replicas);
            if let Some(rv) = wanted["metadata"]["resourceVersion"].as_str() {
                new["metadata"]["resourceVersion"] = json!(rv);
            }
            Ok(new)
        })?;
    Ok(ok(&scale_of(&stored.value())))
}
