//! `/sim/metrics/...`: metrics endpoints for Prometheus.
//!
//! - `/sim/metrics`: every istiod and sidecar series on one page, labelled with `namespace`,
//!   `pod`, `app` and `istio_io_rev` as Prometheus' pod relabelling would
//! - `/sim/metrics/pods/<ns>/<pod>/<port>`: what that pod serves on that port
//! - `/sim/metrics/targets[/istiod|/envoy-stats]`: the targets, in Prometheus' HTTP
//!   service-discovery format, each scraped from the simulator at its pod's path

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::SimContext;
use super::mesh::{COMBINED_PAGE_TARGETS, CONTENT_TYPE, Target};

fn text(body: String, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// One HTTP service-discovery target group per pod.
fn target_group(address: &str, cluster: Option<&str>, t: &Target) -> Value {
    let instance = match t.ip {
        Some(ip) => format!("{ip}:{}", t.port),
        None => format!("{}.{}:{}", t.pod, t.namespace, t.port),
    };
    let mut group = json!({
        "targets": [address],
        "labels": {
            "__metrics_path__": format!("/sim/metrics/pods/{}/{}/{}", t.namespace, t.pod, t.port),
            "instance": instance,
            "namespace": t.namespace,
            "pod": t.pod,
            "app": t.app,
            "istio_io_rev": t.revision,
        },
    });
    if let Some(cluster) = cluster {
        group["labels"]["cluster"] = json!(cluster);
    }
    group
}

fn targets(ctx: &SimContext, port: Option<u16>) -> Response {
    let groups: Vec<Value> = ctx
        .mesh
        .targets()
        .iter()
        .filter(|t| port.is_none_or(|p| p == t.port))
        .map(|t| target_group(&ctx.server_address, ctx.cluster_name(), t))
        .collect();
    text(Value::Array(groups).to_string(), "application/json")
}

pub fn serve(ctx: &SimContext, segments: &[&str]) -> Result<Response, String> {
    match segments {
        ["metrics"] => Ok(match ctx.mesh.all_metrics() {
            Ok(page) => text(page, CONTENT_TYPE),
            Err(targets) => {
                let mut resp = text(
                    format!(
                        "{targets} pods serve metrics, too many for one page (at most {COMBINED_PAGE_TARGETS}): scrape /sim/metrics/pods/<namespace>/<pod>/<port>, or run Prometheus with the file --prometheus-config-out writes\n"
                    ),
                    "text/plain; charset=utf-8",
                );
                *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                resp
            }
        }),
        ["metrics", "targets"] => Ok(targets(ctx, None)),
        ["metrics", "targets", "istiod"] => Ok(targets(ctx, Some(15014))),
        ["metrics", "targets", "envoy-stats"] => Ok(targets(ctx, Some(15020))),
        ["metrics", "pods", ns, pod, port] => {
            let port: u16 = port
                .parse()
                .map_err(|_| format!("{port:?} is not a port number"))?;
            ctx.mesh
                .pod_metrics(ns, pod, port)
                .map(|page| text(page, CONTENT_TYPE))
                .ok_or_else(|| {
                    format!(
                        "pod {ns}/{pod} serves no metrics on port {port} (istiod pods serve 15014, running injected pods 15020)"
                    )
                })
        }
        _ => Err(format!(
            "no such simulator endpoint /sim/{}; try /sim/metrics, /sim/metrics/targets or /sim/metrics/pods/<namespace>/<pod>/<port>",
            segments.join("/")
        )),
    }
}
