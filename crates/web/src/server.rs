//! The HTTP/1.1 server around the router, with the limits that keep one client (or many idle
//! sockets) from stopping it: a deadline for a request's headers — which is also how long an
//! idle keep-alive connection is kept, hyper timing the wait for the next request's headers
//! from the end of the last answer —, a cap on connections in all and per client, and a
//! shutdown that stops accepting, closes idle connections, lets requests in flight finish for
//! a bounded grace period, then drops the rest. Body and whole-request deadlines are layers of
//! the router (`router`), so they hold whatever server runs it.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The limits of the server itself.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// A request's headers must arrive within this, and an idle connection is closed after it.
    pub header_timeout: Duration,
    /// Open connections in all; more are closed as they come.
    pub max_connections: usize,
    /// Open connections of one client address (a trusted proxy's are not capped).
    pub max_connections_per_client: usize,
    /// After a shutdown signal, requests in flight get this long to finish.
    pub shutdown_grace: Duration,
    /// Reverse proxies (not capped per client: all their clients share their address).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(15),
            max_connections: 2048,
            max_connections_per_client: 256,
            shutdown_grace: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

impl PerClient {
    fn enter(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<ClientSlot> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(ClientSlot(self.clone(), ip))
    }
}

/// One connection of a client; leaving frees its place.
struct ClientSlot(Arc<PerClient>, IpAddr);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut map = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.1);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then winds down within the grace.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let all = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = Arc::new(PerClient::default());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors or a connection reset while queued: wait a little, go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = all.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: too many open connections");
            continue;
        };
        let slot = if limits.trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            match per_client.enter(peer.ip(), limits.max_connections_per_client) {
                Some(s) => Some(s),
                None => {
                    tracing::warn!(%peer, "connection refused: too many from this client");
                    continue;
                }
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _held = (permit, slot);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace_seconds = limits.shutdown_grace.as_secs(), "requests still open after the grace period are dropped");
        }
    }
    Ok(())
}
