//! The arithmetic of a rolling update, as the Deployment and DaemonSet controllers do it:
//! `maxSurge`/`maxUnavailable` as integers or percentages, and how far each step may scale the
//! new ReplicaSet up and the old ones down. Pure functions, so the rules are unit-tested.

use serde_json::Value;

/// An `IntOrString` field: `3` or `"25%"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i64),
    Percent(i64),
}

impl IntOrPercent {
    /// Reads the field; `None` when it is absent or malformed (the caller's default applies).
    /// Values are kept within an int32, as Kubernetes' are, so the arithmetic cannot overflow.
    pub fn parse(value: &Value) -> Option<IntOrPercent> {
        let bound = |n: i64| n.clamp(0, i64::from(i32::MAX));
        if let Some(n) = value.as_i64() {
            return Some(IntOrPercent::Int(bound(n)));
        }
        let text = value.as_str()?.trim();
        match text.strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse()
                .ok()
                .map(|p: i64| IntOrPercent::Percent(bound(p))),
            None => text.parse().ok().map(|n: i64| IntOrPercent::Int(bound(n))),
        }
    }

    /// The absolute value against `total`; percentages round up or down as asked.
    pub fn scaled(self, total: i64, round_up: bool) -> i64 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let product = p * total.max(0);
                if round_up {
                    (product + 99) / 100
                } else {
                    product / 100
                }
            }
        }
    }
}

/// How far a rolling update may go above and below the desired replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub surge: i64,
    pub unavailable: i64,
}

/// Kubernetes' fenceposts for a Deployment: surge rounds up, unavailability rounds down, and
/// when both come out 0 one pod may be unavailable so the rollout can progress.
pub fn deployment_limits(rolling_update: &Value, desired: i64) -> Limits {
    let default = IntOrPercent::Percent(25);
    let surge = IntOrPercent::parse(&rolling_update["maxSurge"])
        .unwrap_or(default)
        .scaled(desired, true);
    let mut unavailable = IntOrPercent::parse(&rolling_update["maxUnavailable"])
        .unwrap_or(default)
        .scaled(desired, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Limits {
        surge,
        unavailable: unavailable.min(desired.max(0)),
    }
}

/// A DaemonSet's `maxUnavailable` (default 1, percentages round up, at least 1).
pub fn daemonset_max_unavailable(rolling_update: &Value, desired: i64) -> i64 {
    IntOrPercent::parse(&rolling_update["maxUnavailable"])
        .unwrap_or(IntOrPercent::Int(1))
        .scaled(desired, true)
        .max(1)
}

/// What the Deployment controller knows about one ReplicaSet for a rolling step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsCounts {
    /// `spec.replicas`.
    pub replicas: i64,
    /// Pods that are ready and not terminating, at most `replicas` (a ReplicaSet scaled down
    /// removes its unready pods first, so this is what will still be available).
    pub available: i64,
}

/// The new ReplicaSet's next `spec.replicas`: straight to `desired` when scaling it down,
/// otherwise up as far as the surge allows.
pub fn new_replicas(desired: i64, limits: Limits, new: RsCounts, all_replicas: i64) -> i64 {
    if new.replicas >= desired {
        return desired;
    }
    let max_total = desired + limits.surge;
    if all_replicas >= max_total {
        return new.replicas;
    }
    new.replicas + (max_total - all_replicas).min(desired - new.replicas)
}

