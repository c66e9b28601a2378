//! A fleet: several clusters upgraded as one, the primary first. What one cluster's cockpit
//! state knows of the others, refreshed by the fleet layer as they change.

use std::fmt;

/// A cluster's place in the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Role {
    /// Runs the control plane the remotes use (primary-remote), or one of several
    /// (multi-primary); upgraded first, and where the fleet's phase is recorded.
    #[default]
    Primary,
    /// Upgraded after the primary.
    Remote,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Remote => "remote",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one member of a fleet knows of the fleet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetFacts {
    /// This cluster's name in the fleet.
    pub cluster: String,
    pub role: Role,
    /// The primary's name.
    pub primary: String,
}
