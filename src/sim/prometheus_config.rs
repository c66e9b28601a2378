//! The Prometheus configuration `--prometheus-config-out` writes (Prometheus 2.42 and later).
//!
//! Two jobs, `istiod` and `envoy-stats`, scrape every target from the simulator itself at
//! `/sim/metrics/pods/<namespace>/<pod>/<port>`, since pod IPs exist only in the simulation.
//! Target labels: `namespace`, `pod`, `app`, `istio_io_rev` (the pod label on istiod, the
//! injector's annotation on sidecars) and `instance` = `<pod IP>:<port>`.
//!
//! Every job sends the viewer's bearer token, for discovery and for scrapes alike.
//!
//! The `stock` style drops `istio_io_rev` (a `labeldrop` relabelling), as Istio's own
//! Prometheus addon and a Prometheus Operator PodMonitor leave sidecar series without it:
//! only `namespace` and `pod` say where a series comes from.
//!
//! The active jobs find their targets through HTTP discovery (`/sim/metrics/targets/<job>`),
//! because Debian's Prometheus is built without Kubernetes discovery. The file also carries,
//! commented out, the same jobs with `kubernetes_sd_configs` (role `pod`) against the
//! simulator's API, for Prometheus builds that have it.

/// How often HTTP discovery asks for the targets again.
const REFRESH: &str = "5s";

/// Which target labels the scraped series get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Style {
    /// `namespace`, `pod`, `app` and `istio_io_rev`: a relabelling that copies the revision.
    #[default]
    Revision,
    /// `namespace`, `pod` and `app`, no revision label: a stock setup.
    Stock,
}

/// Drops the revision label from every target of a job.
const DROP_REVISION: &str = "      - action: labeldrop\n        regex: istio_io_rev\n";

/// The configuration; with `ca_file`, Prometheus verifies the simulator's certificate against
/// that run's CA, without it verification is off.
pub fn render(api_url: &str, token: &str, ca_file: Option<&str>) -> String {
    render_styled(api_url, token, ca_file, Style::Revision)
}

/// `render`, with the target labels of `style`.
pub fn render_styled(api_url: &str, token: &str, ca_file: Option<&str>, style: Style) -> String {
    let mut active = http_sd_jobs(api_url, token, ca_file);
    if style == Style::Stock {
        active = active
            .split("  - job_name: ")
            .filter(|job| !job.is_empty())
            .map(|job| format!("  - job_name: {job}    relabel_configs:\n{DROP_REVISION}"))
            .collect();
    }
    let kubernetes: String = kubernetes_sd_jobs(api_url, token, ca_file, style)
        .lines()
        .map(|l| format!("#{l}\n"))
        .collect();
    format!(
        "# Written by `istio-cockpit sim`: scrapes the simulated istiod pods and sidecars from\n# the simulator itself (their pod IPs exist only in the simulation).\nglobal:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 2s\nscrape_configs:\n{active}\n# With a Prometheus built with Kubernetes discovery, these jobs find the same targets\n# through the simulator's Kubernetes API instead (replace the two jobs above):\n{kubernetes}"
    )
}

fn tls_block(scheme: &str, ca_file: Option<&str>, indent: &str) -> String {
    match (scheme, ca_file) {
        ("https", Some(ca)) => format!("\n{indent}tls_config:\n{indent}  ca_file: {}", quote(ca)),
        ("https", None) => format!("\n{indent}tls_config:\n{indent}  insecure_skip_verify: true"),
        _ => String::new(),
    }
}

fn http_sd_jobs(api_url: &str, token: &str, ca_file: Option<&str>) -> String {
    let (scheme, _) = api_url.split_once("://").unwrap_or(("http", api_url));
    let base = api_url.trim_end_matches('/');
    ["istiod", "envoy-stats"]
        .iter()
        .map(|job| {
            format!(
                "  - job_name: {job}\n    scheme: {scheme}{scrape_tls}\n    authorization:\n      type: Bearer\n      credentials: {token}\n    http_sd_configs:\n      - url: {url}\n        refresh_interval: {REFRESH}\n        authorization:\n          type: Bearer\n          credentials: {token}{sd_tls}\n",
                scrape_tls = tls_block(scheme, ca_file, "    "),
                url = quote(&format!("{base}/sim/metrics/targets/{job}")),
                token = quote(token),
                sd_tls = tls_block(scheme, ca_file, "        "),
            )
        })
        .collect()
}

