//! One file per pane.

pub mod cockpit_log;
pub mod control_planes;
pub mod help;
pub mod logs;
pub mod namespaces;
pub mod pods;
pub mod status_bar;
