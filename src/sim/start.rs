//! Starting the simulator: one cluster, or a fleet of them in one process, each with its own
//! store, faults, logs, controllers and API server on its own loopback port.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr, eyre};
use tokio::net::TcpListener;

use super::faults::Faults;
use super::fleet::{self, Member, Peer};
use super::logs::LogHub;
use super::request_log::RequestLog;
use super::scenario::{self, FleetCluster, RemoteControlPlane};
use super::store::Store;
use super::topology::{self, Topology};
use super::{
    ClusterHandle, RunningSim, SimContext, SimOptions, api, churn, controllers, fault_watcher,
    injection, kubeconfig, mesh, prometheus_config, secrets, serve, tls,
};

/// Each cluster of a fleet numbers its generated names from its index times this.
const NAME_BASE_STEP: u64 = 1 << 40;

/// A cluster's listener and credentials, before its objects exist.
struct Endpoint {
    listener: TcpListener,
    address: SocketAddr,
    api_url: String,
    certificates: tls::Certificates,
    admin_token: String,
    viewer_token: String,
}

fn token() -> String {
    (0..4)
        .map(|_| format!("{:08x}", rand::random::<u32>()))
        .collect()
}

async fn bind(listen: SocketAddr) -> Result<Endpoint> {
    let listener = TcpListener::bind(listen)
        .await
        .wrap_err_with(|| format!("cannot listen on {listen}"))?;
    let mut address = listener.local_addr()?;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::IpAddr::from([127, 0, 0, 1]));
    }
    let certificates = tls::generate(address.ip()).map_err(|e| eyre!(e))?;
    Ok(Endpoint {
        listener,
        address,
        api_url: format!("https://{address}"),
        certificates,
        admin_token: token(),
        viewer_token: token(),
    })
}

/// The first cluster listens on `--listen`; the others on free ports of the same address.
async fn bind_all(listen: SocketAddr, count: usize) -> Result<Vec<Endpoint>> {
    let mut endpoints = vec![bind(listen).await?];
    for _ in 1..count {
        endpoints.push(bind(SocketAddr::new(listen.ip(), 0)).await?);
    }
    Ok(endpoints)
}

/// Each cluster's place in the fleet: names, networks, the shared root CA and its peers.
fn members(endpoints: &[Endpoint], topology: Topology) -> Result<Vec<Member>> {
    let names = topology::cluster_names(endpoints.len());
    let root: Arc<str> = tls::root_ca_pem("istio-cockpit fleet root CA")
        .map_err(|e| eyre!(e))?
        .into();
    let primary_gateway = fleet::eastwest_address(0);
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let remote =
                (topology == Topology::PrimaryRemote && i > 0).then(|| RemoteControlPlane {
                    istiod_url: format!("https://{primary_gateway}:15017"),
                    cluster: name.clone(),
                    network: fleet::network_of(name),
                    discovery_address: format!("{primary_gateway}:15012"),
                });
            let peers = names
                .iter()
                .zip(endpoints)
                .filter(|(other, _)| *other != name)
                .map(|(other, e)| Peer {
                    name: other.clone(),
                    server: e.api_url.clone(),
                    ca_pem: e.certificates.ca_pem.clone(),
                    viewer_token: e.viewer_token.clone(),
                })
                .collect();
            Ok(Member {
                name: name.clone(),
                topology,
                shape: FleetCluster {
                    network: fleet::network_of(name),
                    eastwest_address: fleet::eastwest_address(i),
                    remote,
                },
                root_cert_pem: root.clone(),
                mismatched_root_cert_pem: tls::root_ca_pem(&format!("{name} local root CA"))
                    .map_err(|e| eyre!(e))?,
                peers,
            })
        })
        .collect()
}

/// One cluster's store, objects, faults and logs, before the fleet's mesh joins them.
struct Built {
    store: Arc<Store>,
    logs: Arc<LogHub>,
    faults: Arc<Faults>,
    member: Option<Member>,
    request_log: Option<RequestLog>,
}

/// Builds one cluster's store and objects.
fn build_cluster(
    opts: &SimOptions,
    index: usize,
    member: Option<Member>,
    request_log: Option<RequestLog>,
) -> Result<Built> {
    let store = Arc::new(Store::new(opts.watch_history));
    store.number_names_from(index as u64 * NAME_BASE_STEP);
    store.set_admission(Box::new(|view, resource, obj| match resource {
        "pods" => injection::admit_pod(view, obj),
        "secrets" => secrets::admit(obj),
        _ => {}
    }));
    let shape = member.as_ref().map(|m| &m.shape);
    scenario::load_cluster(&store, &opts.scenario, shape)
        .map_err(|e| eyre!("building the scenario failed: {e:?}"))?;
    if let Some(member) = &member {
        fleet::install(&store, member)
            .map_err(|e| eyre!("building the fleet's objects failed: {e:?}"))?;
    }
    let request_log = match (&member, request_log) {
        (Some(m), Some(log)) => Some(log.for_cluster(&m.name)),
        (_, log) => log,
    };
    Ok(Built {
        store,
        logs: Arc::new(LogHub::new(opts.log_lines)),
        faults: Arc::new(Faults::default()),
        member,
        request_log,
    })
}

