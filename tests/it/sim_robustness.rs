//! The simulated API server under bad input, without credentials and under load: every bad
//! request gets a Kubernetes Status with a 4xx code, nothing wedges the server, anonymous
//! callers get 401 except on the health and version endpoints, and churn does not stop it
//! from answering.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::common;
use crate::common::clients::{Http, assert_status};

/// Reads, and writes, still work.
async fn alive(http: &Http) {
    let (code, body) = http.get("/api/v1/namespaces/checkout/pods?limit=1").await;
    assert_eq!(code, 200, "the simulator stopped answering: {body}");
    let (code, body) = http
        .send(
            Method::PATCH,
            "/api/v1/namespaces/checkout",
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"still-writable":"yes"}}}"#,
        )
        .await;
    assert_eq!(code, 200, "the simulator stopped taking writes: {body}");
}

async fn first_pod(http: &Http, ns: &str) -> String {
    let (code, body) = http
        .get(&format!("/api/v1/namespaces/{ns}/pods?limit=1"))
        .await;
    assert_eq!(code, 200, "{body}");
    body["items"][0]["metadata"]["name"]
        .as_str()
        .expect("a pod")
        .to_string()
}

#[tokio::test]
async fn log_parameters_out_of_range_are_refused_and_the_sim_keeps_answering() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let pod = first_pod(&http, "checkout").await;
    let log = format!("/api/v1/namespaces/checkout/pods/{pod}/log?container=istio-proxy");

    let (code, body) = http
        .get(&format!("{log}&sinceSeconds=9223372036854775807"))
        .await;
    assert_status("overflowing sinceSeconds", code, &body, 400);
    assert!(
        body["message"].as_str().unwrap().contains("sinceSeconds"),
        "{body}"
    );
    for (query, want) in [
        ("sinceSeconds=99999999999999999999", 400),
        ("sinceSeconds=0", 422),
        ("sinceSeconds=-5", 422),
        ("tailLines=-1", 422),
        ("tailLines=ten", 400),
    ] {
        let (code, body) = http.get(&format!("{log}&{query}")).await;
        assert_status(query, code, &body, want);
    }
    let (code, _) = http
        .get(&format!("{log}&sinceSeconds=60&tailLines=5"))
        .await;
    assert_eq!(code, 200);
    alive(&http).await;
}

#[tokio::test]
async fn a_pod_without_spec_in_an_injected_namespace_is_invalid_and_nothing_wedges() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let pods = "/api/v1/namespaces/checkout/pods";
    let (code, body) = http
        .send(
            Method::POST,
            pods,
            "application/json",
            r#"{"metadata":{"name":"no-spec"}}"#,
        )
        .await;
    assert_status("a pod without spec", code, &body, 422);
    assert_eq!(body["reason"], "Invalid", "{body}");
    assert!(body["message"].as_str().unwrap().contains("spec"), "{body}");

    // Shapes the injector would trip on.
    for (what, pod, want) in [
        (
            "spec a string",
            json!({"metadata": {"name": "p1"}, "spec": "x"}),
            400,
        ),
        (
            "no containers",
            json!({"metadata": {"name": "p2"}, "spec": {}}),
            422,
        ),
        (
            "annotations a list",
            json!({"metadata": {"name": "p3", "annotations": ["a"]}, "spec": {"containers": [{"name": "c"}]}}),
            400,
        ),
        (
            "labels a string",
            json!({"metadata": {"name": "p4", "labels": "app=x"}, "spec": {"containers": [{"name": "c"}]}}),
            400,
        ),
    ] {
        let (code, body) = http
            .send(Method::POST, pods, "application/json", &pod.to_string())
            .await;
        assert_status(what, code, &body, want);
    }

    // The store and the injector still work: a proper pod is created and injected.
    let good = json!({"metadata": {"name": "with-spec"}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}});
    let (code, body) = http
        .send(Method::POST, pods, "application/json", &good.to_string())
        .await;
    assert_eq!(code, 201, "{body}");
    let containers: Vec<&str> = body["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(containers, ["app", "istio-proxy"], "{body}");
    alive(&http).await;
}

