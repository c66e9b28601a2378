//! Pod churn for load tests: while the `churn.pods-per-second` fault is set, that many pod
//! updates a second (an annotation bumped), round robin over every pod, each one a MODIFIED
//! event for every watcher.

use std::sync::Arc;
use std::time::Duration;

use super::SimContext;

pub const ANNOTATION: &str = "sim.istio-cockpit.io/churn";
const STEP: Duration = Duration::from_millis(50);

pub async fn run(ctx: Arc<SimContext>) {
    let mut tick = tokio::time::interval(STEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut owed, mut next, mut counter) = (0.0_f64, 0_usize, 0_u64);
    let mut pods: Vec<(String, String)> = Vec::new();
    loop {
        tick.tick().await;
        let rate = ctx.faults.snapshot().churn_pods_per_second;
        if rate <= 0.0 {
            owed = 0.0;
            pods.clear();
            continue;
        }
        if pods.is_empty() || next >= pods.len() {
            pods = ctx
                .store
                .values("pods", None)
                .iter()
                .filter_map(|p| {
                    let m = &p["metadata"];
                    Some((
                        m["namespace"].as_str()?.to_string(),
                        m["name"].as_str()?.to_string(),
                    ))
                })
                .collect();
            next = 0;
            if pods.is_empty() {
                continue;
            }
        }
        owed += rate * STEP.as_secs_f64();
        while owed >= 1.0 && next < pods.len() {
            owed -= 1.0;
            counter += 1;
            let (ns, name) = &pods[next];
            next += 1;
            let stamp = counter.to_string();
            // A pod deleted since the list is simply skipped.
            let _ = ctx.store.modify("pods", ns, name, |pod| {
                let mut pod = pod.clone();
                pod["metadata"]["annotations"][ANNOTATION] = stamp.into();
                Ok(pod)
            });
        }
    }
}
