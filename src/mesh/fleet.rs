//! A fleet: several clusters upgraded as one, the primary first. What one cluster's cockpit
//! state knows of the others, refreshed by the fleet layer as they change.
//!
//! - `roles`: who is a primary, who a remote, and which primary serves a remote
//! - `facts`: what each member must know of the fleet: may its waves start, what is wrong
//! - `summary`: one cluster's row of the fleet pane, from its tallies

mod facts;
mod roles;
mod summary;
#[cfg(test)]
mod tests;

use std::fmt;

use super::cluster::Cluster;
use super::pod::PodInfo;

pub use facts::facts;
pub use roles::served_by;
pub use summary::{ClusterSummary, EASTWEST_APP, EastWest, RevisionSummary, eastwest, summary};

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
    /// The primary's name (empty while no member runs istiod).
    pub primary: String,
    /// For a remote: why its waves must wait for the primary; None when they may go.
    pub primary_not_ready: Option<String>,
    /// What is wrong across the fleet, each naming its cluster: the same for every member.
    pub problems: Vec<Problem>,
    /// For the primary: remotes that still have pods on the plan's `from` (and how many),
    /// which its istiod serves, so its old control plane must stay.
    pub remotes_on_from: Vec<(String, usize)>,
}

impl FleetFacts {
    /// The problems of one kind.
    pub fn problems_of(&self, kind: ProblemKind) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.kind == kind)
    }

    /// The first root CA mismatch, if any: a blocker for every migration.
    pub fn ca_mismatch(&self) -> Option<&Problem> {
        self.problems_of(ProblemKind::RootCaMismatch).next()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// The cluster's root CA differs from the fleet's.
    RootCaMismatch,
    /// The cluster's root CA is not seen (yet): the fleet cannot tell it is the same.
    RootCaUnknown,
    /// The east-west gateway is missing or not ready.
    EastWest,
    /// Proxies newer than the control plane that serves them, or two minors behind it.
    Skew,
    /// No remote secret for another member.
    RemoteSecret,
}

/// Something wrong with one member of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The member it is about.
    pub cluster: String,
    /// What is wrong, starting with the cluster's name.
    pub text: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A remote's control plane: the primary's istiod pods, as the primary's watchers saw them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedBy {
    /// The primary's name.
    pub cluster: String,
    pub istiods: Vec<PodInfo>,
}

/// One cluster of the fleet, as the fleet layer hands it over after a batch of events.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub name: &'a str,
    /// As the plan says; None: detected (istiod pods of its own make a primary).
    pub role: Option<Role>,
    pub cluster: &'a Cluster,
    /// The plan's (from, to), when it has one.
    pub upgrade: Option<(&'a str, &'a str)>,
    /// Whether the cluster's first wave is finished.
    pub first_wave_done: bool,
}
