use chrono::Duration as Span;

use super::*;
use crate::fixture::{Cluster, at, demo, now};
use crate::plan::derive::derive;

fn gates(c: &Cluster, plan: &Plan, phase: Phase, started: Option<DateTime<Utc>>) -> Vec<Gate> {
    wave_gates(c, plan, phase, started, None)
}

fn wave_gates(
    c: &Cluster,
    plan: &Plan,
    phase: Phase,
    started: Option<DateTime<Utc>>,
    finished: Option<DateTime<Utc>>,
) -> Vec<Gate> {
    evaluate(&GateInput {
        cluster: &c.state.cluster,
        fleet: c.state.fleet.as_ref(),
        metrics: c.state.metrics.readings.back(),
        findings: &c.state.metrics.findings,
        checks: c.state.checks.findings.as_deref(),
        plan,
        phase,
        started,
        finished,
        now: now(),
    })
}

fn statuses(gates: &[Gate]) -> Vec<(&str, &GateStatus)> {
    gates.iter().map(|g| (g.name.as_str(), &g.status)).collect()
}

fn fail(text: &str) -> GateStatus {
    GateStatus::Fail(text.into())
}

fn minutes_ago(m: i64) -> Option<DateTime<Utc>> {
    Some(now() - Span::minutes(m))
}

fn healthy(p99_ms: f64) -> crate::metrics::reading::Traffic {
    crate::metrics::reading::Traffic {
        requests_per_s: 10.0,
        error_ratio: Some(0.0),
        p99_ms: Some(p99_ms),
        mtls_failures_per_s: 0.0,
        sampled_pods: None,
    }
}

/// Healthy numbers for staging-web and the new istiod, with a baseline from before the
/// move, judged as the cockpit judges them.
fn measured(c: &mut Cluster, plan: &Plan) {
    use crate::metrics::reading::Reading;
    c.state.drive.plan = Some(plan.clone());
    c.state.session.now = now();
    let mut before = Reading {
        at: now() - Span::seconds(10),
        source: "test".into(),
        control_plane: Default::default(),
        data_plane: Default::default(),
        cross_cluster: None,
        errors: Vec::new(),
    };
    before
        .data_plane
        .entry("staging-web".into())
        .or_default()
        .insert("1-24-0".into(), healthy(100.0));
    c.state.metrics.guard.observe(&before, plan, &|_| false);
    let mut after = before.clone();
    after.at = now();
    after.data_plane.clear();
    after
        .data_plane
        .entry("staging-web".into())
        .or_default()
        .insert("1-25-0".into(), healthy(105.0));
    after.control_plane.insert(
        "1-25-0".into(),
        crate::metrics::control_plane::Rates {
            convergence_p99: Some(0.2),
            ..Default::default()
        },
    );
    crate::app::rollback::observe(&mut c.state, &mut Default::default(), &after);
    c.state.metrics.readings.push_back(after);
}

/// The demo with the staging wave finished: every staging pod on 1-25-0 and ready.
fn staging_done() -> Cluster {
    let mut c = demo();
    c.remove_pod("staging-web", "frontend-old-1").pod(
        "staging-web",
        "frontend-new-2",
        "1-25-0",
        "1.25.0",
        true,
    );
    c
}

#[test]
fn a_wave_in_progress_names_what_is_missing() {
    let c = demo();
    let plan = derive(&c.state.cluster).unwrap();
    let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(4));
    assert_eq!(
        statuses(&g),
        [
            (
                "namespaces on 1-25-0",
                &fail("staging-web: 1 of 3 pods ready on 1-25-0")
            ),
            (
                "soak 10m",
                &fail("counts from when the wave's last namespace finishes")
            ),
            ("no NACKs from 1-25-0", &GateStatus::Pass),
            ("no skew", &GateStatus::Pass),
            (TRIGGERS, &GateStatus::Unknown("no metrics yet".into())),
            ("no precheck blockers", &GateStatus::Pass),
        ]
    );
    assert!(!all_pass(&g));
}

