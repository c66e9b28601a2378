//! Generated names: Kubernetes' five-character suffixes and pod-template hashes.

use serde_json::Value;

/// Kubernetes' alphabet for generated names: no vowels, no look-alike characters.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn encode(mut h: u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h = mix(h.wrapping_add(0x9e37_79b9_7f4a_7c15));
            c
        })
        .collect()
}

/// A five-character suffix for `generateName`, distinct for each sequence number in practice.
pub fn suffix(seq: u64) -> String {
    encode(mix(seq.wrapping_add(0x5bd1_e995)), 5)
}

/// The `pod-template-hash` of a pod template: stable for equal templates.
pub fn template_hash(template: &Value) -> String {
    let text = template.to_string();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    encode(mix(h), 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hashes_are_stable_and_sensitive() {
        let a = json!({"metadata": {"annotations": {"x": "1"}}});
        let b = json!({"metadata": {"annotations": {"x": "2"}}});
        assert_eq!(template_hash(&a), template_hash(&a.clone()));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }

    #[test]
    fn suffixes_do_not_repeat_over_many_sequence_numbers() {
        let set: std::collections::HashSet<String> = (0..20_000).map(suffix).collect();
        assert!(set.len() > 19_900, "{}", set.len());
    }
}
