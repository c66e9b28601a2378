//! The driver lease, timed on this machine's monotonic clock only: the fence every write passes
//! ("held until"), and when another holder's lease counts as expired (from when this cockpit
//! last saw it change, as client-go's leader election does, never from the other machine's
//! clock).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::mesh::records;

/// How long a lease lasts without renewal.
pub const DURATION: Duration = Duration::from_secs(records::LEASE_SECONDS as u64);
/// Time kept in hand: the fence closes this long before the lease could expire elsewhere.
pub const MARGIN: Duration = Duration::from_secs(5);

/// Until when this process may write: the send time of its last successful renewal, plus the
/// lease's duration, less the margin. Each unbroken hold is a term: a write confirmed in one
/// term is never sent in a later one, after the lease was lost and taken again.
#[derive(Debug, Default)]
pub struct Fence {
    hold: Mutex<Hold>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Hold {
    until: Option<Instant>,
    term: u64,
}

impl Fence {
    /// A renewal sent at `sent` succeeded. Returns false (and closes the fence) when its answer
    /// came too late to leave any time.
    pub fn renewed(&self, sent: Instant, now: Instant) -> bool {
        let until = sent + DURATION - MARGIN;
        let held = now < until;
        let mut hold = self.lock();
        if held && hold.until.is_none() {
            hold.term += 1;
        }
        hold.until = held.then_some(until);
        held
    }

    pub fn close(&self) {
        self.lock().until = None;
    }

    pub fn held_until(&self) -> Option<Instant> {
        self.lock().until
    }

    /// The current term: stamped on a command when it is confirmed.
    pub fn term(&self) -> u64 {
        self.lock().term
    }

