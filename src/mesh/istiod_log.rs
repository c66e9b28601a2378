//! istiod's console log lines: `<RFC3339>Z<TAB><level><TAB><scope><TAB><message>`, and the
//! NACKs among them (`ADS:<TYPE>: ACK ERROR <connection-id> <code>:<message>`), whose
//! connection id names the pod.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    /// A line that is not in the console format.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRef {
    pub namespace: String,
    pub pod: String,
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// `LDS`, `CDS`, `RDS`, `EDS`, ... as istiod names them.
    pub xds_type: String,
    pub proxy: Option<ProxyRef>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    pub at: Option<DateTime<Utc>>,
    pub level: Level,
    pub scope: String,
    pub message: String,
    pub nack: Option<Nack>,
}

impl ParsedLine {
    /// Lines worth a second look: NACKs, rejections and errors.
    pub fn is_alarming(&self) -> bool {
        self.nack.is_some()
            || self.level >= Level::Error && self.level != Level::Other
            || self.message.contains("rejected")
            || self.message.contains("ACK ERROR")
    }
}

pub fn parse(line: &str) -> ParsedLine {
    let mut fields = line.splitn(4, '\t');
    let (ts, level, scope, message) = (fields.next(), fields.next(), fields.next(), fields.next());
    let (Some(ts), Some(level), Some(scope), Some(message)) = (ts, level, scope, message) else {
        return ParsedLine {
            at: None,
            level: Level::Other,
            scope: String::new(),
            message: line.to_string(),
            nack: parse_nack(line),
        };
    };
    let level = match level {
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" | "warning" => Level::Warn,
        "error" | "fatal" => Level::Error,
        _ => Level::Other,
    };
    ParsedLine {
        at: DateTime::parse_from_rfc3339(ts)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        level,
        scope: scope.to_string(),
        nack: parse_nack(message),
        message: message.to_string(),
    }
}

fn parse_nack(message: &str) -> Option<Nack> {
    let at = message.find(": ACK ERROR ")?;
    let head = &message[..at];
    let xds_type = head.rsplit(':').next()?.trim().to_string();
    let rest = &message[at + ": ACK ERROR ".len()..];
    let (conn, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    Some(Nack {
        xds_type,
        proxy: proxy_ref(conn),
        reason: reason.to_string(),
    })
}

/// `sidecar~10.244.0.7~cart-abc.checkout~checkout.svc.cluster.local-42`.
pub fn proxy_ref(connection_id: &str) -> Option<ProxyRef> {
    let mut parts = connection_id.split('~');
    let _kind = parts.next()?;
    let ip = parts.next()?;
    let pod_ns = parts.next()?;
    let (pod, namespace) = pod_ns.rsplit_once('.')?;
    Some(ProxyRef {
        namespace: namespace.to_string(),
        pod: pod.to_string(),
        ip: ip.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_split_into_their_fields() {
        let line = "2026-11-24T21:30:01.123456Z\tinfo\tads\tADS: new connection for node:sidecar~10.244.0.7~cart-abc.checkout~checkout.svc.cluster.local-42";
        let p = parse(line);
        assert_eq!(p.level, Level::Info);
        assert_eq!(p.scope, "ads");
        assert_eq!(p.at.unwrap().timestamp_subsec_micros(), 123_456);
        assert!(p.nack.is_none());
        assert!(!p.is_alarming());
    }

    #[test]
    fn nacks_name_the_type_and_the_pod() {
        let line = "2026-11-24T21:30:02.000001Z\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.244.0.7~cart-7d9f-abcde.checkout~checkout.svc.cluster.local-42 Internal:Error adding/updating listener(s) 0.0.0.0_8080: unknown field";
        let p = parse(line);
        let nack = p.nack.clone().unwrap();
        assert_eq!(nack.xds_type, "LDS");
        assert_eq!(
            nack.proxy,
            Some(ProxyRef {
                namespace: "checkout".into(),
                pod: "cart-7d9f-abcde".into(),
                ip: "10.244.0.7".into()
            })
        );
        assert!(
            nack.reason
                .starts_with("Internal:Error adding/updating listener")
        );
        assert!(p.is_alarming());
        let delta = parse(
            "2026-11-24T21:30:02.000001Z\twarn\tdelta\tADS:CDS: ACK ERROR router~10.0.0.1~gw-1.istio-system~istio-system.svc.cluster.local-3 Internal:bad cluster",
        );
        assert_eq!(delta.nack.unwrap().xds_type, "CDS");
    }

    #[test]
    fn other_lines_are_kept_whole() {
        let p = parse("plain text from somewhere");
        assert_eq!(p.level, Level::Other);
        assert_eq!(p.message, "plain text from somewhere");
        let err = parse("2026-11-24T21:30:02.000001Z\terror\tmodel\tpush failed");
        assert!(err.is_alarming());
    }
}
