//! The kubeconfig the simulator writes: `sim-admin` (current, may do everything) and
//! `sim-viewer` (get/list/watch only).

use std::io::Write;
use std::path::Path;

pub fn render(server: &str, ca_pem: &str, admin_token: &str, viewer_token: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem.as_bytes());
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: istio-cockpit-sim
  cluster:
    server: {server}
    certificate-authority-data: {ca}
contexts:
- name: sim-admin
  context:
    cluster: istio-cockpit-sim
    user: sim-admin
    namespace: default
- name: sim-viewer
  context:
    cluster: istio-cockpit-sim
    user: sim-viewer
    namespace: default
current-context: sim-admin
preferences: {{}}
users:
- name: sim-admin
  user:
    token: {admin_token}
- name: sim-viewer
  user:
    token: {viewer_token}
"
    )
}

/// Writes `contents` to `path` readable by the owner only, replacing it atomically.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("kubeconfig"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
