use super::*;
use crate::app::event::{Event, Watch};
use crate::app::update::{refit, update};
use crate::fixture;

fn cockpit() -> State {
    fixture::state(120, 40, |_, _| 10)
}

fn both(state: &State) -> (Option<String>, Option<String>) {
    (text(state, What::Name), text(state, What::Command))
}

fn some(name: &str, command: &str) -> (Option<String>, Option<String>) {
    (Some(name.into()), Some(command.into()))
}

#[test]
fn a_namespace_copies_its_name_and_its_kubectl_get() {
    let mut s = cockpit();
    s.ui.focus = Pane::Namespaces;
    s.ui.selected_namespace = Some("search".into());
    assert_eq!(
        both(&s),
        some(
            "search",
            "kubectl --context sim-admin get namespace search -o yaml"
        )
    );
}

#[test]
fn a_pod_copies_its_name_and_its_kubectl_get_in_its_namespace() {
    let mut s = cockpit();
    s.ui.selected_namespace = Some("staging-web".into());
    s.ui.focus = Pane::Pods;
    refit(&mut s, |_, _| 10);
    let pod = s.ui.selected_pod.clone().expect("a pod is selected");
    assert_eq!(
        both(&s),
        some(
            &pod,
            &format!("kubectl --context sim-admin -n staging-web get pod {pod} -o yaml")
        )
    );
}

#[test]
fn a_nack_line_copies_the_pod_it_names_and_another_line_its_istiod() {
    let mut s = cockpit();
    s.ui.focus = Pane::Logs;
    // Following: the newest line, a NACK from a staging-web pod.
    assert_eq!(
        both(&s),
        some(
            "frontend-9c4d7-p5m3z",
            "kubectl --context sim-admin -n staging-web get pod frontend-9c4d7-p5m3z -o yaml"
        )
    );
    let plain = s
        .cluster
        .logs
        .entries()
        .find(|e| e.line.nack.is_none())
        .map(|e| (e.seq, e.pod.clone()))
        .expect("a line that is not a NACK");
    s.ui.log_cursor = Some(plain.0);
    let pod = plain.1;
    assert_eq!(
        both(&s),
        some(
            &pod,
            &format!("kubectl --context sim-admin -n istio-system logs {pod} -c discovery")
        )
    );
}

#[test]
fn a_revision_copies_its_name_and_its_istiod_pods_or_its_injector() {
    let mut s = cockpit();
    s.ui.focus = Pane::ControlPlanes;
    s.ui.control_planes.selected = 1;
    assert_eq!(
        both(&s),
        some(
            "1-25-0",
            "kubectl --context sim-admin -n istio-system get pods -l app=istiod,istio.io/rev=1-25-0"
        )
    );
    let istiods: Vec<_> = s
        .cluster
        .pods
        .values()
        .filter(|p| p.istiod.is_some())
        .cloned()
        .collect();
    for pod in istiods {
        update(&mut s, Event::Pods(Watch::Delete(pod)), |_, _| 10);
    }
    assert_eq!(
        text(&s, What::Command).as_deref(),
        Some(
            "kubectl --context sim-admin get mutatingwebhookconfigurations -l istio.io/rev=1-25-0 -o yaml"
        )
    );
}

#[test]
fn nothing_selected_copies_nothing() {
    let mut s = cockpit();
    s.ui.focus = Pane::Pods;
    s.ui.selected_namespace = None;
    assert_eq!(both(&s), (None, None));
}

#[test]
fn an_unusual_context_is_quoted_for_the_shell() {
    assert_eq!(
        quoted("arn:aws:eks:eu-west-1:1:cluster/a"),
        "arn:aws:eks:eu-west-1:1:cluster/a"
    );
    assert_eq!(quoted("my ctx"), "'my ctx'");
    assert_eq!(quoted("it's"), r"'it'\''s'");
    assert_eq!(quoted(""), "''");
}

#[test]
fn the_bottom_pane_decides_what_its_selection_is() {
    let mut s = cockpit();
    s.ui.focus = Pane::Logs;
    s.ui.bottom = crate::app::state::BottomPane::Journal;
    assert_eq!(both(&s), (None, None));
    s.ui.bottom = crate::app::state::BottomPane::Triage;
    s.triage = Some(crate::app::triage::Triage::open(
        1,
        "checkout",
        "cart-1",
        crate::app::triage::View::Events,
    ));
    assert_eq!(
        both(&s),
        some(
            "cart-1",
            "kubectl --context sim-admin -n checkout get pod cart-1 -o yaml"
        )
    );
}
