//! The rules across a plan's `[[clusters]]`: each names its context, no context or name
//! twice (a cluster without a name shows as its context), and roles all or none, with a
//! primary among them. Each error points at the value to fix, in the order of the file.

use crate::mesh::fleet::Role;
use crate::plan::model::FleetCluster;

use super::PlanError;
use super::errors::Doc;
use super::values::{ClusterName, Clusters, ContextName};

/// The fleet the tables name, in their order.
pub(super) fn clusters(clusters: Clusters, doc: &Doc<'_>) -> Result<Vec<FleetCluster>, PlanError> {
    // The first entry that sets a role, and where: then every entry must.
    let first_role = clusters.0.iter().enumerate().find_map(|(i, table)| {
        let role = table.get_ref().0.role.as_ref()?;
        Some((i, role.span()))
    });
    let mut out: Vec<FleetCluster> = Vec::new();
    for (i, table) in clusters.0.into_iter().enumerate() {
        let prefix = format!("clusters[{i}]");
        let header = table.span();
        let entry = table.into_inner().0;
        let Some(context) = entry.context else {
            let message = "every cluster needs its kubeconfig context, e.g. context = \"prod-eu\"";
            return Err(doc.error(header, &format!("{prefix}.context"), message));
        };
        let context_span = context.span();
        let ContextName(context) = context.into_inner();
        if let Some(j) = out.iter().position(|c| c.context == context) {
            let message = format!("`{context}` is already the context of clusters[{j}]");
            return Err(doc.error(context_span, &format!("{prefix}.context"), message));
        }
        let name = entry.name.map(|n| (n.span(), n.into_inner()));
        let shown = name
            .as_ref()
            .map_or(context.as_str(), |(_, ClusterName(n))| n.as_str());
        if let Some(j) = out.iter().position(|c| shown_as(c) == shown) {
            let (span, field) = match &name {
                Some((span, _)) => (span.clone(), "name"),
                None => (context_span.clone(), "context"),
            };
            let message = same_name(j, shown, out[j].name.is_some(), name.is_some());
            return Err(doc.error(span, &format!("{prefix}.{field}"), message));
        }
        let role = entry.role.map(|r| r.into_inner().0);
        if let (Some((j, _)), None) = (&first_role, role) {
            let message = format!(
                "clusters[{j}] sets a role, so every cluster needs one: \
                 role = \"primary\" or \"remote\""
            );
            return Err(doc.error(header, &format!("{prefix}.role"), message));
        }
        out.push(FleetCluster {
            context,
            role,
            name: name.map(|(_, ClusterName(n))| n),
            prometheus: entry.prometheus.map(|p| p.0),
        });
    }
    if let Some((j, span)) = first_role
        && !out.iter().any(|c| c.role == Some(Role::Primary))
    {
        let message = "no cluster is the primary: the fleet is upgraded primary first, \
                       so at least one needs role = \"primary\"";
        return Err(doc.error(span, &format!("clusters[{j}].role"), message));
    }
    Ok(out)
}

/// How a cluster shows on screen: its name, else its context.
fn shown_as(cluster: &FleetCluster) -> &str {
    cluster.name.as_deref().unwrap_or(&cluster.context)
}

/// Two clusters would show under one name: which of the two to rename, in words.
fn same_name(earlier: usize, shown: &str, earlier_named: bool, this_named: bool) -> String {
    match (earlier_named, this_named) {
        (true, true) => format!("clusters[{earlier}] is already named `{shown}`"),
        (false, _) => format!(
            "clusters[{earlier}] already shows as `{shown}`, its context: choose another name"
        ),
        (true, false) => format!(
            "clusters[{earlier}] is already named `{shown}`, and this cluster would show \
             as its context: give it a `name`"
        ),
    }
}
