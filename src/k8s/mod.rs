//! Kubernetes helpers that both the simulated mesh and the cockpit need, and that belong to
//! neither: label and field selectors, parsed once and matched many times, resource
//! quantities, and objects written as YAML.

pub mod quantity;
pub mod selector;
pub mod yaml;
