//! The text of the lines istiod and the sidecars log. istiod writes Istio's console format:
//! `<RFC 3339 time, microseconds>Z<TAB><level><TAB><scope><TAB><message>`; sidecars write
//! Envoy access-log lines in Istio's default text format.

use std::net::Ipv4Addr;

use chrono::{DateTime, SecondsFormat, Utc};

use super::random::Draw;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
        }
    }
}

/// One istiod line: level, scope, message.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub level: Level,
    pub scope: &'static str,
    pub message: String,
}

impl Entry {
    pub fn info(scope: &'static str, message: String) -> Entry {
        Entry {
            level: Level::Info,
            scope,
            message,
        }
    }

    pub fn warn(scope: &'static str, message: String) -> Entry {
        Entry {
            level: Level::Warn,
            scope,
            message,
        }
    }

    pub fn format(&self, at: DateTime<Utc>) -> String {
        format!(
            "{}\t{}\t{}\t{}",
            at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.level.as_str(),
            self.scope,
            self.message
        )
    }
}

/// The xDS type names istiod uses in its logs and metric labels.
pub const XDS_TYPES: [&str; 4] = ["cds", "eds", "lds", "rds"];

/// The proxy's node id plus istiod's connection number: `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local-<n>`.
pub fn connection_id(ip: Option<Ipv4Addr>, pod: &str, ns: &str, connection: u64) -> String {
    let ip = ip.map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
    format!("sidecar~{ip}~{pod}.{ns}~{ns}.svc.cluster.local-{connection}")
}

/// Proxies from 1.22 on use delta xDS by default; istiod logs those under scope `delta`.
pub fn uses_delta(proxy_version: &str) -> bool {
    let mut parts = proxy_version
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (1, 22)
}

fn xds_scope(delta: bool) -> &'static str {
    if delta { "delta" } else { "ads" }
}

pub fn startup(version: &str, revision: &str, pod: &str, draw: &mut Draw) -> Vec<Entry> {
    let sync = 0.4 + draw.unit() * 1.6;
    vec![
        Entry::info(
            "server",
            format!("istiod {version} (revision {revision}) starting as {pod}"),
        ),
        Entry::info(
            "kube",
            "Initializing Kubernetes service registry \"Kubernetes\"".into(),
        ),
        Entry::info(
            "pkica",
            "Using existing signing key and certificate from secret istio-system/istio-ca-secret"
                .into(),
        ),
        Entry::info(
            "spiffe",
            "Added 1 certs to trust domain cluster.local in peer cert verifier".into(),
        ),
        Entry::info("model", "reloading network gateways".into()),
        Entry::info(
            "validationController",
            format!("Not ready to switch validation to fail-closed yet (revision {revision})"),
        ),
        Entry::info(
            "ads",
            format!("All caches have been synced up in {sync:.3}s, marking server ready"),
        ),
    ]
}

pub fn connected(id: &str, delta: bool) -> Entry {
    let kind = if delta {
        "new delta connection"
    } else {
        "new connection"
    };
    Entry::info(xds_scope(delta), format!("ADS: {kind} for node:{id}"))
}

pub fn terminated(ip: Option<Ipv4Addr>, id: &str, delta: bool, draw: &mut Draw) -> Entry {
    let ip = ip.map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
    let port = 32768 + draw.below(28000);
    Entry::info(
        xds_scope(delta),
        format!("ADS: \"{ip}:{port}\" {id} terminated"),
    )
}

pub struct Debounce<'a> {
    pub sequence: u64,
    pub config: &'a str,
    pub changes: u32,
    pub since_change_ms: f64,
    pub since_push_s: f64,
    pub full: bool,
}

pub fn debounce(d: &Debounce<'_>) -> Entry {
    let more = if d.changes > 1 {
        format!(" and {} more configs", d.changes - 1)
    } else {
        String::new()
    };
    Entry::info(
        "ads",
        format!(
            "Push debounce stable[{}] {} for config {}{more}: {:.1}ms since last change, {:.1}s since last push, full={}",
            d.sequence, d.changes, d.config, d.since_change_ms, d.since_push_s, d.full
        ),
    )
}