/// The old ReplicaSets' next `spec.replicas` (same order as `old`, oldest first): first drop
/// their unavailable pods, then scale down available ones while availability stays at or above
/// `desired - maxUnavailable`, counting the new ReplicaSet's pods that are not available yet.
pub fn old_replicas(desired: i64, limits: Limits, new: RsCounts, old: &[RsCounts]) -> Vec<i64> {
    let mut next: Vec<i64> = old.iter().map(|rs| rs.replicas).collect();
    let all = new.replicas + next.iter().sum::<i64>();
    let min_available = desired - limits.unavailable;
    let new_unavailable = new.replicas - new.available;
    let mut budget = all - min_available - new_unavailable;
    if budget <= 0 || next.iter().all(|&r| r == 0) {
        return next;
    }
    for (slot, rs) in next.iter_mut().zip(old) {
        let unhealthy = (*slot - rs.available).max(0);
        let cut = unhealthy.min(budget);
        *slot -= cut;
        budget -= cut;
        if budget == 0 {
            break;
        }
    }
    let available = new.available + old.iter().map(|rs| rs.available).sum::<i64>();
    let mut excess = available - min_available;
    for slot in &mut next {
        if excess <= 0 {
            break;
        }
        let cut = (*slot).min(excess);
        *slot -= cut;
        excess -= cut;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits(surge: Value, unavailable: Value, desired: i64) -> Limits {
        deployment_limits(
            &json!({"maxSurge": surge, "maxUnavailable": unavailable}),
            desired,
        )
    }

    #[test]
    fn percentages_round_surge_up_and_unavailability_down() {
        let l = limits(json!("25%"), json!("25%"), 3);
        assert_eq!((l.surge, l.unavailable), (1, 0));
        let l = limits(json!("25%"), json!("25%"), 10);
        assert_eq!((l.surge, l.unavailable), (3, 2));
        let l = limits(json!("50%"), json!("34%"), 3);
        assert_eq!((l.surge, l.unavailable), (2, 1));
        let l = limits(json!(2), json!(1), 5);
        assert_eq!((l.surge, l.unavailable), (2, 1));
    }

    #[test]
    fn both_zero_means_one_may_be_unavailable() {
        let l = limits(json!(0), json!(0), 4);
        assert_eq!((l.surge, l.unavailable), (0, 1));
        let l = limits(json!("0%"), json!("10%"), 5);
        assert_eq!((l.surge, l.unavailable), (0, 1));
    }

    #[test]
    fn defaults_are_a_quarter_each_and_unavailability_never_exceeds_replicas() {
        assert_eq!(
            deployment_limits(&Value::Null, 8),
            Limits {
                surge: 2,
                unavailable: 2
            }
        );
        let l = limits(json!(0), json!(5), 2);
        assert_eq!(l.unavailable, 2);
    }

    #[test]
    fn malformed_values_fall_back_to_defaults() {
        assert_eq!(IntOrPercent::parse(&json!("x%")), None);
        assert_eq!(IntOrPercent::parse(&json!("3")), Some(IntOrPercent::Int(3)));
        assert_eq!(IntOrPercent::parse(&json!(null)), None);
    }

    #[test]
    fn daemonset_unavailability_rounds_up_and_is_at_least_one() {
        assert_eq!(daemonset_max_unavailable(&json!({}), 4), 1);
        assert_eq!(
            daemonset_max_unavailable(&json!({"maxUnavailable": "10%"}), 4),
            1
        );
        assert_eq!(
            daemonset_max_unavailable(&json!({"maxUnavailable": "30%"}), 10),
            3
        );
        assert_eq!(
            daemonset_max_unavailable(&json!({"maxUnavailable": 0}), 10),
            1
        );
    }

    fn rs(replicas: i64, available: i64) -> RsCounts {
        RsCounts {
            replicas,
            available,
        }
    }

    #[test]
    fn the_new_replicaset_grows_within_the_surge() {
        let l = Limits {
            surge: 1,
            unavailable: 0,
        };
        // 3 old pods, nothing new yet: one extra pod may start.
        assert_eq!(new_replicas(3, l, rs(0, 0), 3), 1);
        // Already at desired + surge: wait.
        assert_eq!(new_replicas(3, l, rs(1, 0), 4), 1);
        // Old ones shrank: grow again, never past desired.
        assert_eq!(new_replicas(3, l, rs(2, 2), 2), 3);
        // Scaling the deployment down shrinks the new ReplicaSet at once.
        assert_eq!(new_replicas(3, l, rs(5, 5), 5), 3);
    }

    #[test]
    fn with_no_unavailability_old_pods_go_only_once_new_ones_are_ready() {
        let l = Limits {
            surge: 1,
            unavailable: 0,
        };
        // The surge pod is not ready yet: keep all old pods.
        assert_eq!(old_replicas(3, l, rs(1, 0), &[rs(3, 3)]), vec![3]);
        // It is ready: one old pod may go.
        assert_eq!(old_replicas(3, l, rs(1, 1), &[rs(3, 3)]), vec![2]);
        // Done when everything new is available.
        assert_eq!(old_replicas(3, l, rs(3, 3), &[rs(1, 1)]), vec![0]);
    }

    #[test]
    fn with_no_surge_old_pods_go_first_down_to_the_unavailability_budget() {
        let l = Limits {
            surge: 0,
            unavailable: 1,
        };
        assert_eq!(new_replicas(4, l, rs(0, 0), 4), 0);
        assert_eq!(old_replicas(4, l, rs(0, 0), &[rs(4, 4)]), vec![3]);
        assert_eq!(new_replicas(4, l, rs(0, 0), 3), 1);
        // The new pod is still starting: nothing more may go.
        assert_eq!(old_replicas(4, l, rs(1, 0), &[rs(3, 3)]), vec![3]);
    }

    #[test]
    fn unhealthy_old_pods_are_cleaned_up_before_healthy_ones_and_oldest_first() {
        let l = Limits {
            surge: 1,
            unavailable: 1,
        };
        // Two old generations: the oldest has two broken pods that may go without loss.
        let next = old_replicas(4, l, rs(1, 1), &[rs(2, 0), rs(2, 2)]);
        assert_eq!(next, vec![0, 2]);
        // While the new pod is still starting, only one of them may go.
        let next = old_replicas(4, l, rs(1, 0), &[rs(2, 0), rs(2, 2)]);
        assert_eq!(next, vec![1, 2]);
        // Availability is 4 of desired 4: one available old pod may go, oldest set first.
        let next = old_replicas(4, l, rs(2, 2), &[rs(1, 1), rs(2, 1)]);
        assert_eq!(next, vec![0, 1]);
    }

    #[test]
    fn availability_never_drops_below_the_minimum_across_a_whole_rollout() {
        for (desired, surge, unavailable) in [(3, 1, 0), (5, 0, 1), (10, 3, 2), (1, 1, 0)] {
            let l = Limits { surge, unavailable };
            let (mut new, mut old) = (rs(0, 0), rs(desired, desired));
            for _ in 0..50 {
                let all = new.replicas + old.replicas;
                new.replicas = new_replicas(desired, l, new, all);
                old.replicas = old_replicas(desired, l, new, &[old])[0];
                old.available = old.available.min(old.replicas);
                assert!(new.available + old.available >= desired - unavailable);
                assert!(new.replicas + old.replicas <= desired + surge);
                // Every started pod becomes ready before the next step.
                new.available = new.replicas;
            }
            assert_eq!((new.replicas, old.replicas), (desired, 0));
        }
    }
}