#[test]
fn the_first_wave_waits_for_the_precheck_and_holds_on_its_blockers() {
    use crate::precheck::{CheckId, Finding, Severity};
    let mut c = staging_done();
    let plan = derive(&c.state.cluster).unwrap();
    measured(&mut c, &plan);
    let precheck = |c: &Cluster| {
        let g = wave_gates(c, &plan, Phase::Wave(0), minutes_ago(60), minutes_ago(10));
        let gate = g.iter().find(|g| g.kind == GateKind::NoBlockers).cloned();
        (gate.map(|g| g.status), all_pass(&g))
    };
    assert_eq!(precheck(&c), (Some(GateStatus::Pass), true));

    c.state.checks.findings = None;
    let (status, pass) = precheck(&c);
    assert!(matches!(status, Some(GateStatus::Unknown(_))) && !pass);

    let finding = |severity, object: &str| Finding {
        severity,
        check: CheckId::PdbBlocks,
        object: object.into(),
        message: "no pod may go".into(),
        fix: "allow one".into(),
    };
    c.state.checks.findings = Some(vec![
        finding(Severity::Blocker, "PodDisruptionBudget/shop/web"),
        finding(Severity::Warning, "PodDisruptionBudget/shop/api"),
    ]);
    assert_eq!(
        precheck(&c),
        (
            Some(fail("1 blocker: pdb-blocks PodDisruptionBudget/shop/web")),
            false
        )
    );
    c.state.checks.findings = Some(vec![finding(
        Severity::Warning,
        "PodDisruptionBudget/shop/api",
    )]);
    assert_eq!(
        precheck(&c),
        (Some(GateStatus::Pass), true),
        "warnings pass"
    );
}

#[test]
fn a_finished_soaked_wave_passes() {
    let mut c = staging_done();
    let plan = derive(&c.state.cluster).unwrap();
    measured(&mut c, &plan);
    let g = wave_gates(&c, &plan, Phase::Wave(0), minutes_ago(60), minutes_ago(10));
    assert!(all_pass(&g), "{g:?}");
    assert_eq!(g[0].to_string(), "namespaces on 1-25-0");
}

#[test]
fn a_waves_soak_counts_from_when_its_last_namespace_finished() {
    let mut c = staging_done();
    let plan = derive(&c.state.cluster).unwrap();
    measured(&mut c, &plan);
    // Started an hour ago, finished 4 minutes ago: 4 of its 10 minutes.
    let g = wave_gates(&c, &plan, Phase::Wave(0), minutes_ago(60), minutes_ago(4));
    assert_eq!(
        g[1].to_string(),
        "soak 10m: 4m of 10m since the wave finished at 21:26:00 UTC"
    );
    // Every namespace there, but the end not recorded: unknown, never a pass.
    let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(60));
    assert_eq!(
        g[1].status,
        GateStatus::Unknown("the wave's end is not recorded yet (the driver records it)".into())
    );
}

#[test]
fn a_breached_or_unmeasured_trigger_holds_the_wave() {
    let mut c = staging_done();
    let mut plan = derive(&c.state.cluster).unwrap();
    plan.thresholds.error_ratio_for = std::time::Duration::ZERO;
    measured(&mut c, &plan);
    let mut bad = c.state.metrics.readings.back().unwrap().clone();
    bad.data_plane
        .get_mut("staging-web")
        .unwrap()
        .get_mut("1-25-0")
        .unwrap()
        .error_ratio = Some(0.2);
    crate::app::rollback::observe(&mut c.state, &mut Default::default(), &bad);
    c.state.metrics.readings.push_back(bad);
    let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(10));
    assert_eq!(
        g[4].to_string(),
        "rollback triggers: staging-web: 5xx ratio 20% for 0s, limit 1.0% for 0s"
    );
    // A source that answers nothing: unknown, however good the last numbers were.
    let mut down = c.state.metrics.readings.back().unwrap().clone();
    down.control_plane.clear();
    down.data_plane.clear();
    down.errors = vec!["Prometheus at http://127.0.0.1:9: connection refused".into()];
    c.state.metrics.readings.push_back(down);
    let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(10));
    assert_eq!(
        g[4].status,
        GateStatus::Unknown(
            "metrics unavailable: Prometheus at http://127.0.0.1:9: connection refused".into()
        )
    );
}