/// The meshes of the built clusters: one state for the fleet, its tick shared.
fn meshes(built: &[Built], opts: &SimOptions) -> Vec<Arc<mesh::Mesh>> {
    let members = built
        .iter()
        .map(|b| mesh::FleetMember {
            name: b
                .member
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            store: b.store.clone(),
            logs: b.logs.clone(),
            faults: b.faults.clone(),
        })
        .collect();
    mesh::Mesh::fleet(members, opts.topology, opts.scenario.seed)
}

/// The context a cluster's tasks share.
fn context(
    opts: &SimOptions,
    endpoint: &Endpoint,
    b: Built,
    mesh: Arc<mesh::Mesh>,
) -> Arc<SimContext> {
    Arc::new(SimContext {
        store: b.store,
        faults: b.faults,
        logs: b.logs,
        mesh,
        timing: opts.timing,
        admin_token: endpoint.admin_token.clone(),
        viewer_token: endpoint.viewer_token.clone(),
        server_address: endpoint.address.to_string(),
        request_log: b.request_log,
        fleet: b.member.map(Arc::new),
        outage: Arc::default(),
        kubernetes_version: opts.scenario.scenario.kubernetes_version(),
    })
}

fn write_kubeconfig(path: &Path, endpoints: &[Endpoint], clusters: &[ClusterHandle]) -> Result<()> {
    let text = match endpoints {
        [one] => kubeconfig::render(
            &one.api_url,
            &one.certificates.ca_pem,
            &one.admin_token,
            &one.viewer_token,
        ),
        _ => {
            let entries: Vec<kubeconfig::Entry<'_>> = endpoints
                .iter()
                .zip(clusters)
                .map(|(e, c)| kubeconfig::Entry {
                    name: &c.name,
                    server: &e.api_url,
                    ca_pem: &e.certificates.ca_pem,
                    admin_token: &e.admin_token,
                    viewer_token: &e.viewer_token,
                })
                .collect();
            kubeconfig::render_fleet(&entries)
        }
    };
    kubeconfig::write_private(path, &text)
        .wrap_err_with(|| format!("cannot write the kubeconfig to {}", path.display()))
}

fn write_file(path: &Path, text: &str, what: &str) -> Result<()> {
    std::fs::write(path, text)
        .wrap_err_with(|| format!("cannot write the {what} to {}", path.display()))
}

/// Prometheus verifies each simulator's certificate against that cluster's CA, written
/// beside the configuration.
fn write_prometheus_config(
    path: &Path,
    clusters: &[ClusterHandle],
    style: prometheus_config::Style,
) -> Result<()> {
    if let [one] = clusters {
        let ca_path = path.with_extension("ca.pem");
        write_file(&ca_path, &one.ca_pem, "CA certificate")?;
        let text = prometheus_config::render_styled(
            &one.api_url,
            &one.ctx.viewer_token,
            Some(&ca_path.to_string_lossy()),
            style,
        );
        return write_file(path, &text, "Prometheus config");
    }
    let mut ca_files = Vec::new();
    for c in clusters {
        let ca_path = path.with_extension(format!("{}.ca.pem", c.name));
        write_file(&ca_path, &c.ca_pem, "CA certificate")?;
        ca_files.push(ca_path.to_string_lossy().into_owned());
    }
    let targets: Vec<prometheus_config::FleetTarget<'_>> = clusters
        .iter()
        .zip(&ca_files)
        .map(|(c, ca)| prometheus_config::FleetTarget {
            cluster: &c.name,
            api_url: &c.api_url,
            token: &c.ctx.viewer_token,
            ca_file: Some(ca),
        })
        .collect();
    write_file(
        path,
        &prometheus_config::render_fleet(&targets, style),
        "Prometheus config",
    )
}

