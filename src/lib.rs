//! istio-cockpit: a terminal cockpit for live, revision-based Istio upgrades.
//!
//! The layers, from the edge inwards (`layering` checks the direction on every test run):
//!
//! - `cli`: command-line parsing and the entry point of each command
//! - `cockpit`: the loop: the terminal, the sources' tasks, the executor and the lease keeper
//! - `cluster`: everything that talks to the API server: watchers, istiod's logs, metrics
//!   sources, the driver lease, and `writer`, the one place that writes
//! - `app`: the state and `update`, the one function that changes it; driving the upgrade
//! - `ui`: `draw(&State)` and the panes, themes and layout; it only reads
//! - `plan`: the upgrade plan: its file, the derived plan, gates and rollback triggers
//! - `metrics`: the pure core of the metrics: parsing, rates, quantiles, triggers
//! - `precheck`: the checks run before an upgrade, pure: an inventory of one cluster in,
//!   findings out, and their reports
//! - `mesh`: the domain: the Istio and Kubernetes facts the cockpit reasons about
//! - `k8s`: Kubernetes helpers the simulator and the cockpit share (label selectors,
//!   quantities)
//! - `toml_file`: TOML files read into typed values, with the file, line and field of a mistake
//! - `sim`: the simulated mesh (a Kubernetes API server with Istio on it) used by `sim`,
//!   `demo`, `bench` and every test; it depends on nothing of the cockpit
//! - `bench`: the cockpit measured at scale on the simulated mesh
//! - `fixture`: the demo-shaped state the unit tests, integration tests and benches share

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
pub mod precheck;
pub mod sim;
pub mod toml_file;
pub mod ui;