#[test]
fn labels_still_on_the_old_revision_and_skewed_proxies_block_a_wave() {
    let c = demo();
    let plan = derive(&c.state.cluster).unwrap();
    let g = gates(&c, &plan, Phase::Wave(1), minutes_ago(31));
    assert_eq!(
        g[0].status,
        fail(
            "notifications: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; \
             search: labels select 1-24-0, 0 of 2 pods ready on 1-25-0"
        )
    );
    assert_eq!(
        g[1].status,
        fail("counts from when the wave's last namespace finishes")
    );
    assert_eq!(
        g[3].status,
        fail(
            "search/search-api-1: proxy 1.22.4 on istiod 1.24.0 (proxy 2 minors behind its istiod)"
        )
    );
}

#[test]
fn long_lists_name_a_few_and_count_the_rest() {
    let mut c = Cluster::new();
    c.revision("1-24-0").revision("1-25-0");
    for i in 0..5 {
        let ns = format!("ns-{i}");
        c.namespace(&ns, &[("istio-injection", "enabled"), ("tier", "staging")])
            .pod(&ns, "web", "1-24-0", "1.24.0", true);
    }
    c.tag("default", "1-24-0");
    let plan = derive(&c.state.cluster).unwrap();
    let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(1));
    assert_eq!(
        g[0].status,
        fail(
            "ns-0: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; \
             ns-1: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; \
             ns-2: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; and 2 more"
        )
    );
}

#[test]
fn a_wave_that_selects_nothing_fails() {
    let c = demo();
    let mut plan = derive(&c.state.cluster).unwrap();
    plan.waves[0].selector = NamespaceSelector::Names(vec!["gone".into()]);
    plan.waves[1].selector = NamespaceSelector::Labels("tier=gold".into());
    let g0 = gates(&c, &plan, Phase::Wave(0), minutes_ago(60));
    assert_eq!(g0[0].status, fail("none of its namespaces exists"));
    let g1 = gates(&c, &plan, Phase::Wave(1), minutes_ago(60));
    assert_eq!(
        g1[0].status,
        fail("no namespace labelled for sidecars matches")
    );
    let g9 = gates(&c, &plan, Phase::Wave(9), minutes_ago(60));
    assert_eq!(statuses(&g9), [("phase", &fail("the plan has no wave 10"))]);
}

#[test]
fn nacks_count_only_from_the_phase_start() {
    let mut c = staging_done();
    c.nack("1-25-0", "2026-11-24T21:25:00Z");
    // Old revision NACKs are not the new revision's problem.
    c.nack("1-24-0", "2026-11-24T21:29:00Z");
    let plan = derive(&c.state.cluster).unwrap();
    let nacks = |started| gates(&c, &plan, Phase::Wave(0), started)[2].status.clone();
    assert_eq!(nacks(minutes_ago(30)), fail("last NACK at 21:25:00 UTC"));
    // Exactly at the start counts: the NACK happened during the phase.
    assert_eq!(
        nacks(Some(at("2026-11-24T21:25:00Z"))),
        fail("last NACK at 21:25:00 UTC")
    );
    assert_eq!(nacks(minutes_ago(4)), GateStatus::Pass);
    assert_eq!(
        nacks(None),
        GateStatus::Unknown(
            "last NACK at 21:25:00 UTC, and the phase's start time is not recorded".into()
        )
    );
}

#[test]
fn soak_arithmetic() {
    let c = staging_done();
    let plan = derive(&c.state.cluster).unwrap();
    let soak = |started| gates(&c, &plan, Phase::Soak, started);
    assert_eq!(soak(minutes_ago(29))[0].status, fail("29m of 30m"));
    assert_eq!(
        soak(Some(now() - Span::seconds(29 * 60 + 59)))[0].status,
        fail("29m of 30m")
    );
    assert_eq!(
        soak(Some(now() - Span::seconds(45)))[0].status,
        fail("45s of 30m")
    );
    assert_eq!(soak(minutes_ago(30))[0].status, GateStatus::Pass);
    assert_eq!(soak(minutes_ago(600))[0].status, GateStatus::Pass);
    // A start ahead of the clock counts as just begun.
    assert_eq!(soak(minutes_ago(-5))[0].status, fail("0s of 30m"));
    let unknown = soak(None);
    assert_eq!(
        statuses(&unknown)[0],
        (
            "soak 30m",
            &GateStatus::Unknown("the phase's start time is not recorded".into())
        )
    );
    assert!(!all_pass(&unknown));
    assert_eq!(
        unknown[0].to_string(),
        "soak 30m: unknown, the phase's start time is not recorded"
    );
}