    /// Whether a write confirmed in `term` may be sent now.
    pub fn check(&self, now: Instant, term: u64) -> Result<(), String> {
        let hold = *self.lock();
        match hold.until {
            Some(_) if hold.term != term => {
                Err("the driver lease was lost after this was confirmed".into())
            }
            Some(until) if now < until => Ok(()),
            Some(_) => Err("the driver lease ran out before it could be renewed".into()),
            None => Err("this cockpit does not hold the driver lease".into()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Hold> {
        // The value is a plain Option: a panic elsewhere cannot leave it half-written.
        self.hold
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// When this cockpit last saw the lease change (holder, renewal or resourceVersion).
#[derive(Debug, Default)]
pub struct LeaseClock {
    seen: Option<(String, Instant)>,
}

impl LeaseClock {
    /// Notes the lease as just read: `version` names its state, None when there is no lease.
    pub fn observe(&mut self, version: Option<String>, now: Instant) {
        self.seen = match (version, self.seen.take()) {
            (None, _) => None,
            (Some(v), Some((old, at))) if old == v => Some((old, at)),
            (Some(v), _) => Some((v, now)),
        };
    }

    /// Whether the lease has gone unchanged for a whole lease duration on our clock.
    pub fn expired(&self, now: Instant, duration: Duration) -> bool {
        self.seen
            .as_ref()
            .is_some_and(|(_, at)| now >= *at + duration)
    }
}

/// What one reading of the lease means for this process.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// No lease, or nobody in it.
    Free,
    Mine,
    /// Held by someone who provably stopped: the reason, for the journal.
    Abandoned(String),
    /// Someone else drives (full identity).
    Other(String),
}

pub fn judge(
    holder: Option<&str>,
    me: &str,
    expired: bool,
    my_host: &str,
    running: impl Fn(u32) -> bool,
) -> Verdict {
    let Some(holder) = holder.filter(|h| !h.is_empty()) else {
        return Verdict::Free;
    };
    if holder == me {
        return Verdict::Mine;
    }
    let who = records::display_holder(holder);
    if let Some(pid) = crate::cluster::identity::holder_gone(holder, my_host, running) {
        return Verdict::Abandoned(format!("{who}'s cockpit (pid {pid} on this host) is gone"));
    }
    if expired {
        return Verdict::Abandoned(format!(
            "{who}'s lease was not renewed for {} s",
            DURATION.as_secs()
        ));
    }
    Verdict::Other(holder.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fence_is_open_only_until_the_margin_before_expiry() {
        let fence = Fence::default();
        let t0 = Instant::now();
        assert!(
            fence.check(t0, fence.term()).is_err(),
            "closed before any renewal"
        );
        assert!(fence.renewed(t0, t0 + Duration::from_secs(1)));
        let term = fence.term();
        let just_before = t0 + DURATION - MARGIN - Duration::from_millis(1);
        assert!(fence.check(just_before, term).is_ok());
        assert!(fence.check(t0 + DURATION - MARGIN, term).is_err());
        // A renewal whose answer comes after its own deadline holds nothing.
        assert!(!fence.renewed(t0, t0 + DURATION));
        assert!(fence.check(t0 + Duration::from_secs(1), term).is_err());
        fence.renewed(t0, t0);
        fence.close();
        assert!(fence.check(t0, fence.term()).is_err());
    }

    #[test]
    fn a_write_confirmed_before_the_lease_was_lost_is_never_sent_after_it_is_taken_again() {
        let fence = Fence::default();
        let t0 = Instant::now();
        fence.renewed(t0, t0);
        let confirmed_in = fence.term();
        // Renewals keep the term.
        fence.renewed(t0 + Duration::from_secs(10), t0 + Duration::from_secs(10));
        assert_eq!(fence.term(), confirmed_in);
        fence.close();
        fence.renewed(t0 + Duration::from_secs(40), t0 + Duration::from_secs(40));
        let now = t0 + Duration::from_secs(41);
        assert!(fence.check(now, confirmed_in).is_err());
        assert!(fence.check(now, fence.term()).is_ok());
    }

    #[test]
    fn expiry_is_timed_from_the_last_change_seen_here() {
        let mut clock = LeaseClock::default();
        let t0 = Instant::now();
        let later = |s: u64| t0 + Duration::from_secs(s);
        clock.observe(Some("bob/renewed-at-9:00/rv1".into()), t0);
        assert!(!clock.expired(later(29), DURATION));
        // The same lease read again does not restart the clock...
        clock.observe(Some("bob/renewed-at-9:00/rv1".into()), later(20));
        assert!(clock.expired(later(30), DURATION));
        // ...a renewal does, whatever time the other machine wrote into it.
        clock.observe(Some("bob/renewed-at-8:00/rv2".into()), later(31));
        assert!(!clock.expired(later(60), DURATION));
        assert!(clock.expired(later(61), DURATION));
        clock.observe(None, later(62));
        assert!(!clock.expired(later(200), DURATION));
    }

    #[test]
    fn a_holder_is_abandoned_only_when_gone_or_silent() {
        let alive = |_: u32| true;
        let dead = |_: u32| false;
        let me = "ann@jump#10-aa";
        assert_eq!(judge(None, me, false, "jump", alive), Verdict::Free);
        assert_eq!(judge(Some(me), me, true, "jump", alive), Verdict::Mine);
        let other = "ann@jump#11-bb";
        assert_eq!(
            judge(Some(other), me, false, "jump", alive),
            Verdict::Other(other.into())
        );
        assert!(matches!(
            judge(Some(other), me, false, "jump", dead),
            Verdict::Abandoned(why) if why.contains("pid 11") && why.starts_with("ann@jump'")
        ));
        // Another host's pid means nothing here: only the lease's silence counts.
        let remote = "ann@laptop#11-bb";
        assert_eq!(
            judge(Some(remote), me, false, "jump", dead),
            Verdict::Other(remote.into())
        );
        assert!(matches!(
            judge(Some(remote), me, true, "jump", dead),
            Verdict::Abandoned(why) if why.contains("not renewed")
        ));
    }
}
