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
use super::capped_body;
use crate::metrics::exposition::{self, Scrape};

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

/// One page, parsed. Errors name the pod.
pub async fn fetch(client: &Client, page: &PagePath) -> Result<Scrape, String> {
    let who = page.pod_name();
    let text = match tokio::time::timeout(TIMEOUT, read(client, page)).await {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => return Err(format!("{who}: {e}")),
        Err(_) => return Err(format!("{who}: no answer within {}s", TIMEOUT.as_secs())),
    };
    exposition::parse(&text).map_err(|e| format!("{who}: unreadable metrics: {e}"))
}

/// The page's text, read up to its cap whatever the status, so that an endless error page is
/// bounded too.
async fn read(client: &Client, page: &PagePath) -> Result<String, String> {
    let url = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy/{}",
        page.namespace, page.pod, page.port, page.path
    );
    let request = Request::get(&url)
        .body(Body::empty())
        .map_err(|e| e.to_string())?;
    let response = client.send(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = capped_body::read(capped_body::chunks(response.into_body()), page.cap)
        .await
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        let why = kubernetes_status_message(&body).unwrap_or_else(|| first_chars(&body, 80));
        return Err(format!("HTTP {}: {why}", status.as_u16()));
    }
    String::from_utf8(body).map_err(|_| "the page is not UTF-8 text".to_string())
}

/// Reads every page, at most `PARALLEL` at a time and in the given order, and returns each
/// key with the page and when it arrived, or why it did not. Pages still unread at `deadline`
/// are given up and reported as such.
pub async fn fetch_all<K>(
    client: &Client,
    pages: Vec<(K, PagePath)>,
    deadline: Instant,
) -> Vec<(K, Result<(Instant, Scrape), String>)> {
    let mut results: Vec<Option<Result<(Instant, Scrape), String>>> =
        pages.iter().map(|_| None).collect();
    // Each read owns its client and path: reads borrowing them would keep the calling
    // task from passing `tokio::spawn`'s `Send` check.
    let reads: Vec<_> = pages
        .iter()
        .enumerate()
        .map(|(i, (_, page))| {
            let (client, page) = (client.clone(), page.clone());
            async move {
                let result = fetch(&client, &page).await;
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
            let result = result.unwrap_or_else(|| {
                Err(format!(
                    "{}: not read, the round ran out of time",
                    page.pod_name()
                ))
            });
            (key, result)
        })
        .collect()
}
