//! Clients of the simulator's API server: raw HTTPS as the admin, kube-rs as any context of
//! the kubeconfig, and the cockpit's own connection.

use std::time::Duration;

use istio_cockpit::app::state::State;
use istio_cockpit::cluster::connect::{self, Target};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use crate::common::Sim;

impl Sim {
    /// An HTTPS client that trusts the simulator's CA.
    pub fn http_client(&self) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = reqwest::Certificate::from_pem(&self.ca_pem()).expect("CA certificate");
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(30))
            .build()
            .expect("https client")
    }

    /// kube-rs' configuration for `context` of the simulator's kubeconfig.
    pub async fn kube_config(&self, context: &str) -> kube::Config {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let kubeconfig = Kubeconfig::read_from(self.kubeconfig_path()).expect("read kubeconfig");
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..KubeConfigOptions::default()
        };
        kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .expect("config")
    }

    /// A kube-rs client as `context`.
    pub async fn kube_client(&self, context: &str) -> kube::Client {
        kube::Client::try_from(self.kube_config(context).await).expect("client")
    }

    /// The cockpit's connection as `context`, built as the cockpit builds its own.
    pub async fn connect(&self, context: &str) -> connect::Connection {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let target = Target {
            kubeconfig: Some(self.kubeconfig_path().to_path_buf()),
            context: Some(context.into()),
        };
        connect::connect(&target)
            .await
            .expect("connect to the simulator")
    }
}

/// A headless cockpit's first lists are in and istiod has logged: the screen is worth reading.
pub fn synced(s: &State) -> bool {
    s.cluster.namespaces.synced
        && s.cluster.pods.synced
        && s.cluster.webhooks.synced
        && !s.cluster.logs.is_empty()
}

/// Raw HTTPS requests to the API server, as the admin unless said otherwise.
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Http {
    pub fn new(sim: &Sim) -> Http {
        Http {
            client: sim.http_client(),
            base: sim.api.clone(),
            token: sim.admin_token(),
        }
    }

    /// The status code and the body, as JSON when it parses and as a string otherwise.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: impl AsRef<[u8]>,
    ) -> (u16, Value) {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.as_ref().to_vec());
        answer(path, request).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, "application/json", Vec::new())
            .await
    }

    /// A GET without a token.
    pub async fn anonymous(&self, path: &str) -> (u16, Value) {
        answer(path, self.client.get(format!("{}{path}", self.base))).await
    }

    /// Opens a watch (the query string included in `path`).
    pub async fn watch(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: no answer: {e}"))
    }
}

async fn answer(path: &str, request: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A Kubernetes Status with code `want` and a message; `what` names the request on failure.
pub fn assert_status(what: &str, code: u16, body: &Value, want: u16) {
    assert_eq!(code, want, "{what}: {body}");
    assert_eq!(body["kind"], "Status", "{what}: {body}");
    assert_eq!(body["code"], want, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
}
