//! Resource quantities as the API writes them (`250m`, `1.5`, `128Mi`, `2G`), read into the
//! units the cockpit counts in: millicores and MiB.

/// `250m` -> 250, `2` -> 2000.
pub fn cpu_millis(q: &str) -> u32 {
    match q.strip_suffix('m') {
        Some(m) => m.parse().unwrap_or(0),
        None => q.parse::<f64>().map_or(0, |c| (c * 1000.0) as u32),
    }
}

/// `128Mi` -> 128, `2Gi` -> 2048, `500M` -> 476.
pub fn memory_mib(q: &str) -> u32 {
    const UNITS: [(&str, f64); 6] = [
        ("Ki", 1.0 / 1024.0),
        ("Mi", 1.0),
        ("Gi", 1024.0),
        ("K", 1000.0 / 1_048_576.0),
        ("M", 1_000_000.0 / 1_048_576.0),
        ("G", 1_000_000_000.0 / 1_048_576.0),
    ];
    for (suffix, factor) in UNITS {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().map_or(0, |n| (n * factor) as u32);
        }
    }
    q.parse::<f64>()
        .map_or(0, |bytes| (bytes / 1_048_576.0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_convert() {
        assert_eq!(cpu_millis("250m"), 250);
        assert_eq!(cpu_millis("1.5"), 1500);
        assert_eq!(memory_mib("2Gi"), 2048);
        assert_eq!(memory_mib("1048576"), 1);
        assert_eq!(memory_mib("500M"), 476);
    }
}