#[tokio::test]
async fn malformed_requests_answer_a_status_and_never_a_server_error() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let pod = first_pod(&http, "checkout").await;
    let json = "application/json";
    let merge = "application/merge-patch+json";
    let cms = "/api/v1/namespaces/default/configmaps";
    let deploys = "/apis/apps/v1/namespaces/checkout/deployments";
    let ns = "/api/v1/namespaces/checkout";
    let cases: Vec<(Method, String, &str, String, u16)> = vec![
        (
            Method::POST,
            cms.into(),
            json,
            r#"{"metadata":{"name":"a"},"data":"#.into(),
            400,
        ),
        (Method::POST, cms.into(), json, "[]".into(), 400),
        (Method::POST, cms.into(), json, r#""a string""#.into(), 400),
        (
            Method::POST,
            cms.into(),
            json,
            r#"{"metadata":"x"}"#.into(),
            400,
        ),
        (
            Method::POST,
            cms.into(),
            json,
            r#"{"metadata":{"name":5}}"#.into(),
            400,
        ),
        (
            Method::POST,
            cms.into(),
            json,
            r#"{"metadata":{"name":"a","labels":{"x":1}}}"#.into(),
            400,
        ),
        (
            Method::POST,
            deploys.into(),
            json,
            r#"{"metadata":{"name":"huge"},"spec":{"replicas":9223372036854775807}}"#.into(),
            422,
        ),
        (
            Method::POST,
            deploys.into(),
            json,
            r#"{"metadata":{"name":"neg"},"spec":{"replicas":-1}}"#.into(),
            422,
        ),
        (
            Method::GET,
            "/api/v1/pods?limit=-1".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?limit=lots".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?limit=99999999999999999999999".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?continue=zz".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?continue=abc".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?labelSelector=!!!".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?labelSelector=a%20in%20(".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?fieldSelector=nonsense".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?watch=true&resourceVersion=abc".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/pods?watch=true&timeoutSeconds=-1".into(),
            json,
            String::new(),
            400,
        ),
        (
            Method::PATCH,
            ns.into(),
            "application/json-patch+json",
            r#"{"op":"add"}"#.into(),
            400,
        ),
        (
            Method::PATCH,
            ns.into(),
            "application/json-patch+json",
            r#"[{"op":"replace","path":"","value":[1]}]"#.into(),
            422,
        ),
        (
            Method::PATCH,
            ns.into(),
            merge,
            r#"{"metadata":{"labels":"x"}}"#.into(),
            400,
        ),
        (
            Method::PATCH,
            ns.into(),
            merge,
            r#"{"metadata":null}"#.into(),
            422,
        ),
        (
            Method::PATCH,
            ns.into(),
            "application/strategic-merge-patch+json",
            r#"{"metadata":{"labels":{"a":{"b":1}}}}"#.into(),
            400,
        ),
        (
            Method::PATCH,
            ns.into(),
            "application/strategic-merge-patch+json",
            r#"{"$patch":"bogus"}"#.into(),
            422,
        ),
        (
            Method::PATCH,
            format!("{deploys}/cart"),
            merge,
            r#"{"spec":{"replicas":1e40}}"#.into(),
            422,
        ),
        (
            Method::PATCH,
            format!("{deploys}/cart/scale"),
            merge,
            r#"{"spec":{"replicas":-5}}"#.into(),
            422,
        ),
        (
            Method::PATCH,
            format!("{ns}/pods/{pod}"),
            merge,
            r#"{"spec":null}"#.into(),
            422,
        ),
        (
            Method::DELETE,
            format!("{cms}/nothing-here"),
            json,
            "not json".into(),
            400,
        ),
        (
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into(),
            json,
            "{}".into(),
            422,
        ),
    ];
    for (method, path, content_type, body, want) in cases {
        let what = format!("{method} {path} {body}");
        let (code, answer) = http.send(method, &path, content_type, &body).await;
        assert_status(&what, code, &answer, want);
    }
    // A watch with an absurd timeout is served, not a panic in its stream.
    let resp = http
        .client
        .get(format!(
            "{}/api/v1/namespaces?watch=true&timeoutSeconds=18446744073709551615",
            http.base
        ))
        .bearer_auth(&http.token)
        .send()
        .await
        .expect("watch");
    assert_eq!(resp.status().as_u16(), 200);
    drop(resp);
    alive(&http).await;
}

