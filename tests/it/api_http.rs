//! The simulated API server's answers to raw HTTP: errors as Kubernetes Status objects, watch
//! edge cases, and the server staying up through bad input.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common;
use crate::common::clients::{self, Http};

/// Reads still work.
async fn alive(http: &Http) {
    let (code, body) = http.get("/api/v1/namespaces/checkout").await;
    assert_eq!(code, 200, "the simulator stopped answering: {body}");
}

fn assert_status(code: u16, body: &Value, want: u16, reason: &str) {
    clients::assert_status(reason, code, body, want);
    assert_eq!(body["reason"], reason, "{body}");
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_the_server_keeps_serving() {
    use reqwest::Method;
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);

    let (code, body) = http
        .send(
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_status(code, &body, 400, "BadRequest");
    alive(&http).await;

    let (code, body) = http.get("/api/v1/namespaces/default/widgets").await;
    assert_status(code, &body, 404, "NotFound");
    let (code, body) = http
        .get("/apis/apps/v1/namespaces/default/deployments/nope")
        .await;
    assert_status(code, &body, 404, "NotFound");
    alive(&http).await;

    let (code, body) = http.get("/api/v1/pods?labelSelector=app%20in%20cart").await;
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http
        .get("/api/v1/pods?fieldSelector=spec.hostname%3Dx")
        .await;
    assert_status(code, &body, 400, "BadRequest");
    alive(&http).await;

    let big = format!(
        "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(4 * 1024 * 1024)
    );
    // Its own connection: the server refuses before reading the body and closes it. A client
    // still writing the body then may see the pipe break before it reads the answer: it asks
    // again.
    let mut code = Err(String::new());
    for _ in 0..5 {
        code = sim
            .http_client()
            .post(format!("{}/api/v1/namespaces/default/configmaps", sim.api))
            .bearer_auth(&http.token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("{e:?}"));
        if code.is_ok() {
            break;
        }
    }
    assert!(matches!(code, Ok(413)), "{code:?}");
    alive(&http).await;

    let (code, body) = http
        .send(
            Method::PATCH,
            "/api/v1/namespaces/checkout",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_status(code, &body, 415, "UnsupportedMediaType");
    let (code, body) = http
        .send(
            Method::PATCH,
            "/api/v1/namespaces/checkout",
            "application/merge-patch+json",
            b"[1,2".to_vec(),
        )
        .await;
    assert_status(code, &body, 400, "BadRequest");
    let (code, body) = http
        .send(
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            json!({"metadata": {"name": "Not_Valid"}})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_status(code, &body, 422, "Invalid");
    let cm = json!({"metadata": {"name": "twice"}})
        .to_string()
        .into_bytes();
    let (code, _) = http
        .send(
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            cm.clone(),
        )
        .await;
    assert_eq!(code, 201);
    let (code, body) = http
        .send(
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            cm,
        )
        .await;
    assert_status(code, &body, 409, "AlreadyExists");
    alive(&http).await;
}

#[tokio::test]
async fn tokens_decide_what_a_caller_may_do() {
    let sim = common::Sim::start(&[]);
    let client = sim.http_client();
    let url = format!("{}/api/v1/namespaces/checkout", sim.api);
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let write = client
        .patch(&url)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"metadata":{"labels":{"x":"y"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(write.status().as_u16(), 401);
    let wrong = client
        .get(&url)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
}

/// Reads newline-delimited watch events until `stop` says so or the time is up.
async fn read_events(
    resp: reqwest::Response,
    limit: Duration,
    mut stop: impl FnMut(&Value) -> bool,
) -> (Vec<Value>, bool) {
    use futures::StreamExt;
    let mut events = Vec::new();
    let mut buffer = Vec::new();
    let mut body = resp.bytes_stream();
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, body.next()).await {
            Ok(Some(Ok(chunk))) => {
                buffer.extend_from_slice(&chunk);
                while let Some(pos) = buffer.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=pos).collect();
                    let event: Value =
                        serde_json::from_slice(&line).expect("each line is one JSON event");
                    let done = stop(&event);
                    events.push(event);
                    if done {
                        return (events, false);
                    }
                }
            }
            Ok(Some(Err(e))) => panic!("watch body failed: {e}"),
            Ok(None) => return (events, true),
            Err(_) => return (events, false),
        }
    }
}

#[tokio::test]
async fn watch_from_a_forgotten_version_is_an_expired_error_event() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let resp = http
        .watch("/api/v1/namespaces?watch=true&resourceVersion=1")
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let (events, ended) = read_events(resp, Duration::from_secs(5), |_| false).await;
    assert!(ended, "the stream should end after the error");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");
}

