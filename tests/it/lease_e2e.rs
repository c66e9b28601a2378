//! One driver per process, fenced writes, and clean ends on signals: the real cockpit in tmux
//! against the real simulator, the cluster checked with kubectl and the sim's request log.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::journal::*;
use crate::common::{Sim, eventually};

/// The cockpit process (not its shell) started with this journal file.
fn pid_of(journal: &Path) -> u32 {
    let marker = journal.display().to_string();
    let found = eventually(SHORT, || cockpit_pid(&marker));
    found.unwrap_or_else(|| panic!("no cockpit process with {marker}"))
}

fn send(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// The lease's holder identity, or None when there is no lease.
fn holder(sim: &Sim) -> Option<String> {
    let out = sim.kubectl_output(&[
        "get",
        "lease",
        "istio-cockpit-driver",
        "-n",
        "istio-system",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Requests the simulator logged that wrote to a path containing `path_part`.
fn writes_in(sim: &Sim, path_part: &str) -> Vec<String> {
    sim.writes()
        .into_iter()
        .filter(|l| l.contains(path_part))
        .collect()
}

#[test]
fn one_user_two_cockpits_on_one_host_one_drives_and_a_crashed_driver_is_replaced_at_once() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let (a_journal, b_journal, c_journal) = (
        journal_file(&dir, "a"),
        journal_file(&dir, "b"),
        journal_file(&dir, "c"),
    );
    let a = open_cockpit(&cockpit_line(&sim, "USER=ann", "sim-admin", &a_journal, ""));
    let (ok, screen) = wait_status(&a, SHORT, |s| s.contains("DRIVER"));
    assert!(ok, "the first cockpit does not drive:\n{screen}");
    let a_pid = pid_of(&a_journal);
    let a_holder = holder(&sim).expect("the driver holds a lease");
    let person = a_holder.split('#').next().unwrap().to_string();
    assert!(
        person.starts_with("ann@") && a_holder.contains(&format!("#{a_pid}-")),
        "the lease names user@host and the driver's process: {a_holder}"
    );

    // Same user, same host: the second cockpit follows, and shows only user@host.
    let b = open_cockpit(&cockpit_line(&sim, "USER=ann", "sim-admin", &b_journal, ""));
    let follows = format!("READ-ONLY · {person} drives");
    let (ok, screen) = wait_status(&b, SHORT, |s| s.contains(&follows));
    assert!(ok, "the second cockpit does not follow:\n{screen}");
    assert!(
        !screen.contains('#'),
        "the screen shows the process part:\n{screen}"
    );
    assert!(status_bar(&a.screen()).contains("DRIVER"));

    // The follower quits: the driver's lease stays, and the driver still drives.
    b.keys(&["q"]);
    let (ok, screen) = b.wait_for(SHORT, |s| s.contains("EXITED=0"));
    assert!(ok, "the follower did not quit:\n{screen}");
    assert_eq!(holder(&sim).as_deref(), Some(a_holder.as_str()));
    assert!(status_bar(&a.screen()).contains("DRIVER"));

    // The driver is killed: a new cockpit on this host sees its pid gone and drives at once,
    // well before the 30 s lease could expire.
    send("KILL", a_pid);
    let killed = Instant::now();
    let c = open_cockpit(&cockpit_line(&sim, "USER=ann", "sim-admin", &c_journal, ""));
    let (ok, screen) = wait_status(&c, SHORT, |s| s.contains("DRIVER"));
    assert!(ok, "the new cockpit does not drive:\n{screen}");
    assert!(
        killed.elapsed() < Duration::from_secs(25),
        "took {:?}: it waited for the lease to expire",
        killed.elapsed()
    );
    let c_pid = pid_of(&c_journal);
    let c_holder = holder(&sim).expect("lease");
    assert!(c_holder.contains(&format!("#{c_pid}-")), "{c_holder}");
    let takeover = journal_entries(&c_journal)
        .into_iter()
        .find(|e| e["action"] == "take-over")
        .expect("the takeover is journalled");
    let why = takeover["why"].as_str().unwrap_or_default();
    assert!(
        why.contains(&format!("pid {a_pid}")) && why.contains("gone"),
        "the journal says why: {takeover}"
    );
    assert_eq!(takeover["result"], "ok");
    // The journal names the user the API server knows.
    assert_eq!(takeover["who"], "sim-admin", "{takeover}");
    c.keys(&["q"]);
}

#[test]
fn a_preview_confirmed_after_a_takeover_writes_nothing() {
    let sim = Sim::start_logging(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let before = labels_text(&sim, "payments");

    let a = open_cockpit(&cockpit_line(
        &sim,
        "USER=ann",
        "sim-admin",
        &journal_file(&dir, "a"),
        "",
    ));
    let (ok, screen) = wait_status(&a, SHORT, |s| s.contains("DRIVER"));
    assert!(ok, "{screen}");
    select_namespace(&a, "payments");
    open_dialog(&a, "m", "Migrate payments to 1-25-0?");

    let b = open_cockpit(&cockpit_line(
        &sim,
        "USER=bob",
        "sim-admin",
        &journal_file(&dir, "b"),
        "",
    ));
    open_dialog(&b, "D", "Take over driving?");
    b.keys(&["y"]);
    let (ok, screen) = wait_status(&b, SHORT, |s| s.contains("DRIVER"));
    assert!(ok, "bob did not take over:\n{screen}");
    let bob = holder(&sim).expect("lease");
    assert!(bob.starts_with("bob@"), "{bob}");
    let bob = bob.split('#').next().unwrap().to_string();

    // Ann confirms the preview she still has open.
    a.keys(&["y"]);
    let says = format!("READ-ONLY · {bob} drives");
    let (ok, screen) = wait_status(&a, SHORT, |s| s.contains(&says));
    assert!(ok, "ann's cockpit does not say who drives now:\n{screen}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        labels_text(&sim, "payments"),
        before,
        "the namespace was patched"
    );
    let written = writes_in(&sim, "/namespaces/payments");
    assert!(
        written.is_empty(),
        "writes reached the cluster: {written:?}"
    );
    assert!(status_bar(&b.screen()).contains("DRIVER"));
    a.keys(&["q"]);
    b.keys(&["q"]);
}

#[test]
fn a_lease_that_runs_out_under_a_slow_api_stops_the_driver_in_time() {
    let sim = Sim::start_logging(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let before = labels_text(&sim, "payments");
    let a_journal = journal_file(&dir, "a");
    let a = open_cockpit(&cockpit_line(&sim, "USER=ann", "sim-admin", &a_journal, ""));
    let (ok, screen) = wait_status(&a, SHORT, |s| s.contains("DRIVER"));
    assert!(ok, "{screen}");
    select_namespace(&a, "payments");
    open_dialog(&a, "m", "Migrate payments to 1-25-0?");

    // Every request now takes 20 s: a renewal (a read and a write) can no longer finish in
    // the time the last one bought. The lease was renewed at most 10 s ago, so it ends within
    // 30 s from now; the fence closes 5 s before that.
    sim.set_faults(r#"{"data":{"api.latency-ms":"20000"}}"#);
    let slow_since = Instant::now();
    // The migration confirmed now starts while the lease is still held, and must not land.
    a.keys(&["y"]);
    let (ok, screen) = wait_status(&a, Duration::from_secs(30), |s| !s.contains("DRIVER"));
    assert!(
        ok,
        "still DRIVER {:?} after the API slowed down:\n{screen}",
        slow_since.elapsed()
    );
    assert!(
        status_bar(&screen).contains("READ-ONLY · the driver lease expired"),
        "{screen}"
    );
    // Everything sent before the fault was lifted arrives; nothing of the migration is written.
    std::thread::sleep(Duration::from_secs(45).saturating_sub(slow_since.elapsed()));
    sim.set_faults(r#"{"data":{"api.latency-ms":"0"}}"#);
    // Once the API answers again the lease is free (it is still this cockpit's own), so the
    // cockpit drives again: what it had been asked before it lost the lease stays unsent.
    let (ok, screen) = wait_status(&a, LONG, |s| s.contains("DRIVER"));
    assert!(ok, "the cockpit did not drive again:\n{screen}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        labels_text(&sim, "payments"),
        before,
        "the namespace was patched; the journal: {:#?}\nthe requests: {}",
        journal_entries(&a_journal),
        sim.requests()
            .into_iter()
            .filter(|l| !l.starts_with("watch") && !l.contains("pods"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let written = writes_in(&sim, "/namespaces/payments");
    assert!(
        written.is_empty(),
        "writes after the lease ran out: {written:?}"
    );
    a.keys(&["q"]);
}

#[test]
fn signals_restore_the_terminal_hand_the_lease_back_and_exit_by_convention() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    for (signal, status) in [("HUP", 129), ("INT", 130), ("QUIT", 131), ("TERM", 143)] {
        let path = journal_file(&dir, signal);
        let term = open_cockpit(&cockpit_line(&sim, "USER=ann", "sim-admin", &path, ""));
        let (ok, screen) = wait_status(&term, SHORT, |s| s.contains("DRIVER"));
        assert!(ok, "{signal}: {screen}");
        assert_eq!(term.format("#{alternate_on}"), "1");
        assert!(holder(&sim).is_some());
        send(signal, pid_of(&path));
        let exited = format!("EXITED={status}");
        let (ok, screen) = term.wait_for(SHORT, |s| s.contains(&exited));
        assert!(ok, "SIG{signal}: no `{exited}`:\n{screen}");
        term.assert_screen_given_back(&format!("SIG{signal}"));
        assert_eq!(
            holder(&sim),
            None,
            "SIG{signal}: the lease was not handed back"
        );
    }
}

#[test]
fn the_sim_names_the_caller_as_kubectl_auth_whoami_asks() {
    let sim = Sim::start(&[]);
    for user in ["sim-admin", "sim-viewer"] {
        let out = sim.kubectl_as(
            user,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
        );
        assert!(
            out.status.success(),
            "{user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), user);
    }
    let groups = sim.kubectl(&["api-resources", "--api-group", "authentication.k8s.io"]);
    assert!(groups.contains("selfsubjectreviews"), "{groups}");
}

#[test]
fn a_panic_in_the_executor_or_the_lease_keeper_restores_the_terminal_and_hands_the_lease_back() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    for task in ["executor", "lease-keeper"] {
        let path = journal_file(&dir, task);
        // Without a backtrace the whole report fits on the screen.
        let env = format!("USER=ann RUST_BACKTRACE=0 ISTIO_COCKPIT_TEST_PANIC={task}");
        let term = open_cockpit(&cockpit_line(&sim, &env, "sim-admin", &path, ""));
        let (ok, screen) = wait_status(&term, SHORT, |s| s.contains("DRIVER"));
        assert!(ok, "{task}: {screen}");
        let before = labels_text(&sim, "staging-api");
        if task == "executor" {
            // The executor panics on the first command it is handed: a confirmed migration.
            select_namespace(&term, "staging-api");
            open_dialog(&term, "m", "Migrate staging-api");
            term.keys(&["y"]);
        }
        // The keeper panics at its first renewal, 10 s after the start.
        let (ok, screen) = term.wait_for(LONG, |s| s.contains("EXITED="));
        assert!(
            ok,
            "{task}: the cockpit kept running after the panic:\n{screen}"
        );
        assert!(
            !screen.contains("EXITED=0"),
            "{task}: exit status 0:\n{screen}"
        );
        assert!(
            screen.contains("deliberate panic"),
            "{task}: no report:\n{screen}"
        );
        term.assert_screen_given_back(task);
        assert_eq!(holder(&sim), None, "{task}: the lease was not handed back");
        assert_eq!(
            labels_text(&sim, "staging-api"),
            before,
            "{task}: something was written"
        );
    }
}
