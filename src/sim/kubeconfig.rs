//! The kubeconfig the simulator writes: `sim-admin` (current, may do everything) and
//! `sim-viewer` (get/list/watch only). A fleet's has, per cluster, an admin context named
//! after the cluster and a `<name>-viewer` one, with `primary` current.

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

/// One cluster of a fleet, as its kubeconfig entries need it.
pub struct Entry<'a> {
    pub name: &'a str,
    pub server: &'a str,
    pub ca_pem: &'a str,
    pub admin_token: &'a str,
    pub viewer_token: &'a str,
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// The fleet's kubeconfig; the first entry's admin context is the current one.
pub fn render_fleet(entries: &[Entry<'_>]) -> String {
    let mut clusters = String::new();
    let mut contexts = String::new();
    let mut users = String::new();
    for e in entries {
        let name = e.name;
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n",
            e.server,
            base64(e.ca_pem)
        ));
        for (context, user) in [
            (name.to_string(), format!("{name}-admin")),
            (format!("{name}-viewer"), format!("{name}-viewer")),
        ] {
            contexts.push_str(&format!(
                "- name: {context}\n  context:\n    cluster: {name}\n    user: {user}\n    namespace: default\n"
            ));
        }
        users.push_str(&format!(
            "- name: {name}-admin\n  user:\n    token: {}\n- name: {name}-viewer\n  user:\n    token: {}\n",
            e.admin_token, e.viewer_token
        ));
    }
    let current = entries.first().map_or("", |e| e.name);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{contexts}current-context: {current}\npreferences: {{}}\nusers:\n{users}"
    )
}

/// A kubeconfig with one context, as a remote secret carries it.
pub fn render_one(name: &str, server: &str, ca_pem: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\ncurrent-context: {name}\npreferences: {{}}\nusers:\n- name: {name}\n  user:\n    token: {token}\n",
        ca = base64(ca_pem)
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
