//! Istio's published Kubernetes support matrix, kept as data.
//!
//! Source: "Supported Releases", section "Support status of Istio releases", column
//! "Supported Kubernetes Versions", https://istio.io/latest/docs/releases/supported-releases/
//! (the page renders `data/compatibility/supportStatus.yml` of the istio.io repository).
//! Add a row when a new Istio minor is released.

/// Istio 1.<minor> -> the oldest and newest Kubernetes 1.<minor> it supports.
const MATRIX: &[(u16, u16, u16)] = &[
    (18, 24, 27),
    (19, 25, 28),
    (20, 25, 29),
    (21, 26, 29),
    (22, 27, 30),
    (23, 27, 30),
    (24, 28, 31),
    (25, 29, 32),
    (26, 29, 33),
    (27, 29, 33),
    (28, 30, 34),
    (29, 31, 35),
    (30, 32, 36),
];

/// The Kubernetes minors (both ends included) Istio `major.minor` supports, if the matrix
/// knows that release.
pub fn kubernetes_range(istio_major: u16, istio_minor: u16) -> Option<(u16, u16)> {
    if istio_major != 1 {
        return None;
    }
    MATRIX
        .iter()
        .find(|(minor, _, _)| *minor == istio_minor)
        .map(|(_, min, max)| (*min, *max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_answers_known_releases_only() {
        assert_eq!(kubernetes_range(1, 25), Some((29, 32)));
        assert_eq!(kubernetes_range(1, 24), Some((28, 31)));
        assert_eq!(kubernetes_range(1, 5), None);
        assert_eq!(kubernetes_range(2, 25), None);
        // Every row is a range, newer releases never move backwards.
        for pair in MATRIX.windows(2) {
            assert!(pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1 && pair[0].2 <= pair[1].2);
        }
        assert!(MATRIX.iter().all(|(_, min, max)| min <= max));
    }
}
