//! Pod churn for load tests: while the `churn.pods-per-second` fault is set, that many pod
//! updates a second (an annotation bumped), round robin over every pod, each one a MODIFIED
//! event for every watcher.
//!
//! The round walks the store's keys a slice at a time, so no step reads or parses every pod.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::SimContext;
use super::store::Key;

pub const ANNOTATION: &str = "sim.istio-cockpit.io/churn";
const STEP: Duration = Duration::from_millis(50);
/// Keys fetched at once from the store.
const SLICE: usize = 512;

pub async fn run(ctx: Arc<SimContext>) {
    let mut tick = tokio::time::interval(STEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut owed, mut counter) = (0.0_f64, 0_u64);
    let mut pending: VecDeque<Key> = VecDeque::new();
    // The last key taken, where the next slice starts; `None` starts a new round.
    let mut cursor: Option<Key> = None;
    loop {
        tick.tick().await;
        let rate = ctx.faults.snapshot().churn_pods_per_second;
        if rate <= 0.0 {
            owed = 0.0;
            continue;
        }
        owed += rate * STEP.as_secs_f64();
        while owed >= 1.0 {
            if pending.is_empty() {
                pending.extend(ctx.store.keys_after("pods", cursor.as_ref(), SLICE));
                if pending.is_empty() {
                    // The end of a round, or no pods at all: start over next step.
                    let was_round = cursor.take().is_some();
                    if !was_round {
                        owed = 0.0;
                    }
                    break;
                }
                cursor = pending.back().cloned();
            }
            let Some((ns, name)) = pending.pop_front() else {
                break;
            };
            owed -= 1.0;
            counter += 1;
            let stamp = counter.to_string();
            // A pod deleted since its slice was read is simply skipped.
            let _ = ctx.store.modify("pods", &ns, &name, |pod| {
                let mut pod = pod.clone();
                pod["metadata"]["annotations"][ANNOTATION] = stamp.into();
                Ok(pod)
            });
        }
    }
}
