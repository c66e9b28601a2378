//! Connecting to a cluster: the kubeconfig and context, a first request that proves the API
//! server answers, and what the user's RBAC allows. Every failure says what to do next.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

/// Why the cockpit could not connect, and what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "cannot read the kubeconfig {}: {error}; check the path, {TRY_DEMO}",
        .path.display()
    )]
    ReadKubeconfig {
        path: PathBuf,
        error: KubeconfigError,
    },
    #[error(
        "no usable kubeconfig ($KUBECONFIG or ~/.kube/config): {0}; pass --kubeconfig PATH, {TRY_DEMO}"
    )]
    NoKubeconfig(KubeconfigError),
    #[error("no context named {name:?} in the kubeconfig (it has: {})", .known.join(", "))]
    NoSuchContext { name: String, known: Vec<String> },
    #[error("the kubeconfig has no current context: pass --context NAME, {TRY_DEMO}")]
    NoCurrentContext,
    #[error("the kubeconfig's context {context:?} is not usable: {error}")]
    UnusableContext {
        context: String,
        error: KubeconfigError,
    },
    #[error("cannot build a client for {server}: {error}")]
    Client { server: String, error: kube::Error },
    #[error(
        "the API server at {server} did not answer within 8 s; check your network or VPN, {TRY_DEMO}"
    )]
    NoAnswer { server: String },
    #[error(
        "cannot reach the API server at {server}: {error}; check your network or VPN, {TRY_DEMO}"
    )]
    Unreachable { server: String, error: kube::Error },
    #[error(
        "the API server at {server} rejected your credentials (401): log in again or refresh the kubeconfig's token"
    )]
    Unauthorized { server: String },
    #[error(
        "your user may not list namespaces on {server}: the cockpit needs get, list and watch on namespaces, pods, mutatingwebhookconfigurations and daemonsets ({message})"
    )]
    MayNotList { server: String, message: String },
    #[error("listing namespaces on {server} failed: {error}")]
    ListFailed { server: String, error: kube::Error },
}

/// Why the cockpit opens read-only although `--read-only` was not given.
#[derive(Debug, thiserror::Error)]
pub enum NoWriteAccess {
    #[error("your user may not patch namespaces")]
    Denied,
    #[error("could not check your permissions: {0}")]
    Unchecked(kube::Error),
}

const TRY_DEMO: &str = "or try `istio-cockpit demo` to rehearse on the built-in simulated mesh";

#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

pub struct Connection {
    pub client: Client,
    pub context: String,
    pub server: String,
}

fn kubeconfig(target: &Target) -> Result<Kubeconfig, ConnectError> {
    match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(|error| ConnectError::ReadKubeconfig {
            path: path.clone(),
            error,
        }),
        None => Kubeconfig::read().map_err(ConnectError::NoKubeconfig),
    }
}

/// Connects and proves the API server answers and lets the user list namespaces.
pub async fn connect(target: &Target) -> Result<Connection, ConnectError> {
    let conn = client(target).await?;
    probe(&conn).await?;
    Ok(conn)
}

/// The contexts of the kubeconfig, each with the name of its cluster entry, in file order.
pub fn contexts(target: &Target) -> Result<Vec<(String, String)>, ConnectError> {
    let config = kubeconfig(target)?;
    Ok(config
        .contexts
        .iter()
        .map(|c| {
            let cluster = c
                .context
                .as_ref()
                .map(|c| c.cluster.clone())
                .unwrap_or_default();
            (c.name.clone(), cluster)
        })
        .collect())
}

/// A client for the target's context, without asking the server anything: what fails here
/// is the kubeconfig's fault, never the network's.
pub async fn client(target: &Target) -> Result<Connection, ConnectError> {
    let config = kubeconfig(target)?;
    let context = match &target.context {
        Some(c) => {
            if !config.contexts.iter().any(|nc| &nc.name == c) {
                return Err(ConnectError::NoSuchContext {
                    name: c.clone(),
                    known: config.contexts.iter().map(|nc| nc.name.clone()).collect(),
                });
            }
            c.clone()
        }
        None => config
            .current_context
            .clone()
            .ok_or(ConnectError::NoCurrentContext)?,
    };
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut client_config = Config::from_custom_kubeconfig(config, &options)
        .await
        .map_err(|error| ConnectError::UnusableContext {
            context: context.clone(),
            error,
        })?;
    client_config.connect_timeout = Some(Duration::from_secs(5));
    client_config.read_timeout = Some(Duration::from_secs(300));
    // No hidden retries of 429/503/504: they can hold a request for minutes. The watch loops
    // re-list on their own and show it, and a metrics round reports what failed.
    client_config.default_retry = false;
    let server = client_config.cluster_url.to_string();
    let client = Client::try_from(client_config).map_err(|error| ConnectError::Client {
        server: server.clone(),
        error,
    })?;
    Ok(Connection {
        client,
        context,
        server,
    })
}

/// Proves the API server answers, and that the user may list namespaces.
pub async fn probe(conn: &Connection) -> Result<(), ConnectError> {
    let (client, server) = (&conn.client, conn.server.clone());
    let version = tokio::time::timeout(Duration::from_secs(8), client.apiserver_version()).await;
    match version {
        Err(_) => return Err(ConnectError::NoAnswer { server }),
        Ok(Err(error)) => return Err(ConnectError::Unreachable { server, error }),
        Ok(Ok(_)) => {}
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces
        .list_metadata(&ListParams::default().limit(1))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 401 => Err(ConnectError::Unauthorized { server }),
        Err(kube::Error::Api(s)) if s.code == 403 => Err(ConnectError::MayNotList {
            server,
            message: s.message,
        }),
        Err(error) => Err(ConnectError::ListFailed { server, error }),
    }
}

/// Whether the user may change namespaces (asked with a SelfSubjectAccessReview, which
/// writes nothing). Any doubt counts as no.
pub async fn may_write(client: &Client) -> Result<(), NoWriteAccess> {
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("patch".into()),
                resource: Some("namespaces".into()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    match reviews.create(&PostParams::default(), &review).await {
        Ok(answer) if answer.status.as_ref().is_some_and(|s| s.allowed) => Ok(()),
        Ok(_) => Err(NoWriteAccess::Denied),
        Err(e) => Err(NoWriteAccess::Unchecked(e)),
    }
}

/// The user the API server says this is (a SelfSubjectReview, which writes nothing), for the
/// journal; None when it cannot say.
pub async fn whoami(client: &Client) -> Option<String> {
    let reviews: Api<SelfSubjectReview> = Api::all(client.clone());
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        reviews.create(&PostParams::default(), &SelfSubjectReview::default()),
    )
    .await
    .ok()?
    .ok()?;
    answer
        .status?
        .user_info?
        .username
        .filter(|name| !name.is_empty())
}
