//! One istiod pod: the proxies connected to it, what it pushes and what is rejected, the
//! lines it logs on each tick and the page it serves on port 15014.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::exposition::{Labels, Page};
use super::histogram::{Accumulated, CONVERGENCE_S, LogNormal, PUSH_TIME_S};
use super::log_lines::{self, Debounce, Entry, XDS_TYPES};
use super::random::Draw;
use super::sync_status::{self, ProxyIdentity, Stale, SyncRow};

const CDS: usize = 0;
const EDS: usize = 1;
const LDS: usize = 2;
const RDS: usize = 3;

/// Connection lines one istiod may log per tick (a rollout of thousands of pods is counted,
/// not logged line by line).
pub const CONNECT_LINES_PER_TICK: usize = 200;

/// At most this many NACK lines per istiod and tick; faster storms are counted, not logged.
const NACK_LINES_PER_TICK: usize = 300;
const PUSHES_HELP: &str = "Pilot build and send errors for lds, rds, cds and eds.";

#[derive(Debug, Default)]
struct Counters {
    pushes: [u64; 4],
    send_errors: [f64; 4],
    rejects: [u64; 4],
    internal_errors: u64,
    convergence: Accumulated<8>,
    push_time: [Accumulated<8>; 4],
    cpu_seconds: f64,
}

#[derive(Debug)]
pub struct Istiod {
    /// The index of its cluster in the fleet.
    pub cluster: u16,
    pub ns: Arc<str>,
    pub name: Arc<str>,
    pub app: Arc<str>,
    pub revision: u16,
    pub revision_name: Arc<str>,
    pub version: String,
    pub ip: Option<Ipv4Addr>,
    pub running: bool,
    /// Ready and not terminating: proxies may connect.
    pub serving: bool,
    /// Its startup lines were logged.
    pub announced: bool,
    /// Sidecar slots of the connected proxies.
    pub proxies: Vec<u32>,
    /// Connected proxies by proxy version (index), kept at 0 once seen, as istiod does.
    pub by_version: BTreeMap<u16, u64>,
    pub next_connection: u64,
    /// Connection lines this istiod may still log in this tick.
    pub connect_lines: usize,
    /// Pod changes since the last push.
    pub pending_changes: u32,
    pub pending_config: Option<String>,
    started_at: DateTime<Utc>,
    last_push_tick: u64,
    next_full_push: u64,
    push_sequence: u64,
    nack_carry: f64,
    counters: Counters,
    /// Proxies that rejected a push, until a push goes through without a rejection.
    stale: Stale,
    /// The pushes rejected in the last tick, for the rejecting proxies' own logs.
    pub rejected: Vec<Rejection>,
}

/// A push a proxy rejected: its sidecar slot, the xDS type, and what Envoy said.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub slot: u32,
    pub xds: usize,
    pub detail: String,
}

/// What istiod needs to know about a connected proxy to log about it.
pub struct ProxyRef {
    pub slot: u32,
    pub connection_id: String,
    pub pod: Arc<str>,
    pub ns: Arc<str>,
    pub service: String,
    pub delta: bool,
}

/// The mesh-wide facts a tick of one istiod depends on.
pub struct TickContext<'a> {
    pub tick: u64,
    pub now: DateTime<Utc>,
    pub services: usize,
    /// NACKs per minute this istiod should log.
    pub nacks_per_minute: f64,
    /// The share of pushes that fail to send (a degraded revision).
    pub send_error_share: f64,
    pub draw: &'a mut Draw,
}

impl Istiod {
    pub fn new(
        pod: PodName,
        revision: (u16, Arc<str>),
        version: String,
        tick: u64,
        now: DateTime<Utc>,
    ) -> Istiod {
        Istiod {
            cluster: 0,
            ns: pod.ns,
            name: pod.name,
            app: pod.app,
            revision: revision.0,
            revision_name: revision.1,
            version,
            ip: None,
            running: false,
            serving: false,
            announced: false,
            proxies: Vec::new(),
            by_version: BTreeMap::new(),
            next_connection: 1,
            connect_lines: CONNECT_LINES_PER_TICK,
            pending_changes: 0,
            pending_config: None,
            started_at: now,
            last_push_tick: tick,
            next_full_push: tick + 5,
            push_sequence: 0,
            nack_carry: 0.0,
            counters: Counters::default(),
            stale: Stale::default(),
            rejected: Vec::new(),
        }
    }

