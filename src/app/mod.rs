//! The cockpit's state and the pure logic behind it.
//!
//! - `event`, `update`: everything that changes the state, and the one function that does it;
//!   `keymap`: which key does what (defaults and the user's keys file); `on_key`: keys, read
//!   through the keymap, turned into changes
//! - `state`, `collection`, `logs`: the state itself; `tally`: counts of its pods, kept as they change
//! - `view`: rows the panes show, derived on demand; `text_match`: the filters' text tests;
//!   `namespace_facts`: what the namespaces' labels select, kept until they change; `sorted_join`:
//!   many names looked up in one walk
//! - `drive`, `plan_flow`, `activity`, `rollback`: driving the upgrade, and rolling it back;
//!   `wave`: pacing a wave (`M`); `manual_restart`: pods a rollout restart cannot move
//! - `metrics_sample`: which sidecars to scrape when there is no Prometheus
//! - `version`, `pod`, `resources`, `injection`, `istiod_log`: Istio's facts; `pod_fields`: the
//!   parts of a Pod decoded from the API

pub mod actions;
pub mod activity;
pub mod collection;
pub mod drive;
pub mod event;
pub mod injection;
pub mod istiod_log;
pub mod keymap;
pub mod logs;
pub mod manual_restart;
pub mod metrics_sample;
pub mod namespace_facts;
pub mod on_key;
pub mod plan_flow;
pub mod pod;
pub mod pod_fields;
pub mod records;
pub mod resources;
pub mod rollback;
pub mod sorted_join;
pub mod state;
pub mod tally;
pub mod text_match;
pub mod update;
pub mod version;
pub mod view;
pub mod wave;
