use super::*;
use crate::fixture::fleet::{CA, GATEWAY, PRIMARY, REMOTES, fleet, members, settle};
use crate::fixture::{Cluster, NEW, OLD};
use crate::mesh::revisions::{Mesh, istiod_readiness};
use crate::mesh::rows::control_plane_rows;

fn facts_of(fleet: &[(&str, Cluster)], first_wave_done: bool) -> Vec<FleetFacts> {
    facts(&members(fleet, first_wave_done))
}

fn texts(facts: &FleetFacts) -> Vec<&str> {
    facts.problems.iter().map(|p| p.text.as_str()).collect()
}

fn remote_mut<'a>(fleet: &'a mut [(&str, Cluster)], i: usize) -> &'a mut Cluster {
    &mut fleet[i + 1].1
}

#[test]
fn roles_are_detected_from_istiod_pods_unless_the_plan_names_them() {
    let fleet = fleet();
    let facts = facts_of(&fleet, false);
    let roles: Vec<(&str, Role, &str)> = facts
        .iter()
        .map(|f| (f.cluster.as_str(), f.role, f.primary.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            (PRIMARY, Role::Primary, PRIMARY),
            (REMOTES[0], Role::Remote, PRIMARY),
            (REMOTES[1], Role::Remote, PRIMARY),
        ]
    );
    // The plan says remote-1 is a primary too (multi-primary): the first primary stays the
    // fleet's, and remote-1 waits for nobody.
    let mut m = members(&fleet, false);
    m[1].role = Some(Role::Primary);
    let facts = super::facts(&m);
    assert_eq!(
        (facts[1].role, facts[1].primary.as_str()),
        (Role::Primary, PRIMARY)
    );
    assert_eq!(facts[1].primary_not_ready, None);
    assert!(served_by(&m, 1).is_none());
}

#[test]
fn a_sound_fleet_has_no_problems_and_remotes_wait_for_the_primarys_first_wave() {
    let fleet = fleet();
    let facts = facts_of(&fleet, false);
    assert_eq!(texts(&facts[0]), Vec::<&str>::new());
    assert_eq!(
        facts[0].primary_not_ready, None,
        "the primary waits for nobody"
    );
    assert_eq!(
        facts[1].primary_not_ready.as_deref(),
        Some("primary's first wave is not finished")
    );
    let facts = facts_of(&fleet, true);
    assert_eq!(facts[1].primary_not_ready, None);
    assert_eq!(facts[2].primary_not_ready, None);
}

#[test]
fn remotes_wait_for_every_istiod_pod_of_the_primarys_new_revision() {
    let mut fleet = fleet();
    let unready = PodInfo {
        ready: 0,
        ..crate::fixture::istiod(NEW, "1.25.0", "b")
    };
    crate::app::update::update(
        &mut fleet[0].1.state,
        crate::app::event::Event::Pods(crate::mesh::collection::Watch::Apply(unready.clone())),
        |_, _| 10,
    );
    let facts = facts_of(&fleet, true);
    assert_eq!(
        facts[1].primary_not_ready.as_deref(),
        Some("primary's istiod-1-25-0 has 1 of 2 pods ready")
    );
    crate::app::update::update(
        &mut fleet[0].1.state,
        crate::app::event::Event::Pods(crate::mesh::collection::Watch::Delete(unready)),
        |_, _| 10,
    );
    assert_eq!(facts_of(&fleet, true)[1].primary_not_ready, None);
    // Without a primary at all, nothing may go.
    let remotes = vec![(REMOTES[0], crate::fixture::fleet::remote())];
    assert_eq!(
        facts_of(&remotes, true)[0].primary_not_ready.as_deref(),
        Some("no cluster of the fleet runs istiod yet")
    );
}

