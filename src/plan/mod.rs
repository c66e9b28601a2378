//! The upgrade plan, as pure functions of the cockpit's state.
//!
//! - `model`: the plan, its waves, thresholds and phases
//! - `derive`: the plan proposed from the live cluster when no `--plan` file is given
//! - `file`: the `--plan` TOML file: parsing with line-accurate errors, completion, writing
//! - `gates`: what must hold before the upgrade leaves a phase
//! - `triggers`: the rollback triggers: thresholds judged against the metrics, with baselines
//! - `duration`: `90s`, `30m`, `1h30m` as plans write durations

pub mod derive;
pub mod duration;
pub mod file;
pub mod gates;
pub mod model;
pub mod triggers;

pub use derive::derive;
pub use file::{PlanError, PlanFile, load, parse, resolve};
pub use gates::{Gate, GateInput, GateStatus, all_pass, evaluate};
pub use model::{NamespaceSelector, Phase, Plan, Thresholds, Wave};