#[tokio::test]
async fn watches_send_bookmarks_and_resume_without_gaps() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let (_, list) = http.get("/api/v1/namespaces").await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Two changes before the watch starts: a watch from `rv` must replay both.
    for label in ["one", "two"] {
        let patch = json!({"metadata": {"labels": {"step": label}}})
            .to_string()
            .into_bytes();
        let (code, _) = http
            .send(
                reqwest::Method::PATCH,
                "/api/v1/namespaces/reporting",
                "application/merge-patch+json",
                patch,
            )
            .await;
        assert_eq!(code, 200);
    }
    let resp = http
        .watch(&format!(
            "/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion={rv}"
        ))
        .await;
    let (events, _) = read_events(resp, Duration::from_secs(12), |e| e["type"] == "BOOKMARK").await;
    let steps: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "MODIFIED")
        .filter_map(|e| e["object"]["metadata"]["labels"]["step"].as_str())
        .collect();
    assert_eq!(steps, ["one", "two"]);
    let bookmark = events.last().expect("events");
    assert_eq!(
        bookmark["type"], "BOOKMARK",
        "no bookmark within 12 s: {events:?}"
    );
    let bookmark_rv: u64 = bookmark["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bookmark_rv > rv.parse::<u64>().unwrap());
}

#[tokio::test]
async fn label_selected_watches_see_objects_enter_and_leave() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let resp = http
        .watch("/api/v1/namespaces?watch=true&labelSelector=istio.io%2Frev%3D1-25-0")
        .await;
    let patch = |labels: Value| {
        json!({"metadata": {"labels": labels}})
            .to_string()
            .into_bytes()
    };
    let http2 = Http::new(&sim);
    let changer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        for labels in [
            json!({"istio.io/rev": "1-25-0"}),
            json!({"istio.io/rev": "1-24-0"}),
        ] {
            http2
                .send(
                    reqwest::Method::PATCH,
                    "/api/v1/namespaces/identity",
                    "application/merge-patch+json",
                    patch(labels),
                )
                .await;
        }
    });
    let (events, _) = read_events(resp, Duration::from_secs(10), |e| {
        e["type"] == "DELETED" && e["object"]["metadata"]["name"] == "identity"
    })
    .await;
    changer.await.unwrap();
    let identity: Vec<&str> = events
        .iter()
        .filter(|e| e["object"]["metadata"]["name"] == "identity")
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(identity, ["ADDED", "DELETED"], "{events:?}");
}

#[tokio::test]
async fn the_drop_fault_cuts_open_watches() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let resp = http
        .watch("/api/v1/namespaces/default/configmaps?watch=true")
        .await;
    let patch = json!({"data": {"watch.drop-seconds": "1"}})
        .to_string()
        .into_bytes();
    let (code, _) = http
        .send(
            reqwest::Method::PATCH,
            "/api/v1/namespaces/sim-system/configmaps/faults",
            "application/merge-patch+json",
            patch,
        )
        .await;
    assert_eq!(code, 200);
    let started = Instant::now();
    let (_, ended) = read_events(resp, Duration::from_secs(10), |_| false).await;
    assert!(ended, "the watch was not cut");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn bad_fault_values_become_events_on_the_configmap() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let patch = json!({"data": {"latency.1-25-0": "fast", "bogus": "1"}})
        .to_string()
        .into_bytes();
    let (code, _) = http
        .send(
            reqwest::Method::PATCH,
            "/api/v1/namespaces/sim-system/configmaps/faults",
            "application/merge-patch+json",
            patch,
        )
        .await;
    assert_eq!(code, 200);
    let found = common::eventually(Duration::from_secs(10), || {
        let out = sim.kubectl(&["get", "events", "-n", "sim-system", "-o", "json"]);
        let v: Value = serde_json::from_str(&out).ok()?;
        let messages: Vec<String> = v["items"]
            .as_array()?
            .iter()
            .filter(|e| e["involvedObject"]["name"] == "faults")
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect();
        (messages.iter().any(|m| m.contains("latency.1-25-0"))
            && messages.iter().any(|m| m.contains("bogus")))
        .then_some(messages)
    });
    assert!(found.is_some(), "no events reported the bad keys");
    alive(&http).await;
}
