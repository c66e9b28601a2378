//! `pods/proxy`: istiod's `:15014/metrics` and a sidecar's `:15020/stats/prometheus`.

use std::sync::Arc;

use axum::response::Response;

use super::Request;
use super::status::ApiError;
use crate::sim::SimContext;

pub fn serve(_ctx: &Arc<SimContext>, _req: &Request) -> Result<Response, ApiError> {
    Err(ApiError::not_found("not yet"))
}
