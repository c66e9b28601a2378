//! Keeps the driver lease on its own task, so a slow write never delays a renewal and a slow
//! renewal is never mistaken for holding: the fence closes at its local deadline whatever the
//! renewal is doing. A follower looks at the lease too, and drives once it is free, its holder's
//! process provably gone, or its lease silent for a whole duration on this machine's clock.

use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::app::actions::Action;
use crate::app::event::{Event, LeaseStatus};
use crate::cluster::lease::{self, LeaseClock, Verdict};
use crate::cluster::writer::{WriteError, Writer};
use crate::mesh::records::{self, Driver};
use k8s_openapi::api::coordination::v1::Lease;

/// How often the driver renews (a third of the lease, as client-go's defaults).
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often a follower, or a driver whose renewal failed, looks again.
const LOOK_EVERY: Duration = Duration::from_secs(3);

/// What one look at the lease found.
#[derive(Debug)]
pub enum Outcome {
    /// This process holds it now; `took_from` says why it took it from someone.
    Held {
        took_from: Option<String>,
    },
    /// Someone else holds it (full identity).
    Other(String),
    Failed(WriteError),
}

impl Outcome {
    /// The status a cockpit shows for it, when it says one.
    pub fn status(&self) -> Option<LeaseStatus> {
        match self {
            Outcome::Held { .. } => Some(LeaseStatus::Held),
            Outcome::Other(holder) => Some(LeaseStatus::HeldBy(
                records::display_holder(holder).to_string(),
            )),
            Outcome::Failed(_) => None,
        }
    }
}

pub struct Keeper {
    writer: Writer,
    clock: LeaseClock,
    host: String,
}

/// The lease's state as the local clock tracks it: any change restarts its expiry.
fn version(lease: &Option<Lease>) -> Option<String> {
    let lease = lease.as_ref()?;
    let spec = lease.spec.as_ref();
    Some(format!(
        "{:?}|{:?}|{:?}",
        spec.and_then(|s| s.holder_identity.as_ref()),
        spec.and_then(|s| s.renew_time.as_ref()).map(|t| t.0),
        lease.metadata.resource_version
    ))
}

impl Keeper {
    pub fn new(writer: Writer) -> Keeper {
        Keeper {
            writer,
            clock: LeaseClock::default(),
            host: crate::cluster::identity::this_host(),
        }
    }

