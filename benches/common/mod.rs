//! The cockpit's state at the size the performance budget names: 2,000 namespaces of 25 pods
//! each, two revisions with their webhooks and tags, a full log ring, a journal and twenty
//! minutes of metrics. Built through `update`, as the watchers would feed it.

#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::Duration;
use istio_cockpit::app::activity::Activity;
use istio_cockpit::app::event::{Event, IstiodLogLine, Record, Stream, StreamStatus, Watch};
use istio_cockpit::app::state::{Mode, State};
use istio_cockpit::app::update::update;
use istio_cockpit::fixture::{self, NEW, OLD, now};
use istio_cockpit::mesh::journal::{JournalAction, JournalResult};
use istio_cockpit::mesh::pod::PodInfo;
use istio_cockpit::mesh::records::JournalEntry;
use istio_cockpit::mesh::resources::NamespaceInfo;
use istio_cockpit::metrics::control_plane::Rates;
use istio_cockpit::metrics::reading::{Reading, Traffic};
use istio_cockpit::ui::layout;
use istio_cockpit::ui::theme::{Palette, Theme};

pub const NAMESPACES: usize = 2_000;
pub const PODS_PER_NAMESPACE: usize = 25;
/// The cockpit's default ring size.
pub const LOG_LINES: usize = 20_000;
pub const WIDTH: u16 = 250;
pub const HEIGHT: u16 = 70;

pub fn apply(state: &mut State, event: Event) {
    update(state, event, layout::table_rows);
}

/// A watcher's initial list, fed with the layout's page sizes.
fn listed<T>(state: &mut State, wrap: fn(Watch<T>) -> Event, items: impl IntoIterator<Item = T>) {
    fixture::listed(state, layout::table_rows, wrap, items);
}

pub fn theme() -> Theme {
    Theme::builtin("default", Palette::TrueColor).expect("built-in theme")
}

/// What a namespace is, by its index: the mix an upgrade half way through its waves has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Labelled through the `stable` tag, every pod on the old revision.
    Stable,
    /// `istio-injection=enabled`: the `default` tag, on the old revision.
    Default,
    /// Labelled for the new revision and every pod restarted onto it.
    Migrated,
    /// Labelled for the new revision, half of its pods restarted.
    Migrating,
    Ambient,
    NoMesh,
}

pub fn kind(i: usize) -> Kind {
    match (i % 10, i % 50) {
        (_, 3) => Kind::Ambient,
        (_, 4) => Kind::NoMesh,
        (0, _) => Kind::Migrated,
        (1, _) => Kind::Migrating,
        (2, _) => Kind::Default,
        _ => Kind::Stable,
    }
}

pub fn namespace_name(i: usize) -> String {
    format!("team-{i:04}")
}

pub fn pod_name(i: usize, j: usize) -> String {
    format!("app-{}-{i:04}-{j:02}", j % 5)
}

pub fn namespace(i: usize) -> NamespaceInfo {
    let tier = ["staging", "non-critical", "critical", "internal"][i % 4];
    let injection = match kind(i) {
        Kind::Stable => Some(("istio.io/rev", "stable")),
        Kind::Default => Some(("istio-injection", "enabled")),
        Kind::Migrated | Kind::Migrating => Some(("istio.io/rev", NEW)),
        Kind::Ambient => Some(("istio.io/dataplane-mode", "ambient")),
        Kind::NoMesh => None,
    };
    let labels: Vec<(&str, &str)> = [("tier", tier)].into_iter().chain(injection).collect();
    NamespaceInfo {
        created: Some(now() - Duration::days(100)),
        ..fixture::namespace(&namespace_name(i), &labels)
    }
}

pub fn pod(i: usize, j: usize) -> PodInfo {
    let on_new = match kind(i) {
        Kind::Migrated => Some(true),
        Kind::Migrating => Some(j.is_multiple_of(2)),
        Kind::Stable | Kind::Default => Some(false),
        Kind::Ambient | Kind::NoMesh => None,
    };
    let (revision, proxy) = match on_new {
        Some(true) => (Some(NEW), Some("1.25.0")),
        // One namespace in a hundred keeps a proxy two minors behind: a skew warning.
        Some(false) if i % 100 == 5 && j == 0 => (Some(OLD), Some("1.22.4")),
        Some(false) => (Some(OLD), Some("1.24.0")),
        None => (None, None),
    };
    let ready = !(kind(i) == Kind::Migrating && j % 7 == 3);
    PodInfo {
        restarts: (j % 3) as u32,
        created: Some(now() - Duration::hours((i + j) as i64 % 72)),
        app: Some(format!("app-{}", j % 5)),
        cpu_millis: 350,
        memory_mib: 384,
        ..fixture::pod(&namespace_name(i), &pod_name(i, j), revision, proxy, ready)
    }
}

fn istiod(revision: &str, version: &str, n: usize) -> PodInfo {
    PodInfo {
        created: Some(now() - Duration::days(2)),
        app: Some("istiod".into()),
        ..fixture::istiod(revision, version, &n.to_string())
    }
}

