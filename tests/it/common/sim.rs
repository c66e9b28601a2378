//! The real `istio-cockpit sim` binary on an ephemeral port, and kubectl pointed at it with
//! its own discovery cache.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REQUEST_LOG: &str = "requests.log";

pub struct Sim {
    child: Child,
    pub api: String,
    pub kubeconfig: PathBuf,
    pub metrics: String,
    /// The fleet's clusters from the ready line's `clusters=`; empty for one cluster.
    pub clusters: Vec<String>,
    pub dir: tempfile::TempDir,
}

impl Sim {
    /// Starts the simulator with extra flags and waits for its `ready` line.
    pub fn start(extra: &[&str]) -> Sim {
        Sim::start_in(tempfile::tempdir().expect("temp dir"), extra)
    }

    /// The same, with every API request logged to `request_log()`.
    pub fn start_logging(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join(REQUEST_LOG).display().to_string();
        let mut args = extra.to_vec();
        args.extend(["--request-log", log.as_str()]);
        Sim::start_in(dir, &args)
    }

    /// Where `start_logging` has the simulator log its requests.
    pub fn request_log(&self) -> PathBuf {
        self.dir.path().join(REQUEST_LOG)
    }

    /// The requests `start_logging` has had logged so far, a line each: verb, method, path.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.request_log())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Those of the requests that wrote: every verb but get, list and watch.
    pub fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|l| !matches!(l.split_whitespace().next(), Some("get" | "list" | "watch")))
            .collect()
    }

    fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Sim {
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
            .arg("sim")
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start istio-cockpit sim");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read ready line");
        assert!(
            line.starts_with("ready "),
            "unexpected first line: {line:?}"
        );
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{key}= missing from {line:?}"))
                .to_string()
        };
        let clusters = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("clusters="))
            .map(|list| list.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        Sim {
            clusters,
            api: field("api"),
            metrics: field("metrics"),
            kubeconfig: PathBuf::from(field("kubeconfig")),
            child,
            dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, once the process has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn kubectl_command(&self, context: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("kube-cache"))
            .arg("--context")
            .arg(context)
            .arg("--request-timeout=20s")
            .args(args);
        cmd
    }

    /// Runs kubectl as `sim-admin` and returns its output, whatever the exit status.
    pub fn kubectl_output(&self, args: &[&str]) -> Output {
        self.kubectl_command("sim-admin", args)
            .output()
            .expect("run kubectl")
    }

    pub fn kubectl_as(&self, context: &str, args: &[&str]) -> Output {
        self.kubectl_command(context, args)
            .output()
            .expect("run kubectl")
    }

    /// Runs kubectl in `context` with `input` on its stdin; the output whatever the status.
    pub fn kubectl_stdin(&self, context: &str, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .kubectl_command(context, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input).expect("write kubectl's stdin");
        drop(stdin);
        child.wait_with_output().expect("wait for kubectl")
    }

    /// Runs kubectl as `sim-admin`, asserts success and returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        self.kubectl_in("sim-admin", args)
    }

    /// Runs kubectl in `context`, asserts success and returns stdout.
    pub fn kubectl_in(&self, context: &str, args: &[&str]) -> String {
        let out = self.kubectl_as(context, args);
        assert!(
            out.status.success(),
            "kubectl --context {context} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Merges `patch` into the faults of the cluster behind `context` (a fleet's cluster).
    pub fn set_faults_in(&self, context: &str, patch: &str) {
        self.kubectl_in(
            context,
            &[
                "patch",
                "configmap",
                "faults",
                "-n",
                "sim-system",
                "--type",
                "merge",
                "-p",
                patch,
            ],
        );
    }

    /// Merges `patch` (a JSON merge patch of the ConfigMap) into the simulator's faults.
    pub fn set_faults(&self, patch: &str) {
        self.set_faults_in("sim-admin", patch);
    }

    pub fn spawn_kubectl(&self, args: &[&str]) -> Child {
        self.spawn_kubectl_in("sim-admin", args)
    }

    /// Starts kubectl in `context` with its output piped, without waiting for it.
    pub fn spawn_kubectl_in(&self, context: &str, args: &[&str]) -> Child {
        self.kubectl_command(context, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl")
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    fn kubeconfig_field(&self, key: &str) -> String {
        let text = std::fs::read_to_string(&self.kubeconfig).expect("read kubeconfig");
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} missing from the kubeconfig"))
            .to_string()
    }

    /// The PEM of the CA the simulator's serving certificate chains to.
    pub fn ca_pem(&self) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(self.kubeconfig_field("certificate-authority-data"))
            .expect("base64 CA")
    }

    /// The admin's bearer token (the first user in the kubeconfig).
    pub fn admin_token(&self) -> String {
        self.kubeconfig_field("token")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it returns Some or the deadline passes.
pub fn eventually<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
