//! One second of the mesh, for every cluster of the fleet at once: fault epochs, traffic,
//! and each istiod's pushes and NACKs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{LogOut, MTLS_LINES_PER_TICK, State, peers, proxy_ref_of};
use crate::sim::faults::FaultSet;
use crate::sim::mesh::cross::{Gateway, LinkState};
use crate::sim::mesh::istiod::{CONNECT_LINES_PER_TICK, Rejection, TickContext};
use crate::sim::mesh::log_lines::{self, FailedCall, XDS_TYPES};
use crate::sim::mesh::random;
use crate::sim::mesh::traffic::RevFaults;

impl State {
    /// One second of the mesh. `faults` are the clusters' fault sets, in the fleet's order
    /// (a cluster without one has none).
    pub fn tick(&mut self, faults: &[FaultSet], now: DateTime<Utc>) {
        self.tick += 1;
        let tick = self.tick;
        for d in self.istiods.iter_mut().flatten() {
            d.connect_lines = CONNECT_LINES_PER_TICK;
        }
        self.apply_faults(faults);
        self.advance_traffic(tick, now);
        self.tick_istiods(faults, tick, now);
    }

    /// When a revision's faults change in a cluster, its pods' counts so far are frozen
    /// first; likewise the cross-cluster counts of pods whose link to another cluster changes.
    fn apply_faults(&mut self, faults: &[FaultSet]) {
        let none = FaultSet::default();
        let mut gateways_changed = false;
        for cluster in 0..self.clusters.len() {
            let set = faults.get(cluster).unwrap_or(&none);
            for rev in 0..self.clusters[cluster].rev_faults.len() {
                let new = RevFaults::of(set, &self.revisions.name(rev as u16));
                let old = self.clusters[cluster].rev_faults[rev];
                if new == old {
                    continue;
                }
                for sc in
                    self.sidecars.iter_mut().flatten().filter(|s| {
                        usize::from(s.revision) == rev && usize::from(s.cluster) == cluster
                    })
                {
                    sc.traffic.fold(&old);
                }
                self.clusters[cluster].rev_faults[rev] = new;
            }
            let gateway = Gateway::of(set);
            gateways_changed |= gateway != self.clusters[cluster].gateway;
            self.clusters[cluster].gateway = gateway;
        }
        if !gateways_changed {
            return;
        }
        let clusters = &self.clusters;
        for sc in self.sidecars.iter_mut().flatten() {
            let base_ms = f64::from(sc.traffic.base_ms);
            if let Some(cross) = sc.cross.as_mut() {
                let link = LinkState::between(
                    clusters[usize::from(sc.cluster)].gateway,
                    clusters[usize::from(cross.peer)].gateway,
                );
                cross.set_link(link, base_ms);
            }
        }
    }

