//! The first wave's precheck gate: nothing found that blocks the upgrade. Overriding it is
//! typing the phase's name, like any gate, and is journalled.

use super::{Gate, GateKind, GateStatus, few, gate};
use crate::precheck::{Finding, Severity};

pub(super) fn no_blockers(checks: Option<&[Finding]>) -> Gate {
    let status = match checks {
        None => GateStatus::Unknown("the precheck has not run yet".into()),
        Some(findings) => {
            let blockers: Vec<String> = findings
                .iter()
                .filter(|f| f.severity == Severity::Blocker)
                .map(|f| format!("{} {}", f.check, f.object))
                .collect();
            if blockers.is_empty() {
                GateStatus::Pass
            } else {
                GateStatus::Fail(format!(
                    "{} blocker{}: {}",
                    blockers.len(),
                    if blockers.len() == 1 { "" } else { "s" },
                    few(&blockers, "; ")
                ))
            }
        }
    };
    gate(GateKind::NoBlockers, "no precheck blockers", status)
}
