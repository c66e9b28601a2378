//! A fleet's metrics: a remote's calls to other clusters, measured by the cockpit's direct
//! scrape of its sidecars, become a rollback trigger when its east-west gateway goes down.

use std::time::Duration;

use istio_cockpit::app::state::{Mode, State};
use istio_cockpit::cockpit::headless::Headless;

use crate::common::Sim;

fn cross_cluster_breach(s: &State) -> Option<String> {
    s.metrics
        .findings
        .iter()
        .find(|f| f.is_breached() && f.to_string().starts_with("remote-1 -> "))
        .map(ToString::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remotes_gateway_going_down_breaches_its_cross_cluster_trigger() {
    let sim = Sim::start(&["--clusters", "2", "--ready-after", "1"]);
    let conn = sim.connect("remote-1").await;
    let mut cockpit =
        Headless::start_in_fleet(&conn, Mode::ReadOnly("watching".into()), 1000, (160, 45));
    let measured = |s: &State| {
        s.drive.plan.is_some()
            && s.metrics
                .readings
                .back()
                .and_then(|r| r.cross_cluster.as_ref())
                .is_some_and(|c| c.requests_per_s > 0.0)
    };
    assert!(
        cockpit.pump_until(Duration::from_secs(60), measured).await,
        "no cross-cluster traffic measured: {:?}",
        cockpit.state.metrics.readings.back()
    );
    if let Some(plan) = cockpit.state.drive.plan.as_mut() {
        plan.thresholds.cross_cluster_error_ratio_for = Duration::from_secs(3);
    }
    assert_eq!(
        cross_cluster_breach(&cockpit.state),
        None,
        "healthy at first"
    );

    sim.set_faults_in("remote-1", r#"{"data":{"eastwest.down":"true"}}"#);
    let breached = cockpit
        .pump_until(Duration::from_secs(90), |s| {
            cross_cluster_breach(s).is_some()
        })
        .await;
    assert!(
        breached,
        "the gateway went down but no cross-cluster trigger fired: {:#?}",
        cockpit.state.metrics.findings
    );
    let finding = cross_cluster_breach(&cockpit.state).unwrap_or_default();
    assert!(finding.contains("5xx"), "{finding}");
}
