//! A watched collection: applies watcher events, and during a relist keeps showing the old
//! objects until the new list is complete, so the screen never flashes empty.

use std::collections::BTreeMap;

/// A watcher's stream, as kube-rs' watcher reports it: a (re)list is `Init`, its objects, then
/// `InitDone`, after which `Apply`/`Delete` follow live.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch<T> {
    Init,
    InitApply(T),
    InitDone,
    Apply(T),
    Delete(T),
}

#[derive(Debug, Clone)]
pub struct Collection<K: Ord, T> {
    items: BTreeMap<K, T>,
    pending: Option<BTreeMap<K, T>>,
    /// True once a first complete list has arrived.
    pub synced: bool,
    /// Counts the changes to the visible contents, so derived data can tell it is stale.
    generation: u64,
}

impl<K: Ord, T> Default for Collection<K, T> {
    fn default() -> Self {
        Collection {
            items: BTreeMap::new(),
            pending: None,
            synced: false,
            generation: 0,
        }
    }
}

impl<K: Ord + Clone, T> Collection<K, T> {
    /// Applies one watcher event. Returns true when the visible contents changed.
    pub fn apply(&mut self, event: Watch<T>, key: impl Fn(&T) -> K) -> bool {
        let changed = self.change(event, key);
        if changed {
            self.generation += 1;
        }
        changed
    }

    fn change(&mut self, event: Watch<T>, key: impl Fn(&T) -> K) -> bool {
        match event {
            Watch::Init => {
                self.pending = Some(BTreeMap::new());
                false
            }
            Watch::InitApply(item) => {
                match &mut self.pending {
                    Some(p) => {
                        p.insert(key(&item), item);
                    }
                    // An InitApply without Init: treat the list as starting now.
                    None => {
                        let mut p = BTreeMap::new();
                        p.insert(key(&item), item);
                        self.pending = Some(p);
                    }
                }
                false
            }
            Watch::InitDone => {
                if let Some(p) = self.pending.take() {
                    self.items = p;
                }
                self.synced = true;
                true
            }
            Watch::Apply(item) => {
                self.items.insert(key(&item), item);
                true
            }
            Watch::Delete(item) => self.items.remove(&key(&item)).is_some(),
        }
    }

    /// Different after every change of the visible contents.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&self, key: &K) -> Option<&T> {
        self.items.get(key)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.values()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn range<R: std::ops::RangeBounds<K>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = &T> {
        self.items.range(range).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relist_replaces_the_contents_only_when_complete() {
        let mut c: Collection<u32, u32> = Collection::default();
        let id = |v: &u32| *v;
        for e in [
            Watch::Init,
            Watch::InitApply(1),
            Watch::InitApply(2),
            Watch::InitDone,
        ] {
            c.apply(e, id);
        }
        assert_eq!(c.len(), 2);
        assert!(c.synced);
        c.apply(Watch::Init, id);
        c.apply(Watch::InitApply(3), id);
        assert_eq!(
            c.values().copied().collect::<Vec<_>>(),
            [1, 2],
            "old list stays until done"
        );
        c.apply(Watch::InitDone, id);
        assert_eq!(c.values().copied().collect::<Vec<_>>(), [3]);
        assert!(c.apply(Watch::Apply(4), id));
        assert!(c.apply(Watch::Delete(3), id));
        let before = c.generation();
        assert!(!c.apply(Watch::Delete(3), id));
        assert_eq!(c.generation(), before, "nothing changed");
        assert_eq!(c.values().copied().collect::<Vec<_>>(), [4]);
    }
}
