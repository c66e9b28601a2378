//! `pods/proxy`: istiod's `:15014/metrics` and `:15014/debug/syncz`, and a sidecar's
//! `:15020/stats/prometheus`.
//!
//! The name segment is `<pod>:<port>` (or `<scheme>:<pod>:<port>`), as kubectl and the API
//! server write it; whatever follows `proxy/` is the path on the pod.
//!
//! With the fault `stats.endless.<rev>`, a sidecar of that revision serves its page and then
//! comment lines without end, as a proxy a tenant tampered with might.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};

use super::Request;
use super::status::ApiError;
use crate::sim::SimContext;
use crate::sim::mesh::CONTENT_TYPE;

/// Splits `[scheme:]pod[:port]`.
fn split_name(raw: &str) -> (&str, Option<&str>) {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        [pod] => (pod, None),
        [pod, port] => (pod, Some(port)),
        [_scheme, pod, port] => (pod, Some(port)),
        _ => (raw, None),
    }
}

pub fn serve(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    if req.method != Method::GET {
        return Err(ApiError::method_not_allowed(
            "the simulator's pod proxy answers GET only",
        ));
    }
    let ns = req.namespace();
    let raw = req.target.name.as_deref().unwrap_or_default();
    let (pod, port) = split_name(raw);
    let Some(object) = ctx.store.get_value("pods", ns, pod) else {
        return Err(ApiError::not_found(format!("pods \"{pod}\" not found")));
    };
    let Some(port) = port else {
        return Err(ApiError::not_found(format!(
            "pod {ns}/{pod}: name a port to proxy to, e.g. pods/{pod}:15020/proxy/stats/prometheus (sidecar) or pods/{pod}:15014/proxy/metrics (istiod)"
        )));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid port {port:?} in pods/{raw}/proxy")))?;
    let path = req.target.rest.trim_matches('/');
    if port == 15014 && path == "debug/syncz" {
        return syncz(ctx, ns, pod, req.param("namespace"));
    }
    let wanted = match port {
        15014 => "metrics",
        15020 => "stats/prometheus",
        _ => "",
    };
    let page = (!wanted.is_empty() && path == wanted)
        .then(|| ctx.mesh.pod_metrics(ns, pod, port))
        .flatten()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "pod {ns}/{pod} serves nothing at :{port}/{path} (istiod pods serve :15014/metrics, running injected pods :15020/stats/prometheus)"
            ))
        })?;
    let revision = object["metadata"]["annotations"]["istio.io/rev"].as_str();
    let endless = port == 15020
        && revision.is_some_and(|rev| ctx.faults.snapshot().stats_endless.contains(rev));
    let mut resp = if endless {
        Body::from_stream(endless_page(page)).into_response()
    } else {
        page.into_response()
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(resp)
}

/// istiod's sync status of its proxies, as JSON.
fn syncz(
    ctx: &Arc<SimContext>,
    ns: &str,
    pod: &str,
    namespace: Option<&str>,
) -> Result<Response, ApiError> {
    let body = ctx.mesh.syncz(ns, pod, namespace).ok_or_else(|| {
        ApiError::not_found(format!(
            "pod {ns}/{pod} serves nothing at :15014/debug/syncz (only running istiod pods do)"
        ))
    })?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// `page`, then 64 KiB chunks of comment lines, forever.
fn endless_page(page: String) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let filler = Bytes::from("# endless\n".repeat(64 * 1024 / 10));
    futures::stream::once(async move { Ok(Bytes::from(page)) })
        .chain(futures::stream::repeat_with(move || Ok(filler.clone())))
}

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn names_with_ports_and_schemes() {
        assert_eq!(split_name("istiod-x:15014"), ("istiod-x", Some("15014")));
        assert_eq!(split_name("http:cart-1:15020"), ("cart-1", Some("15020")));
        assert_eq!(split_name("cart-1"), ("cart-1", None));
    }
}
