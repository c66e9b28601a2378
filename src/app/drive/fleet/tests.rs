use crossterm::event::KeyCode;

use crate::app::drive::Dialog;
use crate::app::state::{Pane, State};
use crate::fixture::Cluster;
use crate::fixture::fleet::{fleet, settle};
use crate::plan::derive::derive;

fn rows(_: &State, _: Pane) -> usize {
    10
}

/// Presses `key` on the member and says what came of it: the dialog's title, or the notice.
fn press(c: &mut Cluster, key: char) -> String {
    c.state.drive.dialog = None;
    c.state.ui.notice = None;
    let mut s = crate::app::test_loop::TestLoop::new(c.state.clone());
    s.press(KeyCode::Char(key), rows);
    assert!(s.effects.commands.is_empty(), "`{key}` wrote nothing");
    match &s.drive.dialog {
        Some(Dialog::Confirm { title, .. } | Dialog::TypeToConfirm { title, .. }) => {
            format!("dialog: {title}")
        }
        Some(other) => format!("dialog: {other:?}"),
        None => format!("notice: {}", s.ui.notice.clone().unwrap_or_default()),
    }
}

fn ready_to_drive(c: &mut Cluster, namespace: &str) {
    c.state.drive.plan = derive(&c.state.cluster);
    c.state.ui.selected_namespace = Some(namespace.into());
}

#[test]
fn a_remote_moves_nothing_before_the_primary_and_may_always_revert() {
    let mut fleet = fleet();
    settle(&mut fleet, false);
    let remote = &mut fleet[1].1;
    ready_to_drive(remote, "shop");
    for key in ['m', 'M', 't'] {
        assert_eq!(
            press(remote, key),
            "notice: primary first: primary's first wave is not finished",
            "`{key}`"
        );
    }
    assert!(
        !press(remote, 'r').contains("primary first"),
        "reverting is never held back"
    );
    settle(&mut fleet, true);
    let remote = &mut fleet[1].1;
    // Once the primary is ready the remote's keys preview, its istiod being the primary's.
    assert_eq!(press(remote, 'm'), "dialog: Migrate shop to 1-25-0?");
    assert!(
        press(remote, 't').starts_with("dialog: "),
        "{}",
        press(remote, 't')
    );
}

#[test]
fn a_root_ca_mismatch_blocks_migrations_in_every_cluster_naming_the_odd_one() {
    let mut fleet = fleet();
    fleet[2].1.root_ca(Some("00:00:00:00:00:00:00:01"));
    settle(&mut fleet, true);
    let primary = &mut fleet[0].1;
    ready_to_drive(primary, "checkout");
    for key in ['m', 'M'] {
        let said = press(primary, key);
        assert!(
            said.starts_with("notice: root CA mismatch, nothing is migrated until it is fixed: remote-2: root CA 00:00"),
            "`{key}`: {said}"
        );
    }
    assert!(
        !press(primary, 't').contains("root CA"),
        "tags are not migrations"
    );
    fleet[2].1.root_ca(Some(crate::fixture::fleet::CA));
    settle(&mut fleet, true);
    let primary = &mut fleet[0].1;
    assert_eq!(press(primary, 'm'), "dialog: Migrate checkout to 1-25-0?");
}
