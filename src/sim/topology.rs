//! How the clusters of a simulated fleet share their control planes.

/// `PrimaryRemote`: only the first cluster runs istiod, and it serves every cluster's
/// proxies. `MultiPrimary`: every cluster runs its own istiod for its own proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Topology {
    #[default]
    PrimaryRemote,
    MultiPrimary,
}
