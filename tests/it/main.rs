//! The integration tests, built as one binary: one module per area, and `common` for what
//! they share. Linking the crate once, not once per file, keeps CI's builds short.
//!
//! Run one area with a filter: `cargo test --test it drive_e2e::`.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail it loudly on purpose"
)]

mod common;

mod api_http;
mod api_kube;
mod api_kubectl;
mod baselines_e2e;
mod bench_cli;
mod bounded_answers;
mod checks_e2e;
mod cli_habits;
mod cockpit_headless;
mod command_line_e2e;
mod drive_e2e;
mod e2e_terminal;
mod filter_e2e;
mod fleet_e2e;
mod fleet_metrics;
mod fleet_watchers;
mod keys_file_e2e;
mod lease_e2e;
mod mesh_logs;
mod metrics_parsing;
mod plan_files;
mod precheck_cli;
mod prometheus;
mod prometheus_source;
mod prometheus_stock;
mod resume_e2e;
mod rollback_e2e;
mod rollout;
mod screenshots;
mod service_proxy;
mod sidecar_sampling;
mod sim_cli;
mod sim_fleet;
mod sim_fleet_faults;
mod sim_fleet_mesh;
mod sim_kubectl_habits;
mod sim_lint_traps;
mod sim_precheck_kinds;
mod sim_robustness;
mod snapshots;
mod themes;
mod triage_e2e;
mod triage_screens;
mod wave_pacing_e2e;
