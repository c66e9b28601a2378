//! A fixed cockpit state for snapshots: the default scenario's shape, with a clock that
//! never moves, so every render is the same.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use istio_cockpit::app::event::{Event, IstiodLogLine, Stream, StreamStatus, Watch};
use istio_cockpit::app::pod::PodInfo;
use istio_cockpit::app::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};
use istio_cockpit::app::state::{Mode, State};
use istio_cockpit::app::update::update;
use istio_cockpit::app::version::Version;
use istio_cockpit::ui::layout;

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T21:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn ago(days: i64) -> Option<DateTime<Utc>> {
    Some(now() - chrono::Duration::days(days))
}

fn ns(name: &str, labels: &[(&str, &str)]) -> NamespaceInfo {
    NamespaceInfo {
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        annotations: BTreeMap::new(),
        created: ago(200),
    }
}

pub fn pod(
    ns: &str,
    name: &str,
    revision: Option<&str>,
    proxy: Option<&str>,
    ready: bool,
) -> PodInfo {
    let containers = if proxy.is_some() { 2 } else { 1 };
    PodInfo {
        namespace: ns.into(),
        name: name.into(),
        phase: "Running".into(),
        ready: if ready { containers } else { containers - 1 },
        containers,
        restarts: 0,
        created: ago(3),
        terminating: false,
        revision: revision.map(str::to_string),
        proxy: proxy.and_then(Version::parse),
        istiod: None,
        app: None,
        cpu_millis: 350,
        memory_mib: 384,
        owner: Default::default(),
    }
}

fn istiod(rev: &str, version: &str, suffix: &str) -> PodInfo {
    PodInfo {
        namespace: "istio-system".into(),
        name: format!("istiod-{rev}-7f9c4d8b6-{suffix}"),
        istiod: Some((rev.into(), Version::parse(version))),
        cpu_millis: 500,
        memory_mib: 2048,
        ..pod("istio-system", "x", None, None, true)
    }
}

