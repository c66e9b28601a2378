//! The gates a fleet adds to a member's phases: a remote's waves wait for the primary; every
//! wave needs one root CA, ready east-west gateways and no proxy its serving control plane
//! does not support; the primary's decommission waits for the remotes to leave `from`. Each
//! failing gate names the clusters that fail it.

use super::{Gate, GateKind, GateStatus, few, gate};
use crate::mesh::fleet::{FleetFacts, ProblemKind, Role};
use crate::plan::model::{Phase, Plan};

/// Gates to check before the phase's own (the primary first), and after them.
pub(super) fn gates(facts: &FleetFacts, plan: &Plan, phase: Phase) -> (Vec<Gate>, Vec<Gate>) {
    match phase {
        Phase::Wave(_) => {
            let first = match facts.role {
                Role::Remote => vec![gate(
                    GateKind::PrimaryFirst,
                    "primary first",
                    facts
                        .primary_not_ready
                        .clone()
                        .map_or(GateStatus::Pass, GateStatus::Fail),
                )],
                Role::Primary => Vec::new(),
            };
            let after = vec![
                root_ca(facts),
                problems(
                    facts,
                    GateKind::EastWest,
                    "east-west gateways",
                    ProblemKind::EastWest,
                ),
                problems(facts, GateKind::FleetSkew, "fleet skew", ProblemKind::Skew),
            ];
            (first, after)
        }
        Phase::Decommission if facts.role == Role::Primary => {
            (Vec::new(), vec![remotes_off(facts, &plan.from)])
        }
        _ => (Vec::new(), Vec::new()),
    }
}

fn texts(facts: &FleetFacts, kind: ProblemKind) -> Vec<String> {
    facts.problems_of(kind).map(|p| p.text.clone()).collect()
}

/// One root CA across the fleet: a mismatch fails, a CA not seen yet leaves it unknown.
fn root_ca(facts: &FleetFacts) -> Gate {
    let mismatches = texts(facts, ProblemKind::RootCaMismatch);
    let unknown = texts(facts, ProblemKind::RootCaUnknown);
    let status = if !mismatches.is_empty() {
        GateStatus::Fail(few(&mismatches, "; "))
    } else if !unknown.is_empty() {
        GateStatus::Unknown(few(&unknown, "; "))
    } else {
        GateStatus::Pass
    };
    gate(GateKind::RootCa, "one root CA", status)
}

fn problems(facts: &FleetFacts, kind: GateKind, name: &str, of: ProblemKind) -> Gate {
    let found = texts(facts, of);
    let status = if found.is_empty() {
        GateStatus::Pass
    } else {
        GateStatus::Fail(few(&found, "; "))
    };
    gate(kind, name, status)
}

/// The primary's old istiod serves the remotes' pods still on it: it stays until they move.
fn remotes_off(facts: &FleetFacts, from: &str) -> Gate {
    let on: Vec<String> = facts
        .remotes_on_from
        .iter()
        .map(|(remote, pods)| {
            format!(
                "{remote}: {pods} {} on {from}",
                if *pods == 1 { "pod" } else { "pods" }
            )
        })
        .collect();
    let status = if on.is_empty() {
        GateStatus::Pass
    } else {
        GateStatus::Fail(few(&on, "; "))
    };
    gate(GateKind::RemotesOff, format!("remotes off {from}"), status)
}