    pub fn connected(&self) -> usize {
        self.proxies.len()
    }

    fn record_push(&mut self, types: &[usize], ctx: &TickContext<'_>) {
        let n = self.proxies.len() as f64;
        let load = 1.0 + n / 3000.0;
        for &t in types {
            self.counters.pushes[t] += self.proxies.len() as u64;
            self.counters.send_errors[t] += n * ctx.send_error_share;
            self.counters.push_time[t].observe_many(
                n,
                &LogNormal::new(0.004 * load, 0.8),
                &PUSH_TIME_S,
            );
        }
        self.counters.convergence.observe_many(
            n,
            &LogNormal::new(0.03 * load * types.len() as f64, 0.9),
            &CONVERGENCE_S,
        );
        self.last_push_tick = ctx.tick;
        self.push_sequence += 1;
    }

    /// One second of istiod's life: CPU, pushes, NACKs. Returns the lines it logs.
    pub fn tick(
        &mut self,
        ctx: &mut TickContext<'_>,
        proxy: &dyn Fn(u32) -> Option<ProxyRef>,
    ) -> Vec<Entry> {
        let mut lines = Vec::new();
        let n = self.proxies.len();
        self.counters.cpu_seconds += 0.02 + n as f64 * 0.000_05 + ctx.draw.unit() * 0.01;
        if !self.serving {
            return lines;
        }
        let pick = |draw: &mut Draw, proxies: &[u32]| -> Option<ProxyRef> {
            if proxies.is_empty() {
                None
            } else {
                proxy(proxies[draw.below(proxies.len())])
            }
        };

        let full = ctx.tick >= self.next_full_push;
        let incremental = !full && (self.pending_changes > 0 || ctx.draw.unit() < 0.3);
        if full || incremental {
            let sample = pick(ctx.draw, &self.proxies);
            let config = self.pending_config.take().unwrap_or_else(|| match &sample {
                Some(p) => format!("ServiceEntry/{}/{}", p.ns, p.service),
                None => format!(
                    "ServiceEntry/{}/istiod-{}.{}.svc.cluster.local",
                    self.ns, self.revision_name, self.ns
                ),
            });
            let changes = self.pending_changes.max(1);
            self.pending_changes = 0;
            lines.push(log_lines::debounce(&Debounce {
                sequence: self.push_sequence + 1,
                config: &config,
                changes,
                since_change_ms: 100.0 + ctx.draw.unit() * 5.0,
                since_push_s: (ctx.tick - self.last_push_tick) as f64 + ctx.draw.unit(),
                full,
            }));
            if full {
                if ctx.nacks_per_minute <= 0.0 {
                    self.stale.clear();
                }
                self.record_push(&[CDS, EDS, LDS, RDS], ctx);
                self.next_full_push = ctx.tick + 8 + ctx.draw.below(12) as u64;
                lines.push(log_lines::pushing(
                    ctx.services,
                    n,
                    ctx.now,
                    self.push_sequence,
                ));
                for xds in [CDS, LDS] {
                    if let Some(p) = pick(ctx.draw, &self.proxies) {
                        lines.push(log_lines::proxy_push(
                            XDS_TYPES[xds],
                            &p.pod,
                            &p.ns,
                            false,
                            p.delta,
                            ctx.draw,
                        ));
                    }
                }
            } else {
                self.record_push(&[EDS], ctx);
                if let Some(p) = sample {
                    lines.push(log_lines::proxy_push(
                        "eds", &p.pod, &p.ns, true, p.delta, ctx.draw,
                    ));
                }
            }
        }

        if n == 0 {
            self.nack_carry = 0.0;
            return lines;
        }
        self.nack_carry += ctx.nacks_per_minute / 60.0;
        let nacks = self.nack_carry.floor() as usize;
        self.nack_carry -= nacks as f64;
        for i in 0..nacks {
            let roll = ctx.draw.unit();
            let xds = if roll < 0.6 {
                LDS
            } else if roll < 0.85 {
                CDS
            } else {
                RDS
            };
            self.counters.rejects[xds] += 1;
            if ctx.draw.below(20) == 0 {
                self.counters.internal_errors += 1;
            }
            if i < NACK_LINES_PER_TICK
                && let Some(p) = pick(ctx.draw, &self.proxies)
            {
                let detail = log_lines::nack_detail(XDS_TYPES[xds], &p.service, ctx.draw);
                lines.push(log_lines::nack(
                    XDS_TYPES[xds],
                    &p.connection_id,
                    &detail,
                    p.delta,
                ));
                self.stale
                    .reject(p.slot, xds, self.push_sequence.saturating_sub(1));
                self.rejected.push(Rejection {
                    slot: p.slot,
                    xds,
                    detail,
                });
            }
        }
        lines
    }

