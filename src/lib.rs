//! istio-cockpit: a terminal cockpit for live, revision-based Istio upgrades.
//!
//! - `cli`: command-line parsing and the entry point of each command
//! - `sim`: the simulated mesh (a Kubernetes API server with Istio on it) used by `sim`,
//!   `demo` and every test
//! - `bench`: the cockpit measured at scale on the simulated mesh

pub mod app;
pub mod bench;
pub mod cli;
pub mod cluster;
pub mod cockpit;
#[doc(hidden)]
pub mod fixture;
pub mod k8s;
#[cfg(test)]
mod layering;
pub mod mesh;
pub mod metrics;
pub mod plan;
pub mod sim;
pub mod toml_file;
pub mod ui;
