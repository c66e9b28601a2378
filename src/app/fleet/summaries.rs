//! Each cluster's row of the fleet pane, computed when its cluster (or the one serving it)
//! changed rather than on every frame: a summary walks the cluster's namespaces and istiod
//! pods, and the pane draws a row per cluster a few times a second.

use std::borrow::Cow;

use super::{Fleet, Member};
use crate::mesh::Cluster;
use crate::mesh::fleet::{ClusterSummary, summary};

/// A summary and the generations of the two clusters it was computed from.
#[derive(Debug, Clone, Default)]
pub struct CachedSummary {
    key: (u64, u64),
    summary: ClusterSummary,
}

impl Fleet {
    /// The cluster whose istiod serves `member`'s proxies: its primary, or itself.
    pub fn serving<'a>(&'a self, member: &'a Member) -> &'a Cluster {
        member
            .state
            .cluster
            .served_by
            .as_ref()
            .and_then(|s| self.members.iter().find(|m| m.name == s.cluster))
            .map_or(&member.state.cluster, |m| &m.state.cluster)
    }

    fn summary_key(&self, member: &Member) -> (u64, u64) {
        (
            member.state.cluster.generation(),
            self.serving(member).generation(),
        )
    }

    /// Cluster `i`'s summary: the one kept when still current, else computed now.
    pub fn summary(&self, i: usize) -> Cow<'_, ClusterSummary> {
        let member = &self.members[i.min(self.members.len() - 1)];
        let key = self.summary_key(member);
        match self.summaries.get(i) {
            Some(cached) if cached.key == key => Cow::Borrowed(&cached.summary),
            _ => Cow::Owned(summary(&member.state.cluster, self.serving(member))),
        }
    }

    /// Recomputes the summaries whose clusters changed.
    pub(super) fn refresh_summaries(&mut self) {
        let wanted: Vec<(u64, u64)> = self.members.iter().map(|m| self.summary_key(m)).collect();
        self.summaries
            .resize_with(self.members.len(), Default::default);
        for (i, key) in wanted.into_iter().enumerate() {
            if self.summaries[i].key == key && key != (0, 0) {
                continue;
            }
            let member = &self.members[i];
            let summary = summary(&member.state.cluster, self.serving(member));
            self.summaries[i] = CachedSummary { key, summary };
        }
    }
}