    fn advance_traffic(&mut self, tick: u64, now: DateTime<Utc>) {
        // A slow wave over five minutes, and per-pod jitter on every tick.
        let wave = 1.0 + 0.15 * (tick as f64 * std::f64::consts::TAU / 300.0).sin();
        let mut budget = MTLS_LINES_PER_TICK;
        let mut failed: Vec<u32> = Vec::new();
        // Outside a fleet no pod has cross-cluster traffic: not even looked for.
        let fleet = self.clusters.len() > 1;
        let lone = (!fleet).then(|| self.clusters.first().map(|c| &c.rev_faults[..]));
        for (slot, sc) in self.sidecars.iter_mut().enumerate() {
            let Some(sc) = sc.as_mut().filter(|s| s.running) else {
                continue;
            };
            let jitter = 0.75 + 0.5 * random::unit(random::pair(sc.id, tick));
            let rev_faults = match lone.flatten() {
                Some(table) => table,
                None => &self.clusters[usize::from(sc.cluster)].rev_faults,
            };
            let f = &rev_faults[usize::from(sc.revision)];
            if f.mtls > 0.0 {
                let before = sc.traffic.mtls_failures(f);
                sc.traffic.advance(wave * jitter);
                if budget > 0 && sc.traffic.mtls_failures(f) > before {
                    budget -= 1;
                    failed.push(slot as u32);
                }
            } else {
                sc.traffic.advance(wave * jitter);
            }
            if fleet && let Some(cross) = sc.cross.as_mut() {
                let before = cross.mtls_failures();
                cross.advance(f64::from(sc.traffic.rate) * wave * jitter);
                if budget > 0 && cross.mtls_failures() > before {
                    budget -= 1;
                    failed.push(slot as u32);
                }
            }
        }
        for slot in failed {
            let Some(sc) = self.sidecars[slot as usize].as_ref() else {
                continue;
            };
            let (_, callee) = peers(&self.clusters, sc);
            let call = FailedCall {
                at: now,
                ip: sc.ip,
                peer: &callee.workload,
                ns: &sc.ns,
                duration_ms: 1 + self.draw.below(4) as u64,
            };
            let line = log_lines::mtls_failure(&call, &mut self.draw);
            self.out.push(LogOut {
                cluster: sc.cluster,
                ns: sc.ns.clone(),
                pod: sc.name.clone(),
                container: "istio-proxy",
                at: now,
                line,
            });
        }
    }

    fn tick_istiods(&mut self, faults: &[FaultSet], tick: u64, now: DateTime<Utc>) {
        // A revision's NACK rate in a cluster is shared by its istiods there that have proxies.
        let none = FaultSet::default();
        let mut active: HashMap<(u16, u16), usize> = HashMap::new();
        for d in self
            .istiods
            .iter()
            .flatten()
            .filter(|d| d.serving && d.connected() > 0)
        {
            *active.entry((d.cluster, d.revision)).or_default() += 1;
        }
        for index in 0..self.istiods.len() {
            let Some(mut d) = self.istiods[index].take() else {
                continue;
            };
            let rev_name = self.revisions.name(d.revision);
            let cluster = usize::from(d.cluster);
            let nacks = faults
                .get(cluster)
                .unwrap_or(&none)
                .nacks_per_minute
                .get(&*rev_name)
                .copied()
                .unwrap_or(0.0);
            let f = self.clusters[cluster].rev_faults[usize::from(d.revision)];
            let mut ctx = TickContext {
                tick,
                now,
                services: self.served_services(d.cluster),
                nacks_per_minute: nacks
                    / active
                        .get(&(d.cluster, d.revision))
                        .copied()
                        .unwrap_or(1)
                        .max(1) as f64,
                send_error_share: ((f.errors + f.mtls) * 0.02).min(0.5),
                draw: &mut self.draw,
            };
            let sidecars = &self.sidecars;
            let versions = &self.versions;
            let lines = d.tick(&mut ctx, &|slot| {
                let sc = sidecars.get(slot as usize)?.as_ref()?;
                Some(proxy_ref_of(
                    slot,
                    sc,
                    versions,
                    sc.link.map_or(0, |l| l.connection),
                ))
            });
            let rejected = std::mem::take(&mut d.rejected);
            self.istiods[index] = Some(d);
            self.log_istiod(index as u32, lines, now);
            self.log_rejections(rejected, now);
        }
    }
}

impl State {
    /// Each rejected push, in the log of the proxy that rejected it.
    fn log_rejections(&mut self, rejected: Vec<Rejection>, now: DateTime<Utc>) {
        for r in rejected {
            let Some(sc) = self.sidecars.get(r.slot as usize).and_then(Option::as_ref) else {
                continue;
            };
            self.out.push(LogOut {
                cluster: sc.cluster,
                ns: sc.ns.clone(),
                pod: sc.name.clone(),
                container: "istio-proxy",
                at: now,
                line: log_lines::envoy_rejection(now, XDS_TYPES[r.xds], &r.detail),
            });
        }
    }
}
