//! A panic on request, in debug builds only, so the end-to-end tests can show that a panic in
//! any task restores the terminal, hands the lease back and ends the process. Release builds
//! ignore the variable: nothing in them can be made to panic from outside.

/// The variable naming the task that panics: `executor` (at its first command) or
/// `lease-keeper` (at its first renewal).
pub const VARIABLE: &str = "ISTIO_COCKPIT_TEST_PANIC";

/// Panics when `VARIABLE` names `task`, in a debug build.
pub fn if_asked(task: &str) {
    if cfg!(debug_assertions) && std::env::var(VARIABLE).is_ok_and(|asked| asked == task) {
        panic!("deliberate panic in the {task} task ({VARIABLE})");
    }
}