#[test]
fn a_different_or_unseen_root_ca_names_the_odd_cluster_out() {
    let mut fleet = fleet();
    remote_mut(&mut fleet, 1).root_ca(Some("00:00:00:00:00:00:00:01"));
    let facts = facts_of(&fleet, true);
    let mismatch = facts[0].ca_mismatch().expect("a mismatch");
    assert_eq!(mismatch.cluster, REMOTES[1]);
    assert_eq!(
        mismatch.text,
        format!("remote-2: root CA 00:00:00:00:00:00:00:01 differs from the fleet's {CA}")
    );
    assert_eq!(facts[2].problems, facts[0].problems, "every member knows");

    remote_mut(&mut fleet, 1).root_ca(None);
    let facts = facts_of(&fleet, true);
    assert!(facts[0].ca_mismatch().is_none());
    assert_eq!(
        texts(&facts[0]),
        ["remote-2: root CA unknown (istio-ca-root-cert not seen in istio-system)"]
    );
    remote_mut(&mut fleet, 1).root_ca(Some(CA));
    assert!(facts_of(&fleet, true)[0].problems.is_empty());
}

#[test]
fn a_missing_or_unready_east_west_gateway_is_named() {
    let mut fleet = fleet();
    remote_mut(&mut fleet, 0).eastwest(GATEWAY, 0, 1);
    assert_eq!(
        texts(&facts_of(&fleet, true)[0]),
        ["remote-1: east-west gateway 0 of 1 pods ready"]
    );
    remote_mut(&mut fleet, 0).remove_pod("istio-system", "istio-eastwestgateway-0");
    let facts = facts_of(&fleet, true);
    assert_eq!(texts(&facts[0]), ["remote-1: no east-west gateway pods"]);
    assert_eq!(facts[0].problems[0].kind, ProblemKind::EastWest);
    remote_mut(&mut fleet, 0).eastwest(GATEWAY, 1, 1);
    assert!(facts_of(&fleet, true)[0].problems.is_empty());
}

#[test]
fn a_remotes_proxies_are_judged_against_the_primarys_control_plane() {
    let mut fleet = fleet();
    // The remote's own revisions name no version the primary does not run: 1.26 is ahead
    // of the primary's istiod 1.25.0.
    remote_mut(&mut fleet, 0).pod("shop", "web-3", NEW, "1.26.0", true);
    assert_eq!(
        texts(&facts_of(&fleet, true)[0]),
        [
            "remote-1: 1 proxy skewed against primary's control plane (proxy 1.26.0 on istiod 1.25.0: proxy newer than its istiod)"
        ]
    );
    remote_mut(&mut fleet, 0)
        .remove_pod("shop", "web-3")
        .pod("shop", "web-3", OLD, "1.22.4", true);
    assert_eq!(
        facts_of(&fleet, true)[0].problems[0].text,
        "remote-1: 1 proxy skewed against primary's control plane (proxy 1.22.4 on istiod 1.24.0: proxy 2 minors behind its istiod)"
    );
    remote_mut(&mut fleet, 0).remove_pod("shop", "web-3");
    assert!(facts_of(&fleet, true)[0].problems.is_empty());
}

#[test]
fn a_cluster_running_istiod_needs_a_remote_secret_for_every_other_member() {
    let mut fleet = fleet();
    fleet[0].1.remote_secrets(&[REMOTES[0]]);
    assert_eq!(
        texts(&facts_of(&fleet, true)[0]),
        ["primary: no remote secret for remote-2"]
    );
    fleet[0].1.remote_secrets(&REMOTES);
    assert!(facts_of(&fleet, true)[0].problems.is_empty());
    // Before the list has come, the fleet cannot tell.
    let mut unlisted = crate::fixture::fleet::primary();
    unlisted.state.cluster.remote_secrets = Default::default();
    fleet[0].1 = unlisted;
    assert_eq!(
        texts(&facts_of(&fleet, true)[0]),
        ["primary: remote secrets not listed yet"]
    );
}

#[test]
fn the_primary_knows_which_remotes_still_run_its_old_revision() {
    let mut fleet = fleet();
    let facts = facts_of(&fleet, true);
    assert_eq!(
        facts[0].remotes_on_from,
        [(REMOTES[0].to_string(), 2), (REMOTES[1].to_string(), 2)]
    );
    assert!(
        facts[1].remotes_on_from.is_empty(),
        "only the primary keeps them"
    );
    for name in ["web-1", "web-2"] {
        remote_mut(&mut fleet, 1)
            .remove_pod("shop", name)
            .pod("shop", name, NEW, "1.25.0", true);
    }
    assert_eq!(
        facts_of(&fleet, true)[0].remotes_on_from,
        [(REMOTES[0].to_string(), 2)]
    );
}

