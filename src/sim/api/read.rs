//! get and list, in JSON or as a Table for kubectl.

use std::sync::Arc;

use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::status::ApiError;
use super::table::{self, IncludeObject};
use super::{Request, ok};
use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::SimContext;
use crate::sim::store::{self, qualified};

const FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "status.phase",
    "spec.nodeName",
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
];

pub fn selectors(req: &Request) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(req.param("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = FieldSelector::parse(req.param("fieldSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("invalid field selector: {e}")))?;
    for f in fields.fields() {
        if !FIELDS.contains(&f) {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {f} (supported: {})",
                FIELDS.join(", ")
            )));
        }
    }
    Ok((labels, fields))
}

pub fn get(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    let name = req.target.name.as_deref().unwrap_or_default();
    let stored = ctx
        .store
        .get(req.target.def.plural, req.namespace(), name)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} \"{name}\" not found",
                qualified(req.target.def)
            ))
        })?;
    let obj = stored.value();
    if table::wants_table(req.header("accept")) {
        let include = IncludeObject::parse(req.param("includeObject"));
        let row = table::row(req.target.def.plural, &obj, include, Utc::now());
        let meta = json!({"resourceVersion": stored.rv.to_string()});
        return Ok(ok(&table::table(req.target.def.plural, vec![row], meta)));
    }
    Ok(ok(&obj))
}

pub fn list(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(req)?;
    let limit = match req.param("limit") {
        None | Some("0" | "") => None,
        Some(l) => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?,
        ),
    };
    let after =
        match req.param("continue") {
            None | Some("") => None,
            Some(token) => Some(store::decode_continue(token).ok_or_else(|| {
                ApiError::bad_request("continue key is not valid: decoding failed")
            })?),
        };
    let def = req.target.def;
    let result = ctx.store.list(
        def.plural,
        req.target.namespace.as_deref(),
        &labels,
        &fields,
        limit,
        after.as_ref(),
    );
    let mut meta = json!({"resourceVersion": result.rv.to_string()});
    if let Some(token) = &result.continue_token {
        meta["continue"] = json!(token);
    }
    if table::wants_table(req.header("accept")) {
        let include = IncludeObject::parse(req.param("includeObject"));
        let now = Utc::now();
        let rows: Vec<Value> = result
            .items
            .iter()
            .map(|(_, s)| table::row(def.plural, &s.value(), include, now))
            .collect();
        return Ok(ok(&table::table(def.plural, rows, meta)));
    }
    // Stored objects are already JSON: splice them into the list without re-encoding.
    let mut body = Vec::with_capacity(
        result
            .items
            .iter()
            .map(|(_, s)| s.raw.len() + 1)
            .sum::<usize>()
            + 256,
    );
    body.extend_from_slice(
        format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            def.list_kind(),
            def.api_version(),
            meta
        )
        .as_bytes(),
    );
    for (i, (_, s)) in result.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&s.raw);
    }
    body.extend_from_slice(b"]}");
    let mut resp = Response::new(axum::body::Body::from(body));
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
