//! Which upgrade the checks judge: the plan's (from, to) revisions, or, without a plan, the
//! oldest revision that still injects sidecars to the newest control plane installed.
//!
//! A revision's version is its istiod's image tag; a revision not installed yet (the plan's
//! new one) or one served from another cluster (a remote's injectors) is read from its name
//! (`1-25-0` -> 1.25.0).

use std::collections::BTreeMap;

use crate::mesh::version::Version;

use super::Target;
use super::inventory::Inventory;

/// Why no upgrade could be told from the cluster and the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoTarget {
    #[error(
        "no Istio control plane is installed (no istiod Deployment, no injector webhook): install the new revision first, or name from and to in a plan"
    )]
    NoControlPlane,
    #[error(
        "cannot tell the version of revision {0:?}: no istiod runs it and its name is not a version such as 1-25-0"
    )]
    UnknownVersion(String),
}

impl Target {
    /// The upgrade from the plan's `(from, to)` revisions when given, else derived from what
    /// is installed (see `derived_revisions`).
    pub fn from_inventory(
        inventory: &Inventory,
        plan: Option<(&str, &str)>,
    ) -> Result<Target, NoTarget> {
        let versions = installed_versions(inventory);
        let (from, to) = match plan {
            Some((from, to)) => (from.to_string(), to.to_string()),
            None => derived_revisions(inventory)?,
        };
        let version = |rev: &str| {
            versions
                .get(rev)
                .copied()
                .or_else(|| Version::parse(rev))
                .ok_or_else(|| NoTarget::UnknownVersion(rev.to_string()))
        };
        Ok(Target {
            from: version(&from)?,
            to: version(&to)?,
            new_revision: to,
        })
    }
}

/// Without a plan: from the oldest revision that still has sidecars (the pods' revisions)
/// to the newest one installed. With one revision installed the upgrade is judged against
/// itself (both ends the same); without any sidecar the oldest installed one is the start.
pub fn derived_revisions(inventory: &Inventory) -> Result<(String, String), NoTarget> {
    let versions = installed_versions(inventory);
    let newest = versions
        .iter()
        .max_by_key(|(rev, v)| (**v, (*rev).clone()))
        .map(|(rev, _)| rev.clone())
        .ok_or(NoTarget::NoControlPlane)?;
    let version_of = |rev: &String| versions.get(rev).copied().or_else(|| Version::parse(rev));
    let oldest_with_sidecars = inventory
        .pods
        .values()
        .filter_map(|p| p.revision.as_ref())
        .filter_map(|rev| Some((version_of(rev)?, rev)))
        .min()
        .map(|(_, rev)| rev.clone());
    let from = match oldest_with_sidecars {
        Some(rev) => rev,
        None => versions
            .iter()
            .min_by_key(|(rev, v)| (**v, (*rev).clone()))
            .map_or_else(|| newest.clone(), |(rev, _)| rev.clone()),
    };
    Ok((from, newest))
}

