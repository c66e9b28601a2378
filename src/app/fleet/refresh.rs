//! What each cluster of a fleet learns of the others after a pass.

use std::collections::BTreeMap;

use super::Fleet;
use crate::app::actions::Action;
use crate::app::drive::Command;
use crate::app::plan_flow::{plan_record, wave_done};
use crate::app::state::Mode;
use crate::mesh::fleet::{self, Role};
use crate::mesh::records::UpgradeRecord;
use crate::plan::model::Plan;

pub(super) fn facts(fleet: &mut Fleet) {
    let (facts, served) = {
        let members: Vec<fleet::Member<'_>> = fleet
            .members
            .iter()
            .map(|m| {
                let plan = m.state.drive.plan.as_ref();
                fleet::Member {
                    name: &m.name,
                    role: m.role,
                    cluster: &m.state.cluster,
                    upgrade: plan.map(|p| (p.from.as_str(), p.to.as_str())),
                    first_wave_done: plan.is_some_and(|p| wave_done(&m.state, p, 0)),
                }
            })
            .collect();
        let served: Vec<_> = (0..members.len())
            .map(|i| fleet::served_by(&members, i))
            .collect();
        (fleet::facts(&members), served)
    };
    for ((member, facts), served) in fleet.members.iter_mut().zip(facts).zip(served) {
        if member.state.fleet.as_ref() != Some(&facts) {
            member.state.fleet = Some(facts);
        }
        member.state.cluster.set_served_by(served);
    }
}

/// Each cluster's recorded phase, by name, as the primary's record should keep it.
fn phases(fleet: &Fleet, plan: &Plan) -> BTreeMap<String, String> {
    fleet
        .members
        .iter()
        .map(|m| {
            let phase = plan_record(&m.state, plan)
                .map_or_else(|| "not started".to_string(), |u| u.phase.clone());
            (m.name.clone(), phase)
        })
        .collect()
}

/// The write that brings the primary's record of the fleet's phases up to date: only from a
/// primary that drives and has begun the same upgrade, and once per change.
pub(super) fn fleet_record(fleet: &mut Fleet) -> Option<(usize, Command)> {
    let primary = fleet.members.iter().position(|m| {
        m.state
            .fleet
            .as_ref()
            .is_some_and(|f| f.role == Role::Primary)
    })?;
    let state = &fleet.members[primary].state;
    if state.session.mode != Mode::Driver {
        return None;
    }
    let plan = state.drive.plan.as_ref()?;
    let record = plan_record(state, plan)?;
    let wanted = phases(fleet, plan);
    if record.fleet == wanted || fleet.fleet_record_sent.as_ref() == Some(&wanted) {
        return None;
    }
    let summary = wanted
        .iter()
        .map(|(cluster, phase)| format!("{cluster}: {phase}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut command = Command::new(Action::RecordFleet { summary }, BTreeMap::new());
    command.record = Some(UpgradeRecord {
        fleet: wanted.clone(),
        ..record.clone()
    });
    fleet.fleet_record_sent = Some(wanted);
    Some((primary, command))
}