#[test]
fn moving_tags_waits_for_every_tag_of_the_plan() {
    let mut c = demo();
    let mut plan = derive(&c.state.cluster).unwrap();
    let g = gates(&c, &plan, Phase::MoveTags, minutes_ago(1));
    assert_eq!(
        statuses(&g)[0],
        (
            "tags on 1-25-0",
            &fail("stable on 1-24-0; default on 1-24-0")
        )
    );
    c.tag("stable", "1-25-0").tag("default", "1-25-0");
    measured(&mut c, &plan);
    assert!(all_pass(&gates(&c, &plan, Phase::MoveTags, None)));
    plan.tags.push("canary".into());
    assert_eq!(
        gates(&c, &plan, Phase::MoveTags, None)[0].status,
        fail("no tag named canary")
    );
}

#[test]
fn decommission_waits_until_nothing_uses_the_old_revision_and_it_was_kept() {
    let c = demo();
    let plan = derive(&c.state.cluster).unwrap();
    let g = gates(&c, &plan, Phase::Decommission, Some(now() - Span::hours(3)));
    assert_eq!(
        statuses(&g),
        [
            (
                "nothing on 1-24-0",
                &fail(
                    "6 pods; namespaces checkout, notifications, search; \
                     tags default, stable; DaemonSet istio-system/ztunnel"
                )
            ),
            ("kept 24h", &fail("3h of 24h")),
        ]
    );
    let mut empty = Cluster::new();
    empty
        .revision("1-24-0")
        .revision("1-25-0")
        .tag("default", "1-25-0")
        .namespace("shop", &[("istio-injection", "enabled")])
        .pod("shop", "web-1", "1-25-0", "1.25.0", true)
        .daemonset("ztunnel", "1-25-0");
    let g = gates(
        &empty,
        &plan,
        Phase::Decommission,
        Some(now() - Span::hours(24)),
    );
    assert!(all_pass(&g), "{g:?}");
    assert!(gates(&empty, &plan, Phase::Done, None).is_empty());
    assert!(all_pass(&[]));
}

#[test]
fn each_phase_lists_its_gates_by_kind() {
    use GateKind as K;
    let c = demo();
    let plan = derive(&c.state.cluster).unwrap();
    let kinds = |phase| -> Vec<GateKind> {
        gates(&c, &plan, phase, minutes_ago(1))
            .iter()
            .map(|g| g.kind)
            .collect()
    };
    assert_eq!(
        kinds(Phase::Wave(0)),
        [
            K::NamespacesOn,
            K::Soak,
            K::NoNacks,
            K::NoSkew,
            K::Triggers,
            K::NoBlockers
        ]
    );
    assert_eq!(
        kinds(Phase::Wave(1)).last(),
        Some(&K::Triggers),
        "first wave only"
    );
    assert_eq!(kinds(Phase::Wave(9)), [K::Phase]);
    assert_eq!(kinds(Phase::MoveTags), [K::TagsOn, K::Triggers]);
    assert_eq!(kinds(Phase::Soak), [K::Soak, K::Triggers]);
    assert_eq!(kinds(Phase::Decommission), [K::NothingOn, K::Kept]);
}

mod fleet {
    use super::*;
    use crate::fixture::fleet::{fleet, settle};
    use crate::fixture::{NEW, OLD};

    fn kinds(gates: &[Gate]) -> Vec<GateKind> {
        gates.iter().map(|g| g.kind).collect()
    }

    fn status_of(gates: &[Gate], kind: GateKind) -> &GateStatus {
        &gates
            .iter()
            .find(|g| g.kind == kind)
            .expect("the gate")
            .status
    }

