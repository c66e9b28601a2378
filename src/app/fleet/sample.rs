//! How much of the direct scrape's sample each cluster of a fleet gets. Every sampled sidecar
//! is a page read and parsed every round, per cluster: a fleet of five sampling fully costs
//! five times one cluster. The full sample goes where someone looks or the upgrade moves; a
//! quiet cluster keeps a few pods, its current wave's first, so its triggers and its traffic
//! to the other clusters stay known.

use super::Fleet;
use crate::app::metrics_sample::{MAX_PODS, QUIET_PODS};
use crate::app::plan_flow::{current_phase, started};
use crate::app::state::State;
use crate::plan::model::Phase;

impl Fleet {
    /// The most sidecars cluster `i` samples.
    pub fn sample_room(&self, i: usize) -> usize {
        let Some(member) = self.members.get(i) else {
            return 0;
        };
        if !self.is_fleet() || i == self.selected || moving(&member.state) {
            MAX_PODS
        } else {
            QUIET_PODS
        }
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