#[tokio::test]
async fn requests_without_a_token_are_unauthorized_except_health_and_version() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    for path in [
        "/api/v1/pods",
        "/api/v1/namespaces/checkout",
        "/api",
        "/apis",
        "/sim/metrics/targets",
        "/sim/metrics/targets/istiod",
    ] {
        let (code, body) = http.anonymous(path).await;
        assert_status(path, code, &body, 401);
        assert_eq!(body["reason"], "Unauthorized", "{body}");
    }
    for path in ["/version", "/healthz", "/livez", "/readyz"] {
        let (code, body) = http.anonymous(path).await;
        assert_eq!(code, 200, "{path}: {body}");
    }
    // A token the simulator did not issue is refused everywhere, /version included.
    let wrong = http
        .client
        .get(format!("{}/version", http.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    // With the token, the metrics endpoints answer as before.
    let (code, body) = http.get("/sim/metrics/targets/istiod").await;
    assert_eq!(code, 200, "{body}");
    assert!(body.as_array().is_some_and(|t| !t.is_empty()), "{body}");
}

async fn set_churn(http: &Http, per_second: u32) {
    let (code, body) = http
        .send(
            Method::PATCH,
            "/api/v1/namespaces/sim-system/configmaps/faults",
            "application/merge-patch+json",
            &json!({"data": {"churn.pods-per-second": per_second.to_string()}}).to_string(),
        )
        .await;
    assert_eq!(code, 200, "setting the churn: {body}");
}

#[tokio::test]
async fn the_sim_answers_every_request_while_it_churns() {
    let sim = common::Sim::start(&["--namespaces", "200", "--pods-per-namespace", "20"]);
    let http = Http::new(&sim);
    set_churn(&http, 400).await;
    let until = Instant::now() + Duration::from_secs(6);
    let mut answered = 0;
    while Instant::now() < until {
        // A new connection each time: the accept loop and the TLS handshake are measured too.
        let fresh = sim.http_client();
        for path in ["/version", "/api/v1/namespaces/checkout/pods?limit=1"] {
            let resp = tokio::time::timeout(
                Duration::from_secs(20),
                fresh
                    .get(format!("{}{path}", sim.api))
                    .bearer_auth(&http.token)
                    .send(),
            )
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer within 20 s while churning"))
            .unwrap_or_else(|e| panic!("{path}: failed while churning: {e}"));
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            answered += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered > 10, "only {answered} requests in 6 s");
    set_churn(&http, 0).await;
    alive(&http).await;
}

/// Every resource the discovery documents, as a collection path in `checkout` when namespaced.
async fn every_collection(http: &Http) -> Vec<String> {
    let mut bases = vec!["/api/v1".to_string()];
    let (_, groups) = http.get("/apis").await;
    for g in groups["groups"].as_array().expect("groups") {
        bases.push(format!(
            "/apis/{}",
            g["preferredVersion"]["groupVersion"].as_str().unwrap()
        ));
    }
    let mut paths = Vec::new();
    for base in bases {
        let (code, list) = http.get(&base).await;
        assert_eq!(code, 200, "{base}: {list}");
        for r in list["resources"].as_array().expect("resources") {
            let name = r["name"].as_str().unwrap();
            if name.contains('/') {
                continue;
            }
            paths.push(if r["namespaced"] == true {
                format!("{base}/namespaces/checkout/{name}")
            } else {
                format!("{base}/{name}")
            });
        }
    }
    paths
}

#[tokio::test]
async fn every_route_refuses_garbage_with_a_client_error_status() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let collections = every_collection(&http).await;
    assert!(collections.len() > 10, "{collections:?}");
    let merge = "application/merge-patch+json";
    for path in &collections {
        let named = format!("{path}/not-there");
        let requests: [(Method, String, &str, &str); 8] = [
            (
                Method::GET,
                format!("{path}?limit=nope"),
                "application/json",
                "",
            ),
            (
                Method::GET,
                format!("{path}?labelSelector=%28%28"),
                "application/json",
                "",
            ),
            (
                Method::GET,
                format!("{path}?continue=%FF%FF"),
                "application/json",
                "",
            ),
            (
                Method::GET,
                format!("{path}?watch=1&resourceVersion=-3"),
                "application/json",
                "",
            ),
            (
                Method::POST,
                path.clone(),
                "application/json",
                r#"{"metadata":7}"#,
            ),
            (
                Method::POST,
                path.clone(),
                "application/json",
                "{\"metadata\":{\"name\":\"x\"},",
            ),
            (Method::PUT, named.clone(), "application/json", "[1,2]"),
            (
                Method::PATCH,
                named.clone(),
                merge,
                r#"{"metadata":{"labels":[1]}}"#,
            ),
        ];
        for (method, url, content_type, body) in requests {
            let what = format!("{method} {url} {body}");
            let (code, answer) = http.send(method, &url, content_type, body).await;
            assert!((400..500).contains(&code), "{what}: {code} {answer}");
            assert_eq!(answer["kind"], "Status", "{what}: {answer}");
        }
    }
    alive(&http).await;
}

#[tokio::test]
async fn absurd_numbers_written_into_a_replicaset_do_not_stop_the_controllers() {
    let sim = common::Sim::start(&[]);
    let http = Http::new(&sim);
    let apps = "/apis/apps/v1/namespaces/checkout";
    let (code, sets) = http.get(&format!("{apps}/replicasets")).await;
    assert_eq!(code, 200, "{sets}");
    let cart_set = sets["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rs| {
            rs["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("cart-")
        })
        .expect("cart's ReplicaSet")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let merge = "application/merge-patch+json";
    let huge = json!({"metadata": {"annotations": {"deployment.kubernetes.io/revision": "9223372036854775807"}}});
    let (code, body) = http
        .send(
            Method::PATCH,
            &format!("{apps}/replicasets/{cart_set}"),
            merge,
            &huge.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let status = json!({"status": {"replicas": 9223372036854775807_i64, "readyReplicas": 9223372036854775807_i64}});
    let (code, body) = http
        .send(
            Method::PATCH,
            &format!("{apps}/replicasets/{cart_set}/status"),
            merge,
            &status.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{body}");

    // A rollout restart of cart, then of checkout: the controllers still reconcile both.
    for deploy in ["cart", "checkout"] {
        let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-04T22:00:00Z"}}}}});
        let path = format!("{apps}/deployments/{deploy}");
        let (code, body) = http
            .send(Method::PATCH, &path, merge, &restart.to_string())
            .await;
        assert_eq!(code, 200, "{body}");
        let generation = body["metadata"]["generation"].as_i64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, d) = http.get(&path).await;
            if d["status"]["observedGeneration"].as_i64() == Some(generation) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{deploy} was not reconciled: {d}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    alive(&http).await;
}
