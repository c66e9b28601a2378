//! What each cluster of a fleet learns of the others after a pass.

use super::Fleet;
use crate::mesh::fleet::{FleetFacts, Role};

pub(super) fn facts(fleet: &mut Fleet) {
    let roles: Vec<Role> = fleet
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.role
                .unwrap_or(if i == 0 { Role::Primary } else { Role::Remote })
        })
        .collect();
    let primary = roles.iter().position(|r| *r == Role::Primary).unwrap_or(0);
    let primary = fleet.members[primary].name.clone();
    for (member, role) in fleet.members.iter_mut().zip(roles) {
        let facts = FleetFacts {
            cluster: member.name.clone(),
            role,
            primary: primary.clone(),
        };
        if member.state.fleet.as_ref() != Some(&facts) {
            member.state.fleet = Some(facts);
        }
    }
}
