//! The simulated mesh in its own process, so that the cockpit's CPU and memory are measured
//! alone: this same binary's `sim` command (a fleet with `--clusters N`), stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::BenchError;

pub struct SimChild {
    child: Child,
    pub kubeconfig: PathBuf,
    /// The admin context of each cluster, the first cluster's first.
    pub contexts: Vec<String>,
    /// From the start of the process until it said it was ready.
    pub ready_after: Duration,
}

impl SimChild {
    pub fn start(
        clusters: u32,
        namespaces: u32,
        pods_per_namespace: u32,
        dir: &std::path::Path,
    ) -> Result<SimChild, BenchError> {
        let exe = std::env::current_exe().map_err(BenchError::OwnProgram)?;
        let kubeconfig = dir.join("kubeconfig");
        let started = Instant::now();
        let mut child = Command::new(exe)
            .args(["sim", "--namespaces", &namespaces.to_string()])
            .args(["--pods-per-namespace", &pods_per_namespace.to_string()])
            .args(["--clusters", &clusters.to_string()])
            .args(["--ready-after", "1"])
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(BenchError::StartSim)?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut first = String::new();
        let read = BufReader::new(stdout).read_line(&mut first);
        if !matches!(read, Ok(n) if n > 0) || !first.starts_with("ready ") {
            let _ = child.kill();
            let status = child.wait().ok();
            return Err(BenchError::SimNotReady { status });
        }
        Ok(SimChild {
            child,
            kubeconfig,
            contexts: admin_contexts(&first),
            ready_after: started.elapsed(),
        })
    }
}

/// A fleet's ready line names its clusters, each with an admin context of its name; a lone
/// cluster's admin context is `sim-admin`.
fn admin_contexts(ready_line: &str) -> Vec<String> {
    ready_line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("clusters="))
        .map_or_else(
            || vec!["sim-admin".to_string()],
            |names| names.split(',').map(str::to_string).collect(),
        )
}

#[allow(
    unsafe_code,
    reason = "std has no SIGTERM, and the simulator must stop cleanly"
)]
impl Drop for SimChild {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::admin_contexts;

    #[test]
    fn the_ready_line_names_the_contexts() {
        assert_eq!(
            admin_contexts("ready api=https://127.0.0.1:1 kubeconfig=k metrics=http://m\n"),
            ["sim-admin"]
        );
        assert_eq!(
            admin_contexts("ready api=a kubeconfig=k metrics=m clusters=primary,remote-1\n"),
            ["primary", "remote-1"]
        );
    }
}
