//! Looking up many names at once in a map keyed by name: when the names are sorted, one walk
//! of both answers them all, where a search per name compares strings a dozen times each. The
//! gates look up every namespace of a wave (up to thousands) this way on every frame.

use std::collections::BTreeMap;

/// The value of each of `names` in `map`, in the order of `names`.
pub fn lookup<'a, V>(names: &[String], map: &'a BTreeMap<String, V>) -> Vec<Option<&'a V>> {
    if !names.is_sorted() {
        return names.iter().map(|n| map.get(n)).collect();
    }
    let mut entries = map.iter().peekable();
    names
        .iter()
        .map(|name| {
            while entries.next_if(|(key, _)| *key < name).is_some() {}
            entries
                .peek()
                .filter(|(key, _)| *key == name)
                .map(|(_, value)| *value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn answers_as_a_lookup_per_name_would() {
        let map: BTreeMap<String, usize> = ["b", "d", "e", "g"]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), i))
            .collect();
        for list in [
            names(&["a", "b", "c", "d", "g", "h"]),
            names(&["d", "d", "e"]),
            names(&[]),
            names(&["z"]),
            names(&["g", "b", "x", "d"]),
        ] {
            let expected: Vec<Option<&usize>> = list.iter().map(|n| map.get(n)).collect();
            assert_eq!(lookup(&list, &map), expected, "{list:?}");
        }
    }
}
