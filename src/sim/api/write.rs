//! create, update, patch (all four content types) and delete, with `dryRun=All`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::field_validation::{self, with_warnings};
use super::status::ApiError;
use super::{Request, json_response, ok};
use crate::sim::SimContext;
use crate::sim::patch::{self, PatchError, PatchKind};
use crate::sim::store::{StoreError, now_rfc3339};

fn dry_run(req: &Request) -> Result<bool, ApiError> {
    match req.param("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
        ))),
    }
}

fn parse_body(req: &Request) -> Result<Value, ApiError> {
    let content_type = req.header("content-type");
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media == "application/vnd.kubernetes.protobuf"
        && let Ok(value) = super::protobuf::decode(req.target.def.plural, &req.body)
    {
        return Ok(value);
    }
    if !(media.is_empty()
        || media == "application/json"
        || media.ends_with("+json")
        || media.ends_with("+yaml"))
    {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json (got \"{content_type}\")"
            ),
        ));
    }
    let value: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(value)
}

fn check_namespace(req: &Request, obj: &Value) -> Result<(), ApiError> {
    if let Some(ns) = obj["metadata"]["namespace"].as_str()
        && !ns.is_empty()
        && req
            .target
            .namespace
            .as_deref()
            .is_some_and(|want| want != ns)
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// Keeps a write to the main resource from changing status, and a write to `/status` from
/// changing anything else, as the API server does for resources with a status subresource.
fn scope_to_subresource(req: &Request, old: &Value, mut new: Value) -> Result<Value, StoreError> {
    if !new.is_object() {
        return Err(StoreError::Invalid(
            "the result must be a JSON object".into(),
        ));
    }
    let has_status = req.target.def.subresources.contains(&"status");
    Ok(match req.target.subresource.as_deref() {
        Some("status") => {
            let mut merged = old.clone();
            merged["status"] = new["status"].take();
            if let Some(rv) = new["metadata"].get("resourceVersion") {
                merged["metadata"]["resourceVersion"] = rv.clone();
            }
            merged
        }
        _ if has_status && req.target.def.plural != "namespaces" => {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(o) = new.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
            new
        }
        _ => new,
    })
}

fn reject_unsupported_subresource(req: &Request) -> Result<(), ApiError> {
    match req.target.subresource.as_deref() {
        None | Some("status") => Ok(()),
        Some(sub) => Err(ApiError::method_not_allowed(format!(
            "the simulator does not support writes to the {sub} subresource"
        ))),
    }
}

/// A new namespace is Active and carries the `kubernetes` finalizer, as the API server's
/// namespace strategy sets them on create whatever the body says about status.
fn namespace_defaults(obj: &mut Value) {
    obj["status"] = json!({"phase": "Active"});
    let spec = &obj["spec"];
    if (spec.is_null() || spec.is_object()) && spec["finalizers"].is_null() {
        obj["spec"]["finalizers"] = json!(["kubernetes"]);
    }
}

pub fn create(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    reject_unsupported_subresource(req)?;
    if req.target.name.is_some() {
        return Err(ApiError::method_not_allowed(
            "create is sent to the collection, not to a name",
        ));
    }
    let mut obj = parse_body(req)?;
    check_namespace(req, &obj)?;
    let warnings = field_validation::check(req, &obj)?;
    if req.target.def.plural == "namespaces" {
        namespace_defaults(&mut obj);
    }
    let stored =
        ctx.store
            .create_opts(req.target.def.plural, req.namespace(), obj, dry_run(req)?)?;
    Ok(with_warnings(
        json_response(StatusCode::CREATED, &stored.value()),
        &warnings,
    ))
}

pub fn update(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    reject_unsupported_subresource(req)?;
    let obj = parse_body(req)?;
    check_namespace(req, &obj)?;
    let warnings = field_validation::check(req, &obj)?;
    let name = req.target.name.as_deref().unwrap_or_default();
    let stored = ctx.store.modify_opts(
        req.target.def.plural,
        req.namespace(),
        name,
        dry_run(req)?,
        |old| scope_to_subresource(req, old, obj),
    )?;
    Ok(with_warnings(ok(&stored.value()), &warnings))
}

pub fn patch(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    reject_unsupported_subresource(req)?;
    let content_type = req.header("content-type");
    let kind = PatchKind::from_content_type(content_type).ok_or_else(|| {
        ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got \"{content_type}\")"))
    })?;
    // A JSON patch is a list of operations, not a partial object: its fields are not checked.
    let warnings = match serde_json::from_slice::<Value>(&req.body) {
        Ok(body) if kind != PatchKind::Json => field_validation::check(req, &body)?,
        _ => field_validation::check(req, &Value::Null)?,
    };
    let name = req.target.name.as_deref().unwrap_or_default();
    let dry = dry_run(req)?;
    let plural = req.target.def.plural;
    let result = ctx
        .store
        .modify_opts(plural, req.namespace(), name, dry, |old| {
            let patched = patch::apply(old, kind, &req.body).map_err(|e| match e {
                PatchError::BadBody(m) => StoreError::BadRequest(m),
                PatchError::Invalid(m) => StoreError::Invalid(m),
            })?;
            scope_to_subresource(req, old, patched)
        });
    let stored = match result {
        // Server-side apply creates what does not exist yet.
        Err(StoreError::NotFound(_)) if kind == PatchKind::Apply => {
            let obj = parse_body(req)?;
            check_namespace(req, &obj)?;
            let mut obj = obj;
            match obj.get_mut("metadata") {
                Some(Value::Object(meta)) => {
                    meta.insert("name".into(), json!(name));
                }
                None | Some(Value::Null) => obj["metadata"] = json!({"name": name}),
                Some(_) => return Err(ApiError::bad_request("metadata: expected an object")),
            }
            return Ok(with_warnings(
                json_response(
                    StatusCode::CREATED,
                    &ctx.store
                        .create_opts(plural, req.namespace(), obj, dry)?
                        .value(),
                ),
                &warnings,
            ));
        }
        other => other?,
    };
    Ok(with_warnings(ok(&stored.value()), &warnings))
}

