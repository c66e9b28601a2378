//! The cockpit's state and the pure logic behind it.
//!
//! - `event`, `update`: everything that changes the state, and the one function that does it;
//!   `effects`: what it asks of the loop besides (writes to send, a frame, quitting);
//!   `write_error`: why a write was not done, as the executor reports it; `keymap`: which key
//!   does what (defaults and the user's keys file); `on_key`: keys, read through the keymap,
//!   turned into changes; `command_line`: the `:` commands; `copy`: what `y` and `Y` copy
//! - `state`: the state itself, around the cluster's facts (`crate::mesh::Cluster`);
//!   `fleet`: a state per cluster when the cockpit watches several
//! - `view`: what the filters leave of the panes' rows; `text_match`: the filters' text tests
//! - `drive`, `plan_flow`, `activity`, `rollback`: driving the upgrade, and rolling it back;
//!   `actions`: the upgrade's writes as data; `wave`: pacing a wave (`M`)
//! - `metrics_sample`: which sidecars to scrape when there is no Prometheus;
//!   `pod_revisions`: the pods' revisions for a Prometheus whose series lack them
//! - `triage`: one pod's events, proxy log, proxy status and YAML, as asked and as answered

pub mod actions;
pub mod activity;
pub mod checks;
pub mod command_line;
pub mod copy;
pub mod drive;
pub mod effects;
pub mod event;
pub mod fleet;
pub mod keymap;
pub mod metrics_sample;
pub mod on_key;
pub mod plan_flow;
pub mod pod_revisions;
pub mod rollback;
pub mod state;
pub mod state_filter;
#[cfg(test)]
pub(crate) mod test_loop;
pub mod text_match;
pub mod triage;
pub mod update;
pub mod view;
pub mod wave;
mod write_error;
