//! `pods/log`: `container`, `follow`, `tailLines`, `sinceSeconds`, `timestamps`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::status::ApiError;
use super::{Request, streaming_response};
use crate::sim::SimContext;
use crate::sim::logs::LogLine;

fn format_line(line: &LogLine, timestamps: bool) -> Bytes {
    if timestamps {
        Bytes::from(format!(
            "{} {}\n",
            line.0.to_rfc3339_opts(SecondsFormat::Nanos, true),
            line.1
        ))
    } else {
        Bytes::from(format!("{}\n", line.1))
    }
}

fn number(req: &Request, key: &str) -> Result<Option<i64>, ApiError> {
    req.param(key)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("{key}: invalid number \"{v}\"")))
        })
        .transpose()
}

/// The moment `sinceSeconds` reaches back to; it must be positive and within chrono's range.
fn since_seconds(seconds: i64) -> Result<DateTime<Utc>, ApiError> {
    if seconds < 1 {
        return Err(ApiError::invalid(format!(
            "sinceSeconds: Invalid value: {seconds}: must be greater than 0"
        )));
    }
    chrono::TimeDelta::try_seconds(seconds)
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "sinceSeconds: Invalid value: {seconds}: reaches back further than the simulator can count"
            ))
        })
}

pub async fn serve(ctx: &Arc<SimContext>, req: &Request) -> Result<Response, ApiError> {
    let ns = req.namespace();
    let name = req.target.name.as_deref().unwrap_or_default();
    let pod = ctx
        .store
        .get_value("pods", ns, name)
        .ok_or_else(|| ApiError::not_found(format!("pods \"{name}\" not found")))?;
    let names: Vec<&str> = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| pod["spec"][*f].as_array())
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match req.param("container") {
        Some(c) if names.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None => {
            let default =
                pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].as_str();
            match (
                default,
                pod["spec"]["containers"].as_array().map(Vec::as_slice),
            ) {
                (Some(d), _) => d.to_string(),
                (None, Some([only])) => only["name"].as_str().unwrap_or_default().to_string(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        names.join(" ")
                    )));
                }
            }
        }
    };
    let tail = match number(req, "tailLines")? {
        Some(n) if n < 0 => {
            return Err(ApiError::invalid(format!(
                "tailLines: Invalid value: {n}: must be greater than or equal to 0"
            )));
        }
        n => n.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let since = match number(req, "sinceSeconds")? {
        Some(s) => Some(since_seconds(s)?),
        None => None,
    };
    let timestamps = req.param("timestamps") == Some("true");
    let follow = req.param("follow") == Some("true");
    let (lines, mut live) = ctx.logs.read(ns, name, &container, tail, since);
    if !follow {
        let body: Vec<u8> = lines
            .iter()
            .flat_map(|l| format_line(l, timestamps).to_vec())
            .collect();
        return Ok(streaming_response(Body::from(body), "text/plain"));
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    let store = ctx.store.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        for line in &lines {
            if tx.send(Ok(format_line(line, timestamps))).await.is_err() {
                return;
            }
        }
        let mut check = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tokio::select! {
                line = live.recv() => match line {
                    Ok(line) => if tx.send(Ok(format_line(&line, timestamps))).await.is_err() { return },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
                // A followed log ends when its pod is gone, as the kubelet's does.
                _ = check.tick() => if store.get("pods", &ns, &name).is_none() { return },
                _ = tx.closed() => return,
            }
        }
    });
    Ok(streaming_response(
        Body::from_stream(ReceiverStream::new(rx)),
        "text/plain",
    ))
}
