//! Answers that never end: a Prometheus that streams without end or trickles, and a sidecar
//! whose stats page never ends (the simulator's `stats.endless.<rev>` fault). Each is cut at
//! its cap or its time limit, named on the metrics pane, and the cockpit's memory stays flat.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use istio_cockpit::app::event::Event;
use istio_cockpit::cluster::metrics_source::{self, SIDECAR_PAGE_CAP};
use istio_cockpit::cluster::prometheus_source::{ANSWER_CAP, Poller, PrometheusAuth, TIMEOUT};
use istio_cockpit::metrics::data_plane::{SCRAPE_EVERY, Sample};
use istio_cockpit::metrics::queries::Failure;
use istio_cockpit::metrics::reading::Reading;
use reqwest::Url;
use tokio::sync::{mpsc, watch};

use crate::common::cockpit_term::*;
use crate::common::sidecars::sample_targets;
use crate::common::{Sim, eventually};

const MIB: usize = 1024 * 1024;
/// What loopback may hold beyond what the cockpit read: the server's send buffer (4 MiB at
/// most here) and the cockpit's receive buffer (auto-tuned, up to 32 MiB in theory, a few MiB
/// in practice). Without a cap the server sends gigabytes in the same time.
const IN_FLIGHT: usize = 40 * MIB;
/// The resident memory the cockpit must stay under (DESIGN §6).
const RSS_LIMIT_KB: u64 = 200 * 1024;

// ---------------------------------------------------------------------------------------------
// A stand-in Prometheus on loopback that answers every request with a body that never ends.

#[derive(Clone, Copy)]
enum Flow {
    /// As fast as the client takes it.
    Flood,
    /// One byte every 50 ms.
    Trickle,
}

struct Endless {
    url: Url,
    /// Bytes each connection managed to send, in the order they came.
    sent: Arc<Mutex<Vec<Arc<AtomicU64>>>>,
    /// Connections still sending.
    open: Arc<AtomicUsize>,
}

