//! What the integration tests share: the simulator and kubectl, the cockpit in a terminal,
//! cluster readers, a real Prometheus, and the SVG writer for the README's pictures.

pub mod cluster;
pub mod cockpit_term;
pub mod prometheus;
pub mod sim;
pub mod svg;
pub mod tmux;

pub use sim::{Sim, eventually};
