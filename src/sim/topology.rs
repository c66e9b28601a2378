//! How the simulated clusters of a fleet share a control plane, and what they are called.

/// The shape of a multi-cluster mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Topology {
    /// Only the first cluster runs istiod; the others' sidecars are served by it.
    #[default]
    PrimaryRemote,
    /// Every cluster runs its own istiod revisions.
    MultiPrimary,
}

/// The names of a fleet's clusters: `primary` first, then `remote-1`, `remote-2`, ...
/// The same in both topologies, so the first cluster is always the one that records the
/// fleet's phase.
pub fn cluster_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i {
            0 => PRIMARY.to_string(),
            _ => format!("remote-{i}"),
        })
        .collect()
}

/// The first cluster's name.
pub const PRIMARY: &str = "primary";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cluster_is_the_primary_and_the_rest_are_numbered_remotes() {
        assert_eq!(cluster_names(3), ["primary", "remote-1", "remote-2"]);
        assert_eq!(cluster_names(1), ["primary"]);
        assert!(cluster_names(0).is_empty());
    }
}
