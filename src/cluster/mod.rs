//! Everything that talks to the cluster: connecting, watching, following istiod's logs, and
//! `writer`, the one place that writes (never built in read-only mode).

mod answer_text;
mod capped_body;
pub mod connect;
pub mod decode;
pub mod identity;
pub mod inventory;
pub mod istiod_logs;
pub mod lease;
pub mod metrics;
pub mod metrics_source;
pub mod pod_proxy;
pub mod precheck_watchers;
pub mod prometheus_discovery;
pub mod prometheus_source;
pub mod triage;
pub mod watch_loop;
pub mod watchers;
pub mod writer;
