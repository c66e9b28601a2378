//! Writing a plan back as a plan file.

use std::time::Duration;

use crate::plan::duration;
use crate::plan::model::{NamespaceSelector, Plan};

/// Writes a plan as a plan file that `parse` reads back to the same plan (every field
/// explicit), e.g. to keep it in the cluster next to the upgrade's phase.
pub fn to_toml(plan: &Plan) -> String {
    let string = |s: &str| toml::Value::String(s.to_string()).to_string();
    let strings = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|s| string(s)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let float = |x: f64| toml::Value::Float(x).to_string();
    let dur = |d: Duration| string(&duration::format(d));
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("from = {}", string(&plan.from)));
    line(format!("to = {}", string(&plan.to)));
    line(format!("tags = {}", strings(&plan.tags)));
    line(format!("tag_soak = {}", dur(plan.tag_soak)));
    line(format!("keep_old = {}", dur(plan.keep_old)));
    if let Some(service) = &plan.prometheus_service {
        line(format!("prometheus_service = {}", string(service)));
    }
    line(format!("wave_concurrency = {}", plan.pacing.concurrency));
    line(format!("namespace_bake = {}", dur(plan.pacing.bake)));
    line(format!("namespace_timeout = {}", dur(plan.pacing.timeout)));
    if plan.waves.is_empty() {
        line("waves = []".into());
    }
    for wave in &plan.waves {
        line(String::new());
        line("[[waves]]".into());
        line(format!("name = {}", string(&wave.name)));
        match &wave.selector {
            NamespaceSelector::Names(names) => line(format!("namespaces = {}", strings(names))),
            NamespaceSelector::Labels(selector) => line(format!("selector = {}", string(selector))),
        }
        line(format!("soak = {}", dur(wave.soak)));
        if let Some(n) = wave.pacing.concurrency {
            line(format!("wave_concurrency = {n}"));
        }
        if let Some(bake) = wave.pacing.bake {
            line(format!("namespace_bake = {}", dur(bake)));
        }
        if let Some(timeout) = wave.pacing.timeout {
            line(format!("namespace_timeout = {}", dur(timeout)));
        }
    }
    let t = &plan.thresholds;
    line(String::new());
    line("[rollback]".into());
    line(format!(
        "p99_latency_increase = {}",
        float(t.p99_latency_increase)
    ));
    line(format!("p99_latency_for = {}", dur(t.p99_latency_for)));
    line(format!("error_ratio = {}", float(t.error_ratio)));
    line(format!("error_ratio_for = {}", dur(t.error_ratio_for)));
    line(format!("xds_rejects = {}", t.xds_rejects));
    line(format!("mtls_errors = {}", t.mtls_errors));
    line(format!(
        "convergence_p99 = {}",
        dur(Duration::from_secs_f64(t.convergence_p99_seconds))
    ));
    line(format!(
        "convergence_p99_for = {}",
        dur(t.convergence_p99_for)
    ));
    line(format!("auto_rollback = {}", t.auto_rollback));
    out
}
