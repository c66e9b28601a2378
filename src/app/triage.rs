//! Triage of one pod without leaving the cockpit: its events, its `istio-proxy` log, its
//! proxy's sync status as the istiod serving it reports it, and the pod as YAML. The state
//! says what is asked; the loop fetches it (`crate::cluster::triage`) and the answers come
//! back as events, each tagged with the request it answers so a late one is dropped.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

/// Lines of the proxy's log kept for the pane.
pub const LOG_LINES: usize = 2000;

/// What the triage pane shows of the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Events,
    ProxyLog,
    ProxyStatus,
    Yaml,
}

impl View {
    pub fn title(self) -> &'static str {
        match self {
            View::Events => "events",
            View::ProxyLog => "istio-proxy log",
            View::ProxyStatus => "proxy status",
            View::Yaml => "YAML",
        }
    }
}

/// What the loop is asked to fetch: one view of one pod. `serial` tells answers to this
/// request from answers to an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub serial: u64,
    pub namespace: String,
    pub pod: String,
    pub view: View,
}

/// What the loop should be fetching: the triage's request while the bottom pane shows it.
pub fn asked(state: &super::state::State) -> Option<&Request> {
    if state.ui.bottom != super::state::BottomPane::Triage {
        return None;
    }
    state.triage.as_ref().map(|t| &t.request)
}

/// One event about the pod.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub last_seen: Option<DateTime<Utc>>,
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub count: i32,
    pub source: String,
}

/// Whether a proxy has the last config istiod sent it, per xDS type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    Synced,
    /// istiod sent a config the proxy has not acknowledged (it rejected it, or is slow).
    Stale,
    NotSent,
}

impl Sync {
    /// As `istioctl proxy-status` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sync::Synced => "SYNCED",
            Sync::Stale => "STALE",
            Sync::NotSent => "NOT SENT",
        }
    }

    /// From the nonces istiod sent and the proxy acknowledged.
    pub fn of(sent: &str, acked: &str) -> Sync {
        if sent.is_empty() {
            Sync::NotSent
        } else if sent == acked {
            Sync::Synced
        } else {
            Sync::Stale
        }
    }
}

/// A proxy's sync status, from the istiod it is connected to.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyStatus {
    /// The istiod pod that reports the proxy, `namespace/name`.
    pub istiod: String,
    pub istio_version: String,
    /// CDS, LDS, EDS, RDS in that order.
    pub types: [(&'static str, Sync); 4],
}

/// What came back for a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Events(Vec<EventRow>),
    /// More lines of the followed log.
    LogLines(Vec<String>),
    /// The followed log ended (the pod went, or the stream broke and is retried).
    LogEnded(String),
    Status(ProxyStatus),
    Yaml(String),
    /// The request could not be answered; why, in one line.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub serial: u64,
    pub part: Part,
}

/// What the pane has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Waiting,
    Failed(String),
    Events(Vec<EventRow>),
    Log {
        lines: VecDeque<String>,
        /// Why the stream stopped, while it is stopped.
        ended: Option<String>,
    },
    Status(ProxyStatus),
    Yaml(Vec<String>),
}

/// The pod under triage and what is known of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub request: Request,
    pub content: Content,
    /// Lines scrolled back from the newest (the log) or down from the top (the rest).
    pub scroll: usize,
    /// The log holds still: new lines add below what is shown instead of scrolling it.
    pub paused: bool,
}

impl Triage {
    /// Opens `view` of `namespace/pod`, as request `serial`.
    pub fn open(serial: u64, namespace: &str, pod: &str, view: View) -> Triage {
        Triage {
            request: Request {
                serial,
                namespace: namespace.to_string(),
                pod: pod.to_string(),
                view,
            },
            content: Content::Waiting,
            scroll: 0,
            paused: false,
        }
    }

    /// Takes an answer to this request; answers to earlier ones are dropped. Returns
    /// whether anything changed.
    pub fn take(&mut self, answer: Answer) -> bool {
        if answer.serial != self.request.serial {
            return false;
        }
        self.content = match (
            std::mem::replace(&mut self.content, Content::Waiting),
            answer.part,
        ) {
            (_, Part::Failed(why)) => Content::Failed(why),
            (_, Part::Events(rows)) => Content::Events(rows),
            (_, Part::Status(status)) => Content::Status(status),
            (_, Part::Yaml(text)) => Content::Yaml(text.lines().map(str::to_string).collect()),
            (Content::Log { mut lines, .. }, Part::LogLines(more)) => {
                if self.paused {
                    self.scroll += more.len();
                }
                extend(&mut lines, more);
                Content::Log { lines, ended: None }
            }
            (_, Part::LogLines(more)) => {
                let mut lines = VecDeque::new();
                extend(&mut lines, more);
                Content::Log { lines, ended: None }
            }
            (Content::Log { lines, .. }, Part::LogEnded(why)) => Content::Log {
                lines,
                ended: Some(why),
            },
            (_, Part::LogEnded(why)) => Content::Log {
                lines: VecDeque::new(),
                ended: Some(why),
            },
        };
        true
    }
}

