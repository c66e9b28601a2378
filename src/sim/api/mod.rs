//! The simulated Kubernetes API server: one handler that parses request paths the way the
//! real API server lays them out, checks the caller's token, applies API faults and hands
//! the request to the read, write, log or proxy side.

mod discovery;
mod field_validation;
mod logs;
mod openapi;
mod protobuf;
mod proxy;
mod read;
mod scale;
mod service_proxy;
pub mod status;
pub mod table;
mod watch;
pub mod write;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::SimContext;
use super::resources::{self, ResourceDef};
use status::ApiError;

/// Requests larger than this are refused with 413, as the API server does (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

pub fn router(ctx: Arc<SimContext>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(ctx)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Viewer,
}

/// A request aimed at a resource: `/api/v1/namespaces/{ns}/{plural}/{name}/{sub}/...`.
#[derive(Debug)]
pub struct Target {
    pub def: &'static ResourceDef,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// Whatever follows the subresource (the proxied path).
    pub rest: String,
}

pub struct Request {
    pub method: Method,
    /// As it arrived, for the raw query string a proxy passes on.
    pub uri: Uri,
    pub target: Target,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub role: Role,
}

impl Request {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
    pub fn header(&self, key: &str) -> &str {
        self.headers
            .get(key)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
    pub fn namespace(&self) -> &str {
        self.target.namespace.as_deref().unwrap_or_default()
    }
}

pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut resp = (status, value.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn ok(value: &Value) -> Response {
    json_response(StatusCode::OK, value)
}

async fn handle(
    State(ctx): State<Arc<SimContext>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Its own task, so that a bug that panics answers this request with a Status instead of
    // dropping the connection; the store recovers its lock (see `Store::write`).
    let answer = tokio::spawn(route(ctx, method, uri, headers, body)).await;
    match answer {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::handler_failed(&e).into_response(),
    }
}

/// The caller's role from its bearer token; a request without one is anonymous (`None`), a
/// token the simulator did not issue is refused.
fn role_of(ctx: &SimContext, headers: &HeaderMap) -> Result<Option<Role>, ApiError> {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    match auth.to_str().ok().and_then(|a| a.strip_prefix("Bearer ")) {
        Some(t) if t == ctx.admin_token => Ok(Some(Role::Admin)),
        Some(t) if t == ctx.viewer_token => Ok(Some(Role::Viewer)),
        _ => Err(ApiError::unauthorized()),
    }
}

/// What anyone may ask without a token, as the API server's `system:public-info-viewer`.
fn is_public(segments: &[&str]) -> bool {
    matches!(segments, ["version" | "healthz" | "readyz" | "livez"])
}

async fn route(
    ctx: Arc<SimContext>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let path = uri.path().to_string();
    let query: HashMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();

    let role = role_of(&ctx, &headers)?;
    if role.is_none() && !is_public(&segments) {
        return Err(ApiError::unauthorized());
    }
    if segments.first() == Some(&"sim") {
        // The target lists grow with the mesh: built off the async workers too.
        let rest: Vec<String> = segments[1..].iter().map(ToString::to_string).collect();
        let ctx = ctx.clone();
        return tokio::task::spawn_blocking(move || {
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            super::metrics_http::serve(&ctx, &rest)
        })
        .await
        .map_err(|e| ApiError::handler_failed(&e))?
        .map_err(ApiError::not_found);
    }
    // The faults ConfigMap stays reachable whatever the faults, so they can be switched off.
    let fault_switch = segments.as_slice()
        == [
            "api",
            "v1",
            "namespaces",
            super::faults::NAMESPACE,
            "configmaps",
            super::faults::CONFIGMAP,
        ];
    let faults = if fault_switch {
        Default::default()
    } else {
        ctx.faults.snapshot()
    };
    if faults.api_latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.api_latency_ms)).await;
    }
    let is_api = matches!(segments.first(), Some(&"api" | &"apis"));
    if is_api && faults.api_error_rate > 0.0 && rand::random::<f64>() < faults.api_error_rate {
        return Err(ApiError::new(
            500,
            "InternalError",
            "Internal error occurred: injected by the simulator's api.error-rate fault",
        ));
    }

    if segments.first() == Some(&"openapi") {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(
                "the OpenAPI documents are only read",
            ));
        }
        if let Some(log) = &ctx.request_log {
            log.record(&format!("get {method} {uri}"));
        }
        return openapi::serve(ctx.kubernetes_version, &segments, &headers).await;
    }
    match segments.as_slice() {
        ["version"] => return Ok(ok(&discovery::version(ctx.kubernetes_version))),
        ["healthz" | "readyz" | "livez"] => return Ok("ok".into_response()),
        ["api"] => return Ok(ok(&discovery::core_versions(&ctx.server_address))),
        ["apis"] => return Ok(ok(&discovery::group_list())),
        ["api", "v1"] => {
            return discovery::resource_list("")
                .map(|v| ok(&v))
                .ok_or_else(|| ApiError::not_found("the core group is not served"));
        }
        ["apis", group] => {
            return discovery::group(group).map(|v| ok(&v)).ok_or_else(|| {
                ApiError::not_found(format!(
                    "the server could not find the requested resource (group {group})"
                ))
            });
        }
        ["apis", group, "v1"] => {
            return discovery::resource_list(group)
                .map(|v| ok(&v))
                .ok_or_else(|| {
                    ApiError::not_found("the server could not find the requested resource")
                });
        }
        _ => {}
    }
    let target = parse_target(&segments)?;
    let Some(role) = role else {
        return Err(ApiError::unauthorized());
    };
    let request = Request {
        method,
        uri,
        target,
        query,
        headers,
        body,
        role,
    };
    if let Some(log) = &ctx.request_log {
        log.record(&format!(
            "{} {} {}",
            verb(&request),
            request.method,
            request.uri
        ));
    }
    authorize(&request)?;
    dispatch(&ctx, request).await
}

