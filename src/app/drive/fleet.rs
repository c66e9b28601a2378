//! What a fleet forbids before any preview: moving a remote's namespaces, waves or tags
//! before the primary is ready (the primary goes first), and migrating anything while the
//! root CA differs between clusters (mTLS across them would fail). Reverting is never
//! refused here.

use super::notice;
use crate::app::state::State;

/// The keys a fleet may refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guarded {
    /// `m`: one namespace.
    Migrate,
    /// `M`: a wave.
    Wave,
    /// `t`: a tag.
    MoveTag,
}

/// Refuses `action` with a notice naming the cluster at fault. Returns true when refused.
pub(crate) fn refuse_in_fleet(state: &mut State, action: Guarded) -> bool {
    let Some(facts) = &state.fleet else {
        return false;
    };
    let why = if let Some(waiting) = &facts.primary_not_ready {
        format!("primary first: {waiting}")
    } else if let Some(mismatch) = facts.ca_mismatch().filter(|_| action != Guarded::MoveTag) {
        format!(
            "root CA mismatch, nothing is migrated until it is fixed: {}",
            mismatch.text
        )
    } else {
        return false;
    };
    notice(state, why);
    true
}

#[cfg(test)]
mod tests;