impl Triage {
    /// Moves by `delta` lines (down is positive): the log counts back from its newest line
    /// and holds still once moved up; the other views count from their top.
    pub fn scroll_by(&mut self, delta: isize) {
        let len = match &self.content {
            Content::Log { lines, .. } => lines.len(),
            Content::Yaml(lines) => lines.len(),
            Content::Events(rows) => rows.len(),
            _ => 0,
        };
        if self.request.view == View::ProxyLog {
            self.scroll = self
                .scroll
                .saturating_add_signed(-delta)
                .min(len.saturating_sub(1));
            self.paused = self.scroll > 0;
        } else {
            self.scroll = self
                .scroll
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
    }

    /// The follow key: holds the log still, or follows it again from its newest line.
    pub fn toggle_follow(&mut self) {
        self.paused = !self.paused;
        if !self.paused {
            self.scroll = 0;
        }
    }
}

fn extend(lines: &mut VecDeque<String>, more: Vec<String>) {
    lines.extend(more);
    let over = lines.len().saturating_sub(LOG_LINES);
    lines.drain(..over);
}

/// A log line worth the eye: a rejected config (a NACK, as the proxy logs it) or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Nack,
    Error,
    Warning,
    Plain,
}

/// How a proxy log line reads: Envoy's and pilot-agent's lines carry their level in the
/// second tab-separated field; a rejection says `rejected:` after the type URL.
pub fn mark(line: &str) -> Mark {
    let level = line.split('\t').nth(1).unwrap_or_default();
    if line.contains(" rejected: ") || line.contains("ACK ERROR") {
        Mark::Nack
    } else if matches!(level, "error" | "critical") {
        Mark::Error
    } else if matches!(level, "warning" | "warn") {
        Mark::Warning
    } else {
        Mark::Plain
    }
}

/// A proxy log line for the pane: Envoy's and pilot-agent's tab-separated lines as time,
/// level and message (the logger, source file and thread left out); other lines (access
/// logs) as they are, tabs made spaces.
pub fn display(line: &str) -> String {
    let fields: Vec<&str> = line.split('\t').collect();
    let time = fields
        .first()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    match (time, fields.as_slice()) {
        (Some(at), [_, level, _, message, ..] | [_, level, message]) => {
            format!("{} {level:<7} {message}", at.format("%H:%M:%S%.3f"))
        }
        _ => line.replace('\t', "  "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_an_earlier_request_are_dropped() {
        let mut t = Triage::open(2, "checkout", "cart-1", View::Yaml);
        assert!(!t.take(Answer {
            serial: 1,
            part: Part::Yaml("kind: Pod".into()),
        }));
        assert_eq!(t.content, Content::Waiting);
        assert!(t.take(Answer {
            serial: 2,
            part: Part::Yaml("kind: Pod\nmetadata: {}".into()),
        }));
        assert_eq!(
            t.content,
            Content::Yaml(vec!["kind: Pod".into(), "metadata: {}".into()])
        );
    }

    #[test]
    fn a_followed_log_grows_keeps_its_newest_lines_and_says_when_it_ends() {
        let mut t = Triage::open(1, "checkout", "cart-1", View::ProxyLog);
        let lines = |range: std::ops::Range<usize>| range.map(|i| format!("line {i}")).collect();
        t.take(Answer {
            serial: 1,
            part: Part::LogLines(lines(0..LOG_LINES)),
        });
        t.take(Answer {
            serial: 1,
            part: Part::LogLines(lines(LOG_LINES..LOG_LINES + 5)),
        });
        t.take(Answer {
            serial: 1,
            part: Part::LogEnded("pod deleted".into()),
        });
        let Content::Log { lines, ended } = &t.content else {
            panic!("a log");
        };
        assert_eq!(lines.len(), LOG_LINES);
        assert_eq!(lines.front().map(String::as_str), Some("line 5"));
        assert_eq!(ended.as_deref(), Some("pod deleted"));
    }

    #[test]
    fn a_paused_log_holds_still_as_lines_arrive_and_follows_again_from_the_newest() {
        let mut t = Triage::open(1, "checkout", "cart-1", View::ProxyLog);
        let batch = |n: usize| Answer {
            serial: 1,
            part: Part::LogLines((0..n).map(|i| i.to_string()).collect()),
        };
        t.take(batch(10));
        t.scroll_by(-3);
        assert!(t.paused);
        t.take(batch(4));
        assert_eq!(t.scroll, 7, "the same lines stay on screen");
        t.toggle_follow();
        assert_eq!((t.paused, t.scroll), (false, 0));
        t.toggle_follow();
        t.scroll_by(50);
        assert_eq!((t.paused, t.scroll), (false, 0));
    }

    #[test]
    fn sync_reads_the_nonces_as_istioctl_does() {
        assert_eq!(Sync::of("a", "a"), Sync::Synced);
        assert_eq!(Sync::of("b", "a"), Sync::Stale);
        assert_eq!(Sync::of("b", ""), Sync::Stale);
        assert_eq!(Sync::of("", ""), Sync::NotSent);
    }

    #[test]
    fn rejections_stand_out_from_warnings_and_errors() {
        let nack = "2026-12-05T08:40:44.359589Z\twarning\tenvoy config x.cc:138\tgRPC config for type.googleapis.com/envoy.config.listener.v3.Listener rejected: bad\tthread=15";
        assert_eq!(mark(nack), Mark::Nack);
        assert_eq!(
            display(nack),
            "08:40:44.359 warning gRPC config for type.googleapis.com/envoy.config.listener.v3.Listener rejected: bad"
        );
        assert_eq!(display("a\tb"), "a  b");
        assert_eq!(mark("t\terror\tenvoy upstream\tboom"), Mark::Error);
        assert_eq!(mark("t\twarning\tenvoy main\tslow"), Mark::Warning);
        assert_eq!(
            mark("[2026-12-05T08:40:44.359Z] \"GET / HTTP/1.1\" 200"),
            Mark::Plain
        );
    }
}
