//! The filters' text tests, without building strings: a filter is checked against every
//! namespace or log line on every frame, so formatting `key=value` or lowercasing each line
//! would cost an allocation per row.

/// True when `needle` occurs in the text `key=value`.
pub fn pair_contains(key: &str, value: &str, needle: &str) -> bool {
    if key.contains(needle) || value.contains(needle) {
        return true;
    }
    // Otherwise an occurrence must cover the `=`: what precedes it in the needle ends the key,
    // and what follows starts the value.
    needle
        .match_indices('=')
        .any(|(i, _)| key.ends_with(&needle[..i]) && value.starts_with(&needle[i + 1..]))
}

/// True when `lower`, already lowercase, occurs in `text` lowercased.
pub fn contains_lowercase(text: &str, lower: &str) -> bool {
    if lower.is_empty() {
        return true;
    }
    if !text.is_ascii() {
        return text.to_lowercase().contains(lower);
    }
    let (text, lower) = (text.as_bytes(), lower.as_bytes());
    text.windows(lower.len()).any(|w| {
        w.iter()
            .zip(lower)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_matches_exactly_what_its_formatted_text_contains() {
        let pairs = [
            ("tier", "staging"),
            ("istio.io/rev", "1-25-0"),
            ("a", ""),
            ("", "b"),
            ("x=y", "z=w"),
        ];
        let needles = [
            "",
            "=",
            "tier",
            "r=s",
            "tier=staging",
            "ier=st",
            "=staging",
            "tier=",
            "rev=1-2",
            "rev=1-25-0x",
            "g=",
            "a=",
            "=b",
            "x=y=z",
            "y=z=w",
            "=w",
            "q",
            "staging=",
        ];
        for (k, v) in pairs {
            for needle in needles {
                assert_eq!(
                    pair_contains(k, v, needle),
                    format!("{k}={v}").contains(needle),
                    "{k}={v} against {needle:?}"
                );
            }
        }
    }

    #[test]
    fn lowercase_search_agrees_with_lowercasing_the_text() {
        let texts = [
            "ADS: LDS: ACK ERROR",
            "Push debounce stable",
            "ÉCHEC de la mise à jour",
            "",
            "nack",
        ];
        let needles = [
            "",
            "ack",
            "ack error",
            "push",
            "échec",
            "stable!",
            "nack",
            "k",
        ];
        for text in texts {
            for needle in needles {
                assert_eq!(
                    contains_lowercase(text, needle),
                    text.to_lowercase().contains(needle),
                    "{text:?} against {needle:?}"
                );
            }
        }
    }
}
