//! The namespaces filter by state, in the real cockpit on the default simulator: `/state:skew`
//! leaves only the namespace whose proxy runs two minors behind, and `Esc` brings back the rest.

use crate::common::Sim;
use crate::common::cockpit_term::*;
use crate::common::journal::journal_file;

#[test]
fn a_state_filter_leaves_only_the_namespaces_in_that_state() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let term = open_driver(&sim, &journal_file(&dir, "driver"));
    term.keys(&["/"]);
    let chars: Vec<String> = "state:skew".chars().map(String::from).collect();
    term.keys(&chars.iter().map(String::as_str).collect::<Vec<_>>());
    term.keys(&["Enter"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("Pods search ·"));
    assert!(ok, "search alone was not left and selected:\n{screen}");
    assert!(namespace_row(&screen, "search").is_some(), "{screen}");
    for other in ["checkout", "staging-web", "notifications"] {
        assert!(
            namespace_row(&screen, other).is_none(),
            "{other} stays:\n{screen}"
        );
    }
    term.keys(&["Escape"]);
    let (ok, screen) = term.wait_for(SHORT, |s| namespace_row(s, "checkout").is_some());
    assert!(ok, "Esc did not bring the other namespaces back:\n{screen}");
}
