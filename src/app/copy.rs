//! What `y` and `Y` copy from the focused pane: the selected row's name, or the kubectl
//! command that shows the same object. The loop hands the text to the terminal (OSC 52).

use super::state::{BottomPane, Pane, State};
use super::view;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// `y`: the namespace, pod, revision, or the pod a NACK line names.
    Name,
    /// `Y`: `kubectl --context <ctx> ...` for that object.
    Command,
}

/// The text to copy, or None when the focused pane has nothing selected.
pub fn text(state: &State, what: What) -> Option<String> {
    let object = selected(state)?;
    Some(match what {
        What::Name => object.name().to_string(),
        What::Command => object.command(&state.session.context),
    })
}

/// The object the focused pane's selection stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Object {
    Namespace(String),
    Pod {
        namespace: String,
        name: String,
    },
    /// A revision's istiod pods, in the namespace they run in.
    Istiod {
        namespace: String,
        revision: String,
    },
    /// A revision without an istiod pod here (a remote): its injector.
    Injector {
        revision: String,
    },
    /// An istiod pod writing the log line.
    IstiodLogs {
        namespace: String,
        pod: String,
    },
}

impl Object {
    fn name(&self) -> &str {
        match self {
            Object::Namespace(name) | Object::Pod { name, .. } => name,
            Object::Istiod { revision, .. } | Object::Injector { revision } => revision,
            Object::IstiodLogs { pod, .. } => pod,
        }
    }

    fn command(&self, context: &str) -> String {
        let kubectl = format!("kubectl --context {}", quoted(context));
        match self {
            Object::Namespace(name) => format!("{kubectl} get namespace {name} -o yaml"),
            Object::Pod { namespace, name } => {
                format!("{kubectl} -n {namespace} get pod {name} -o yaml")
            }
            Object::Istiod {
                namespace,
                revision,
            } => format!("{kubectl} -n {namespace} get pods -l app=istiod,istio.io/rev={revision}"),
            Object::Injector { revision } => format!(
                "{kubectl} get mutatingwebhookconfigurations -l istio.io/rev={revision} -o yaml"
            ),
            Object::IstiodLogs { namespace, pod } => {
                format!("{kubectl} -n {namespace} logs {pod} -c discovery")
            }
        }
    }
}

fn selected(state: &State) -> Option<Object> {
    match state.ui.focus {
        Pane::Namespaces => state.ui.selected_namespace.clone().map(Object::Namespace),
        Pane::Pods => Some(Object::Pod {
            namespace: state.ui.selected_namespace.clone()?,
            name: state.ui.selected_pod.clone()?,
        }),
        Pane::ControlPlanes => {
            let revision = state
                .mesh()
                .revisions
                .get(state.ui.control_planes.selected)?
                .clone();
            let istiod = state
                .cluster
                .pods
                .values()
                .find(|p| p.istiod.as_ref().is_some_and(|(r, _)| *r == revision));
            Some(match istiod {
                Some(pod) => Object::Istiod {
                    namespace: pod.namespace.clone(),
                    revision,
                },
                None => Object::Injector { revision },
            })
        }
        Pane::Logs => match state.ui.bottom {
            BottomPane::IstiodLogs => istiod_line(state),
            BottomPane::Triage => state.triage.as_ref().map(|t| Object::Pod {
                namespace: t.request.namespace.clone(),
                name: t.request.pod.clone(),
            }),
            BottomPane::Journal | BottomPane::Metrics | BottomPane::Checks => None,
        },
    }
}

/// The selected istiod log line: the pod a NACK names, else the istiod pod that wrote it.
fn istiod_line(state: &State) -> Option<Object> {
    let entries = view::visible_logs(state);
    let entry = match state.ui.log_cursor {
        Some(seq) => entries.iter().find(|e| e.seq == seq),
        None => entries.last(),
    }?;
    if let Some(proxy) = entry.line.nack.as_ref().and_then(|n| n.proxy.as_ref()) {
        return Some(Object::Pod {
            namespace: proxy.namespace.clone(),
            name: proxy.pod.clone(),
        });
    }
    let namespace = state
        .cluster
        .pods
        .values()
        .find(|p| p.istiod.is_some() && p.name == entry.pod)?
        .namespace
        .clone();
    Some(Object::IstiodLogs {
        namespace,
        pod: entry.pod.clone(),
    })
}

/// A context name as a shell reads it: single-quoted when it holds anything but plain
/// name characters.
fn quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@=+".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
