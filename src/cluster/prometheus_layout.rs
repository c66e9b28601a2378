//! When a Prometheus's label layout is asked again: at the start, every few seconds while the
//! probe has not seen both families, every few minutes after, and soon after a round whose
//! traffic came back empty (a relabelling changed under the cockpit). Deciding from the
//! answers is `metrics::label_mapping`'s job.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::prometheus_source::Poller;
use crate::metrics::label_mapping::{self, Layout};
use crate::metrics::reading::Reading;

/// Until both families have answered, the probe is asked again after this.
const UNSETTLED_AGAIN: Duration = Duration::from_secs(10);
/// A settled layout is asked again after this.
const SETTLED_AGAIN: Duration = Duration::from_secs(300);
/// After a round without any traffic, a settled layout is asked again after this.
const EMPTY_AGAIN: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct State {
    layout: Layout,
    /// When the probe last ran, and whether it saw both families.
    asked: Option<(Instant, bool)>,
    /// The last round had no traffic at all.
    empty: bool,
}

/// The layout found so far, and when to look again.
#[derive(Debug, Default)]
pub struct Probe(Mutex<State>);

impl Probe {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn layout(&self) -> Layout {
        self.state().layout.clone()
    }

    pub fn due(&self) -> bool {
        let state = self.state();
        match state.asked {
            None => true,
            Some((at, false)) => at.elapsed() >= UNSETTLED_AGAIN,
            Some((at, true)) => {
                at.elapsed() >= SETTLED_AGAIN || (state.empty && at.elapsed() >= EMPTY_AGAIN)
            }
        }
    }

    /// Asks the probe's queries at once and keeps what they decide. A probe that got no
    /// answer keeps the layout it had.
    pub async fn run(&self, poller: &Poller, cluster: &str) {
        let [sidecars, istiod, clusters] = label_mapping::probe_promql();
        let (sidecars, istiod, clusters) = tokio::join!(
            poller.query(&sidecars),
            poller.query(&istiod),
            poller.query(&clusters),
        );
        let answered = [&sidecars, &istiod, &clusters]
            .iter()
            .any(|a| a.is_ok() || matches!(a, Err(crate::metrics::queries::Failure::Query(_))));
        let (layout, settled) = label_mapping::decide(&sidecars, &istiod, &clusters, cluster);
        let mut state = self.state();
        if answered {
            if state.layout != layout {
                log::info!("metrics: series layout {layout:?}");
            }
            state.layout = layout;
        }
        state.asked = Some((Instant::now(), settled));
    }

    pub fn after_round(&self, reading: &Reading) {
        self.state().empty = reading.data_plane.is_empty();
    }
}
