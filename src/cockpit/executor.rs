//! Carries out confirmed commands with the writer, one at a time, journals each, and reports
//! back as events. Also keeps the driver lease renewed.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::actions::Action;
use crate::app::drive::Command;
use crate::app::event::{ActionError, Event, LeaseStatus};
use crate::app::records::JournalEntry;
use crate::cluster::writer::{WriteError, Writer};

fn to_action_error(e: WriteError) -> ActionError {
    match e {
        WriteError::Conflict(m) => ActionError::Conflict(m),
        WriteError::Forbidden(m) => ActionError::Forbidden(m),
        WriteError::Failed(m) => ActionError::Failed(m),
    }
}

async fn journal(
    writer: &Writer,
    why: Option<&str>,
    action: &Action,
    change: serde_json::Value,
    result: &Result<serde_json::Value, WriteError>,
) {
    let entry = JournalEntry {
        at: Utc::now(),
        who: writer.who.clone(),
        action: action.verb().into(),
        target: action.target(),
        change,
        result: match result {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        },
        dry_run: writer.dry_run,
        why: why.map(str::to_string),
    };
    if let Err(e) = writer.journal(&entry).await {
        log::warn!("journal: {e}");
    }
}

async fn run_one(writer: &Writer, command: &Command) -> Result<String, WriteError> {
    let dry = if writer.dry_run { " (dry run)" } else { "" };
    match &command.action {
        Action::Migrate { namespace, .. } | Action::Revert { namespace } => {
            let to = to_of(&command.action);
            let labels = match &command.action {
                Action::Migrate { .. } => writer.migrate(namespace, &command.expected, to).await,
                _ => writer.revert(namespace, &command.expected).await,
            };
            journal(
                writer,
                command.reason.as_deref(),
                &command.action,
                labels.clone().unwrap_or_default(),
                &labels,
            )
            .await;
            labels?;
            let restart = Action::Restart {
                namespace: namespace.clone(),
            };
            let restarted = writer.restart(namespace).await;
            journal(
                writer,
                command.reason.as_deref(),
                &restart,
                restarted.clone().unwrap_or_default(),
                &restarted,
            )
            .await;
            let n = restarted?.as_array().map_or(0, Vec::len);
            let verb = if matches!(command.action, Action::Migrate { .. }) {
                format!("labels now select {to}")
            } else {
                "labels restored".into()
            };
            Ok(format!(
                "{namespace}: {verb}, {n} workloads restarting{dry}"
            ))
        }
        Action::Restart { namespace } => {
            let restarted = writer.restart(namespace).await;
            journal(
                writer,
                command.reason.as_deref(),
                &command.action,
                restarted.clone().unwrap_or_default(),
                &restarted,
            )
            .await;
            let n = restarted?.as_array().map_or(0, Vec::len);
            Ok(format!("{namespace}: {n} workloads restarting{dry}"))
        }
        Action::MoveTag { tag, from, to } => {
            let moved = writer.move_tag(tag, from, to).await;
            let change =
                json!({"from": from, "to": to, "patch": moved.clone().unwrap_or_default()});
            journal(
                writer,
                command.reason.as_deref(),
                &command.action,
                change,
                &moved,
            )
            .await;
            moved?;
            Ok(format!(
                "tag {tag} now points at {to}{dry}; restart its namespaces to move their pods"
            ))
        }
        Action::TakeOver => {
            let taken = writer
                .hold_lease(true)
                .await
                .map(|_| json!({"holder": writer.who}));
            journal(
                writer,
                command.reason.as_deref(),
                &command.action,
                taken.clone().unwrap_or_default(),
                &taken,
            )
            .await;
            taken?;
            Ok(format!("{} drives now", writer.who))
        }
        Action::Advance {
            from,
            to,
            overridden,
        } => {
            let Some(record) = &command.record else {
                return Err(WriteError::Failed("no upgrade record to write".into()));
            };
            let written = writer.record_upgrade(record).await;
            let change = json!({"from": from, "to": to, "overridden": overridden, "record": written.clone().unwrap_or_default()});
            journal(
                writer,
                command.reason.as_deref(),
                &command.action,
                change,
                &written,
            )
            .await;
            written?;
            let how = if *overridden {
                " (gates overridden)"
            } else {
                ""
            };
            Ok(format!("phase: {to}{how}{dry}"))
        }
        Action::WaveNote { phase, note } => {
            let written = match &command.record {
                Some(record) => writer.record_upgrade(record).await,
                None => Ok(serde_json::Value::Null),
            };
            let change = json!({"note": note, "record": written.clone().unwrap_or_default()});
            journal(writer, Some(note), &command.action, change, &written).await;
            written?;
            Ok(format!("{phase}: {note}{dry}"))
        }
    }
}

fn to_of(action: &Action) -> &str {
    match action {
        Action::Migrate { to, .. } => to,
        _ => "",
    }
}

/// Starts the executor; commands go in, `ActionDone` and lease events come out.
/// `driving`: whether this cockpit holds the lease now (only then does it renew it).
pub fn spawn(
    writer: Writer,
    driving: bool,
    events: mpsc::Sender<Event>,
) -> (mpsc::Sender<Command>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Command>(64);
    let handle = tokio::spawn(async move {
        let mut renew = tokio::time::interval(Duration::from_secs(10));
        let mut holding = Some(driving);
        // A batch (`M`: every namespace of a wave) stops at its first failure.
        let mut failed_batch: Option<u64> = None;
        loop {
            tokio::select! {
                command = rx.recv() => {
                    let Some(command) = command else {
                        // The cockpit is closing: a driver hands the lease back.
                        if holding == Some(true) {
                            writer.release_lease().await;
                        }
                        return;
                    };
                    let result = if command.batch.is_some() && command.batch == failed_batch {
                        Err(ActionError::Failed("skipped: an earlier step of this wave failed".into()))
                    } else {
                        run_one(&writer, &command).await.map_err(to_action_error)
                    };
                    if result.is_err() && command.batch.is_some() {
                        failed_batch = command.batch;
                    }
                    if matches!(command.action, Action::TakeOver) && result.is_ok() {
                        holding = Some(true);
                        let _ = events.send(Event::Lease(LeaseStatus::Held)).await;
                    }
                    if events.send(Event::ActionDone { action: command.action, result }).await.is_err() {
                        return;
                    }
                }
                _ = renew.tick() => {
                    // Only the driver renews; a follower never takes the lease by itself, not
                    // even an expired one: taking over is the user's decision (D).
                    if holding == Some(false) {
                        continue;
                    }
                    let status = match writer.hold_lease(false).await {
                        Ok(()) => LeaseStatus::Held,
                        Err(WriteError::Conflict(holder)) => LeaseStatus::HeldBy(holder.trim_end_matches(" drives").to_string()),
                        Err(e) => {
                            log::warn!("driver lease: {e}");
                            continue;
                        }
                    };
                    let now_holding = status == LeaseStatus::Held;
                    if holding != Some(now_holding) {
                        holding = Some(now_holding);
                        if events.send(Event::Lease(status)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    });
    (tx, handle)
}
