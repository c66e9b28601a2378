//! The accept loop: TLS handshakes off the accept path, one HTTP/1.1 connection per task.
//! During a simulated outage the listener is closed (connections are refused) and every open
//! connection is dropped; afterwards the same address is bound again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::outage;

pub async fn run(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    mut stop: watch::Receiver<bool>,
    mut outages: watch::Receiver<Option<Instant>>,
) {
    let acceptor = TlsAcceptor::from(config);
    let mut listener = Some(listener);
    loop {
        let Some(open) = listener.as_ref() else {
            return;
        };
        let (tcp, _) = tokio::select! {
            accepted = open.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
            () = outage::begun(&mut outages) => {
                let until = (*outages.borrow_and_update()).unwrap_or_else(Instant::now);
                let Some(addr) = listener.take().and_then(|l| l.local_addr().ok()) else {
                    return;
                };
                tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    _ = stop.changed() => return,
                }
                listener = rebind(addr, &mut stop).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        let mut down = outages.clone();
        tokio::spawn(async move {
            let serve = async {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            };
            tokio::select! {
                () = serve => {}
                () = outage::begun(&mut down) => {}
            }
        });
    }
}

/// Binds `addr` again after an outage, retrying while the port is not yet free.
async fn rebind(addr: SocketAddr, stop: &mut watch::Receiver<bool>) -> Option<TcpListener> {
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => {
                log::info!("simulated API outage over: serving on {addr} again");
                return Some(l);
            }
            Err(e) => log::warn!("cannot listen on {addr} again yet: {e}"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = stop.changed() => return None,
        }
    }
}
