//! Control-plane and traffic numbers from a Prometheus, every few seconds: the queries of
//! `metrics::queries`, asked at once, either straight at a URL or through the API server's
//! service proxy (with the kubeconfig's credentials; only GETs, so read-only users can).
//!
//! A Prometheus that is slow, down or not a Prometheus, or whose answer is larger than
//! `ANSWER_CAP` or slower than `TIMEOUT`, gives a round without numbers and an error that says
//! what came back; the next round tries again.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use axum::http::Request;
use futures::StreamExt;
use kube::Client;
use kube::client::Body;
use reqwest::Url;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::answer_text::{first_chars, kubernetes_status_message};
use super::capped_body;
use super::prometheus_layout::Probe;
use crate::app::event::Event;
use crate::metrics::cross_cluster;
use crate::metrics::label_mapping::{Layout, Revisions};
use crate::metrics::mapped_queries::{self, PodRevisions};
use crate::metrics::promql::{QueryError, decode};
use crate::metrics::queries::{self, Answer, Failure};
use crate::metrics::reading::Reading;

pub use super::prometheus_discovery::discover;

pub const EVERY: Duration = Duration::from_secs(5);
/// Each query, answer included, must be back within this; a round then never overruns, and
/// an answer that trickles in is given up.
pub const TIMEOUT: Duration = Duration::from_secs(4);
/// The largest answer read. A query grouped by namespace and revision answers about 100 bytes
/// per series: under 1 MiB for 2,000 namespaces on three revisions, 4 MiB for 40,000 series. A
/// Prometheus that streams without end is cut here, and the twelve queries of a round hold at
/// most 48 MiB.
pub const ANSWER_CAP: usize = 4 * 1024 * 1024;

#[derive(Clone, PartialEq)]
pub enum PrometheusAuth {
    None,
    Bearer(String),
    Basic { user: String, password: String },
}

// Credentials stay out of logs and panic messages.
impl fmt::Debug for PrometheusAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrometheusAuth::None => f.write_str("None"),
            PrometheusAuth::Bearer(_) => f.write_str("Bearer(..)"),
            PrometheusAuth::Basic { user, .. } => write!(f, "Basic({user}, ..)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PrometheusTarget {
    /// `--prometheus URL`, reached directly.
    Url { url: Url, auth: PrometheusAuth },
    /// A Service in the cluster, reached through the API server's service proxy.
    Service {
        namespace: String,
        name: String,
        port: u16,
    },
}

impl PrometheusTarget {
    /// Where the numbers come from, as the metrics pane says it.
    pub fn describe(&self) -> String {
        match self {
            // Poller::http says the same.
            PrometheusTarget::Url { url, .. } => format!("Prometheus at {url}"),
            PrometheusTarget::Service {
                namespace, name, ..
            } => format!("Prometheus {namespace}/{name} through the API server"),
        }
    }
}

/// Why a Prometheus cannot be asked at all; each names the Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("{prometheus}: cannot build the query URL: {error}")]
    QueryUrl {
        prometheus: String,
        error: url::ParseError,
    },
    #[error("{prometheus}: cannot build an HTTP client: {}", chain(.error))]
    Client {
        prometheus: String,
        error: reqwest::Error,
    },
}

enum Transport {
    Http {
        client: reqwest::Client,
        query_url: Url,
        auth: PrometheusAuth,
    },
    ApiServer {
        client: Client,
        query_path: String,
    },
}

/// Asks one Prometheus.
pub struct Poller {
    transport: Transport,
    source: String,
    probe: Probe,
}

/// What a Prometheus without the revision label needs from the rest of the cockpit: the
/// cluster's name (for a `cluster` label) and the pod watch's revisions.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub cluster: String,
    pub pods: watch::Receiver<PodRevisions>,
}

impl Poller {
    pub fn new(client: Client, target: PrometheusTarget) -> Result<Poller, PrometheusError> {
        let source = target.describe();
        match target {
            PrometheusTarget::Url { url, auth } => Poller::http(url, auth),
            PrometheusTarget::Service {
                namespace,
                name,
                port,
            } => Ok(Poller {
                transport: Transport::ApiServer {
                    client,
                    query_path: format!(
                        "/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy/api/v1/query"
                    ),
                },
                source,
                probe: Probe::default(),
            }),
        }
    }

