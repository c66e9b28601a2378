//! Acting on the rollback triggers: judging each round of metrics, the namespaces a breach
//! affects, `X` to revert them (previewed, confirmed), and `auto_rollback`, which sends the
//! same reverts by itself when the plan says so and journals why.

use std::collections::BTreeSet;

use super::actions;
use super::drive::{self, Dialog};
use super::effects::Effects;
use super::keymap::KeyAction;
use super::state::{Mode, State};
use crate::metrics::reading::Reading;
use crate::plan::model::Phase;
use crate::plan::triggers::{Finding, Scope};

/// Namespaces with injected pods on `revision`, from the cluster's state.
fn namespaces_on(state: &State, revision: &str) -> BTreeSet<String> {
    state
        .cluster
        .pod_tally
        .namespaces
        .iter()
        .filter(|(_, t)| {
            t.mix
                .keys()
                .any(|(rev, _)| rev.as_deref() == Some(revision))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Takes in a round of metrics: baselines and triggers move on, findings are judged again.
pub fn observe(state: &mut State, effects: &mut Effects, reading: &Reading) {
    let Some(plan) = state.drive.plan.clone() else {
        return;
    };
    let moved = namespaces_on(state, &plan.to);
    state
        .metrics
        .guard
        .observe(reading, &plan, &|ns| moved.contains(ns));
    judge(state, effects, &moved);
}

/// Judges the triggers again (time alone makes numbers stale), then acts if the plan says so.
pub fn refresh(state: &mut State, effects: &mut Effects) {
    let Some(plan) = state.drive.plan.as_ref() else {
        state.metrics.findings.clear();
        state.ui.breach_banner = false;
        return;
    };
    let moved = namespaces_on(state, &plan.to);
    judge(state, effects, &moved);
}

fn judge(state: &mut State, effects: &mut Effects, moved: &BTreeSet<String>) {
    let Some(plan) = state.drive.plan.as_ref() else {
        return;
    };
    // The current wave's namespaces on the new revision must be measured; others are judged
    // when there are numbers for them.
    let required: BTreeSet<String> = match super::plan_flow::current_phase(state, plan) {
        Phase::Wave(i) => state
            .namespace_facts()
            .wave(i)
            .iter()
            .filter(|ns| moved.contains(*ns))
            .cloned()
            .collect(),
        _ => BTreeSet::new(),
    };
    state.metrics.findings =
        state
            .metrics
            .guard
            .evaluate(plan, state.session.now, &required, moved);
    state.drive.auto_rolled_back.retain(|ns| moved.contains(ns));
    let breached = breaches(state).next().is_some();
    state.ui.breach_banner = breached;
    if plan.thresholds.auto_rollback {
        auto_rollback(state, effects);
    }
}

/// The breached triggers, in the order the banner names them.
pub fn breaches(state: &State) -> impl Iterator<Item = &Finding> {
    state.metrics.findings.iter().filter(|f| f.is_breached())
}

fn revertable(state: &State, ns: &str) -> bool {
    state
        .cluster
        .namespaces
        .get(&ns.to_string())
        .is_some_and(|n| actions::recorded_labels(&n.annotations).is_some())
}

fn reverting(state: &State, ns: &str) -> bool {
    state.drive.activity.get(ns).is_some_and(|a| a.reverting)
}

/// The namespaces to revert for the breaches: the namespaces named, or for a breach of the
/// new istiod or of the cross-cluster traffic, every namespace moved onto the new revision by
/// the cockpit. Only namespaces whose labels before the move are recorded, and not already on
/// their way back.
pub fn affected(state: &State) -> Vec<String> {
    let Some(plan) = state.drive.plan.as_ref() else {
        return Vec::new();
    };
    let mut names = BTreeSet::new();
    for finding in breaches(state) {
        match &finding.scope {
            Scope::Namespace(ns) => {
                names.insert(ns.clone());
            }
            Scope::ControlPlane(_) | Scope::CrossCluster(_) => {
                names.extend(namespaces_on(state, &plan.to));
            }
        }
    }
    names
        .into_iter()
        .filter(|ns| {
            revertable(state, ns)
                && !reverting(state, ns)
                && !state.drive.auto_rolled_back.contains(ns)
        })
        .collect()
}

/// `X`: preview reverting every namespace the breaches affect.
pub fn preview(state: &mut State) {
    if let Some(why) = drive::why_not(state) {
        state.ui.notice = Some(why);
        return;
    }
    if breaches(state).next().is_none() {
        state.ui.notice = Some("no rollback trigger is breached".into());
        return;
    }
    let names = affected(state);
    if names.is_empty() {
        state.ui.notice = Some(
            "the breach names no namespace the cockpit can revert (none migrated by it, or all already reverting)"
                .into(),
        );
        return;
    }
    let reason = reason(state);
    let mut lines = vec![format!("breached: {reason}")];
    let mut commands = Vec::new();
    for ns in &names {
        let Some(info) = state.cluster.namespaces.get(ns) else {
            continue;
        };
        match drive::revert_of(info) {
            Ok((mut command, preview)) => {
                command.reason = Some(format!("rollback trigger: {reason}"));
                lines.extend(preview);
                commands.push(command);
            }
            Err(e) => lines.push(format!("{ns}: cannot revert: {e}")),
        }
    }
    if state.session.dry_run {
        lines.push("DRY RUN: sent with dryRun=All, nothing will change".into());
    }
    lines.push(String::new());
    let keys = &state.ui.keys;
    lines.push(format!(
        "{} apply ({} namespaces, one after another) · {} cancel",
        keys.key(KeyAction::Apply),
        commands.len(),
        keys.either(KeyAction::Cancel)
    ));
    state.drive.dialog = Some(Dialog::ConfirmAll {
        title: format!("Revert {}?", names.join(", ")),
        lines,
        commands,
    });
}

/// Every breach, in one line: what the journal keeps as the reason.
fn reason(state: &State) -> String {
    breaches(state)
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// With `auto_rollback = true`: the driver reverts the affected namespaces by itself, through
/// the same commands `X` would send, each journalled with the breach that caused it.
fn auto_rollback(state: &mut State, effects: &mut Effects) {
    if state.session.mode != Mode::Driver || breaches(state).next().is_none() {
        return;
    }
    let names = affected(state);
    if names.is_empty() {
        return;
    }
    let reason = format!("auto_rollback: {}", reason(state));
    let mut sent = Vec::new();
    for ns in names {
        let Some(info) = state.cluster.namespaces.get(&ns) else {
            continue;
        };
        if let Ok((mut command, _)) = drive::revert_of(info) {
            command.reason = Some(reason.clone());
            drive::queue(state, effects, command, Vec::new());
            state.drive.auto_rolled_back.insert(ns.clone());
            sent.push(ns);
        }
    }
    if !sent.is_empty() {
        state.ui.notice = Some(format!("AUTO ROLLBACK: reverting {}", sent.join(", ")));
        log::warn!("auto rollback of {}: {reason}", sent.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Duration as Span;
    use crossterm::event::KeyCode;

    use super::*;
    use crate::app::event::{Event, Watch};
    use crate::app::test_loop::TestLoop;
    use crate::fixture::{Cluster, now};
    use crate::mesh::resources::NamespaceInfo;
    use crate::metrics::reading::Traffic;

    fn traffic(p99: f64) -> Traffic {
        Traffic {
            requests_per_s: 10.0,
            error_ratio: Some(0.0),
            p99_ms: Some(p99),
            mtls_failures_per_s: 0.0,
            sampled_pods: None,
        }
    }

    fn reading(seconds: i64, rev: &str, p99: f64) -> Reading {
        let mut r = Reading {
            at: now() + Span::seconds(seconds),
            source: "test".into(),
            control_plane: BTreeMap::new(),
            data_plane: BTreeMap::new(),
            cross_cluster: None,
            errors: Vec::new(),
        };
        r.data_plane
            .entry("shop".into())
            .or_default()
            .insert(rev.into(), traffic(p99));
        r
    }

    /// `shop` seen at 100 ms on 1-24-0, then migrated by the cockpit (labels recorded) and
    /// running 1-25-0 at `p99` ms for 20 s; the latency trigger wants 10 s.
    fn breached(p99: f64, auto: bool) -> TestLoop {
        let mut c = Cluster::new();
        c.revision("1-24-0")
            .revision("1-25-0")
            .tag("default", "1-24-0");
        c.namespace("shop", &[("istio-injection", "enabled")]);
        c.pod("shop", "web-1", "1-24-0", "1.24.0", true);
        let mut plan = crate::plan::derive(&c.state.cluster).unwrap();
        plan.thresholds.p99_latency_for = std::time::Duration::from_secs(10);
        plan.thresholds.auto_rollback = auto;
        let mut s = TestLoop::new(c.state);
        s.drive.plan = Some(plan);
        for t in [0, 5] {
            observe(&mut s.state, &mut s.effects, &reading(t, "1-24-0", 100.0));
        }
        let mut annotations = BTreeMap::new();
        annotations.insert(
            actions::PREVIOUS.to_string(),
            r#"{"istio-injection":"enabled"}"#.to_string(),
        );
        let ns = NamespaceInfo {
            name: "shop".into(),
            labels: [("istio.io/rev".to_string(), "1-25-0".to_string())].into(),
            annotations,
            created: None,
        };
        s.update(Event::Namespaces(Watch::Apply(ns)), |_, _| 20);
        let mut c = Cluster { state: s.state };
        c.remove_pod("shop", "web-1")
            .pod("shop", "web-2", "1-25-0", "1.25.0", true);
        let mut s = TestLoop {
            state: c.state,
            effects: s.effects,
        };
        for t in [10, 15, 20, 25, 30] {
            s.session.now = now() + Span::seconds(t);
            observe(&mut s.state, &mut s.effects, &reading(t, "1-25-0", p99));
        }
        s
    }

    fn key(s: &mut TestLoop, c: char) {
        s.press(KeyCode::Char(c), |_, _| 20);
    }

    #[test]
    fn x_previews_the_revert_of_the_breached_namespace_and_y_sends_it_with_the_reason() {
        let mut s = breached(400.0, false);
        assert_eq!(affected(&s), ["shop"]);
        key(&mut s, 'X');
        let Some(Dialog::ConfirmAll { title, lines, .. }) = s.drive.dialog.clone() else {
            panic!("{:?}", s.drive.dialog);
        };
        assert_eq!(title, "Revert shop?");
        let text = lines.join("\n");
        assert!(
            text.contains(
                "breached: shop: p99 latency 400 ms (+300% over 100 ms) for 20s, limit +50% for 10s"
            ),
            "{text}"
        );
        assert!(
            text.contains("  label istio-injection: (none) -> enabled"),
            "{text}"
        );
        assert!(
            text.contains("  label istio.io/rev: 1-25-0 -> (removed)"),
            "{text}"
        );
        assert!(s.effects.commands.is_empty(), "nothing is sent before y");
        key(&mut s, 'y');
        assert_eq!(s.effects.commands.len(), 1);
        assert_eq!(s.effects.commands[0].action.target(), "namespace/shop");
        assert!(
            s.effects.commands[0]
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("rollback trigger: shop: p99 latency 400 ms")),
            "{:?}",
            s.effects.commands[0].reason
        );
    }

    #[test]
    fn nothing_breached_or_not_driving_means_x_does_nothing() {
        let mut s = breached(120.0, false);
        key(&mut s, 'X');
        assert!(s.drive.dialog.is_none());
        assert_eq!(
            s.ui.notice.as_deref(),
            Some("no rollback trigger is breached")
        );
        let mut s = breached(400.0, false);
        s.session.mode = Mode::ReadOnly("--read-only".into());
        key(&mut s, 'X');
        assert!(s.drive.dialog.is_none() && s.effects.commands.is_empty());
    }

    #[test]
    fn auto_rollback_sends_the_revert_once_with_the_reason() {
        let mut s = breached(400.0, true);
        let reverts: Vec<_> = s
            .effects
            .commands
            .iter()
            .filter(|c| matches!(c.action, actions::Action::Revert { .. }))
            .collect();
        assert_eq!(reverts.len(), 1, "{:?}", s.effects.commands);
        assert!(
            reverts[0]
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("auto_rollback: shop: p99 latency")),
            "{:?}",
            reverts[0].reason
        );
        assert!(s.ui.notice.as_deref().unwrap().starts_with("AUTO ROLLBACK"));
        // Judged again and again while the revert runs: sent once.
        for t in 31..40 {
            s.session.now = now() + Span::seconds(t);
            refresh(&mut s.state, &mut s.effects);
        }
        let count = s
            .effects
            .commands
            .iter()
            .filter(|c| matches!(c.action, actions::Action::Revert { .. }))
            .count();
        assert_eq!(count, 1);
        // A follower never acts by itself.
        let mut f = breached(400.0, false);
        f.session.mode = Mode::Follower("someone".into());
        f.drive.plan.as_mut().unwrap().thresholds.auto_rollback = true;
        refresh(&mut f.state, &mut f.effects);
        assert!(f.effects.commands.is_empty());
    }
}