fn parse_target(segments: &[&str]) -> Result<Target, ApiError> {
    let unknown = || ApiError::not_found("the server could not find the requested resource");
    let (group, rest) = match segments {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, "v1", rest @ ..] => (*group, rest),
        _ => return Err(unknown()),
    };
    let lookup = |plural: &str| resources::find(group, "v1", plural);
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, rest @ ..] if lookup(plural).is_some_and(|d| d.namespaced) => {
            (Some(ns.to_string()), [&[*plural][..], rest].concat())
        }
        _ => (None, rest.to_vec()),
    };
    let Some((plural, rest)) = rest.split_first() else {
        return Err(unknown());
    };
    let def = lookup(plural).ok_or_else(|| {
        ApiError::not_found(format!(
            "the server could not find the requested resource ({plural})"
        ))
    })?;
    if namespace.is_none() && def.namespaced && !rest.is_empty() {
        return Err(ApiError::not_found(format!(
            "{} are namespaced: the path needs /namespaces/<namespace>/",
            def.plural
        )));
    }
    let name = rest.first().map(ToString::to_string);
    let subresource = rest.get(1).map(ToString::to_string);
    if let Some(sub) = &subresource
        && !def.subresources.contains(&sub.as_str())
    {
        return Err(unknown());
    }
    Ok(Target {
        def,
        namespace,
        name,
        subresource,
        rest: rest.iter().skip(2).copied().collect::<Vec<_>>().join("/"),
    })
}

