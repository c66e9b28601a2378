//! Which proxy is connected to which istiod: a proxy connects to the least loaded serving
//! istiod of its revision in the cluster that serves its own, and moves when that istiod
//! stops serving.

use chrono::{DateTime, Utc};

use super::{State, proxy_ref_of};
use crate::sim::mesh::istiod::ProxyRef;
use crate::sim::mesh::log_lines;
use crate::sim::mesh::sidecar::Link;

impl State {
    fn proxy_ref(&self, slot: u32, connection: u64) -> Option<ProxyRef> {
        let sc = self.sidecars.get(slot as usize)?.as_ref()?;
        Some(proxy_ref_of(slot, sc, &self.versions, connection))
    }

    /// Connects a running proxy to the least loaded serving istiod of its revision.
    pub(super) fn connect(&mut self, slot: u32, now: DateTime<Utc>) {
        let Some(sc) = self.sidecars[slot as usize].as_ref() else {
            return;
        };
        if sc.link.is_some() || !sc.running {
            return;
        }
        let (rev, ver) = (sc.revision, sc.proxy_version);
        let server = self.server_of(sc.cluster);
        let target = self
            .istiods
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().map(|d| (i, d)))
            .filter(|(_, d)| d.serving && d.revision == rev && d.cluster == server)
            .min_by_key(|(i, d)| (d.connected(), *i))
            .map(|(i, _)| i as u32);
        let Some(index) = target else {
            return;
        };
        let d = self.istiods[index as usize].as_mut().expect("istiod");
        let connection = d.next_connection;
        d.next_connection += 1;
        let link = Link {
            istiod: index,
            slot: d.proxies.len() as u32,
            connection,
        };
        d.proxies.push(slot);
        *d.by_version.entry(ver).or_default() += 1;
        d.pending_changes += 1;
        let log = d.connect_lines > 0;
        d.connect_lines = d.connect_lines.saturating_sub(1);
        self.sidecars[slot as usize].as_mut().expect("sidecar").link = Some(link);
        if log && let Some(p) = self.proxy_ref(slot, connection) {
            self.log_istiod(
                index,
                vec![log_lines::connected(&p.connection_id, p.delta)],
                now,
            );
        }
    }

    /// Ends a proxy's connection. `log`: istiod logs the termination.
    pub(super) fn disconnect(&mut self, slot: u32, log: bool, now: DateTime<Utc>) {
        let Some(link) = self.sidecars[slot as usize]
            .as_mut()
            .and_then(|s| s.link.take())
        else {
            return;
        };
        let ver = self.sidecars[slot as usize]
            .as_ref()
            .map_or(0, |s| s.proxy_version);
        let Some(d) = self.istiods[link.istiod as usize].as_mut() else {
            return;
        };
        let at = link.slot as usize;
        if at < d.proxies.len() {
            d.proxies.swap_remove(at);
            if let Some(&moved) = d.proxies.get(at)
                && let Some(Some(m)) = self.sidecars.get_mut(moved as usize)
                && let Some(l) = m.link.as_mut()
            {
                l.slot = link.slot;
            }
        }
        if let Some(c) = d.by_version.get_mut(&ver) {
            *c = c.saturating_sub(1);
        }
        if log {
            let sc = self.sidecars[slot as usize].as_ref().expect("sidecar");
            let p = proxy_ref_of(slot, sc, &self.versions, link.connection);
            let ip = sc.ip;
            let entry = log_lines::terminated(ip, &p.connection_id, p.delta, &mut self.draw);
            self.log_istiod(link.istiod, vec![entry], now);
        }
    }

    /// A serving istiod takes the proxies of its revision it may serve that have no
    /// connection.
    pub(super) fn adopt(&mut self, index: u32, now: DateTime<Utc>) {
        let Some((rev, cluster)) = self.istiods[index as usize]
            .as_ref()
            .map(|d| (d.revision, d.cluster))
        else {
            return;
        };
        let waiting: Vec<u32> = self
            .sidecars
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| {
                s.revision == rev
                    && s.running
                    && s.link.is_none()
                    && self.server_of(s.cluster) == cluster
            })
            .map(|(i, _)| i as u32)
            .collect();
        for slot in waiting {
            self.connect(slot, now);
        }
    }

    /// An istiod stops serving: its proxies reconnect to the others of its revision.
    pub(super) fn release(&mut self, index: u32, now: DateTime<Utc>) {
        let proxies = match self.istiods[index as usize].as_ref() {
            Some(d) => d.proxies.clone(),
            None => return,
        };
        for slot in &proxies {
            self.disconnect(*slot, false, now);
        }
        for slot in proxies {
            self.connect(slot, now);
        }
    }
}