/// The same jobs with Kubernetes discovery of pods through the simulator's API.
fn kubernetes_sd_jobs(api_url: &str, token: &str, ca_file: Option<&str>, style: Style) -> String {
    let (scheme, address) = api_url.split_once("://").unwrap_or(("http", api_url));
    let address = address.trim_end_matches('/');
    let tls_at = |indent: &str| tls_block(scheme, ca_file, indent);
    let token = quote(token);
    let sd = |namespaces: &str| {
        format!(
            "    kubernetes_sd_configs:\n      - role: pod\n        api_server: {api}\n        authorization:\n          type: Bearer\n          credentials: {token}{tls}{namespaces}\n",
            api = quote(api_url),
            tls = tls_at("        "),
        )
    };
    let job = |name: &str, namespaces: &str, keep: &str, port: &str, rev: &str| {
        format!(
            r#"  - job_name: {name}
    scheme: {scheme}{scrape_tls}
    authorization:
      type: Bearer
      credentials: {token}
{sd}    relabel_configs:
{keep}      - source_labels: [__meta_kubernetes_pod_phase]
        regex: Running
        action: keep
      - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_name, {port}]
        regex: "([^;]+);([^;]+);([0-9]+)"
        target_label: __metrics_path__
        replacement: /sim/metrics/pods/${{1}}/${{2}}/${{3}}
      - source_labels: [__meta_kubernetes_pod_ip, {port}]
        regex: "([^;]+);([0-9]+)"
        target_label: instance
        replacement: ${{1}}:${{2}}
      - target_label: __address__
        replacement: {address}
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_label_app]
        target_label: app
{rev}"#,
            scrape_tls = tls_at("    "),
            sd = sd(namespaces),
            rev = match style {
                Style::Revision =>
                    format!("      - source_labels: [{rev}]\n        target_label: istio_io_rev\n"),
                Style::Stock => String::new(),
            },
        )
    };
    let istiod = job(
        "istiod",
        "\n        namespaces:\n          names: [istio-system]",
        "      - source_labels: [__meta_kubernetes_pod_label_app, __meta_kubernetes_pod_container_port_number]\n        regex: istiod;15014\n        action: keep\n",
        "__meta_kubernetes_pod_container_port_number",
        "__meta_kubernetes_pod_label_istio_io_rev",
    );
    // One target per pod: the istio-proxy container (its only port is Envoy's 15090).
    let sidecars = job(
        "envoy-stats",
        "",
        "      - source_labels: [__meta_kubernetes_pod_container_name, __meta_kubernetes_pod_annotation_prometheus_io_scrape]\n        regex: istio-proxy;true\n        action: keep\n",
        "__meta_kubernetes_pod_annotation_prometheus_io_port",
        "__meta_kubernetes_pod_annotation_istio_io_rev",
    );
    format!("{istiod}{sidecars}")
}

/// One cluster of a fleet, for `render_fleet`.
pub struct FleetTarget<'a> {
    pub cluster: &'a str,
    pub api_url: &'a str,
    pub token: &'a str,
    pub ca_file: Option<&'a str>,
}

