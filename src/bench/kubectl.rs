//! kubectl on the same mesh, for comparison: `get pods -A` to the end, and `get pods -A --watch`
//! until its first full listing, in one context (a fleet's first cluster). None when kubectl is
//! not installed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kubectl(kubeconfig: &Path, context: &str, cache: &Path) -> Command {
    let mut c = Command::new("kubectl");
    c.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", context, "--request-timeout=300s"])
        .env("KUBECACHEDIR", cache)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// `kubectl get pods -A --no-headers`: wall time and pods listed.
pub fn get_pods(kubeconfig: &Path, context: &str, cache: &Path) -> Option<(Duration, usize)> {
    let start = Instant::now();
    let out = kubectl(kubeconfig, context, cache)
        .args(["get", "pods", "-A", "--no-headers"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let pods = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    Some((start.elapsed(), pods))
}

/// `kubectl get pods -A --watch --no-headers` until `pods` lines came.
pub fn watch_first_listing(
    kubeconfig: &Path,
    context: &str,
    cache: &Path,
    pods: usize,
) -> Option<Duration> {
    let start = Instant::now();
    let mut child = kubectl(kubeconfig, context, cache)
        .args(["get", "pods", "-A", "--watch", "--no-headers"])
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let mut seen = 0;
    let mut took = None;
    for line in BufReader::new(stdout).lines() {
        if line.is_err() {
            break;
        }
        seen += 1;
        if seen >= pods {
            took = Some(start.elapsed());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    took
}