fn log_line(n: usize) -> IstiodLogLine {
    let (revision, at) = (if n.is_multiple_of(3) { NEW } else { OLD }, now());
    let stamp =
        (at - Duration::milliseconds((LOG_LINES - n) as i64)).format("%Y-%m-%dT%H:%M:%S%.6fZ");
    let i = n % NAMESPACES;
    let ns = namespace_name(i);
    let pod = pod_name(i, n % PODS_PER_NAMESPACE);
    let line = if n.is_multiple_of(50) {
        format!(
            "{stamp}\twarn\tdelta\tADS:CDS: ACK ERROR sidecar~10.0.{}.{}~{pod}.{ns}~{ns}.svc.cluster.local-{n} Internal:cluster outbound|80||cart.checkout: bad TLS context",
            n % 250,
            n % 200
        )
    } else {
        format!(
            "{stamp}\tinfo\tads\tADS: new connection for node:sidecar~10.0.{}.{}~{pod}.{ns}~{ns}.svc.cluster.local-{n}",
            n % 250,
            n % 200
        )
    };
    IstiodLogLine {
        pod: format!("istiod-{revision}-7f9c4d8b6-0"),
        revision: revision.into(),
        line,
    }
}

fn journal() -> Vec<JournalEntry> {
    (0..200)
        .map(|n| JournalEntry {
            at: now() - Duration::minutes(200 - n as i64),
            who: "oncall@laptop".into(),
            action: JournalAction::Migrate,
            target: namespace_name(n * 10),
            change: serde_json::json!({"metadata": {"labels": {"istio.io/rev": NEW, "istio-injection": null}}}),
            result: if n % 20 == 7 {
                JournalResult::Failed("conflict: labels changed".into())
            } else {
                JournalResult::Ok
            },
            dry_run: false,
            why: None,
        })
        .collect()
}

fn reading(seconds_ago: i64) -> Reading {
    let traffic = |rps: f64, p99: f64| Traffic {
        requests_per_s: rps,
        error_ratio: Some(0.001),
        p99_ms: Some(p99),
        mtls_failures_per_s: 0.0,
        sampled_pods: None,
    };
    let rates = |pushes: f64, proxies: &[(&str, f64)]| Rates {
        pushes_per_s: [("cds".to_string(), pushes), ("eds".to_string(), pushes)].into(),
        rejects_per_s: 0.0,
        convergence_p99: Some(0.08),
        proxies: proxies.iter().map(|(v, n)| (v.to_string(), *n)).collect(),
        cpu_cores: Some(0.4),
        memory_bytes: Some(2.0e9),
    };
    let mut data_plane: BTreeMap<String, BTreeMap<String, Traffic>> = BTreeMap::new();
    for i in (0..NAMESPACES).step_by(40) {
        let revision = if matches!(kind(i), Kind::Migrated) {
            NEW
        } else {
            OLD
        };
        data_plane.entry(namespace_name(i)).or_default().insert(
            revision.into(),
            traffic(40.0, 80.0 + (seconds_ago % 7) as f64),
        );
    }
    Reading {
        at: now() - Duration::seconds(seconds_ago),
        source: "Prometheus at http://127.0.0.1:9090".into(),
        control_plane: [
            (
                OLD.to_string(),
                rates(40.0, &[("1.24.0", 37_000.0), ("1.22.4", 20.0)]),
            ),
            (NEW.to_string(), rates(12.0, &[("1.25.0", 12_000.0)])),
        ]
        .into(),
        data_plane,
        cross_cluster: None,
        errors: Vec::new(),
    }
}

/// The whole state: watched objects listed, logs and metrics streamed in, the second
/// namespace (one mid-migration) selected, and a few namespaces on the move.
pub fn state() -> State {
    let mut s = State::new(
        "bench",
        Mode::Driver,
        LOG_LINES,
        now() - Duration::minutes(20),
    );
    apply(&mut s, Event::Resize(WIDTH, HEIGHT));
    listed(&mut s, Event::Webhooks, fixture::webhooks());
    listed(&mut s, Event::Namespaces, (0..NAMESPACES).map(namespace));
    let control = [
        istiod(OLD, "1.24.0", 0),
        istiod(OLD, "1.24.0", 1),
        istiod(NEW, "1.25.0", 0),
        istiod(NEW, "1.25.0", 1),
    ];
    let workloads = (0..NAMESPACES).flat_map(|i| (0..PODS_PER_NAMESPACE).map(move |j| pod(i, j)));
    listed(&mut s, Event::Pods, control.into_iter().chain(workloads));
    listed(
        &mut s,
        Event::DaemonSets,
        ["istio-cni-node", "ztunnel"].map(|name| fixture::daemonset(name, OLD, 40)),
    );
    for n in 0..LOG_LINES {
        apply(&mut s, Event::IstiodLog(log_line(n)));
    }
    apply(
        &mut s,
        Event::Records(Watch::Apply(Record::Journal(journal()))),
    );
    for seconds_ago in (0..1200).rev().step_by(5) {
        apply(&mut s, Event::Metrics(reading(seconds_ago)));
    }
    for stream in Stream::ALL {
        apply(&mut s, Event::Stream(stream, StreamStatus::Connected));
    }
    // Migrations confirmed for a few of the namespaces half way through.
    for i in (1..NAMESPACES).step_by(10).take(4) {
        s.drive
            .activity
            .insert(namespace_name(i), Activity::towards(NEW, false));
    }
    apply(&mut s, Event::Tick(now()));
    apply(
        &mut s,
        Event::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Down,
        )),
    );
    s
}