    /// A Prometheus at a URL; a path after the host is kept as a prefix
    /// (`https://host/prometheus/` asks `https://host/prometheus/api/v1/query`).
    pub fn http(url: Url, auth: PrometheusAuth) -> Result<Poller, PrometheusError> {
        let source = format!("Prometheus at {url}");
        let mut base = url;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let query_url = base
            .join("api/v1/query")
            .map_err(|error| PrometheusError::QueryUrl {
                prometheus: source.clone(),
                error,
            })?;
        // reqwest panics when it builds a TLS client and no crypto provider is installed;
        // the binary installs ring's at start, this covers any other caller.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client =
            reqwest::Client::builder()
                .build()
                .map_err(|error| PrometheusError::Client {
                    prometheus: source.clone(),
                    error,
                })?;
        Ok(Poller {
            transport: Transport::Http {
                client,
                query_url,
                auth,
            },
            source,
            probe: Probe::default(),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// One instant query, at Prometheus' current time.
    pub async fn query(&self, promql: &str) -> Answer {
        match tokio::time::timeout(TIMEOUT, self.fetch(promql)).await {
            Ok(answer) => answer,
            Err(_) => Err(Failure::Fetch(format!(
                "no answer within {} s",
                TIMEOUT.as_secs()
            ))),
        }
    }

    async fn fetch(&self, promql: &str) -> Answer {
        match &self.transport {
            Transport::Http {
                client,
                query_url,
                auth,
            } => {
                let mut url = query_url.clone();
                url.query_pairs_mut().append_pair("query", promql);
                let request = match auth {
                    PrometheusAuth::None => client.get(url),
                    PrometheusAuth::Bearer(token) => client.get(url).bearer_auth(token),
                    PrometheusAuth::Basic { user, password } => {
                        client.get(url).basic_auth(user, Some(password))
                    }
                };
                let response = request
                    .send()
                    .await
                    .map_err(|e| Failure::Fetch(chain(&e.without_url())))?;
                let status = response.status().as_u16();
                let chunks = response
                    .bytes_stream()
                    .map(|chunk| chunk.map_err(|e| chain(&e.without_url())));
                let body = capped_body::read(chunks, ANSWER_CAP)
                    .await
                    .map_err(|e| Failure::Fetch(e.to_string()))?;
                judge(status, &body, false)
            }
            Transport::ApiServer { client, query_path } => {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("query", promql)
                    .finish();
                let request = Request::get(format!("{query_path}?{query}"))
                    .body(Body::from(Vec::new()))
                    .map_err(|e| Failure::Fetch(e.to_string()))?;
                let response = client
                    .send(request)
                    .await
                    .map_err(|e| Failure::Fetch(format!("the API server: {e}")))?;
                let status = response.status().as_u16();
                let chunks = capped_body::chunks(response.into_body());
                let body = capped_body::read(chunks, ANSWER_CAP)
                    .await
                    .map_err(|e| Failure::Fetch(format!("the API server: {e}")))?;
                judge(status, &body, true)
            }
        }
    }

    /// One round: every query at once, the cross-cluster pair with them, as if the series
    /// carried the revision label or the pod watch knew no pods.
    pub async fn read(&self) -> Reading {
        self.read_mapped("", &PodRevisions::default()).await
    }

    /// One round for the cluster named `cluster`, whose pods run the revisions `pods` says.
    /// When the series' layout is due to be probed, the probe is asked alongside the round;
    /// a layout that turns out different is asked again at once, so a round takes at most
    /// two query timeouts and only when the layout changed.
    pub async fn read_mapped(&self, cluster: &str, pods: &PodRevisions) -> Reading {
        let layout = self.probe.layout();
        let reading = if self.probe.due() {
            let (reading, ()) =
                tokio::join!(self.round(&layout, pods), self.probe.run(self, cluster));
            reading
        } else {
            self.round(&layout, pods).await
        };
        let probed = self.probe.layout();
        let reading = if probed == layout {
            reading
        } else {
            self.round(&probed, pods).await
        };
        self.probe.after_round(&reading);
        reading
    }

    async fn round(&self, layout: &Layout, pods: &PodRevisions) -> Reading {
        let asks = mapped_queries::plan(layout, pods)
            .into_iter()
            .map(|(ask, promql)| async move { (ask, self.query(&promql).await) });
        let (cross_requests, cross_errors) = (
            cross_cluster::requests_promql(),
            cross_cluster::errors_promql(),
        );
        let (answers, cross_requests, cross_errors) = tokio::join!(
            futures::future::join_all(asks),
            self.query(&cross_requests),
            self.query(&cross_errors),
        );
        let (answers, notes) = mapped_queries::answers(layout, pods, answers.into_iter().collect());
        let source = format!("{} · {}", self.source, layout.describe());
        let mut reading = queries::reading(answers, source, chrono::Utc::now());
        if let Revisions::Pods(labels) = layout.istiod {
            for e in &mut reading.errors {
                if e == queries::NO_ISTIOD {
                    *e = format!(
                        "control plane: no istiod series with {}/{} of the {} istiod pods the \
                         cockpit watches",
                        labels.namespace,
                        labels.pod,
                        pods.istiod.len()
                    );
                }
            }
        }
        if !reading.is_down() {
            reading.cross_cluster = cross_cluster::from_prometheus(cross_requests, cross_errors);
            reading.errors.extend(layout.warning.clone());
            reading.errors.extend(notes);
        }
        reading
    }
}

/// A body that is not Prometheus JSON is reported with the status and how it starts (or, from
/// the API server itself, the message of its `Status`: no endpoints, forbidden, ...).
fn judge(status: u16, body: &[u8], through_api_server: bool) -> Answer {
    match decode(body) {
        Err(QueryError::Malformed(_)) => {
            let status_message = through_api_server
                .then(|| kubernetes_status_message(body))
                .flatten();
            Err(Failure::Fetch(match status_message {
                Some(message) => format!("the API server answered HTTP {status}: {message}"),
                None => format!(
                    "HTTP {status}, not a Prometheus answer: {:?}",
                    first_chars(body, 80)
                ),
            }))
        }
        other => other.map_err(Failure::from),
    }
}

/// An error and its causes on one line ("error sending request: client error (Connect):
/// tcp connect error: Connection refused (os error 111)").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    parts.join(": ")
}

/// Polls `target` every `EVERY` and sends each round, until the receiver goes away.
pub fn spawn(client: Client, target: PrometheusTarget, tx: mpsc::Sender<Event>) -> JoinHandle<()> {
    let (_keep, pods) = watch::channel(PodRevisions::default());
    let mapping = Mapping {
        cluster: String::new(),
        pods,
    };
    spawn_mapped(client, target, mapping, tx)
}

/// As `spawn`, for the cluster `mapping` names, with the pod watch's revisions for a
/// Prometheus whose series lack the revision label.
pub fn spawn_mapped(
    client: Client,
    target: PrometheusTarget,
    mapping: Mapping,
    tx: mpsc::Sender<Event>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let source = target.describe();
        let poller = match Poller::new(client, target) {
            Ok(p) => p,
            Err(e) => {
                let reading = Reading {
                    at: chrono::Utc::now(),
                    source,
                    control_plane: BTreeMap::new(),
                    data_plane: BTreeMap::new(),
                    cross_cluster: None,
                    errors: vec![e.to_string()],
                };
                let _ = tx.send(Event::Metrics(reading)).await;
                return;
            }
        };
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let pods = mapping.pods.borrow().clone();
            let reading = poller.read_mapped(&mapping.cluster, &pods).await;
            if tx.send(Event::Metrics(reading)).await.is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_named_by_status_and_first_bytes() {
        let html = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>";
        let Err(Failure::Fetch(why)) = judge(502, html, false) else {
            panic!("accepted HTML")
        };
        assert!(
            why.starts_with("HTTP 502, not a Prometheus answer: \"<!DOCTYPE html>\\n<html>"),
            "{why}"
        );
        let long = "x".repeat(500);
        let Err(Failure::Fetch(why)) = judge(200, long.as_bytes(), false) else {
            panic!("accepted garbage")
        };
        assert!(why.ends_with("…\"") && why.chars().count() < 120, "{why}");
        // Prometheus' own refusals keep their meaning.
        let refused = br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(matches!(
            judge(400, refused, false),
            Err(Failure::Query(QueryError::Api { .. }))
        ));
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for service \"prometheus\"","code":503}"#;
        let Err(Failure::Fetch(why)) = judge(503, status, true) else {
            panic!("accepted a Status")
        };
        assert_eq!(
            why,
            "the API server answered HTTP 503: no endpoints available for service \"prometheus\""
        );
    }

    #[test]
    fn a_path_prefix_is_kept_and_credentials_are_not_shown() {
        let url = Url::parse("https://mon.example.com/prometheus").unwrap();
        let poller = Poller::http(url, PrometheusAuth::Bearer("s3cret".into())).unwrap();
        let Transport::Http { query_url, .. } = &poller.transport else {
            panic!("not HTTP")
        };
        assert_eq!(
            query_url.as_str(),
            "https://mon.example.com/prometheus/api/v1/query"
        );
        assert_eq!(
            poller.source(),
            "Prometheus at https://mon.example.com/prometheus"
        );
        let auth = PrometheusAuth::Basic {
            user: "ops".into(),
            password: "s3cret".into(),
        };
        assert!(!format!("{auth:?}").contains("s3cret"));
        assert!(!format!("{:?}", PrometheusAuth::Bearer("s3cret".into())).contains("s3cret"));
    }
}
