//! One file per pane.

pub mod banner;
pub mod checks;
pub mod cockpit_log;
pub mod command_line;
pub mod control_planes;
pub mod cross_cluster_line;
pub mod dialog;
pub mod fleet;
pub mod help;
pub mod journal;
pub mod logs;
pub mod metrics;
pub mod namespaces;
pub mod phase_bar;
pub mod pods;
pub mod status_bar;
pub mod traffic;
pub mod triage;
