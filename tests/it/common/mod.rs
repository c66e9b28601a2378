//! What the integration tests share: the simulator and kubectl, clients of its API server,
//! the cockpit in a terminal, cluster readers, a real Prometheus, files to read, and the SVG
//! writer for the README's pictures.

pub mod clients;
pub mod cluster;
pub mod cockpit_term;
pub mod files;
pub mod journal;
pub mod prometheus;
pub mod sidecars;
pub mod sim;
pub mod svg;
pub mod tmux;

pub use sim::{Sim, eventually};
