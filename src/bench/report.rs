//! The figures, each named with its unit, as one JSON object or a table against the budget.

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Clusters the cockpit watched: 1, or a fleet's.
    pub clusters: u32,
    /// Application namespaces asked for in each cluster.
    pub namespaces: u32,
    /// Pods the cockpit listed, over every cluster.
    pub pods: usize,
    /// Pods the cockpit listed in each cluster, the first cluster's first.
    pub pods_per_cluster: Vec<usize>,
    /// The cluster whose changes the latency figures time, on screen meanwhile; its istiod
    /// logs are the ingested ones.
    pub probed_cluster: String,
    pub cpus: usize,
    pub seconds_per_phase: u64,
    pub sim_ready_ms: f64,
    pub first_state_ms: f64,
    pub first_frame_ms: f64,
    pub event_to_screen_p50_ms: Option<f64>,
    pub event_to_screen_p99_ms: Option<f64>,
    pub pod_to_screen_p50_ms: Option<f64>,
    pub pod_to_screen_p99_ms: Option<f64>,
    pub frame_p50_ms: Option<f64>,
    pub frame_p99_ms: Option<f64>,
    pub idle_cpu_pct: f64,
    /// Frames drawn and the clusters' events handled per second while idle.
    pub idle_frames_per_s: f64,
    pub idle_events_per_s: f64,
    pub churn_cpu_pct: f64,
    pub churn_pod_events_per_s: f64,
    pub log_lines_per_s: f64,
    pub log_key_wait_p99_ms: Option<f64>,
    pub log_ring_lines: usize,
    pub log_ring_full_rss_mb: f64,
    pub terminal_bytes_per_s: f64,
    pub peak_rss_mb: f64,
    /// The simulated API server's p99 answer time (`/version` and a one-pod LIST) while the
    /// bench runs, failures counted as the probe's timeout.
    pub sim_api_p99_ms: Option<f64>,
    pub sim_api_failed: usize,
    pub kubectl_get_pods_ms: Option<f64>,
    pub kubectl_watch_first_list_ms: Option<f64>,
}

fn ms(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.1} ms"))
}

impl Report {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A readable table: each figure, and the budget where DESIGN §6 sets one.
    pub fn table(&self) -> String {
        let rows: Vec<(String, String, &str)> = vec![
            (
                "sim ready".into(),
                format!("{:.0} ms", self.sim_ready_ms),
                "",
            ),
            (
                "first complete state".into(),
                format!("{:.0} ms", self.first_state_ms),
                "",
            ),
            (
                "first full frame".into(),
                format!("{:.0} ms", self.first_frame_ms),
                "< 2000 ms",
            ),
            (
                "namespace label -> screen p50 / p99".into(),
                format!(
                    "{} / {}",
                    ms(self.event_to_screen_p50_ms),
                    ms(self.event_to_screen_p99_ms)
                ),
                "p99 < 100 ms",
            ),
            (
                "pod added/deleted -> screen p50 / p99".into(),
                format!(
                    "{} / {}",
                    ms(self.pod_to_screen_p50_ms),
                    ms(self.pod_to_screen_p99_ms)
                ),
                "p99 < 100 ms",
            ),
            (
                "frame at 250x70 p50 / p99".into(),
                format!("{} / {}", ms(self.frame_p50_ms), ms(self.frame_p99_ms)),
                "p99 < 4 ms",
            ),
            (
                "CPU idle".into(),
                format!("{:.2}% of a core", self.idle_cpu_pct),
                "< 1%",
            ),
            (
                "  frames / cluster events meanwhile".into(),
                format!(
                    "{:.1}/s / {:.1}/s",
                    self.idle_frames_per_s, self.idle_events_per_s
                ),
                "",
            ),
            (
                format!("CPU with {:.0} pod events/s", self.churn_pod_events_per_s),
                format!("{:.2}% of a core", self.churn_cpu_pct),
                "",
            ),
            (
                "istiod log lines absorbed".into(),
                format!("{:.0} lines/s", self.log_lines_per_s),
                ">= 100000/s",
            ),
            (
                "  key wait meanwhile p99".into(),
                ms(self.log_key_wait_p99_ms),
                "no stall",
            ),
            (
                format!("  memory, ring of {} lines full", self.log_ring_lines),
                format!("{:.0} MiB", self.log_ring_full_rss_mb),
                "",
            ),
            (
                "written to the terminal, steady".into(),
                format!("{:.0} B/s", self.terminal_bytes_per_s),
                "< 20480 B/s",
            ),
            (
                "peak resident memory".into(),
                format!("{:.0} MiB", self.peak_rss_mb),
                "< 200 MB",
            ),
            (
                "simulated API answer p99 (failed)".into(),
                format!("{} ({})", ms(self.sim_api_p99_ms), self.sim_api_failed),
                "p99 < 50 ms, none failed",
            ),
            (
                "kubectl get pods -A".into(),
                ms(self.kubectl_get_pods_ms),
                "",
            ),
            (
                "kubectl get pods -A --watch, first listing".into(),
                ms(self.kubectl_watch_first_list_ms),
                "",
            ),
        ];
        let mesh = if self.clusters > 1 {
            format!(
                "{} pods in {} clusters x {} namespaces (changes timed on {}, kubectl on the first)",
                self.pods, self.clusters, self.namespaces, self.probed_cluster
            )
        } else {
            format!("{} pods in {} namespaces", self.pods, self.namespaces)
        };
        let mut out = format!(
            "istio-cockpit bench: {mesh}, {} CPUs, {} s per steady phase\n\n",
            self.cpus, self.seconds_per_phase
        );
        out.push_str(&format!(
            "{:<44} {:>26}   {}\n",
            "figure", "value", "budget"
        ));
        for (name, value, budget) in rows {
            out.push_str(&format!("{name:<44} {value:>26}   {budget}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_every_figure_with_its_unit() {
        let json: serde_json::Value = serde_json::from_str(&Report::default().json()).unwrap();
        for key in [
            "clusters",
            "first_frame_ms",
            "event_to_screen_p99_ms",
            "frame_p99_ms",
            "idle_cpu_pct",
            "peak_rss_mb",
            "kubectl_get_pods_ms",
            "terminal_bytes_per_s",
            "log_lines_per_s",
            "sim_api_p99_ms",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn the_table_says_how_many_clusters_and_pods() {
        let one = Report {
            clusters: 1,
            namespaces: 2000,
            pods: 51_004,
            ..Report::default()
        };
        assert!(one.table().contains("51004 pods in 2000 namespaces,"));
        let fleet = Report {
            clusters: 5,
            namespaces: 400,
            pods: 50_020,
            probed_cluster: "remote-4".into(),
            ..Report::default()
        };
        assert!(
            fleet
                .table()
                .contains("50020 pods in 5 clusters x 400 namespaces (changes timed on remote-4")
        );
    }
}