/// Builds the scenario, binds the listeners, writes the requested files and starts serving.
pub async fn start(opts: SimOptions) -> Result<RunningSim> {
    let count = opts.clusters.max(1);
    let endpoints = bind_all(opts.listen, count).await?;
    let first_port = endpoints[0].address.port();
    let kubeconfig = opts.kubeconfig_out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("istio-cockpit-sim-{first_port}.kubeconfig"))
    });
    let request_log = match &opts.request_log {
        Some(path) => Some(
            RequestLog::open(path)
                .wrap_err_with(|| format!("cannot open the request log {}", path.display()))?,
        ),
        None => None,
    };
    let mut members = if count > 1 {
        members(&endpoints, opts.topology)?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None]
    };
    let mut built = Vec::with_capacity(count);
    for index in 0..count {
        let member = members.get_mut(index).and_then(Option::take);
        built.push(build_cluster(&opts, index, member, request_log.clone())?);
    }
    let meshes = meshes(&built, &opts);
    let mut clusters = Vec::with_capacity(count);
    for ((endpoint, b), mesh) in endpoints.iter().zip(built).zip(meshes) {
        let ctx = context(&opts, endpoint, b, mesh);
        let fleet = ctx.fleet.is_some();
        let name = ctx.cluster_name().unwrap_or(topology::PRIMARY).to_string();
        clusters.push(ClusterHandle {
            admin_context: if fleet {
                name.clone()
            } else {
                "sim-admin".into()
            },
            viewer_context: if fleet {
                format!("{name}-viewer")
            } else {
                "sim-viewer".into()
            },
            name,
            metrics_url: format!("{}/sim/metrics", endpoint.api_url),
            api_url: endpoint.api_url.clone(),
            ca_pem: endpoint.certificates.ca_pem.clone(),
            ctx,
        });
    }
    write_kubeconfig(&kubeconfig, &endpoints, &clusters)?;
    if let Some(path) = &opts.prometheus_config_out {
        write_prometheus_config(path, &clusters, opts.prometheus_style)?;
    }

    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let mut servers = Vec::with_capacity(count);
    for (endpoint, cluster) in endpoints.into_iter().zip(&clusters) {
        let ctx = &cluster.ctx;
        fault_watcher::apply_current(ctx);
        tokio::spawn(fault_watcher::run(ctx.clone()));
        controllers::spawn(ctx.clone());
        tokio::spawn(churn::run(ctx.clone()));
        tokio::spawn(fleet::controller::run(ctx.clone()));
        ctx.mesh.clone().spawn();
        servers.push(tokio::spawn(serve::run(
            endpoint.listener,
            endpoint.certificates.server_config.clone(),
            api::router(ctx.clone()),
            stopped.clone(),
            ctx.outage.subscribe(),
        )));
    }
    let first = &clusters[0];
    Ok(RunningSim {
        ctx: first.ctx.clone(),
        ca_pem: first.ca_pem.clone(),
        api_url: first.api_url.clone(),
        metrics_url: first.metrics_url.clone(),
        kubeconfig,
        clusters,
        shutdown,
        servers,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn small(clusters: usize, topology: Topology) -> SimOptions {
        let dir = std::env::temp_dir().join(format!(
            "istio-cockpit-fleet-test-{}-{clusters}-{topology:?}",
            std::process::id()
        ));
        SimOptions {
            kubeconfig_out: Some(dir.with_extension("kubeconfig")),
            clusters,
            topology,
            scenario: scenario::Options {
                namespaces: Some(2),
                ..scenario::Options::default()
            },
            ..SimOptions::default()
        }
    }

    #[tokio::test]
    async fn a_fleet_gives_a_handle_per_cluster_and_names_them_in_the_ready_line() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = start(small(3, Topology::PrimaryRemote)).await.unwrap();
        let names: Vec<&str> = sim.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["primary", "remote-1", "remote-2"]);
        assert!(
            sim.ready_line()
                .ends_with(" clusters=primary,remote-1,remote-2")
        );
        assert_eq!(sim.admin_context(), "primary");
        assert_eq!(sim.clusters[2].viewer_context, "remote-2-viewer");
        let ports: BTreeSet<&str> = sim.clusters.iter().map(|c| c.api_url.as_str()).collect();
        assert_eq!(ports.len(), 3);
        let istiod = |c: &ClusterHandle| {
            c.ctx
                .store
                .get("deployments", "istio-system", "istiod-1-25-0")
                .is_some()
        };
        assert!(istiod(&sim.clusters[0]));
        assert!(!istiod(&sim.clusters[1]) && !istiod(&sim.clusters[2]));
        let remote = &sim.clusters[1].ctx;
        assert_eq!(remote.cluster_name(), Some("remote-1"));
        assert!(
            remote
                .store
                .get("secrets", "istio-system", "istio-remote-secret-primary")
                .is_some()
        );
        assert!(!remote.outage.is_down());
        remote.outage.begin(std::time::Duration::from_secs(30));
        assert!(remote.outage.is_down() && !sim.clusters[0].ctx.outage.is_down());
        let kubeconfig = sim.kubeconfig.clone();
        sim.stop().await;
        let _ = std::fs::remove_file(kubeconfig);
    }

    #[tokio::test]
    async fn one_cluster_keeps_its_ready_line_and_contexts() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = start(small(1, Topology::MultiPrimary)).await.unwrap();
        assert!(!sim.ready_line().contains("clusters="));
        assert_eq!(sim.admin_context(), "sim-admin");
        assert!(sim.ctx.fleet.is_none());
        let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
        assert!(text.contains("current-context: sim-admin"));
        assert_eq!(sim.ctx.store.count("secrets"), 0);
        let kubeconfig = sim.kubeconfig.clone();
        sim.stop().await;
        let _ = std::fs::remove_file(kubeconfig);
    }
}
