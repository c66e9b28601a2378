//! Carries out confirmed commands with the writer, one at a time, and reports back as events.
//! Each write is journalled as an intent, with the exact body, before it is sent, and with its
//! result after. The lease is kept by its own task (`lease_keeper`), never from here.

use std::future::Future;

use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::lease_keeper::{Request, Requests};
use crate::app::actions::Action;
use crate::app::drive::Command;
use crate::app::event::{Event, WriteError};
use crate::cluster::writer::{NamespacePatch, Writer};
use crate::mesh::journal::JournalResult;
use crate::mesh::records::{self, JournalEntry};

fn outcome(result: &Result<Value, WriteError>) -> JournalResult {
    match result {
        Ok(_) => JournalResult::Ok,
        Err(e) => JournalResult::Failed(e.to_string()),
    }
}

pub async fn journal(
    writer: &Writer,
    why: Option<&str>,
    action: &Action,
    change: Value,
    result: JournalResult,
) {
    let entry = JournalEntry {
        at: Utc::now(),
        who: writer.who.clone(),
        action: action.verb(),
        target: action.target(),
        change,
        result,
        dry_run: writer.dry_run,
        why: why.map(str::to_string),
    };
    if let Err(e) = writer.journal(&entry).await {
        log::warn!("journal: {e}");
    }
}

/// One write: its intent journalled with `body`, then sent, then its result journalled.
async fn step(
    writer: &Writer,
    why: Option<&str>,
    action: &Action,
    body: Value,
    send: impl Future<Output = Result<Value, WriteError>>,
) -> Result<Value, WriteError> {
    journal(writer, why, action, body.clone(), JournalResult::Intent).await;
    let sent = send.await;
    let change = sent.clone().unwrap_or(body);
    journal(writer, why, action, change, outcome(&sent)).await;
    sent
}

/// A failure before anything was sent (a check, a read): journalled as the result.
async fn refused<T>(
    writer: &Writer,
    why: Option<&str>,
    action: &Action,
    result: Result<T, WriteError>,
) -> Result<T, WriteError> {
    if let Err(e) = &result {
        let result = JournalResult::Failed(e.to_string());
        journal(writer, why, action, Value::Null, result).await;
    }
    result
}

/// Restarts a namespace's workloads; returns how many.
async fn restart(writer: &Writer, why: Option<&str>, namespace: &str) -> Result<usize, WriteError> {
    let action = Action::Restart {
        namespace: namespace.to_string(),
    };
    let prepared = refused(
        writer,
        why,
        &action,
        writer.prepare_restart(namespace).await,
    )
    .await?;
    step(
        writer,
        why,
        &action,
        prepared.body(),
        writer.restart(&prepared),
    )
    .await?;
    Ok(prepared.workloads.len())
}

/// A namespace's labels patched as prepared, then its workloads restarted; returns how many.
async fn relabel_and_restart(
    writer: &Writer,
    why: Option<&str>,
    action: &Action,
    namespace: &str,
    prepared: Result<NamespacePatch, WriteError>,
) -> Result<usize, WriteError> {
    let prepared = refused(writer, why, action, prepared).await?;
    step(
        writer,
        why,
        action,
        prepared.body.clone(),
        writer.patch_namespace(&prepared),
    )
    .await?;
    restart(writer, why, namespace).await
}

