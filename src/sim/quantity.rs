//! Resource quantities (`250m`, `1.5`, `512Mi`, `2G`) as whole millicores and bytes, and back
//! in the form the API server prints them, for the quota controller's sums.

/// `250m` -> 250, `2` -> 2000, `1.5` -> 1500; None for what is not a quantity.
pub fn cpu_millis(q: &str) -> Option<u64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse().ok();
    }
    let n: f64 = q.parse().ok()?;
    (n >= 0.0).then(|| (n * 1000.0).round() as u64)
}

const SUFFIXES: [(&str, u64); 8] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

/// `512Mi` -> 536870912, `1G` -> 1000000000, `1024` -> 1024.
pub fn bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    for (suffix, unit) in SUFFIXES {
        if let Some(n) = q.strip_suffix(suffix) {
            let n: f64 = n.parse().ok()?;
            return (n >= 0.0).then(|| (n * unit as f64).round() as u64);
        }
    }
    q.parse().ok()
}

/// 4000 -> `4`, 3600 -> `3600m`.
pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// The largest binary unit that divides the amount: 12 GiB -> `12Gi`, 1.5 GiB -> `1536Mi`.
pub fn format_bytes(amount: u64) -> String {
    for (suffix, unit) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if amount > 0 && amount.is_multiple_of(unit) {
            return format!("{}{suffix}", amount / unit);
        }
    }
    amount.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_and_print_like_the_api() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("two"), None);
        assert_eq!(bytes("512Mi"), Some(512 << 20));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1024"), Some(1024));
        assert_eq!(format_cpu(4000), "4");
        assert_eq!(format_cpu(3600), "3600m");
        assert_eq!(format_bytes(12 << 30), "12Gi");
        assert_eq!(format_bytes(1536 << 20), "1536Mi");
        assert_eq!(format_bytes(0), "0");
    }
}
