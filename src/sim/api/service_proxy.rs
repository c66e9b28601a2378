//! `services/proxy`: the API server's way into a Service, which the cockpit uses to reach an
//! in-cluster Prometheus.
//!
//! The name segment is `[scheme:]service[:port]`, the port being a service port's name or
//! number; whatever follows `proxy/` is the path on the endpoint, and the query string is
//! passed on as it came. Pod IPs in the simulator are made up, so only endpoints on loopback
//! are dialled: a test or a demo registers a real local server as a Service and its Endpoints.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Request;
use super::status::ApiError;
use crate::sim::SimContext;

/// How long the endpoint has to answer, body included.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer passed back; the simulator buffers it whole.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

fn unavailable(message: impl Into<String>) -> ApiError {
    ApiError::new(503, "ServiceUnavailable", message)
}

/// Splits `[scheme:]service[:port]`; an empty port means none.
fn split_name(raw: &str) -> Result<(&str, Option<&str>), ApiError> {
    let invalid = || ApiError::bad_request(format!("invalid service request {raw:?}"));
    let parts: Vec<&str> = raw.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] => (*scheme, *name, *port),
        _ => return Err(invalid()),
    };
    match scheme {
        "" | "http" => {}
        "https" => {
            return Err(ApiError::bad_request(format!(
                "services/{raw}/proxy: the simulator's service proxy speaks plain HTTP only, drop the https: scheme"
            )));
        }
        _ => return Err(invalid()),
    }
    if name.is_empty() {
        return Err(invalid());
    }
    Ok((name, (!port.is_empty()).then_some(port)))
}

/// The service port asked for by name or number, or the first one when none is named.
fn service_port<'a>(service: &'a Value, wanted: Option<&str>) -> Option<&'a Value> {
    let mut ports = service["spec"]["ports"].as_array()?.iter();
    match wanted {
        None => ports.next(),
        Some(w) => ports.find(|p| {
            p["name"].as_str() == Some(w) || p["port"].as_u64().is_some_and(|n| n.to_string() == w)
        }),
    }
}

/// The first ready address with the endpoint port that carries the service port's name (or
/// a subset's only port).
fn pick_endpoint(endpoints: &Value, port_name: &str) -> Option<(String, u64)> {
    for subset in endpoints["subsets"].as_array()? {
        let Some(ports) = subset["ports"].as_array() else {
            continue;
        };
        let named = ports
            .iter()
            .find(|p| p["name"].as_str().unwrap_or_default() == port_name);
        let port = named
            .or_else(|| (ports.len() == 1).then(|| &ports[0]))
            .and_then(|p| p["port"].as_u64());
        let ip = subset["addresses"]
            .as_array()
            .and_then(|a| a.iter().find_map(|a| a["ip"].as_str()));
        if let (Some(ip), Some(port)) = (ip, port) {
            return Some((ip.to_string(), port));
        }
    }
    None
}

/// The endpoint's address, provided it is on loopback.
fn loopback(ip: &str, port: u64) -> Result<SocketAddr, ApiError> {
    let addr = ip
        .parse::<IpAddr>()
        .ok()
        .filter(IpAddr::is_loopback)
        .zip(u16::try_from(port).ok())
        .map(SocketAddr::from);
    addr.ok_or_else(|| {
        unavailable(format!(
            "the simulator proxies to loopback endpoints only (pod IPs here are simulated), not to {ip}:{port}"
        ))
    })
}

/// Where the request goes: the Service, its port, then its Endpoints.
fn resolve(ctx: &SimContext, ns: &str, raw: &str) -> Result<SocketAddr, ApiError> {
    let (name, port) = split_name(raw)?;
    let service = ctx
        .store
        .get_value("services", ns, name)
        .ok_or_else(|| ApiError::not_found(format!("services \"{name}\" not found")))?;
    let port = service_port(&service, port).ok_or_else(|| {
        unavailable(format!(
            "no service port {:?} found for service \"{name}\"",
            port.unwrap_or_default()
        ))
    })?;
    let port_name = port["name"].as_str().unwrap_or_default();
    let (ip, port) = ctx
        .store
        .get_value("endpoints", ns, name)
        .and_then(|e| pick_endpoint(&e, port_name))
        .ok_or_else(|| unavailable(format!("no endpoints available for service \"{name}\"")))?;
    loopback(&ip, port)
}

pub async fn serve(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    if req.method != Method::GET && req.method != Method::POST {
        return Err(ApiError::method_not_allowed(
            "the simulator's service proxy forwards GET and POST only",
        ));
    }
    let raw = req.target.name.as_deref().unwrap_or_default();
    let addr = resolve(ctx, req.namespace(), raw)?;
    let mut url = format!("http://{addr}/{}", req.target.rest);
    if req.uri.path().ends_with('/') && !req.target.rest.is_empty() {
        url.push('/');
    }
    if let Some(query) = req.uri.query() {
        url.push('?');
        url.push_str(query);
    }
    let outgoing = Outgoing {
        method: req.method.clone(),
        url,
        headers: &req.headers,
        body: req.body.clone(),
    };
    forward(outgoing, addr, UPSTREAM_TIMEOUT).await
}

struct Outgoing<'a> {
    method: Method,
    url: String,
    headers: &'a HeaderMap,
    body: Bytes,
}

