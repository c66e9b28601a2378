//! Follows a pod's `istio-proxy` log, sending lines in small batches; a stream that breaks
//! is said so and followed again from where it was.

use std::time::Duration;

use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::{Api, Client};

use super::Reply;
use crate::app::event::TriagePart;

/// Lines of history the log starts with.
const FIRST_LINES: i64 = 500;
/// Lines are sent at most this long after they arrive, and at most this many at once.
const BATCH_TIME: Duration = Duration::from_millis(100);
const BATCH_LINES: usize = 256;

pub async fn follow(client: &Client, ns: &str, pod: &str, reply: &Reply) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut first = true;
    loop {
        let params = LogParams {
            container: Some("istio-proxy".into()),
            follow: true,
            tail_lines: Some(if first { FIRST_LINES } else { 0 }),
            ..LogParams::default()
        };
        let why = match api.log_stream(pod, &params).await {
            Ok(reader) => {
                first = false;
                match batches(reader.lines(), reply).await {
                    Some(why) => why,
                    None => return,
                }
            }
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 400 => {
                reply
                    .send(TriagePart::LogEnded(format!(
                        "no istio-proxy log for pod {ns}/{pod}: {}",
                        e.message
                    )))
                    .await;
                return;
            }
            Err(e) => format!("cannot follow the log: {e}; trying again"),
        };
        if !reply.send(TriagePart::LogEnded(why)).await {
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Sends the stream's lines until it ends (returning why), or None once nobody listens.
async fn batches<S>(lines: S, reply: &Reply) -> Option<String>
where
    S: futures::Stream<Item = std::io::Result<String>>,
{
    let mut lines = std::pin::pin!(lines);
    let mut batch = Vec::new();
    loop {
        let next = if batch.is_empty() {
            Ok(lines.try_next().await)
        } else {
            tokio::time::timeout(BATCH_TIME, lines.try_next()).await
        };
        let ended = match next {
            Ok(Ok(Some(line))) => {
                batch.push(line);
                if batch.len() < BATCH_LINES {
                    continue;
                }
                None
            }
            Ok(Ok(None)) => Some("the log stream ended; following again".to_string()),
            Ok(Err(e)) => Some(format!("the log stream broke: {e}; following again")),
            // Nothing more within the batch time: send what there is.
            Err(_) => None,
        };
        if !batch.is_empty()
            && !reply
                .send(TriagePart::LogLines(std::mem::take(&mut batch)))
                .await
        {
            return None;
        }
        if ended.is_some() {
            return ended;
        }
    }
}