pub fn pushing(services: usize, connected: usize, at: DateTime<Utc>, sequence: u64) -> Entry {
    Entry::info(
        "ads",
        format!(
            "XDS: Pushing Services:{services} ConnectedEndpoints:{connected} Version:{}/{sequence}",
            at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    )
}

pub fn proxy_push(
    xds_type: &str,
    pod: &str,
    ns: &str,
    incremental: bool,
    delta: bool,
    draw: &mut Draw,
) -> Entry {
    let resources = 1 + draw.below(if incremental { 3 } else { 60 });
    let size = resources as f64 * (0.4 + draw.unit() * 2.0);
    let what = if incremental { "PUSH INC" } else { "PUSH" };
    Entry::info(
        xds_scope(delta),
        format!(
            "{}: {what} for node:{pod}.{ns} resources:{resources} size:{size:.1}kB",
            xds_type.to_uppercase()
        ),
    )
}

pub fn new_service(ns: &str, name: &str) -> Entry {
    Entry::info(
        "ads",
        format!("Full push, new service {ns}/{name}.{ns}.svc.cluster.local"),
    )
}

/// What Envoy says of a push of `xds_type` it rejects.
pub fn nack_detail(xds_type: &str, service: &str, draw: &mut Draw) -> String {
    match xds_type {
        "lds" => match draw.below(2) {
            0 => "Error adding/updating listener(s) virtualInbound: Proto constraint validation failed (ListenerValidationError.FilterChains[2]: embedded message failed validation)".to_string(),
            _ => "Error adding/updating listener(s) 0.0.0.0_8080: Didn't find a registered implementation for 'istio.stats.v2' with type URL: 'stats.PluginConfig'".to_string(),
        },
        "cds" => format!(
            "Error adding/updating cluster(s) outbound|80||{service}: envoy.transport_sockets.tls: unknown field \"ecdh_curves_v2\""
        ),
        _ => format!(
            "Unknown field in route configuration 80 for virtual host {service}:80: retry_policy.per_try_idle_timeout_ms"
        ),
    }
}

/// A rejected push: `ADS:<TYPE>: ACK ERROR <connection id> Internal:<what Envoy said>`.
pub fn nack(xds_type: &str, id: &str, detail: &str, delta: bool) -> Entry {
    Entry::warn(
        xds_scope(delta),
        format!(
            "ADS:{}: ACK ERROR {id} Internal:{detail}",
            xds_type.to_uppercase()
        ),
    )
}

/// The type URL Envoy names a resource type by.
fn type_url(xds_type: &str) -> &'static str {
    match xds_type {
        "cds" => "type.googleapis.com/envoy.config.cluster.v3.Cluster",
        "eds" => "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
        "lds" => "type.googleapis.com/envoy.config.listener.v3.Listener",
        _ => "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    }
}

/// The sidecar's own line about a push it rejected, in the proxy's log format:
/// `<time>\t<level>\tenvoy <logger> <source>\t<message>\tthread=<n>`.
pub fn envoy_rejection(at: DateTime<Utc>, xds_type: &str, detail: &str) -> String {
    format!(
        "{}\twarning\tenvoy config external/envoy/source/extensions/config_subscription/grpc/grpc_subscription_impl.cc:138\tgRPC config for {} rejected: {detail}\tthread=15",
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        type_url(xds_type)
    )
}

pub struct FailedCall<'a> {
    pub at: DateTime<Utc>,
    pub ip: Option<Ipv4Addr>,
    pub peer: &'a str,
    pub ns: &'a str,
    pub duration_ms: u64,
}

/// The access-log line of a call whose upstream TLS handshake failed.
pub fn mtls_failure(call: &FailedCall<'_>, draw: &mut Draw) -> String {
    let reason = "TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end";
    let ip = call.ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let host = format!("{}.{}.svc.cluster.local", call.peer, call.ns);
    let request_id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        draw.next_u64() as u32,
        draw.next_u64() as u16,
        draw.next_u64() as u16 & 0xfff,
        draw.next_u64() as u16 & 0xfff,
        draw.next_u64() & 0xffff_ffff_ffff
    );
    format!(
        "[{}] \"GET /api/v1/{} HTTP/1.1\" 503 UF,URX upstream_reset_before_response_started{{connection_failure,{reason}}} - \"{reason}\" 0 190 {} - \"-\" \"Go-http-client/1.1\" \"{request_id}\" \"{host}\" \"-\" outbound|80||{host} - - {ip}:{} - default",
        call.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        call.peer,
        call.duration_ms,
        40000 + draw.below(20000),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_have_four_tab_separated_fields() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T21:30:01.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = connection_id(
            Some(Ipv4Addr::new(10, 244, 0, 7)),
            "cart-abc",
            "checkout",
            42,
        );
        assert_eq!(
            connected(&id, false).format(at),
            "2026-11-24T21:30:01.123456Z\tinfo\tads\tADS: new connection for node:sidecar~10.244.0.7~cart-abc.checkout~checkout.svc.cluster.local-42"
        );
        let detail = nack_detail("lds", "cart.checkout.svc.cluster.local", &mut Draw::new(1));
        let line = nack("lds", &id, &detail, true).format(at);
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4);
        assert_eq!((fields[1], fields[2]), ("warn", "delta"));
        assert_eq!(
            fields[3],
            format!("ADS:LDS: ACK ERROR {id} Internal:{detail}")
        );
        let own = envoy_rejection(at, "lds", &detail);
        let fields: Vec<&str> = own.split('\t').collect();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[1], "warning");
        assert_eq!(
            fields[3],
            format!(
                "gRPC config for type.googleapis.com/envoy.config.listener.v3.Listener rejected: {detail}"
            )
        );
    }

    #[test]
    fn delta_is_the_default_from_1_22() {
        assert!(uses_delta("1.22.4"));
        assert!(uses_delta("1.25.0"));
        assert!(!uses_delta("1.21.6"));
    }
}