#[test]
fn a_remotes_control_plane_is_the_primarys() {
    let mut fleet = fleet();
    let remote = &fleet[1].1.state.cluster;
    assert_eq!(istiod_readiness(remote, NEW), (0, 0), "nothing of its own");
    settle(&mut fleet, true);
    let remote = &fleet[1].1.state.cluster;
    assert_eq!(istiod_readiness(remote, NEW), (1, 1));
    assert_eq!(
        remote.served_by.as_ref().map(|s| s.cluster.as_str()),
        Some(PRIMARY)
    );
    let mesh = Mesh::of(remote, None);
    let rows = control_plane_rows(remote, &mesh);
    assert_eq!(
        rows.iter()
            .map(|r| (
                r.revision.as_str(),
                r.istiod_ready,
                r.served_by.as_deref(),
                r.cpu_millis
            ))
            .collect::<Vec<_>>(),
        [(OLD, 1, Some(PRIMARY), 0), (NEW, 1, Some(PRIMARY), 0)],
        "served, not run here: no CPU of its own"
    );
    assert!(fleet[0].1.state.cluster.served_by.is_none());
    // Setting the same again changes nothing; taking it away does.
    let same = fleet[1].1.state.cluster.served_by.clone();
    assert!(!fleet[1].1.state.cluster.set_served_by(same));
    assert!(fleet[1].1.state.cluster.set_served_by(None));
    // Its proxies' skew comes from the primary's versions.
    settle(&mut fleet, true);
    let versions = Mesh::of(&fleet[1].1.state.cluster, None).versions;
    assert_eq!(versions[NEW].to_string(), "1.25.0");
}

#[test]
fn a_summary_shows_the_row_of_the_fleet_pane() {
    let mut fleet = fleet();
    remote_mut(&mut fleet, 0).pod("shop", "web-3", NEW, "1.26.0", false);
    // The primary's istiod logs a NACK from the remote's web-1 (shop/web-1).
    fleet[0].1.nack(NEW, "2026-11-24T21:30:02Z");
    settle(&mut fleet, true);
    let primary = &fleet[0].1.state.cluster;
    let remote = &fleet[1].1.state.cluster;
    let s = summary(remote, primary);
    assert_eq!(
        s.revisions,
        [
            RevisionSummary {
                revision: OLD.into(),
                version: crate::mesh::version::Version::parse("1.24.0"),
                istiod_ready: 1,
                istiod_total: 1,
                served_by: Some(PRIMARY.into()),
                pods: 2,
            },
            RevisionSummary {
                revision: NEW.into(),
                version: crate::mesh::version::Version::parse("1.25.0"),
                istiod_ready: 1,
                istiod_total: 1,
                served_by: Some(PRIMARY.into()),
                pods: 1,
            },
        ]
    );
    let proxies: Vec<(String, usize)> =
        s.proxies.iter().map(|(v, n)| (v.to_string(), *n)).collect();
    // The gateway's proxy counts among the versions, as every proxy does.
    assert_eq!(
        proxies,
        [("1.24.0".to_string(), 3), ("1.26.0".to_string(), 1)]
    );
    assert_eq!(s.skewed, 1);
    assert_eq!(s.tags.get("default").map(String::as_str), Some(OLD));
    assert_eq!(
        s.eastwest,
        Some(EastWest {
            version: crate::mesh::version::Version::parse(GATEWAY),
            ready: 1,
            total: 1
        })
    );
    assert!(s.remote_secrets.is_empty());
    assert_eq!(s.root_ca.as_deref(), Some(CA));
    assert_eq!(s.nacks, 1, "the NACK names a pod of this remote");
    let own = summary(primary, primary);
    assert_eq!(own.nacks, 0, "the primary has no shop/web-1");
    assert_eq!(own.revisions[0].served_by, None);
    assert_eq!(
        own.remote_secrets,
        [
            "istio-remote-secret-remote-1",
            "istio-remote-secret-remote-2"
        ]
    );
}
