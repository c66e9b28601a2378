//! The merged istiod log: a ring of parsed lines with a fixed capacity, and NACK counters by
//! revision and xDS type that keep counting after old lines fall out of the ring.

use std::collections::{BTreeMap, VecDeque};

use super::istiod_log::{self, ParsedLine};

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Increases by one per line ever received: a stable handle for scrolling.
    pub seq: u64,
    pub revision: String,
    pub pod: String,
    pub line: ParsedLine,
}

#[derive(Debug, Clone)]
pub struct LogBuffer {
    capacity: usize,
    entries: VecDeque<LogEntry>,
    next_seq: u64,
    /// NACKs per (revision, xDS type) since the cockpit started.
    pub nacks: BTreeMap<(String, String), u64>,
    /// When each revision's most recent NACK arrived (istiod's timestamp).
    pub last_nack: BTreeMap<String, chrono::DateTime<chrono::Utc>>,
    /// NACKs per proxy they name, as (namespace, pod): few pods NACK, and a fleet tells
    /// from these which of its clusters the proxies belong to.
    pub nacks_by_pod: BTreeMap<(String, String), u64>,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            capacity: capacity.max(1),
            entries: VecDeque::new(),
            next_seq: 0,
            nacks: BTreeMap::new(),
            last_nack: BTreeMap::new(),
            nacks_by_pod: BTreeMap::new(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn push(&mut self, revision: &str, pod: &str, raw: &str) {
        let line = istiod_log::parse(raw);
        if let Some(nack) = &line.nack {
            *self
                .nacks
                .entry((revision.to_string(), nack.xds_type.clone()))
                .or_default() += 1;
            if let Some(at) = line.at {
                self.last_nack.insert(revision.to_string(), at);
            }
            if let Some(proxy) = &nack.proxy {
                *self
                    .nacks_by_pod
                    .entry((proxy.namespace.clone(), proxy.pod.clone()))
                    .or_default() += 1;
            }
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(LogEntry {
            seq: self.next_seq,
            revision: revision.to_string(),
            pod: pod.to_string(),
            line,
        });
        self.next_seq += 1;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &LogEntry> + ExactSizeIterator {
        self.entries.iter()
    }

    pub fn nacks_for(&self, revision: &str) -> u64 {
        self.nacks
            .iter()
            .filter(|((r, _), _)| r == revision)
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NACK: &str = "2026-11-24T21:30:02.000001Z\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.0.0.1~a-1.shop~shop.svc.cluster.local-1 Internal:bad";

    #[test]
    fn the_ring_is_bounded_but_nack_counts_are_not() {
        let mut logs = LogBuffer::new(3);
        for _ in 0..5 {
            logs.push("1-25-0", "istiod-1-25-0-x", NACK);
        }
        logs.push(
            "1-24-0",
            "istiod-1-24-0-y",
            "2026-11-24T21:30:02.000001Z\tinfo\tads\thello",
        );
        assert_eq!(logs.len(), 3);
        assert_eq!(logs.nacks_for("1-25-0"), 5);
        assert_eq!(logs.nacks[&("1-25-0".to_string(), "LDS".to_string())], 5);
        assert_eq!(logs.nacks_for("1-24-0"), 0);
        assert_eq!(logs.nacks_by_pod[&("shop".into(), "a-1".into())], 5);
        let seqs: Vec<u64> = logs.entries().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
    }
}
