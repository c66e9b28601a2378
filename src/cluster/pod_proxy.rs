//! Metrics pages served by pods, read through the API server's pod proxy
//! (`pods/<pod>:<port>/proxy/<path>`): no port-forward, only `get` on `pods/proxy`.
//! Many pages are read a few at a time, each within a timeout, all by a deadline, so a slow
//! API server cannot stretch a round of scrapes past its interval; each page is read up to its
//! cap, so a page that never ends (tenants control their sidecars) costs no more memory.

use std::time::Duration;

use axum::http::Request;
use futures::StreamExt;
use kube::Client;
use kube::client::Body;
use tokio::time::Instant;

use super::answer_text::{first_chars, kubernetes_status_message};
use super::capped_body::{self, BodyError};
use crate::metrics::exposition::ParseError;

/// Pages read at the same time.
pub const PARALLEL: usize = 8;
/// How long one page may take.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Where a page is: a pod, a port and a path on it, and the most of it that is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePath {
    pub namespace: String,
    pub pod: String,
    pub port: u16,
    pub path: &'static str,
    pub cap: usize,
}

impl PagePath {
    fn pod_name(&self) -> String {
        format!("{}/{}", self.namespace, self.pod)
    }
}

/// Why a page was not read, naming its pod.
#[derive(Debug, thiserror::Error)]
#[error("{pod}: {failure}")]
pub struct ScrapeError {
    /// `namespace/name`
    pub pod: String,
    pub failure: ScrapeFailure,
}

#[derive(Debug, thiserror::Error)]
pub enum ScrapeFailure {
    #[error("{0}")]
    Request(axum::http::Error),
    #[error("{0}")]
    Send(kube::Error),
    #[error("{0}")]
    Body(BodyError),
    /// The pod or the API server refused: its `Status` message, else how the body starts.
    #[error("HTTP {status}: {why}")]
    Status { status: u16, why: String },
    #[error("the page is not UTF-8 text")]
    NotText,
    #[error("no answer within {}s", TIMEOUT.as_secs())]
    NoAnswer,
    #[error("unreadable metrics: {0}")]
    Unreadable(ParseError),
    #[error("not read, the round ran out of time")]
    OutOfTime,
}

impl ScrapeError {
    fn of(page: &PagePath, failure: ScrapeFailure) -> ScrapeError {
        ScrapeError {
            pod: page.pod_name(),
            failure,
        }
    }
}

/// How a page's text is read: the whole page (`exposition::parse`) or only what a reader
/// keeps of it.
pub type Reader<T> = fn(&str) -> Result<T, ParseError>;

/// One page, read. Errors name the pod.
pub async fn fetch<T>(
    client: &Client,
    page: &PagePath,
    reader: Reader<T>,
) -> Result<T, ScrapeError> {
    let fail = |failure| ScrapeError::of(page, failure);
    let text = match tokio::time::timeout(TIMEOUT, read(client, page)).await {
        Ok(Ok(text)) => text,
        Ok(Err(failure)) => return Err(fail(failure)),
        Err(_) => return Err(fail(ScrapeFailure::NoAnswer)),
    };
    reader(&text).map_err(|e| fail(ScrapeFailure::Unreadable(e)))
}

/// The page's text, read up to its cap whatever the status, so that an endless error page is
/// bounded too.
async fn read(client: &Client, page: &PagePath) -> Result<String, ScrapeFailure> {
    let url = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy/{}",
        page.namespace, page.pod, page.port, page.path
    );
    read_url(client, &url, page.cap).await
}

/// The text at `url` on the API server (a pod proxy path with its query), read up to `cap`
/// bytes whatever the status.
pub async fn read_url(client: &Client, url: &str, cap: usize) -> Result<String, ScrapeFailure> {
    let request = Request::get(url)
        .body(Body::empty())
        .map_err(ScrapeFailure::Request)?;
    let response = client.send(request).await.map_err(ScrapeFailure::Send)?;
    let status = response.status();
    let body = capped_body::read(capped_body::chunks(response.into_body()), cap)
        .await
        .map_err(ScrapeFailure::Body)?;
    if !status.is_success() {
        let why = kubernetes_status_message(&body).unwrap_or_else(|| first_chars(&body, 80));
        return Err(ScrapeFailure::Status {
            status: status.as_u16(),
            why,
        });
    }
    String::from_utf8(body).map_err(|_| ScrapeFailure::NotText)
}

/// Reads every page, at most `PARALLEL` at a time and in the given order, and returns each
/// key with the page and when it arrived, or why it did not. Pages still unread at `deadline`
/// are given up and reported as such.
pub async fn fetch_all<K, T: Send + 'static>(
    client: &Client,
    pages: Vec<(K, PagePath)>,
    reader: Reader<T>,
    deadline: Instant,
) -> Vec<(K, Result<(Instant, T), ScrapeError>)> {
    let mut results: Vec<Option<Result<(Instant, T), ScrapeError>>> =
        pages.iter().map(|_| None).collect();
    // Each read owns its client and path: reads borrowing them would keep the calling
    // task from passing `tokio::spawn`'s `Send` check.
    let reads: Vec<_> = pages
        .iter()
        .enumerate()
        .map(|(i, (_, page))| {
            let (client, page) = (client.clone(), page.clone());
            async move {
                let result = fetch(&client, &page, reader).await;
                (i, result.map(|scrape| (Instant::now(), scrape)))
            }
        })
        .collect();
    let mut reads = futures::stream::iter(reads).buffer_unordered(PARALLEL);
    while let Ok(Some((i, result))) = tokio::time::timeout_at(deadline, reads.next()).await {
        results[i] = Some(result);
    }
    pages
        .into_iter()
        .zip(results)
        .map(|((key, page), result)| {
            let result =
                result.unwrap_or_else(|| Err(ScrapeError::of(&page, ScrapeFailure::OutOfTime)));
            (key, result)
        })
        .collect()
}
