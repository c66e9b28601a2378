//! The controllers' work queue: objects to reconcile, each at most once in the queue, in the
//! order they first became dirty.

use std::collections::{HashSet, VecDeque};

use crate::sim::store::Key;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Work {
    Deployment(Key),
    ReplicaSet(Key),
    DaemonSet(Key),
    DisruptionBudget(Key),
    Quota(Key),
}

#[derive(Debug, Default)]
pub struct WorkQueue {
    order: VecDeque<Work>,
    queued: HashSet<Work>,
}

impl WorkQueue {
    pub fn push(&mut self, work: Work) {
        if self.queued.insert(work.clone()) {
            self.order.push_back(work);
        }
    }

    pub fn pop(&mut self) -> Option<Work> {
        let work = self.order.pop_front()?;
        self.queued.remove(&work);
        Some(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        ("ns".to_string(), name.to_string())
    }

    #[test]
    fn duplicates_collapse_and_order_is_kept() {
        let mut q = WorkQueue::default();
        q.push(Work::Deployment(key("a")));
        q.push(Work::ReplicaSet(key("a")));
        q.push(Work::Deployment(key("a")));
        assert_eq!(q.pop(), Some(Work::Deployment(key("a"))));
        // Once taken it may be queued again.
        q.push(Work::Deployment(key("a")));
        assert_eq!(q.pop(), Some(Work::ReplicaSet(key("a"))));
        assert_eq!(q.pop(), Some(Work::Deployment(key("a"))));
        assert_eq!(q.pop(), None);
    }
}
