//! Container logs of the simulated pods: a bounded ring per container, plus a broadcast for
//! `follow` readers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

pub type LogLine = (DateTime<Utc>, Arc<str>);

struct Container {
    lines: VecDeque<LogLine>,
    tx: broadcast::Sender<LogLine>,
}

pub struct LogHub {
    capacity: usize,
    containers: Mutex<HashMap<(String, String, String), Container>>,
}

impl LogHub {
    pub fn new(capacity: usize) -> LogHub {
        LogHub {
            capacity,
            containers: Mutex::new(HashMap::new()),
        }
    }

    fn key(ns: &str, pod: &str, container: &str) -> (String, String, String) {
        (ns.to_string(), pod.to_string(), container.to_string())
    }

    pub fn append(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        at: DateTime<Utc>,
        line: impl Into<Arc<str>>,
    ) {
        let mut map = self
            .containers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let c = map
            .entry(Self::key(ns, pod, container))
            .or_insert_with(|| Container {
                lines: VecDeque::new(),
                tx: broadcast::channel(1024).0,
            });
        let entry: LogLine = (at, line.into());
        if c.lines.len() >= self.capacity {
            c.lines.pop_front();
        }
        c.lines.push_back(entry.clone());
        let _ = c.tx.send(entry);
    }

    /// The retained lines, newest last, then a receiver for what follows (no gap, no overlap).
    pub fn read(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        tail: Option<usize>,
        since: Option<DateTime<Utc>>,
    ) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let mut map = self
            .containers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let c = map
            .entry(Self::key(ns, pod, container))
            .or_insert_with(|| Container {
                lines: VecDeque::new(),
                tx: broadcast::channel(1024).0,
            });
        let mut lines: Vec<LogLine> = c
            .lines
            .iter()
            .filter(|(t, _)| since.is_none_or(|s| *t >= s))
            .cloned()
            .collect();
        if let Some(n) = tail {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        (lines, c.tx.subscribe())
    }

    pub fn forget_pod(&self, ns: &str, pod: &str) {
        self.containers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(n, p, _), _| !(n == ns && p == pod));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_tail_and_since_filter() {
        let hub = LogHub::new(3);
        let t0 = Utc::now();
        for i in 0..5 {
            hub.append(
                "ns",
                "p",
                "c",
                t0 + chrono::Duration::seconds(i),
                format!("line {i}"),
            );
        }
        let (all, _) = hub.read("ns", "p", "c", None, None);
        assert_eq!(
            all.iter().map(|l| &*l.1).collect::<Vec<_>>(),
            ["line 2", "line 3", "line 4"]
        );
        let (tail, _) = hub.read("ns", "p", "c", Some(1), None);
        assert_eq!(&*tail[0].1, "line 4");
        let (since, _) = hub.read(
            "ns",
            "p",
            "c",
            None,
            Some(t0 + chrono::Duration::seconds(3)),
        );
        assert_eq!(since.len(), 2);
    }

    #[tokio::test]
    async fn followers_get_new_lines() {
        let hub = LogHub::new(10);
        let (_, mut rx) = hub.read("ns", "p", "c", None, None);
        hub.append("ns", "p", "c", Utc::now(), "hello");
        assert_eq!(&*rx.recv().await.unwrap().1, "hello");
    }
}
