//! `/sim/metrics/...`: metrics endpoints for Prometheus.

use axum::response::Response;

use super::SimContext;

pub fn serve(_ctx: &SimContext, _segments: &[&str]) -> Result<Response, String> {
    Err("no metrics yet".into())
}