pub fn verb(req: &Request) -> &'static str {
    let named = req.target.name.is_some();
    match req.method {
        Method::GET if req.param("watch").is_some_and(|w| w == "true" || w == "1") => "watch",
        Method::GET if named => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

/// What a role may do: the admin everything, the viewer get, list and watch.
pub fn allowed(role: Role, verb: &str) -> bool {
    role == Role::Admin || matches!(verb, "get" | "list" | "watch")
}

fn authorize(req: &Request) -> Result<(), ApiError> {
    let verb = verb(req);
    // Anyone may ask what they are allowed to do, as with Kubernetes' basic-user role.
    if allowed(req.role, verb) || resources::is_virtual(req.target.def.plural) {
        return Ok(());
    }
    let resource = match &req.target.subresource {
        Some(sub) => format!("{}/{sub}", req.target.def.plural),
        None => req.target.def.plural.to_string(),
    };
    let group = if req.target.def.group.is_empty() {
        "\"\"".to_string()
    } else {
        format!("\"{}\"", req.target.def.group)
    };
    let scope = match &req.target.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let name = req
        .target
        .name
        .as_deref()
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default();
    Err(ApiError::forbidden(format!(
        "{resource}{name} is forbidden: User \"sim-viewer\" cannot {verb} resource \"{resource}\" in API group {group} {scope}"
    )))
}

async fn dispatch(ctx: &Arc<SimContext>, req: Request) -> Result<Response, ApiError> {
    if req.target.def.plural == "selfsubjectaccessreviews" {
        return access_review(&req);
    }
    if req.target.def.plural == "selfsubjectreviews" {
        return who_am_i(&req);
    }
    match (req.target.subresource.as_deref(), verb(&req)) {
        (Some("log"), "get") => logs::serve(ctx, &req).await,
        (Some("log"), v) => Err(ApiError::method_not_allowed(format!(
            "{v} is not supported on pods/log"
        ))),
        (Some("proxy"), _) if req.target.def.plural == "services" => {
            service_proxy::serve(ctx, &req).await
        }
        (Some("proxy"), _) => proxy::serve(ctx, &req),
        (Some("scale"), "get") => scale::get(ctx, &req),
        (Some("scale"), "update") => scale::write(ctx, &req, None),
        (Some("scale"), "patch") => {
            let kind = crate::sim::patch::PatchKind::from_content_type(req.header("content-type"))
                .ok_or_else(|| {
                    ApiError::new(
                        415,
                        "UnsupportedMediaType",
                        "unsupported patch content type",
                    )
                })?;
            scale::write(ctx, &req, Some(kind))
        }
        (_, "watch") => off_the_workers(ctx, req, watch::serve).await,
        (_, "get") => read::get(ctx, &req),
        (_, "list") => off_the_workers(ctx, req, read::list).await,
        (_, "create") => write::create(ctx, &req),
        (_, "update") => write::update(ctx, &req),
        (_, "patch") => write::patch(ctx, &req),
        (_, "delete") => write::delete(ctx, &req),
        (_, v) => Err(ApiError::method_not_allowed(format!(
            "the simulator does not support {v} here"
        ))),
    }
}

/// Runs a handler whose work grows with the number of objects (a LIST, a watch's initial
/// snapshot, a Table of 50,000 rows) on the blocking pool, so the async workers stay free to
/// accept connections and answer small requests meanwhile.
async fn off_the_workers(
    ctx: &Arc<SimContext>,
    req: Request,
    handler: fn(&Arc<SimContext>, &Request) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || handler(&ctx, &req))
        .await
        .map_err(|e| ApiError::handler_failed(&e))?
}

pub fn streaming_response(body: Body, content_type: &'static str) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// SelfSubjectReview: names the caller, as `kubectl auth whoami` shows it.
fn who_am_i(req: &Request) -> Result<Response, ApiError> {
    if verb(req) != "create" {
        return Err(ApiError::method_not_allowed(
            "selfsubjectreviews only support create",
        ));
    }
    // The body says nothing the answer needs, but a real API server decodes it all the same.
    // kubectl sends it as protobuf, which the simulator does not decode: only JSON is checked.
    let content_type = req.header("content-type");
    if content_type.is_empty() || content_type.contains("json") {
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
        })?;
        crate::sim::validation::check("selfsubjectreviews", &body)?;
    }
    let (user, groups) = match req.role {
        Role::Admin => ("sim-admin", ["system:masters", "system:authenticated"]),
        Role::Viewer => ("sim-viewer", ["sim:viewers", "system:authenticated"]),
    };
    let review = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "SelfSubjectReview",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user, "groups": groups}},
    });
    Ok(json_response(StatusCode::CREATED, &review))
}

/// SelfSubjectAccessReview: answers whether the caller may do `spec.resourceAttributes.verb`.
fn access_review(req: &Request) -> Result<Response, ApiError> {
    if verb(req) != "create" {
        return Err(ApiError::method_not_allowed(
            "selfsubjectaccessreviews only support create",
        ));
    }
    let mut review: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let attrs = &review["spec"]["resourceAttributes"];
    let asked = attrs["verb"].as_str().unwrap_or_default().to_string();
    if asked.is_empty() {
        return Err(ApiError::invalid(
            "spec.resourceAttributes.verb is required",
        ));
    }
    let ok = allowed(req.role, &asked);
    review["status"] = serde_json::json!({
        "allowed": ok,
        "reason": if ok { "allowed by the simulator's role" } else { "the sim-viewer user may only get, list and watch" },
    });
    review["apiVersion"] = serde_json::json!("authorization.k8s.io/v1");
    review["kind"] = serde_json::json!("SelfSubjectAccessReview");
    Ok(json_response(StatusCode::CREATED, &review))
}