pub fn state(width: u16, height: u16) -> State {
    let mut s = State::new("sim-admin", Mode::Driver, 1000, now());
    let mut apply = |e: Event| update(&mut s, e, layout::table_rows);
    apply(Event::Resize(width, height));
    let hooks = [
        ("istio-sidecar-injector-1-24-0", "1-24-0", None),
        ("istio-sidecar-injector-1-25-0", "1-25-0", None),
        ("istio-revision-tag-default", "1-24-0", Some("default")),
        ("istio-revision-tag-stable", "1-24-0", Some("stable")),
    ];
    apply(Event::Webhooks(Watch::Init));
    for (name, rev, tag) in hooks {
        apply(Event::Webhooks(Watch::InitApply(WebhookInfo {
            name: name.into(),
            revision: rev.into(),
            tag: tag.map(str::to_string),
            previous_revision: None,
        })));
    }
    apply(Event::Webhooks(Watch::InitDone));
    let namespaces = [
        ns(
            "checkout",
            &[("istio.io/rev", "stable"), ("tier", "critical")],
        ),
        ns(
            "edge-ambient",
            &[
                ("istio.io/dataplane-mode", "ambient"),
                ("tier", "non-critical"),
            ],
        ),
        ns("istio-system", &[]),
        ns("legacy-batch", &[("tier", "internal")]),
        ns(
            "notifications",
            &[
                ("istio-injection", "enabled"),
                ("istio.io/rev", "1-25-0"),
                ("tier", "non-critical"),
            ],
        ),
        ns(
            "search",
            &[("istio-injection", "enabled"), ("tier", "non-critical")],
        ),
        ns(
            "staging-web",
            &[("istio.io/rev", "1-25-0"), ("tier", "staging")],
        ),
    ];
    apply(Event::Namespaces(Watch::Init));
    for n in namespaces {
        apply(Event::Namespaces(Watch::InitApply(n)));
    }
    apply(Event::Namespaces(Watch::InitDone));
    let mut pods = vec![
        istiod("1-24-0", "1.24.0", "abcde"),
        istiod("1-24-0", "1.24.0", "fghjk"),
        istiod("1-25-0", "1.25.0", "lmnpq"),
        istiod("1-25-0", "1.25.0", "rstvw"),
        pod(
            "checkout",
            "cart-6d8f9b7c5-2xk4p",
            Some("1-24-0"),
            Some("1.24.0"),
            true,
        ),
        pod(
            "checkout",
            "cart-6d8f9b7c5-9zq7m",
            Some("1-24-0"),
            Some("1.24.0"),
            true,
        ),
        pod("edge-ambient", "edge-proxy-5c7d9-h2j4k", None, None, true),
        pod("legacy-batch", "nightly-jobs-84f6c-q8r2t", None, None, true),
        pod(
            "notifications",
            "notifier-7b5d4-x7c9v",
            Some("1-24-0"),
            Some("1.24.0"),
            true,
        ),
        pod(
            "search",
            "search-api-5f7b9-4wpdd",
            Some("1-24-0"),
            Some("1.22.4"),
            true,
        ),
        pod(
            "search",
            "search-api-5f7b9-kd82m",
            Some("1-24-0"),
            Some("1.24.0"),
            true,
        ),
        pod(
            "staging-web",
            "frontend-9c4d7-b2n6x",
            Some("1-25-0"),
            Some("1.25.0"),
            true,
        ),
        pod(
            "staging-web",
            "frontend-9c4d7-p5m3z",
            Some("1-25-0"),
            Some("1.25.0"),
            false,
        ),
        pod(
            "staging-web",
            "frontend-6f8e2-k9w4r",
            Some("1-24-0"),
            Some("1.24.0"),
            true,
        ),
    ];
    pods[12].restarts = 1;
    apply(Event::Pods(Watch::Init));
    for p in pods {
        apply(Event::Pods(Watch::InitApply(p)));
    }
    apply(Event::Pods(Watch::InitDone));
    apply(Event::DaemonSets(Watch::Init));
    for name in ["istio-cni-node", "ztunnel"] {
        apply(Event::DaemonSets(Watch::InitApply(DaemonSetInfo {
            namespace: "istio-system".into(),
            name: name.into(),
            version: Version::parse("1.24.0"),
            revision: Some("1-24-0".into()),
            ready: 4,
            desired: 4,
        })));
    }
    apply(Event::DaemonSets(Watch::InitDone));
    let lines = [
        (
            "1-24-0",
            "istiod-1-24-0-7f9c4d8b6-abcde",
            "2026-11-24T21:29:55.000100Z\tinfo\tads\tADS: new connection for node:sidecar~10.244.0.7~cart-6d8f9b7c5-2xk4p.checkout~checkout.svc.cluster.local-12",
        ),
        (
            "1-25-0",
            "istiod-1-25-0-7f9c4d8b6-lmnpq",
            "2026-11-24T21:29:56.000200Z\tinfo\tads\tPush debounce stable[41] 2 for config ServiceEntry/checkout/cart.checkout.svc.cluster.local: 100.2ms since last change",
        ),
        (
            "1-25-0",
            "istiod-1-25-0-7f9c4d8b6-lmnpq",
            "2026-11-24T21:29:57.000300Z\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.244.3.9~frontend-9c4d7-b2n6x.staging-web~staging-web.svc.cluster.local-3 Internal:Error adding/updating listener(s) virtualInbound: unknown field",
        ),
        (
            "1-24-0",
            "istiod-1-24-0-7f9c4d8b6-fghjk",
            "2026-11-24T21:29:58.000400Z\terror\tmodel\tfailed to push to a proxy: stream closed",
        ),
        (
            "1-25-0",
            "istiod-1-25-0-7f9c4d8b6-rstvw",
            "2026-11-24T21:29:59.000500Z\twarn\tdelta\tADS:CDS: ACK ERROR sidecar~10.244.3.10~frontend-9c4d7-p5m3z.staging-web~staging-web.svc.cluster.local-4 Internal:cluster outbound|80||cart.checkout: bad TLS context",
        ),
    ];
    for (rev, pod, line) in lines {
        apply(Event::IstiodLog(IstiodLogLine {
            pod: pod.into(),
            revision: rev.into(),
            line: line.into(),
        }));
    }
    for stream in Stream::ALL {
        apply(Event::Stream(stream, StreamStatus::Connected));
    }
    apply(Event::Tick(now()));
    // Streams report their last event at the fixed clock.
    s
}