/// A fleet's configuration: the two jobs per cluster (named `<job>-<cluster>`), each target
/// labelled `cluster` and its `job` label the same as a lone cluster's.
pub fn render_fleet(clusters: &[FleetTarget<'_>], style: Style) -> String {
    let drop_revision = match style {
        Style::Revision => "",
        Style::Stock => DROP_REVISION,
    };
    let jobs: String = clusters
        .iter()
        .map(|c| {
            http_sd_jobs(c.api_url, c.token, c.ca_file)
                .split("  - job_name: ")
                .filter(|job| !job.is_empty())
                .map(|job| {
                    let (name, rest) = job.split_once('\n').unwrap_or((job, ""));
                    format!(
                        "  - job_name: {name}-{cluster}\n{rest}    relabel_configs:\n      - target_label: job\n        replacement: {name}\n      - target_label: cluster\n        replacement: {quoted}\n{drop_revision}",
                        cluster = c.cluster,
                        quoted = quote(c.cluster),
                    )
                })
                .collect::<String>()
        })
        .collect();
    format!(
        "# Written by `istio-cockpit sim --clusters`: scrapes every cluster's simulated istiod pods\n# and sidecars from its simulator, each target labelled with its cluster.\nglobal:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 2s\nscrape_configs:\n{jobs}"
    )
}

/// A YAML double-quoted scalar.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_discover_over_http_and_scrape_the_simulator() {
        let text = render("https://127.0.0.1:41234", "0123abcd", None);
        let (active, commented) = text.split_once("\n# With a Prometheus").unwrap();
        assert!(active.contains("  - job_name: istiod\n"));
        assert!(active.contains("  - job_name: envoy-stats\n"));
        assert!(active.contains("url: \"https://127.0.0.1:41234/sim/metrics/targets/istiod\""));
        assert!(
            active.contains("url: \"https://127.0.0.1:41234/sim/metrics/targets/envoy-stats\"")
        );
        assert_eq!(active.matches("insecure_skip_verify: true").count(), 4);
        assert!(!active.contains("kubernetes_sd_configs"));
        assert!(!text.contains('\t'));
        // The Kubernetes variant: commented out, complete.
        assert!(commented.lines().skip(2).all(|l| l.starts_with('#')));
        assert_eq!(commented.matches("kubernetes_sd_configs:").count(), 2);
        assert_eq!(commented.matches("credentials: \"0123abcd\"").count(), 4);
        // Scrapes carry the token too: the simulator answers nothing without one.
        assert_eq!(active.matches("credentials: \"0123abcd\"").count(), 4);
        assert!(commented.contains("replacement: 127.0.0.1:41234"));
        assert!(commented.contains("replacement: /sim/metrics/pods/${1}/${2}/${3}"));
        assert!(commented.contains("__meta_kubernetes_pod_annotation_istio_io_rev"));
        assert!(commented.contains("__meta_kubernetes_pod_label_istio_io_rev"));
    }

    #[test]
    fn a_fleet_has_two_jobs_per_cluster_labelled_with_it() {
        let text = render_fleet(
            &[
                FleetTarget {
                    cluster: "primary",
                    api_url: "https://127.0.0.1:1",
                    token: "a",
                    ca_file: Some("/x/primary.ca.pem"),
                },
                FleetTarget {
                    cluster: "remote-1",
                    api_url: "https://127.0.0.1:2",
                    token: "b",
                    ca_file: Some("/x/remote-1.ca.pem"),
                },
            ],
            Style::Revision,
        );
        for job in [
            "istiod-primary",
            "envoy-stats-primary",
            "istiod-remote-1",
            "envoy-stats-remote-1",
        ] {
            assert!(
                text.contains(&format!("  - job_name: {job}\n")),
                "{job}:\n{text}"
            );
        }
        assert_eq!(text.matches("replacement: \"remote-1\"").count(), 2);
        assert_eq!(text.matches("replacement: istiod\n").count(), 2);
        assert!(text.contains("url: \"https://127.0.0.1:2/sim/metrics/targets/envoy-stats\""));
        assert_eq!(text.matches("credentials: \"b\"").count(), 4);
        assert_eq!(text.matches("ca_file: \"/x/remote-1.ca.pem\"").count(), 4);
    }

    #[test]
    fn the_stock_style_keeps_namespace_and_pod_but_drops_the_revision() {
        let text = render_styled("https://127.0.0.1:1", "t", None, Style::Stock);
        let (active, commented) = text.split_once("\n# With a Prometheus").unwrap();
        assert_eq!(active.matches("  - job_name: ").count(), 2);
        assert_eq!(
            active
                .matches(
                    "    relabel_configs:\n      - action: labeldrop\n        regex: istio_io_rev\n"
                )
                .count(),
            2,
            "{active}"
        );
        assert!(!commented.contains("target_label: istio_io_rev"));
        assert!(commented.contains(
            "#      - source_labels: [__meta_kubernetes_pod_name]\n#        target_label: pod\n"
        ));
        assert!(commented.contains("target_label: namespace"));
        // The default style is today's.
        assert_eq!(
            render("https://127.0.0.1:1", "t", None),
            render_styled("https://127.0.0.1:1", "t", None, Style::Revision)
        );
        assert!(!render("https://127.0.0.1:1", "t", None).contains("labeldrop"));
        let fleet = render_fleet(
            &[FleetTarget {
                cluster: "primary",
                api_url: "https://127.0.0.1:1",
                token: "a",
                ca_file: None,
            }],
            Style::Stock,
        );
        assert_eq!(fleet.matches("regex: istio_io_rev").count(), 2, "{fleet}");
    }

    #[test]
    fn a_ca_file_replaces_skipping_verification() {
        let text = render("https://127.0.0.1:41234", "t", Some("/x/ca.pem"));
        assert_eq!(text.matches("ca_file: \"/x/ca.pem\"").count(), 8);
        assert!(!text.contains("insecure_skip_verify"));
    }
}
