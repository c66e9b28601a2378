use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::event::Stream;
use crate::app::event::{StreamStatus, Watch};
use crate::fixture::{self, cluster};

fn member(name: &str) -> Member {
    let mut state = cluster::demo().state;
    state.session.context = name.into();
    state.drive.plan = crate::plan::derive(&state.cluster);
    Member {
        name: name.into(),
        role: None,
        state,
    }
}

fn fleet(names: &[&str]) -> Fleet {
    let mut fleet = Fleet::new(names.iter().map(|n| member(n)).collect());
    fleet.update(FleetEvent::Screen(Event::Resize(120, 40)), |_, _| 10);
    fleet
}

fn key(c: char) -> FleetEvent {
    FleetEvent::Screen(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

#[test]
fn the_cluster_key_cycles_the_clusters_on_screen() {
    let mut fleet = fleet(&["primary", "remote-1", "remote-2"]);
    assert_eq!(fleet.selected().name, "primary");
    let effects = fleet.update(key('c'), |_, _| 10);
    assert!(effects.redraw());
    assert_eq!(fleet.selected().name, "remote-1");
    fleet.update(key('c'), |_, _| 10);
    fleet.update(key('c'), |_, _| 10);
    assert_eq!(fleet.selected().name, "primary", "it wraps around");
}

#[test]
fn keys_go_to_the_cluster_on_screen_only() {
    let mut fleet = fleet(&["primary", "remote-1"]);
    fleet.update(key('c'), |_, _| 10);
    fleet.update(key('J'), |_, _| 10);
    let bottom = |f: &Fleet, i: usize| f.members[i].state.ui.bottom;
    assert_eq!(bottom(&fleet, 1), crate::app::state::BottomPane::Journal);
    assert_eq!(bottom(&fleet, 0), crate::app::state::BottomPane::IstiodLogs);
}

#[test]
fn a_preview_on_screen_keeps_the_cluster_key_from_switching() {
    let mut fleet = fleet(&["primary", "remote-1"]);
    fleet.members[0].state.ui.focus = crate::app::state::Pane::Namespaces;
    fleet.members[0]
        .state
        .ui
        .filters
        .entry(crate::app::state::Pane::Namespaces)
        .or_default()
        .editing = true;
    fleet.update(key('c'), |_, _| 10);
    assert_eq!(fleet.selected().name, "primary");
    assert_eq!(
        fleet.members[0]
            .state
            .ui
            .filter(crate::app::state::Pane::Namespaces),
        "c"
    );
}

#[test]
fn one_cluster_has_no_fleet_pane_and_no_cluster_key() {
    let mut one = fleet(&["primary"]);
    assert_eq!(one.pane_height(), 0);
    assert_eq!(one.members[0].state.ui.height, 40);
    assert!(one.members[0].state.fleet.is_none());
    one.update(key('c'), |_, _| 10);
    assert_eq!(one.selected, 0);
}

#[test]
fn each_cluster_gets_the_screen_below_the_fleet_pane() {
    let fleet = fleet(&["primary", "remote-1", "remote-2"]);
    assert_eq!(fleet.pane_height(), 6);
    for m in &fleet.members {
        assert_eq!((m.state.ui.width, m.state.ui.height), (120, 34));
    }
}

#[test]
fn events_reach_only_their_cluster() {
    let mut fleet = fleet(&["primary", "remote-1"]);
    let failing = Event::Stream(Stream::Pods, StreamStatus::Retrying("gone".into()));
    fleet.update(FleetEvent::Cluster(1, failing), |_, _| 10);
    let status = |i: usize| {
        fleet.members[i]
            .state
            .session
            .streams
            .get(&Stream::Pods)
            .map(|h| h.status.clone())
    };
    assert!(matches!(status(1), Some(StreamStatus::Retrying(_))));
    assert_ne!(status(0), status(1));
    let pod = fixture::pod(
        "checkout",
        "cart-9",
        Some(fixture::NEW),
        Some("1.25.0"),
        true,
    );
    fleet.update(
        FleetEvent::Cluster(0, Event::Pods(Watch::Apply(pod))),
        |_, _| 10,
    );
    let has = |i: usize| {
        fleet.members[i]
            .state
            .cluster
            .pods
            .get(&("checkout".to_string(), "cart-9".to_string()))
            .is_some()
    };
    assert!(has(0) && !has(1));
}

#[test]
fn each_cluster_learns_its_role_and_the_primary() {
    let mut fleet = fleet(&["east", "west"]);
    fleet.members[0].role = Some(Role::Remote);
    fleet.members[1].role = Some(Role::Primary);
    fleet.refresh();
    let facts = |i: usize| fleet.members[i].state.fleet.clone().unwrap();
    assert_eq!(facts(0).role, Role::Remote);
    assert_eq!(facts(0).primary, "west");
    assert_eq!(facts(1).cluster, "west");
}

fn record(fleet: &mut Fleet, i: usize, phase: &str) {
    let plan = fleet.members[0]
        .state
        .drive
        .plan
        .clone()
        .expect("a derived plan");
    let record = crate::mesh::records::UpgradeRecord {
        from: plan.from.clone(),
        to: plan.to.clone(),
        phase: phase.into(),
        ..Default::default()
    };
    let event = Event::Records(Watch::Apply(crate::app::event::Record::Upgrade(record)));
    fleet.update(FleetEvent::Cluster(i, event), |_, _| 10);
}

#[test]
fn the_primary_records_every_clusters_phase_once_per_change() {
    let mut fleet = fleet(&["primary", "remote-1"]);
    assert!(
        fleet
            .refresh()
            .members
            .iter()
            .all(|e| e.commands.is_empty()),
        "nothing recorded yet"
    );
    record(&mut fleet, 0, "wave 1: staging");
    record(&mut fleet, 1, "wave 1: staging");
    let effects = fleet.refresh();
    let [to_primary, to_remote] = &effects.members[..] else {
        panic!("two clusters")
    };
    assert!(
        to_remote.commands.is_empty(),
        "the fleet is recorded on the primary only"
    );
    let command = &to_primary.commands[0];
    let fleet_map = &command.record.as_ref().unwrap().fleet;
    assert_eq!(
        fleet_map.get("remote-1").map(String::as_str),
        Some("wave 1: staging")
    );
    assert_eq!(
        fleet_map.get("primary").map(String::as_str),
        Some("wave 1: staging")
    );
    assert!(
        fleet.refresh().members[0].commands.is_empty(),
        "sent once while in flight"
    );
    // A failed write is tried again.
    let failed = Event::ActionDone {
        action: command.action.clone(),
        result: Err(crate::app::event::WriteError::Failed("boom".into())),
    };
    fleet.update(FleetEvent::Cluster(0, failed), |_, _| 10);
    assert_eq!(fleet.refresh().members[0].commands.len(), 1);
}

#[test]
fn a_primary_that_does_not_drive_records_nothing() {
    let mut fleet = fleet(&["primary", "remote-1"]);
    fleet.members[0].state.session.mode = crate::app::state::Mode::ReadOnly("--read-only".into());
    record(&mut fleet, 0, "wave 1: staging");
    record(&mut fleet, 1, "wave 1: staging");
    assert!(
        fleet
            .refresh()
            .members
            .iter()
            .all(|e| e.commands.is_empty())
    );
}

#[test]
fn the_full_sample_goes_to_the_cluster_on_screen_and_those_that_move() {
    use crate::app::metrics_sample::{MAX_PODS, QUIET_PODS};
    let mut fleet = fleet(&["primary", "remote-1", "remote-2"]);
    let rooms = |f: &Fleet| (0..3).map(|i| f.sample_room(i)).collect::<Vec<_>>();
    assert_eq!(rooms(&fleet), [MAX_PODS, QUIET_PODS, QUIET_PODS]);

    fleet.update(key('c'), |_, _| 10);
    assert_eq!(rooms(&fleet), [QUIET_PODS, MAX_PODS, QUIET_PODS]);

    // A namespace on the move in a cluster nobody looks at.
    fleet.members[2].state.drive.activity.insert(
        "payments".into(),
        crate::app::activity::Activity::towards("1-25-0", false),
    );
    assert_eq!(rooms(&fleet), [QUIET_PODS, MAX_PODS, MAX_PODS]);

    // The primary's record in its first wave (soaking it, say): it keeps the full sample.
    let state = &mut fleet.members[0].state;
    let plan = state.drive.plan.clone().expect("a plan");
    let wave = plan.phase_name(crate::plan::model::Phase::Wave(0));
    state.cluster.records.upgrade = Some(crate::mesh::records::UpgradeRecord {
        from: plan.from.clone(),
        to: plan.to.clone(),
        phase: wave.clone(),
        started: [(wave.clone(), chrono::Utc::now())].into(),
        finished: [(wave, chrono::Utc::now())].into(),
        fleet: Default::default(),
    });
    assert_eq!(rooms(&fleet)[0], MAX_PODS);

    // One cluster alone always samples fully.
    let alone = Fleet::new(vec![member("solo")]);
    assert_eq!(alone.sample_room(0), MAX_PODS);
}