    #[test]
    fn one_cluster_has_no_fleet_gates() {
        let c = demo();
        let plan = derive(&c.state.cluster).unwrap();
        let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(4));
        assert!(!kinds(&g).iter().any(|k| matches!(
            k,
            GateKind::PrimaryFirst | GateKind::RootCa | GateKind::EastWest | GateKind::FleetSkew
        )));
    }

    #[test]
    fn a_remotes_wave_waits_for_the_primary_and_names_it() {
        let mut fleet = fleet();
        settle(&mut fleet, false);
        let (_, remote) = &fleet[1];
        let plan = derive(&remote.state.cluster).unwrap();
        assert_eq!((plan.from.as_str(), plan.to.as_str()), (OLD, NEW));
        let g = gates(remote, &plan, Phase::Wave(0), minutes_ago(4));
        assert_eq!(
            kinds(&g)[0],
            GateKind::PrimaryFirst,
            "the primary comes first"
        );
        assert_eq!(
            g[0].to_string(),
            "primary first: primary's first wave is not finished"
        );
        assert_eq!(
            kinds(&g)[g.len() - 3..],
            [GateKind::RootCa, GateKind::EastWest, GateKind::FleetSkew]
        );
        settle(&mut fleet, true);
        let g = gates(&fleet[1].1, &plan, Phase::Wave(0), minutes_ago(4));
        assert_eq!(*status_of(&g, GateKind::PrimaryFirst), GateStatus::Pass);
        // The primary's own waves have no such gate.
        let g = gates(&fleet[0].1, &plan, Phase::Wave(0), minutes_ago(4));
        assert!(!kinds(&g).contains(&GateKind::PrimaryFirst));
    }

    #[test]
    fn every_wave_needs_one_root_ca_ready_gateways_and_no_skew_naming_the_cluster() {
        let mut fleet = fleet();
        fleet[2].1.root_ca(Some("00:00:00:00:00:00:00:01"));
        fleet[1].1.eastwest("1.24.0", 0, 1);
        fleet[2].1.pod("shop", "web-3", NEW, "1.26.0", true);
        settle(&mut fleet, true);
        let plan = derive(&fleet[0].1.state.cluster).unwrap();
        for (name, member) in &fleet {
            let g = gates(member, &plan, Phase::Wave(0), minutes_ago(4));
            let GateStatus::Fail(ca) = status_of(&g, GateKind::RootCa) else {
                panic!("{name}: the CA gate fails");
            };
            assert!(ca.starts_with("remote-2: root CA 00:00"), "{ca}");
            assert_eq!(
                *status_of(&g, GateKind::EastWest),
                fail("remote-1: east-west gateway 0 of 1 pods ready")
            );
            let GateStatus::Fail(skew) = status_of(&g, GateKind::FleetSkew) else {
                panic!("{name}: the skew gate fails");
            };
            assert!(skew.starts_with("remote-2: 1 proxy skewed against primary's"));
        }
        fleet[2].1.root_ca(None).remove_pod("shop", "web-3");
        fleet[1].1.eastwest("1.24.0", 1, 1);
        settle(&mut fleet, true);
        let g = gates(&fleet[1].1, &plan, Phase::Wave(0), minutes_ago(4));
        assert!(
            matches!(status_of(&g, GateKind::RootCa), GateStatus::Unknown(why) if why.starts_with("remote-2: root CA unknown"))
        );
        assert_eq!(*status_of(&g, GateKind::EastWest), GateStatus::Pass);
        assert_eq!(*status_of(&g, GateKind::FleetSkew), GateStatus::Pass);
    }

    #[test]
    fn the_primarys_decommission_waits_for_the_remotes_on_the_old_revision() {
        let mut fleet = fleet();
        settle(&mut fleet, true);
        let plan = derive(&fleet[0].1.state.cluster).unwrap();
        let g = gates(&fleet[0].1, &plan, Phase::Decommission, minutes_ago(4));
        assert_eq!(
            *status_of(&g, GateKind::RemotesOff),
            fail("remote-1: 2 pods on 1-24-0; remote-2: 2 pods on 1-24-0")
        );
        assert_eq!(
            g.last().map(|g| g.name.as_str()),
            Some("remotes off 1-24-0")
        );
        let remote = gates(&fleet[1].1, &plan, Phase::Decommission, minutes_ago(4));
        assert!(
            !kinds(&remote).contains(&GateKind::RemotesOff),
            "a remote's decommission is its own"
        );
        for (_, member) in fleet.iter_mut().skip(1) {
            for pod in ["web-1", "web-2"] {
                member
                    .remove_pod("shop", pod)
                    .pod("shop", pod, NEW, "1.25.0", true);
            }
        }
        settle(&mut fleet, true);
        let g = gates(&fleet[0].1, &plan, Phase::Decommission, minutes_ago(4));
        assert_eq!(*status_of(&g, GateKind::RemotesOff), GateStatus::Pass);
    }
}
