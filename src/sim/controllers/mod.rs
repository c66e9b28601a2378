//! The simulator's controllers.

use std::sync::Arc;

use super::SimContext;

pub fn spawn(_ctx: Arc<SimContext>) {}