/// Numbers for the metrics pane and the rollback banner.
pub mod metrics {
    use std::collections::BTreeMap;

    use chrono::Duration;
    use istio_cockpit::app::event::{Event, Watch};
    use istio_cockpit::app::state::State;
    use istio_cockpit::app::update::update;
    use istio_cockpit::metrics::control_plane::Rates;
    use istio_cockpit::metrics::reading::{Reading, Traffic};
    use istio_cockpit::ui::layout;

    use super::{self as fixture, now};

    fn traffic(rps: f64, p99: f64, ratio: f64) -> Traffic {
        Traffic {
            requests_per_s: rps,
            error_ratio: Some(ratio),
            p99_ms: Some(p99),
            mtls_failures_per_s: 0.0,
            sampled_pods: None,
        }
    }

    fn istiod(pushes: f64, p99: f64, proxies: &[(&str, f64)]) -> Rates {
        Rates {
            pushes_per_s: [
                ("cds".to_string(), pushes / 2.0),
                ("eds".to_string(), pushes / 2.0),
            ]
            .into(),
            rejects_per_s: 0.0,
            convergence_p99: Some(p99),
            proxies: proxies.iter().map(|(v, n)| (v.to_string(), *n)).collect(),
            cpu_cores: Some(pushes / 10.0),
            memory_bytes: Some(pushes * 128.0 * 1024.0 * 1024.0),
        }
    }

    fn feed(s: &mut State, seconds_ago: i64, search: (&str, f64)) {
        let mut r = Reading {
            at: now() - Duration::seconds(seconds_ago),
            source: "Prometheus at http://127.0.0.1:9090".into(),
            control_plane: BTreeMap::new(),
            data_plane: BTreeMap::new(),
            errors: Vec::new(),
        };
        let wobble = (seconds_ago % 15) as f64;
        r.control_plane.insert(
            "1-24-0".into(),
            istiod(
                4.0 + wobble / 10.0,
                0.08 + wobble / 100.0,
                &[("1.24.0", 9.0), ("1.22.4", 1.0)],
            ),
        );
        r.control_plane.insert(
            "1-25-0".into(),
            istiod(1.5, 0.05 + wobble / 200.0, &[("1.25.0", 3.0)]),
        );
        let ns = |r: &mut Reading, name: &str, rev: &str, t: Traffic| {
            r.data_plane
                .entry(name.into())
                .or_default()
                .insert(rev.into(), t);
        };
        ns(
            &mut r,
            "search",
            search.0,
            traffic(42.0, search.1 + wobble, 0.002),
        );
        ns(
            &mut r,
            "staging-web",
            "1-25-0",
            traffic(18.5, 35.0 + wobble, 0.0),
        );
        ns(
            &mut r,
            "payments",
            "1-24-0",
            traffic(120.0, 61.0 + wobble, 0.031),
        );
        update(s, Event::Metrics(r), layout::table_rows);
    }

    /// `search` measured on 1-24-0, moved to 1-25-0, and 320 ms slower there for 2m30s.
    pub fn breached(width: u16, height: u16) -> State {
        let mut s = fixture::state(width, height);
        for ago in (155..=300).rev().step_by(5) {
            feed(&mut s, ago, ("1-24-0", 100.0));
        }
        for old in ["search-api-5f7b9-4wpdd", "search-api-5f7b9-kd82m"] {
            let pod = fixture::pod("search", old, Some("1-24-0"), Some("1.24.0"), true);
            update(&mut s, Event::Pods(Watch::Delete(pod)), layout::table_rows);
        }
        for new in ["search-api-7d2c1-9xk2p", "search-api-7d2c1-q4w8n"] {
            let pod = fixture::pod("search", new, Some("1-25-0"), Some("1.25.0"), true);
            update(&mut s, Event::Pods(Watch::Apply(pod)), layout::table_rows);
        }
        for ago in (0..=150).rev().step_by(5) {
            feed(&mut s, ago, ("1-25-0", 420.0));
        }
        update(&mut s, Event::Tick(now()), layout::table_rows);
        s
    }
}