pub fn delete(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    reject_unsupported_subresource(req)?;
    let options: Value = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!("the DeleteOptions body is not valid JSON: {e}"))
        })?
    };
    let precondition = options["preconditions"]["resourceVersion"].as_str();
    let name = req.target.name.as_deref().unwrap_or_default();
    let dry = dry_run(req)?
        || options["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|v| v == "All"));
    if req.target.def.plural == "pods" && !dry {
        let grace = options["gracePeriodSeconds"].as_u64();
        let stored = delete_pod_gracefully(ctx, req.namespace(), name, precondition, grace)?;
        return Ok(ok(&stored));
    }
    let stored = ctx.store.delete_opts(
        req.target.def.plural,
        req.namespace(),
        name,
        precondition,
        dry,
    )?;
    Ok(ok(&stored.value()))
}

/// Marks a pod as terminating and removes it once its grace period (capped, so the
/// simulation stays brisk) has passed, the way the kubelet finishes a deletion.
pub fn delete_pod_gracefully(
    ctx: &Arc<SimContext>,
    ns: &str,
    name: &str,
    precondition: Option<&str>,
    grace_seconds: Option<u64>,
) -> Result<Value, ApiError> {
    let marked = ctx.store.modify("pods", ns, name, |old| {
        if let Some(want) = precondition
            && old["metadata"]["resourceVersion"].as_str() != Some(want)
        {
            let mut stale = old.clone();
            stale["metadata"]["resourceVersion"] = json!(want);
            return Ok(stale);
        }
        let mut pod = old.clone();
        if pod["metadata"]["deletionTimestamp"].is_null() {
            pod["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
            pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace_seconds.unwrap_or(30));
        }
        Ok(pod)
    })?;
    let delay = ctx
        .timing
        .termination
        .min(Duration::from_secs(grace_seconds.unwrap_or(30)));
    let store = ctx.store.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = store.delete("pods", &ns, &name, None);
    });
    Ok(marked.value())
}
