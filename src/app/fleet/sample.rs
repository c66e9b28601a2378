//! How much of the direct scrape's sample each cluster of a fleet gets. Every sampled sidecar
//! is a page read and parsed every round, per cluster: a fleet of five sampling fully costs
//! five times one cluster. The full sample goes where someone looks or the upgrade moves; a
//! quiet cluster keeps a few pods (its current wave's first), read a third as often, so its
//! triggers and its traffic to the other clusters stay known.

use super::Fleet;
use crate::app::metrics_sample::{Budget, FULL, QUIET};
use crate::app::plan_flow::{current_phase, started};
use crate::app::state::State;
use crate::plan::model::Phase;

impl Fleet {
    /// How much cluster `i` samples, and how often.
    pub fn sample_budget(&self, i: usize) -> Budget {
        let quiet = self.is_fleet()
            && i != self.selected
            && self.members.get(i).is_some_and(|m| !moving(&m.state));
        if quiet { QUIET } else { FULL }
    }
}

/// Namespaces on the move, or the upgrade record in a wave: moving it or soaking it.
fn moving(state: &State) -> bool {
    if !state.drive.activity.is_empty() {
        return true;
    }
    let Some(plan) = &state.drive.plan else {
        return false;
    };
    let phase = current_phase(state, plan);
    matches!(phase, Phase::Wave(_)) && started(state, plan, phase).is_some()
}