/// Every installed revision with its version: istiods by their image, then the revisions
/// injector webhooks serve (tags excluded) by their names.
fn installed_versions(inventory: &Inventory) -> BTreeMap<String, Version> {
    let mut versions = BTreeMap::new();
    for istiod in inventory.istiods.values() {
        if let Some(v) = istiod.version.or_else(|| Version::parse(&istiod.revision)) {
            versions.insert(istiod.revision.clone(), v);
        }
    }
    for injector in inventory.injectors.values() {
        if injector.tag.is_some() || versions.contains_key(&injector.revision) {
            continue;
        }
        if let Some(v) = Version::parse(&injector.revision) {
            versions.insert(injector.revision.clone(), v);
        }
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precheck::inventory::listed;
    use crate::precheck::testing::{injector, istiod, pod, v};

    fn inventory(
        istiods: &[(&str, &str)],
        injectors: &[(&str, &str, Option<&str>)],
        pods: &[(&str, &str)],
    ) -> Inventory {
        Inventory {
            istiods: listed(istiods.iter().map(|(rev, ver)| istiod(rev, ver))),
            injectors: listed(
                injectors
                    .iter()
                    .map(|(name, rev, tag)| injector(name, rev, *tag)),
            ),
            pods: listed(
                pods.iter()
                    .enumerate()
                    .map(|(i, (rev, ver))| pod("app", &format!("p{i}"), Some(rev), Some(ver))),
            ),
            ..Inventory::default()
        }
    }

    #[test]
    fn a_plan_names_the_revisions_and_the_istiods_their_versions() {
        let inv = inventory(
            &[("stable", "1.24.3"), ("canary", "1.25.1")],
            &[],
            &[("stable", "1.24.3")],
        );
        let target = Target::from_inventory(&inv, Some(("stable", "canary"))).unwrap();
        assert_eq!(
            target,
            Target {
                from: v("1.24.3"),
                to: v("1.25.1"),
                new_revision: "canary".into()
            }
        );
    }

    #[test]
    fn a_new_revision_not_installed_yet_is_read_from_its_name() {
        let inv = inventory(&[("1-24-0", "1.24.0")], &[], &[]);
        let target = Target::from_inventory(&inv, Some(("1-24-0", "1-26-1"))).unwrap();
        assert_eq!((target.from, target.to), (v("1.24.0"), v("1.26.1")));
        assert_eq!(target.new_revision, "1-26-1");
        let err = Target::from_inventory(&inv, Some(("1-24-0", "canary"))).unwrap_err();
        assert_eq!(err, NoTarget::UnknownVersion("canary".into()));
        assert!(err.to_string().contains("\"canary\""), "{err}");
    }

    #[test]
    fn without_a_plan_the_oldest_sidecars_move_to_the_newest_istiod() {
        let inv = inventory(
            &[
                ("1-23-2", "1.23.2"),
                ("1-24-0", "1.24.0"),
                ("1-25-0", "1.25.0"),
            ],
            &[("istio-revision-tag-default", "1-24-0", Some("default"))],
            // Nothing runs on 1-23-2 any more: it is not where the upgrade starts.
            &[("1-25-0", "1.25.0"), ("1-24-0", "1.24.0")],
        );
        let target = Target::from_inventory(&inv, None).unwrap();
        assert_eq!(
            target,
            Target {
                from: v("1.24.0"),
                to: v("1.25.0"),
                new_revision: "1-25-0".into()
            }
        );
    }

    #[test]
    fn one_revision_is_judged_against_itself() {
        let inv = inventory(&[("1-25-0", "1.25.0")], &[], &[("1-25-0", "1.25.0")]);
        let target = Target::from_inventory(&inv, None).unwrap();
        assert_eq!((target.from, target.to), (v("1.25.0"), v("1.25.0")));
        // No sidecar anywhere: the oldest installed revision is the start.
        let inv = inventory(&[("1-24-0", "1.24.0"), ("1-25-0", "1.25.0")], &[], &[]);
        let target = Target::from_inventory(&inv, None).unwrap();
        assert_eq!((target.from, target.to), (v("1.24.0"), v("1.25.0")));
    }

    #[test]
    fn a_remote_without_istiod_takes_the_revisions_its_injectors_serve() {
        let inv = inventory(
            &[],
            &[
                ("istio-sidecar-injector-1-24-0", "1-24-0", None),
                ("istio-sidecar-injector-1-25-0", "1-25-0", None),
                ("istio-revision-tag-default", "1-24-0", Some("default")),
            ],
            &[("1-24-0", "1.24.0")],
        );
        let target = Target::from_inventory(&inv, None).unwrap();
        assert_eq!((target.from, target.to), (v("1.24.0"), v("1.25.0")));
    }

    #[test]
    fn no_control_plane_is_no_target() {
        let inv = inventory(&[], &[], &[("1-24-0", "1.24.0")]);
        assert_eq!(
            Target::from_inventory(&inv, None),
            Err(NoTarget::NoControlPlane)
        );
    }
}
