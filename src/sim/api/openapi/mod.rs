//! `/openapi/v2` and `/openapi/v3`: the API server's OpenAPI documents for the resources the
//! simulator serves, generated from k8s-openapi's types and built once per Kubernetes version.
//!
//! kubectl 1.32 reads the v3 index and the document of the object's group version: a PATCH
//! operation for the kind that lists the `fieldValidation` query parameter tells it the server
//! validates fields itself, so it sends `fieldValidation=Strict` instead of validating on the
//! client; `kubectl apply` computes its strategic merge patches from the same document, and
//! `kubectl explain` reads its schemas. The v2 document is served as JSON only: kubectl asks
//! for it as protobuf and is told 406 Not Acceptable, which it never needs while v3 answers.

mod gzip;
mod paths;
pub mod schemas;
mod unknown_fields;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use super::status::ApiError;
use crate::sim::resources::{self, RESOURCES, ResourceDef};
use schemas::Flavour;

/// One document, serialised once; its gzip form made the first time a client asks for it.
struct Document {
    json: Vec<u8>,
    gzip: OnceLock<Vec<u8>>,
    /// Upper-case hex SHA-512 of `json`, as the v3 index and the ETag carry it.
    hash: String,
}

impl Document {
    fn new(value: &Value) -> Document {
        let json = value.to_string().into_bytes();
        let hash = Sha512::digest(&json)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        Document {
            json,
            gzip: OnceLock::new(),
            hash,
        }
    }
}

struct Documents {
    v2: Document,
    v3_index: Document,
    /// By group-version path: `api/v1`, `apis/apps/v1`.
    v3: BTreeMap<String, Document>,
}

fn info(version: &str) -> Value {
    json!({"title": "Kubernetes", "version": version})
}

fn security() -> Value {
    json!({"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"}})
}

fn group_version_path(group: &str) -> String {
    paths::prefix(group).trim_start_matches('/').to_string()
}

fn build(version: &str) -> Documents {
    let all: Vec<&ResourceDef> = RESOURCES.iter().collect();
    let v2 = json!({
        "swagger": "2.0",
        "info": info(version),
        "paths": paths::paths(Flavour::V2, &all),
        "definitions": schemas::components(Flavour::V2, &all),
        "securityDefinitions": security(),
        "security": [{"BearerToken": []}],
    });
    let mut v3 = BTreeMap::new();
    let groups = std::iter::once("").chain(resources::groups());
    for group in groups {
        let defs: Vec<&ResourceDef> = resources::in_group(group).collect();
        let doc = json!({
            "openapi": "3.0.0",
            "info": info(version),
            "paths": paths::paths(Flavour::V3, &defs),
            "components": {
                "schemas": schemas::components(Flavour::V3, &defs),
                "securitySchemes": security(),
            },
        });
        v3.insert(group_version_path(group), Document::new(&doc));
    }
    let index: Map<String, Value> = v3
        .iter()
        .map(|(path, doc)| {
            let url = format!("/openapi/v3/{path}?hash={}", doc.hash);
            (path.clone(), json!({"serverRelativeURL": url}))
        })
        .collect();
    Documents {
        v2: Document::new(&v2),
        v3_index: Document::new(&json!({"paths": index})),
        v3,
    }
}

fn documents(version: &'static str) -> Arc<Documents> {
    static BUILT: LazyLock<Mutex<HashMap<&'static str, Arc<Documents>>>> =
        LazyLock::new(Default::default);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    built
        .entry(version)
        .or_insert_with(|| Arc::new(build(version)))
        .clone()
}

/// Every served kind's schema, for checking bodies against (see `unknown_fields`).
fn all_schemas() -> &'static Map<String, Value> {
    static ALL: LazyLock<Map<String, Value>> = LazyLock::new(|| {
        let all: Vec<&ResourceDef> = RESOURCES.iter().collect();
        schemas::components(Flavour::V3, &all)
    });
    &ALL
}

/// The fields of `body`, written to `plural` (or its `subresource`), that its kind's schema
/// does not declare. Subresources without a schema of their own are not checked.
pub fn unknown_fields(plural: &str, subresource: Option<&str>, body: &Value) -> Vec<String> {
    let schema = match subresource {
        None | Some("status") => schemas::kind(plural),
        Some(sub) => schemas::subresource(sub).map(|(schema, _, _)| schema),
    };
    match schema {
        Some(schema) => unknown_fields::find(all_schemas(), &schema.name(), body),
        None => Vec::new(),
    }
}

/// Whether the Accept header allows JSON (a missing header does).
fn accepts_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.is_empty()
        || accept.split(',').any(|media| {
            let media = media.split(';').next().unwrap_or_default().trim();
            media == "*/*" || media == "application/*" || media.contains("json")
        })
}

fn wants_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn respond(doc: &Document, headers: &HeaderMap) -> Response {
    let gzip = wants_gzip(headers);
    let body = if gzip {
        doc.gzip.get_or_init(|| gzip::compress(&doc.json)).clone()
    } else {
        doc.json.clone()
    };
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", doc.hash)) {
        h.insert(header::ETAG, etag);
    }
    resp
}

/// Answers a request under `/openapi`; `segments` are the path's, `openapi` first.
pub async fn serve(
    version: &'static str,
    segments: &[&str],
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found("the server could not find the requested resource");
    if !accepts_json(headers) {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE.as_u16(),
            "NotAcceptable",
            "the simulator serves its OpenAPI documents as application/json only",
        ));
    }
    let docs = tokio::task::spawn_blocking(move || documents(version))
        .await
        .map_err(|e| ApiError::handler_failed(&e))?;
    let doc = match segments {
        ["openapi", "v2"] => &docs.v2,
        ["openapi", "v3"] => &docs.v3_index,
        ["openapi", "v3", rest @ ..] => docs.v3.get(&rest.join("/")).ok_or_else(unknown)?,
        _ => return Err(unknown()),
    };
    Ok(respond(doc, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v3_index_points_at_each_group_version_by_its_hash() {
        let docs = documents("v1.32.4");
        let index: Value = serde_json::from_slice(&docs.v3_index.json).unwrap();
        let apps = &docs.v3["apis/apps/v1"];
        assert_eq!(
            index["paths"]["apis/apps/v1"]["serverRelativeURL"],
            format!("/openapi/v3/apis/apps/v1?hash={}", apps.hash)
        );
        assert!(index["paths"]["api/v1"].is_object());
        assert!(index["paths"]["apis/policy/v1"].is_object());
        let doc: Value = serde_json::from_slice(&apps.json).unwrap();
        assert_eq!(doc["openapi"], "3.0.0");
        assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());
        assert!(
            doc["components"]["schemas"]
                .get("io.k8s.api.core.v1.Namespace")
                .is_none()
        );
        let v2: Value = serde_json::from_slice(&docs.v2.json).unwrap();
        assert!(v2["definitions"]["io.k8s.api.core.v1.Namespace"].is_object());
        assert!(Arc::ptr_eq(&docs, &documents("v1.32.4")));
    }
}