/// One client for every proxied request, built on first use.
fn client() -> Result<&'static reqwest::Client, ApiError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let built = CLIENT.get_or_init(|| {
        // reqwest carries TLS support and wants a process-wide provider, even for plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            // Pooled connections belong to the runtime that opened them; tests run many.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| e.to_string())
    });
    built.as_ref().map_err(|e| {
        ApiError::new(
            500,
            "InternalError",
            format!("the simulator cannot build its HTTP client: {e}"),
        )
    })
}

/// The error and its causes on one line, e.g. `... : tcp connect error: Connection refused`.
fn causes(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Sends the request on, with only its Content-Type and Accept headers (never the caller's
/// credentials), and hands back the endpoint's status, Content-Type and body.
async fn forward(
    out: Outgoing<'_>,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<Response, ApiError> {
    let mut request = client()?.request(out.method, &out.url).body(out.body);
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = out.headers.get(&name) {
            request = request.header(name, value.clone());
        }
    }
    let failed = |e: reqwest::Error| {
        unavailable(format!(
            "error trying to reach service at {addr}: {}",
            causes(&e)
        ))
    };
    let exchange = async {
        let mut resp = request.send().await.map_err(failed)?;
        let status = resp.status();
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(unavailable(format!(
                    "the answer from {addr} is larger than the simulator passes on ({MAX_ANSWER} bytes)"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, content_type, body))
    };
    let timed_out = |_| {
        ApiError::new(
            504,
            "Timeout",
            format!(
                "the endpoint {addr} did not answer within {}s",
                timeout.as_secs_f32()
            ),
        )
    };
    let (status, content_type, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(timed_out)??;
    let mut resp = (status, body).into_response();
    if let Some(ct) = content_type {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_segments() {
        assert_eq!(split_name("prom").unwrap(), ("prom", None));
        assert_eq!(split_name("prom:9090").unwrap(), ("prom", Some("9090")));
        assert_eq!(split_name("http:prom:web").unwrap(), ("prom", Some("web")));
        assert_eq!(split_name(":prom:").unwrap(), ("prom", None));
        assert_eq!(split_name("https:prom:9090").unwrap_err().code, 400);
        assert_eq!(split_name("ftp:prom:21").unwrap_err().code, 400);
        assert_eq!(split_name(":9090").unwrap_err().code, 400);
        assert_eq!(split_name("a:b:c:d").unwrap_err().code, 400);
    }

    #[test]
    fn ports_by_name_number_or_first() {
        let svc = json!({"spec": {"ports": [
            {"name": "web", "port": 9090}, {"name": "grpc", "port": 10901}
        ]}});
        assert_eq!(service_port(&svc, None).unwrap()["name"], "web");
        assert_eq!(service_port(&svc, Some("grpc")).unwrap()["port"], 10901);
        assert_eq!(service_port(&svc, Some("10901")).unwrap()["name"], "grpc");
        assert!(service_port(&svc, Some("80")).is_none());
        assert!(service_port(&json!({"spec": {}}), None).is_none());
    }

    #[test]
    fn endpoints_by_port_name_and_readiness() {
        let eps = json!({"subsets": [
            {"notReadyAddresses": [{"ip": "127.0.0.2"}], "ports": [{"name": "web", "port": 1}]},
            {"addresses": [{"ip": "127.0.0.1"}],
             "ports": [{"name": "grpc", "port": 2}, {"name": "web", "port": 3}]}
        ]});
        assert_eq!(pick_endpoint(&eps, "web"), Some(("127.0.0.1".into(), 3)));
        assert_eq!(pick_endpoint(&eps, "metrics"), None);
        let single = json!({"subsets": [{"addresses": [{"ip": "::1"}], "ports": [{"port": 4}]}]});
        assert_eq!(pick_endpoint(&single, "web"), Some(("::1".into(), 4)));
        assert_eq!(pick_endpoint(&json!({}), ""), None);
    }

    #[test]
    fn only_loopback_is_dialled() {
        assert!(loopback("127.0.0.1", 9090).is_ok());
        assert!(loopback("127.3.2.1", 9090).is_ok());
        assert_eq!(loopback("::1", 9090).unwrap().to_string(), "[::1]:9090");
        for ip in [
            "10.1.2.3",
            "0.0.0.0",
            "169.254.169.254",
            "localhost",
            "fe80::1",
        ] {
            assert_eq!(loopback(ip, 9090).unwrap_err().code, 503, "{ip}");
        }
        assert_eq!(loopback("127.0.0.1", 70000).unwrap_err().code, 503);
    }

    fn get(url: String, headers: &HeaderMap) -> Outgoing<'_> {
        Outgoing {
            method: Method::GET,
            url,
            headers,
            body: Bytes::new(),
        }
    }

    #[tokio::test]
    async fn a_silent_endpoint_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and then says nothing.
        let keep = tokio::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(conn);
        });
        let headers = HeaderMap::new();
        let err = forward(
            get(format!("http://{addr}/"), &headers),
            addr,
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, 504, "{}", err.message);
        keep.abort();
    }

    #[tokio::test]
    async fn a_closed_port_is_unavailable() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let headers = HeaderMap::new();
        let err = forward(
            get(format!("http://{addr}/metrics"), &headers),
            addr,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, 503);
        assert!(err.message.contains(&addr.to_string()), "{}", err.message);
    }
}