impl Endless {
    fn start(flow: Flow) -> Endless {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let sent: Arc<Mutex<Vec<Arc<AtomicU64>>>> = Arc::default();
        let open = Arc::new(AtomicUsize::new(0));
        let (sent2, open2) = (sent.clone(), open.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let count = Arc::new(AtomicU64::new(0));
                sent2.lock().unwrap().push(count.clone());
                open2.fetch_add(1, Ordering::SeqCst);
                let open = open2.clone();
                std::thread::spawn(move || {
                    answer(stream, flow, &count);
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Endless { url, sent, open }
    }

    fn connections(&self) -> usize {
        self.sent.lock().unwrap().len()
    }

    /// The most any one connection sent.
    fn most_sent(&self) -> usize {
        let sent = self.sent.lock().unwrap();
        sent.iter()
            .map(|c| c.load(Ordering::SeqCst) as usize)
            .max()
            .unwrap_or(0)
    }

    fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// Reads the request's head, then sends a Prometheus answer that never ends, counting what the
/// socket took, until the client hangs up.
fn answer(mut stream: TcpStream, flow: Flow, sent: &AtomicU64) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n\
                 {\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[";
    if stream.write_all(start.as_bytes()).is_err() {
        return;
    }
    let series = r#"{"metric":{"namespace":"tenant","istio_io_rev":"1-25-0"},"value":[1,"1"]},"#;
    let chunk = series.repeat(64 * 1024 / series.len());
    loop {
        let piece = match flow {
            Flow::Flood => chunk.as_bytes(),
            Flow::Trickle => {
                std::thread::sleep(Duration::from_millis(50));
                &chunk.as_bytes()[..1]
            }
        };
        if stream.write_all(piece).is_err() {
            return;
        }
        sent.fetch_add(piece.len() as u64, Ordering::SeqCst);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Asks the stand-in once; returns why it failed and how long that took.
fn ask(server: &Endless) -> (String, Duration) {
    let rt = runtime();
    let poller = Poller::http(server.url.clone(), PrometheusAuth::None).expect("poller");
    let asked = Instant::now();
    let answer = rt.block_on(poller.query("vector(1)"));
    let took = asked.elapsed();
    match answer {
        Err(Failure::Fetch(why)) => (why, took),
        other => panic!("an endless answer was taken: {other:?}"),
    }
}

/// Waits until the server's connections have all ended: the cockpit hung up.
fn hung_up(server: &Endless) {
    let closed = eventually(Duration::from_secs(5), || {
        (server.open() == 0).then_some(())
    });
    assert!(
        closed.is_some(),
        "{} connections still sending after the answer was given up",
        server.open()
    );
}

#[test]
fn an_endless_prometheus_answer_is_cut_at_the_cap() {
    let server = Endless::start(Flow::Flood);
    let (why, took) = ask(&server);
    assert_eq!(
        why,
        format!(
            "the answer is larger than the {} MiB cap; reading stopped there",
            ANSWER_CAP / MIB
        )
    );
    assert!(took < TIMEOUT, "the cap was reached only after {took:?}");
    hung_up(&server);
    let sent = server.most_sent();
    assert!(
        (ANSWER_CAP..ANSWER_CAP + IN_FLIGHT).contains(&sent),
        "the server sent {} MiB for an {} MiB cap",
        sent / MIB,
        ANSWER_CAP / MIB
    );
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_trickling_prometheus_answer_is_given_up_in_time() {
    let server = Endless::start(Flow::Trickle);
    let (why, took) = ask(&server);
    assert_eq!(why, format!("no answer within {} s", TIMEOUT.as_secs()));
    assert!(took < TIMEOUT + Duration::from_secs(1), "{took:?}");
    hung_up(&server);
    assert!(server.most_sent() < 200, "{}", server.most_sent());
}

// ---------------------------------------------------------------------------------------------
// The real binary against the endless Prometheus.

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The highest resident memory of `pid` sampled every 200 ms for `how_long`.
fn peak_rss_kb(pid: u32, how_long: Duration) -> u64 {
    let end = Instant::now() + how_long;
    let mut peak = 0;
    while Instant::now() < end {
        peak = peak.max(rss_kb(pid).expect("the cockpit is running"));
        std::thread::sleep(Duration::from_millis(200));
    }
    peak
}

#[test]
fn the_cockpit_says_why_an_endless_prometheus_failed_and_stays_small() {
    let sim = Sim::start(&[]);
    let server = Endless::start(Flow::Flood);
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = server.url.to_string();
    let line = cockpit_line(
        &sim,
        "",
        "sim-admin",
        &dir.path().join("journal"),
        &format!("--read-only --prometheus {marker}"),
    );
    let term = open_cockpit(&line);
    let pid = cockpit_pid(&marker).expect("the cockpit's process");
    term.keys(&["P"]);
    let cap = format!("larger than the {} MiB cap", ANSWER_CAP / MIB);
    let (ok, screen) = term.wait_for(LONG, |s| s.contains(&cap));
    assert!(ok, "the metrics pane never named the cap:\n{screen}");
    assert!(screen.contains("UNAVAILABLE"), "{screen}");
    assert!(
        screen.contains(&format!("no usable answer from Prometheus at {marker}")),
        "{screen}"
    );
    // Two more rounds of ten endless answers each.
    let peak = peak_rss_kb(pid, Duration::from_secs(10));
    assert!(
        peak < RSS_LIMIT_KB,
        "the cockpit reached {} MB reading endless answers",
        peak / 1024
    );
    assert!(server.connections() >= 20, "{}", server.connections());
    assert!(server.most_sent() < ANSWER_CAP + IN_FLIGHT);
    assert!(term.screen().contains(&cap));
}

// ---------------------------------------------------------------------------------------------
// The direct scrape against sidecars whose stats pages never end.

const NAMESPACE: &str = "checkout";
const REVISION: &str = "1-24-0";

/// Samples this process' resident memory every 100 ms until dropped; `peak` is the highest.
struct RssWatch {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicUsize>,
}

impl RssWatch {
    fn start() -> RssWatch {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicUsize::new(0));
        let (peak2, stop2) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while stop2.load(Ordering::SeqCst) == 0 {
                let now = rss_kb(std::process::id()).expect("own VmRSS");
                peak2.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        RssWatch { peak, stop }
    }

    fn peak_kb(&self) -> u64 {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.stop.store(1, Ordering::SeqCst);
    }
}

#[test]
fn endless_stats_pages_fail_alone_and_memory_stays_flat() {
    let sim = Sim::start(&[]);
    sim.set_faults(r#"{"data": {"stats.endless.1-24-0": "true"}}"#);
    let rt = runtime();
    let client = rt.block_on(sim.kube_client("sim-viewer"));
    let chosen = rt.block_on(sample_targets(&client, NAMESPACE, REVISION));
    let (_sample, targets) = watch::channel(Sample {
        targets: chosen.clone(),
        every: SCRAPE_EVERY,
    });
    let (tx, mut rx) = mpsc::channel::<Event>(16);
    let _guard = rt.enter();
    let task = metrics_source::spawn(&client, targets, &tx);
    let before = rss_kb(std::process::id()).expect("own VmRSS");
    let watch = RssWatch::start();
    let mut readings: Vec<Reading> = Vec::new();
    // Four rounds, 5 s apart: the second and later carry istiod's rates.
    while readings.len() < 4 {
        let event = rt
            .block_on(tokio::time::timeout(Duration::from_secs(12), rx.recv()))
            .expect("a reading within 12 s")
            .expect("the source runs");
        if let Event::Metrics(reading) = event {
            readings.push(reading);
        }
    }
    task.abort();
    let cap = format!(
        "the answer is larger than the {} MiB cap; reading stopped there",
        SIDECAR_PAGE_CAP / MIB
    );
    for reading in &readings {
        for t in &chosen {
            let failed = format!("{}/{}: {cap}", t.namespace, t.pod);
            assert!(
                reading.errors.contains(&failed),
                "no `{failed}` in {:?}",
                reading.errors
            );
        }
        assert_eq!(reading.errors.len(), chosen.len(), "{:?}", reading.errors);
        assert!(reading.traffic(NAMESPACE, REVISION).is_none());
    }
    // istiod's page is read as before: the control plane keeps its numbers.
    let last = readings.last().unwrap();
    let istiod = last.control_plane.get(REVISION).expect("istiod's numbers");
    assert!(istiod.memory_bytes.is_some_and(|m| m > 1e6), "{istiod:?}");
    assert!(!last.is_down());
    let peak = watch.peak_kb();
    assert!(
        peak < before + 100 * 1024,
        "reading endless pages took the test from {} MB to {} MB",
        before / 1024,
        peak / 1024
    );
}

#[test]
fn the_cockpit_names_endless_stats_pages_keeps_istiods_numbers_and_stays_small() {
    let sim = Sim::start(&[]);
    sim.set_faults(r#"{"data": {"stats.endless.1-24-0": "true"}}"#);
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = dir.path().join("journal");
    let marker = journal.display().to_string();
    let line = cockpit_line(&sim, "", "sim-admin", &journal, "--read-only");
    let term = open_cockpit(&line);
    let pid = cockpit_pid(&marker).expect("the cockpit's process");
    term.keys(&["P"]);
    let cap = format!(
        "the answer is larger than the {} MiB cap; reading stopped there",
        SIDECAR_PAGE_CAP / MIB
    );
    // istiod's rates need two rounds; the sampled sidecars fail in each. Its row in the
    // metrics pane counts the proxies connected to it by version.
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.contains(&cap)
            && s.contains("PUSHES/S")
            && s.lines()
                .any(|l| l.starts_with("│1-24-0") && l.contains("1.24.0×"))
    });
    assert!(
        ok,
        "no failed sidecar page next to istiod's numbers:\n{screen}"
    );
    let failed = screen.lines().find(|l| l.contains(&cap)).unwrap();
    assert!(failed.contains("error: "), "{failed}");
    assert!(!screen.contains("UNAVAILABLE"), "{screen}");
    let peak = peak_rss_kb(pid, Duration::from_secs(10));
    assert!(
        peak < RSS_LIMIT_KB,
        "the cockpit reached {} MB reading endless pages",
        peak / 1024
    );
    assert!(term.screen().contains(&cap));
}
