//! A simulated API server outage (`api.down-s`): the server closes every open connection and
//! refuses new ones for a while, then listens on the same address again. The outage is held
//! here, in the process, so it ends on its own although the API that would end it is down;
//! `api_down_seconds` in the fault set stays non-zero until it has ended.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::faults;
use super::store::Store;

/// The faults ConfigMap's key that asks for an outage.
pub const KEY: &str = "api.down-s";

/// How long after the write that asked for it an outage begins: that write is answered first.
const GRACE: Duration = Duration::from_millis(300);

pub struct ApiOutage {
    until: watch::Sender<Option<Instant>>,
}

impl Default for ApiOutage {
    fn default() -> Self {
        ApiOutage {
            until: watch::Sender::new(None),
        }
    }
}

impl ApiOutage {
    /// Takes the API server down now for `length`.
    pub fn begin(&self, length: Duration) {
        self.until.send_replace(Some(Instant::now() + length));
    }

    /// Whether the API server is down at this moment.
    pub fn is_down(&self) -> bool {
        self.until.borrow().is_some_and(|u| u > Instant::now())
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<Instant>> {
        self.until.subscribe()
    }

    /// The `api.down-s` fault was set: an outage of `seconds` begins shortly, and when it is
    /// over the key is taken out of the faults ConfigMap (through the store, since the API
    /// was down), so that the next write of the key starts the next outage.
    pub fn request(self: &Arc<Self>, store: Arc<Store>, seconds: u64) {
        let outage = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(GRACE).await;
            log::info!("simulated API outage for {seconds}s");
            let length = Duration::from_secs(seconds);
            outage.begin(length);
            tokio::time::sleep(length).await;
            let _ = store.modify("configmaps", faults::NAMESPACE, faults::CONFIGMAP, |cm| {
                let mut cm = cm.clone();
                if let Some(data) = cm["data"].as_object_mut() {
                    data.remove(KEY);
                }
                Ok(cm)
            });
        });
    }
}

/// Resolves when an outage begins (now or later).
pub async fn begun(rx: &mut watch::Receiver<Option<Instant>>) {
    let closed = rx
        .wait_for(|until| until.is_some_and(|u| u > Instant::now()))
        .await
        .is_err();
    if closed {
        // No outage can come any more.
        std::future::pending::<()>().await;
    }
}