    /// Writes istiod's `/metrics` into `page`. `version_name` resolves proxy version indexes.
    pub fn render(&self, version_name: &dyn Fn(u16) -> Arc<str>, services: usize, page: &mut Page) {
        let none = Labels::new();
        let typed = |t: &str| Labels::new().with("type", t);
        for (version, count) in &self.by_version {
            page.gauge(
                "pilot_xds",
                "Number of endpoints connected to this pilot using XDS.",
                &Labels::new().with("version", &version_name(*version)),
                count,
            );
        }
        page.histogram(
            "pilot_proxy_convergence_time",
            "Delay in seconds between config change and a proxy receiving all required configuration.",
            &none,
            &CONVERGENCE_S,
            &self.counters.convergence.snapshot(),
        );
        for (i, t) in XDS_TYPES.iter().enumerate() {
            page.counter(
                "pilot_xds_pushes",
                PUSHES_HELP,
                &typed(t),
                self.counters.pushes[i],
            );
        }
        for (i, t) in XDS_TYPES.iter().enumerate() {
            let failed = self.counters.send_errors[i].floor() as u64;
            if failed > 0 {
                page.counter(
                    "pilot_xds_pushes",
                    PUSHES_HELP,
                    &typed(&format!("{t}_senderr")),
                    failed,
                );
            }
        }
        for (i, t) in XDS_TYPES.iter().enumerate() {
            if self.counters.rejects[i] > 0 {
                page.counter(
                    "pilot_total_xds_rejects",
                    "Total number of XDS responses from pilot rejected by proxy.",
                    &typed(t),
                    self.counters.rejects[i],
                );
            }
        }
        page.counter(
            "pilot_total_xds_internal_errors",
            "Total number of internal XDS errors in pilot.",
            &none,
            self.counters.internal_errors,
        );
        for (i, t) in XDS_TYPES.iter().enumerate() {
            page.histogram(
                "pilot_xds_push_time",
                "Total time in seconds Pilot takes to push lds, rds, cds and eds.",
                &typed(t),
                &PUSH_TIME_S,
                &self.counters.push_time[i].snapshot(),
            );
        }
        page.gauge(
            "pilot_services",
            "Total services known to pilot.",
            &none,
            services,
        );
        page.gauge(
            "istio_build",
            "Istio component build info",
            &Labels::new()
                .with("component", "pilot")
                .with("tag", &self.version),
            1,
        );
        page.counter(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            &none,
            self.counters.cpu_seconds,
        );
        let memory = 90_000_000 + self.proxies.len() as u64 * 180_000 + services as u64 * 40_000;
        page.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            &none,
            memory,
        );
        page.gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            &none,
            self.started_at.timestamp(),
        );
    }

    /// What `/debug/syncz` lists: the connected proxies, those of `namespace` when it is
    /// given. `who` names the proxy in a slot, or None for one no longer known.
    pub fn syncz<'a>(
        &self,
        namespace: Option<&str>,
        who: &dyn Fn(u32) -> Option<ProxyIdentity<'a>>,
    ) -> Vec<SyncRow> {
        self.proxies
            .iter()
            .filter_map(|slot| Some((*slot, who(*slot)?)))
            .filter(|(_, w)| namespace.is_none_or(|ns| w.ns == ns))
            .map(|(slot, w)| sync_status::row(&w, slot, self.push_sequence, &self.stale))
            .collect()
    }

    pub fn startup_lines(&self, draw: &mut Draw) -> Vec<Entry> {
        log_lines::startup(&self.version, &self.revision_name, &self.name, draw)
    }
}

/// A pod's identity as the mesh keeps it.
pub struct PodName {
    pub ns: Arc<str>,
    pub name: Arc<str>,
    pub app: Arc<str>,
}