async fn run_one(
    writer: &Writer,
    keeper: &Requests,
    command: &Command,
) -> Result<String, WriteError> {
    let dry = if writer.dry_run { " (dry run)" } else { "" };
    let why = command.reason.as_deref();
    let action = &command.action;
    if matches!(
        action,
        Action::Migrate { .. }
            | Action::Revert { .. }
            | Action::MoveTag { .. }
            | Action::Advance { .. }
    ) {
        let holder = writer.confirm_holder().await;
        if matches!(holder, Err(WriteError::NotDriving(_))) {
            // The keeper looks at once, so the screen says who drives now.
            let _ = keeper.send(Request::Look).await;
        }
        refused(writer, why, action, holder).await?;
    }
    match action {
        Action::Migrate { namespace, to } => {
            let prepared = writer
                .prepare_migrate(namespace, &command.expected, to)
                .await;
            let n = relabel_and_restart(writer, why, action, namespace, prepared).await?;
            Ok(format!(
                "{namespace}: labels now select {to}, {n} workloads restarting{dry}"
            ))
        }
        Action::Revert { namespace } => {
            let prepared = writer.prepare_revert(namespace, &command.expected).await;
            let n = relabel_and_restart(writer, why, action, namespace, prepared).await?;
            Ok(format!(
                "{namespace}: labels restored, {n} workloads restarting{dry}"
            ))
        }
        Action::Restart { namespace } => {
            let n = restart(writer, why, namespace).await?;
            Ok(format!("{namespace}: {n} workloads restarting{dry}"))
        }
        Action::MoveTag { tag, from, to } => {
            let prepared =
                refused(writer, why, action, writer.prepare_tag(tag, from, to).await).await?;
            let change = |patch: Value| json!({"from": from, "to": to, "patch": patch});
            let body = change(prepared.ops.clone());
            step(writer, why, action, body, async {
                writer.move_tag(&prepared).await.map(change)
            })
            .await?;
            Ok(format!(
                "tag {tag} now points at {to}{dry}; restart its namespaces to move their pods"
            ))
        }
        Action::TakeOver => {
            let (reply, answer) = oneshot::channel();
            let taken = match keeper.send(Request::TakeOver(reply)).await {
                Ok(()) => answer.await.unwrap_or_else(|_| {
                    Err(WriteError::Failed("the lease keeper has stopped".into()))
                }),
                Err(_) => Err(WriteError::Failed("the lease keeper has stopped".into())),
            };
            let shown = records::display_holder(&writer.id).to_string();
            let change = json!({"holder": shown});
            // Journalled in the term the takeover began.
            let mut now_driving = writer.clone();
            now_driving.term = writer.fence.term();
            let result = outcome(&taken.clone().map(|_| Value::Null));
            journal(&now_driving, why, action, change, result).await;
            taken?;
            Ok(format!("{shown} drives now"))
        }
        Action::Advance {
            from,
            to,
            overridden,
        } => {
            let Some(record) = &command.record else {
                return Err(WriteError::Failed("no upgrade record to write".into()));
            };
            let change = |written: Value| json!({"from": from, "to": to, "overridden": overridden, "record": written});
            let body = change(Writer::upgrade_body(record));
            step(writer, why, action, body, async {
                writer.record_upgrade(record).await.map(change)
            })
            .await?;
            let how = if *overridden {
                " (gates overridden)"
            } else {
                ""
            };
            Ok(format!("phase: {to}{how}{dry}"))
        }
        Action::WaveNote { phase, note } => {
            match &command.record {
                Some(record) => {
                    let body = json!({"note": note, "record": record.to_data()});
                    step(writer, Some(note), action, body, async {
                        writer
                            .record_upgrade(record)
                            .await
                            .map(|sent| json!({"note": note, "record": sent}))
                    })
                    .await?;
                }
                None => {
                    let change = json!({"note": note});
                    journal(writer, Some(note), action, change, JournalResult::Ok).await;
                }
            }
            Ok(format!("{phase}: {note}{dry}"))
        }
        Action::RecordFleet { summary } => {
            let Some(record) = &command.record else {
                return Err(WriteError::Failed("no upgrade record to write".into()));
            };
            let change = |written: Value| json!({"fleet": summary, "record": written});
            step(
                writer,
                why,
                action,
                change(Writer::upgrade_body(record)),
                async { writer.record_upgrade(record).await.map(change) },
            )
            .await?;
            Ok(format!("fleet: {summary}{dry}"))
        }
    }
}

/// A confirmed command, with the lease term the screen confirmed it in.
pub struct Stamped {
    pub term: u64,
    pub command: Command,
}

/// Starts the executor; commands go in, `ActionDone` events come out. It ends when the
/// command channel closes.
pub fn spawn(
    mut writer: Writer,
    keeper: Requests,
    events: mpsc::Sender<Event>,
) -> (mpsc::Sender<Stamped>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Stamped>(64);
    let handle = tokio::spawn(async move {
        // A batch (`M`: every namespace of a wave) stops at its first failure.
        let mut failed_batch: Option<u64> = None;
        while let Some(Stamped { term, command }) = rx.recv().await {
            super::deliberate_panic::if_asked("executor");
            // Every write of this command passes the gate only in the term it was confirmed in.
            writer.term = term;
            let result = if command.batch.is_some() && command.batch == failed_batch {
                Err(WriteError::Failed(
                    "skipped: an earlier step of this wave failed".into(),
                ))
            } else {
                run_one(&writer, &keeper, &command).await
            };
            if result.is_err() && command.batch.is_some() {
                failed_batch = command.batch;
            }
            let done = Event::ActionDone {
                action: command.action,
                result,
            };
            if events.send(done).await.is_err() {
                return;
            }
        }
    });
    (tx, handle)
}