    /// One look: renews the lease when held, takes it when free or abandoned (or when
    /// `force`, the user's `D`), else follows.
    pub async fn round(&mut self, force: bool) -> Outcome {
        let sent = Instant::now();
        let lease = match self.writer.read_lease().await {
            Ok(lease) => lease,
            Err(e) => return Outcome::Failed(e),
        };
        self.clock.observe(version(&lease), sent);
        let holder = lease
            .as_ref()
            .and_then(Driver::from_lease)
            .map(|d| d.holder);
        let verdict = lease::judge(
            holder.as_deref(),
            &self.writer.id,
            self.clock.expired(Instant::now(), lease::DURATION),
            &self.host,
            crate::cluster::identity::pid_running,
        );
        let took_from = match verdict {
            Verdict::Other(holder) if !force => {
                self.writer.fence.close();
                return Outcome::Other(holder);
            }
            Verdict::Other(holder) => Some(format!(
                "taken over from {}",
                records::display_holder(&holder)
            )),
            Verdict::Abandoned(why) => Some(why),
            Verdict::Free | Verdict::Mine => None,
        };
        match self.writer.write_lease(lease).await {
            Ok(()) if self.writer.fence.renewed(sent, Instant::now()) => {
                Outcome::Held { took_from }
            }
            Ok(()) => Outcome::Failed(WriteError::NotDriving(
                "the lease's renewal was answered too late to count".into(),
            )),
            Err(WriteError::Conflict(why)) => {
                // Someone wrote the lease between our read and our write.
                self.writer.fence.close();
                match self.writer.read_lease().await {
                    Ok(Some(l)) => match Driver::from_lease(&l) {
                        Some(d) if d.holder != self.writer.id => Outcome::Other(d.holder),
                        _ => Outcome::Failed(WriteError::Conflict(why)),
                    },
                    Ok(None) => Outcome::Failed(WriteError::Conflict(why)),
                    Err(e) => Outcome::Failed(e),
                }
            }
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// What the executor asks of the keeper.
pub enum Request {
    /// Take the lease over (the user confirmed `D`); the answer says whether it worked.
    TakeOver(oneshot::Sender<Result<(), WriteError>>),
    /// Look at the lease now: a write found another holder there.
    Look,
}

pub type Requests = mpsc::Sender<Request>;

/// Runs the keeper; `shown` is the status the cockpit starts with.
pub fn spawn(
    mut keeper: Keeper,
    shown: LeaseStatus,
    events: mpsc::Sender<Event>,
) -> (Requests, JoinHandle<()>) {
    let (tx, mut requests) = mpsc::channel::<Request>(4);
    let handle = tokio::spawn(async move {
        let driving = shown == LeaseStatus::Held;
        let mut next = Instant::now() + if driving { RENEW_EVERY } else { LOOK_EVERY };
        let mut shown = shown;
        loop {
            let until = keeper.writer.fence.held_until();
            let outcome = tokio::select! {
                biased;
                request = requests.recv() => {
                    let reply = match request {
                        None => return,
                        Some(Request::Look) => {
                            next = Instant::now();
                            continue;
                        }
                        Some(Request::TakeOver(reply)) => reply,
                    };
                    let outcome = bounded(&mut keeper, true, until).await;
                    let answer = match &outcome {
                        Outcome::Held { .. } => Ok(()),
                        Outcome::Other(h) => Err(WriteError::Conflict(format!(
                            "{} took the lease first",
                            records::display_holder(h)
                        ))),
                        Outcome::Failed(e) => Err(e.clone()),
                    };
                    let _ = reply.send(answer);
                    // The executor journals a takeover the user asked for.
                    match outcome {
                        Outcome::Held { .. } => Outcome::Held { took_from: None },
                        other => other,
                    }
                }
                _ = tokio::time::sleep_until(until.unwrap_or(next)), if until.is_some() && until < Some(next) => {
                    Outcome::Failed(WriteError::NotDriving("the driver lease ran out".into()))
                }
                _ = tokio::time::sleep_until(next) => {
                    super::deliberate_panic::if_asked("lease-keeper");
                    bounded(&mut keeper, false, until).await
                }
            };
            // A failed renewal is tried again soon, while the time it has left lasts.
            let renewed = matches!(outcome, Outcome::Held { .. });
            next = Instant::now() + if renewed { RENEW_EVERY } else { LOOK_EVERY };
            if let Outcome::Held {
                took_from: Some(why),
            } = &outcome
            {
                journal_takeover(&keeper.writer, why).await;
            }
            let status = match outcome.status() {
                Some(status) => status,
                None => {
                    if let Outcome::Failed(e) = &outcome {
                        log::warn!("driver lease: {e}");
                    }
                    // Still inside the time a renewal bought: keep trying; past it, lost.
                    if keeper
                        .writer
                        .fence
                        .held_until()
                        .is_some_and(|until| Instant::now() < until)
                    {
                        continue;
                    }
                    keeper.writer.fence.close();
                    match shown {
                        LeaseStatus::Held => LeaseStatus::Expired,
                        ref other => other.clone(),
                    }
                }
            };
            if status != shown {
                shown = status.clone();
                if events.send(Event::Lease(status)).await.is_err() {
                    return;
                }
            }
        }
    });
    (tx, handle)
}

/// A round that cannot outlive the time the last renewal bought (nor, for a follower, a
/// lease's duration).
async fn bounded(keeper: &mut Keeper, force: bool, until: Option<Instant>) -> Outcome {
    let limit = until.unwrap_or_else(|| Instant::now() + lease::DURATION - lease::MARGIN);
    match tokio::time::timeout_at(limit, keeper.round(force)).await {
        Ok(outcome) => outcome,
        Err(_) => {
            keeper.writer.fence.close();
            Outcome::Failed(WriteError::NotDriving(
                "the lease could not be renewed in time".into(),
            ))
        }
    }
}

pub(super) async fn journal_takeover(writer: &Writer, why: &str) {
    let change = json!({"holder": records::display_holder(&writer.id)});
    let mut now_driving = writer.clone();
    now_driving.term = writer.fence.term();
    super::executor::journal(&now_driving, Some(why), &Action::TakeOver, change, "ok").await;
}
