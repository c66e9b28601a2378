//! istio-cockpit: a terminal cockpit for live, revision-based Istio upgrades.
//!
//! - `cli`: command-line parsing and the entry points of each command
//! - `sim`: the simulated mesh (a Kubernetes API server with Istio on it) used by `sim`,
//!   `demo` and every test

mod cli;
mod sim;

fn main() -> std::process::ExitCode {
    cli::main()
}
