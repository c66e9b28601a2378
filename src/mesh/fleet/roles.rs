//! Who is a primary and who a remote, and the control plane that serves each member: its own
//! istiod, or for a remote without one, the primary's.

use std::collections::BTreeMap;

use super::{Member, Role, ServedBy};
use crate::mesh::cluster::Cluster;
use crate::mesh::revisions::{Mesh, own_istiod_pods};
use crate::mesh::version::{Skew, Version, skew};

/// The member's role: as given, else a primary when it runs istiod pods of its own.
pub(super) fn role(member: &Member<'_>) -> Role {
    member.role.unwrap_or(if runs_istiod(member.cluster) {
        Role::Primary
    } else {
        Role::Remote
    })
}

pub(super) fn runs_istiod(cluster: &Cluster) -> bool {
    !cluster.pod_tally.istiod.is_empty()
}

/// The fleet's primary: the first primary in member order.
pub(super) fn primary(members: &[Member<'_>]) -> Option<usize> {
    members.iter().position(|m| role(m) == Role::Primary)
}

/// For member `i`, a remote without istiod of its own: the primary's istiod pods, which
/// serve its sidecars. None for a primary, a remote with its own istiod, or without primary.
pub fn served_by(members: &[Member<'_>], i: usize) -> Option<ServedBy> {
    let member = members.get(i)?;
    if role(member) != Role::Remote || runs_istiod(member.cluster) {
        return None;
    }
    let primary = members.get(primary(members)?)?;
    Some(ServedBy {
        cluster: primary.name.to_string(),
        istiods: own_istiod_pods(primary.cluster).cloned().collect(),
    })
}

/// The versions of the revisions that serve `cluster`'s proxies: its own istiods', or, for a
/// cluster without, those of `serving` (the primary).
pub(super) fn control_versions(
    cluster: &Cluster,
    serving: Option<&Cluster>,
) -> BTreeMap<String, Version> {
    let mut versions = Mesh::injectors(cluster).versions;
    if !runs_istiod(cluster)
        && let Some(serving) = serving
    {
        versions.extend(Mesh::injectors(serving).versions);
    }
    versions
}

/// Proxies whose serving control plane does not support them, counted from the tallies,
/// with the first one found as an example: (proxy, control plane, what is wrong).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Skewed {
    pub pods: usize,
    pub example: Option<(Version, Version, Skew)>,
}

pub(super) fn skewed(cluster: &Cluster, versions: &BTreeMap<String, Version>) -> Skewed {
    let mut found = Skewed::default();
    let injected = cluster
        .pod_tally
        .namespaces
        .values()
        .flat_map(crate::mesh::tally::NamespaceTally::injected);
    for (revision, proxy, count) in injected {
        let (Some(revision), Some(proxy)) = (revision, proxy) else {
            continue;
        };
        let Some(control) = versions.get(revision) else {
            continue;
        };
        let s = skew(*control, proxy);
        if s.is_violation() {
            found.pods += count.pods;
            found.example.get_or_insert((proxy, *control, s));
        }
    }
    found
}
