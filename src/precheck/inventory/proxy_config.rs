//! The two proxy settings restarts depend on, read from where Istio takes them: a pod's
//! `proxy.istio.io/config` annotation (YAML or JSON) and the `defaultConfig` section of the
//! mesh config's `mesh` YAML. Only those keys are read, line by line: no YAML parser is
//! needed for two scalars, and the rest of the text is left alone.

use std::time::Duration;

pub const HOLD: &str = "holdApplicationUntilProxyStarts";
pub const DRAIN: &str = "terminationDrainDuration";

/// What a proxy config says of the two settings; None where it says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProxyConfig {
    pub hold_application_until_proxy_starts: Option<bool>,
    pub termination_drain_duration: Option<Duration>,
}

impl ProxyConfig {
    /// The `proxy.istio.io/config` annotation: top-level keys.
    pub fn from_annotation(text: &str) -> ProxyConfig {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
            return ProxyConfig {
                hold_application_until_proxy_starts: map.get(HOLD).and_then(|v| match v {
                    serde_json::Value::Bool(b) => Some(*b),
                    serde_json::Value::String(s) => boolean(s),
                    _ => None,
                }),
                termination_drain_duration: map
                    .get(DRAIN)
                    .and_then(serde_json::Value::as_str)
                    .and_then(duration),
            };
        }
        let mut config = ProxyConfig::default();
        for line in text.lines().filter(|l| !l.starts_with([' ', '\t'])) {
            config.read_line(line);
        }
        config
    }

    /// The mesh config's `mesh` YAML: the keys indented under the top-level `defaultConfig:`.
    pub fn from_mesh_yaml(text: &str) -> ProxyConfig {
        let mut config = ProxyConfig::default();
        let mut inside = false;
        let mut indent = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let depth = line.len() - trimmed.len();
            if depth == 0 {
                inside = trimmed.trim_end() == "defaultConfig:";
                indent = None;
                continue;
            }
            if !inside {
                continue;
            }
            // Only the first level under defaultConfig, not keys of nested maps.
            let level = *indent.get_or_insert(depth);
            if depth == level {
                config.read_line(trimmed);
            }
        }
        config
    }

    fn read_line(&mut self, line: &str) {
        let Some((key, value)) = line.split_once(':') else {
            return;
        };
        let value = value.split(" #").next().unwrap_or_default().trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        match key.trim().trim_matches(|c| c == '"' || c == '\'') {
            HOLD => self.hold_application_until_proxy_starts = boolean(value),
            DRAIN => self.termination_drain_duration = duration(value),
            _ => {}
        }
    }
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A Go duration as Istio writes them (`5s`, `1m30s`, `500ms`).
fn duration(text: &str) -> Option<Duration> {
    humantime::parse_duration(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_annotation_is_read_as_yaml_or_json() {
        let yaml = ProxyConfig::from_annotation(
            "holdApplicationUntilProxyStarts: true\nterminationDrainDuration: 20s\nproxyMetadata:\n  holdApplicationUntilProxyStarts: false\n",
        );
        assert_eq!(yaml.hold_application_until_proxy_starts, Some(true));
        assert_eq!(
            yaml.termination_drain_duration,
            Some(Duration::from_secs(20))
        );
        let json = ProxyConfig::from_annotation(
            r#"{"holdApplicationUntilProxyStarts": false, "terminationDrainDuration": "1m30s"}"#,
        );
        assert_eq!(json.hold_application_until_proxy_starts, Some(false));
        assert_eq!(
            json.termination_drain_duration,
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            ProxyConfig::from_annotation("nonsense"),
            ProxyConfig::default()
        );
    }

    #[test]
    fn the_mesh_default_is_read_under_default_config_only() {
        let mesh = "accessLogFile: /dev/stdout\n\
                    holdApplicationUntilProxyStarts: false\n\
                    defaultConfig:\n  \
                      discoveryAddress: istiod.istio-system.svc:15012\n  \
                      proxyMetadata:\n    \
                        terminationDrainDuration: 99s\n  \
                      holdApplicationUntilProxyStarts: true # set for safe restarts\n\
                    enablePrometheusMerge: true\n";
        let config = ProxyConfig::from_mesh_yaml(mesh);
        assert_eq!(config.hold_application_until_proxy_starts, Some(true));
        assert_eq!(config.termination_drain_duration, None);
        assert_eq!(
            ProxyConfig::from_mesh_yaml("defaultConfig: {}\n"),
            ProxyConfig::default()
        );
    }
}
