//! The accept loop: HTTP/1.1 connections served by hyper, with the two defences
//! `axum::serve` lacks.
//!
//! - **A header-read timeout.** A client has [`ConnectionLimits::header_read_timeout`] to send
//!   a request's headers, counted from the moment the server waits for them: a client that
//!   trickles its headers (slowloris) is cut off, and so is a keep-alive connection that sends
//!   nothing for that long (the gateway in front of the real service closes idle connections
//!   too).
//! - **A cap on open connections.** At [`ConnectionLimits::max_connections`] a new connection
//!   closes the oldest one that is not serving a call (an idle keep-alive connection, or one
//!   still sending its headers), so idle sockets can never starve real calls; when every open
//!   connection is busy, the new one is refused. A call under way is never cut.
//!
//! - **A body deadline.** The body must arrive within the same time once the headers are in;
//!   a client that trickles it gets 60002 in the envelope (the body "cannot be read") instead
//!   of holding a connection busy forever, out of reach of the cap.
//!
//! Running out of file descriptors (`EMFILE`) is treated like the cap: the oldest idle
//! connection is closed and accepting goes on.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinSet;

use super::lock;

/// The address of the client a call came from, in each request's extensions (the callbacks'
/// `ClientIP`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub std::net::SocketAddr);

/// How many connections the server keeps open, and how long it waits for headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most; 0 is refused by the configuration check.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (and how long a keep-alive
    /// connection may stay silent).
    pub header_read_timeout: Duration,
}

impl ConnectionLimits {
    /// 1,024 connections, 30 s for headers (hyper's own default for the timeout).
    pub const DEFAULT: ConnectionLimits = ConnectionLimits {
        max_connections: 1024,
        header_read_timeout: Duration::from_secs(30),
    };
}

/// One open connection as the registry sees it.
#[derive(Default)]
struct Slot {
    /// Calls being served on it (HTTP/1.1 serves one at a time, so 0 or 1).
    busy: AtomicUsize,
    /// Raised to close it: it finishes a call under way, then closes.
    close: Notify,
}

/// The open connections, oldest first (keys are accept order).
#[derive(Default)]
struct Registry {
    next: u64,
    open: BTreeMap<u64, Arc<Slot>>,
}

impl Registry {
    /// Closes the oldest connection that serves no call; false when every one is busy.
    fn close_oldest_idle(&mut self) -> bool {
        let idle = self
            .open
            .iter()
            .find(|(_, slot)| slot.busy.load(Ordering::SeqCst) == 0)
            .map(|(&id, _)| id);
        match idle.and_then(|id| self.open.remove(&id)) {
            Some(slot) => {
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// A slot for a new connection, making room at the cap; `None` when all are busy.
    fn admit(&mut self, cap: usize) -> Option<(u64, Arc<Slot>)> {
        while self.open.len() >= cap {
            if !self.close_oldest_idle() {
                return None;
            }
        }
        let id = self.next;
        self.next += 1;
        let slot = Arc::new(Slot::default());
        self.open.insert(id, Arc::clone(&slot));
        Some((id, slot))
    }
}

/// Counts a call as under way on its connection until dropped (also when the call is
/// abandoned because the client went away).
struct Busy(Arc<Slot>);

impl Busy {
    fn enter(slot: &Arc<Slot>) -> Busy {
        slot.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(slot))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Binds `addr` and serves `app` there with [`ConnectionLimits::DEFAULT`] for the life of the
/// process (the endpoints `reconcile` runs beside its loop: metrics, webhooks); `what` names
/// the endpoint in the bind error and the log (`--metrics-listen`). Returns the bound address.
pub(crate) async fn serve_for_life(
    addr: &str,
    what: &'static str,
    app: Router,
) -> io::Result<std::net::SocketAddr> {
    let bound = async {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        Ok::<_, io::Error>((listener, bound))
    }
    .await
    .map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("{what}: cannot listen on {addr:?}: {error}"),
        )
    })?;
    let (listener, bound) = bound;
    let (keep_serving, stop) = oneshot::channel();
    tokio::spawn(async move {
        let _keep_serving = keep_serving;
        if let Err(error) = serve(listener, app, ConnectionLimits::DEFAULT, stop).await {
            tracing::error!(endpoint = what, %error, "the server stopped");
        }
    });
    Ok(bound)
}

/// Serves `app` on `listener` until `stop` fires (or its sender is dropped), then lets every
/// call under way finish and closes the idle connections.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let registry = Arc::new(Mutex::new(Registry::default()));
    let (stopping, stopped) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let service = TowerToHyperService::new(app);
    let mut connections = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                if out_of_descriptors(&error) {
                    let closed = lock(&registry).close_oldest_idle();
                    tracing::warn!(
                        %error,
                        closed_idle = closed,
                        "emulator: out of file descriptors; closing the oldest idle connection"
                    );
                } else {
                    tracing::debug!(%error, "emulator: accept failed");
                }
                // Let the closed connection go before accepting again.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let Some((id, slot)) = lock(&registry).admit(limits.max_connections) else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "emulator: every connection is serving a call; refusing a new connection"
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let per_call = {
            let service = service.clone();
            let slot = Arc::clone(&slot);
            let deadline = limits.header_read_timeout;
            service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(Peer(peer));
                let busy = Busy::enter(&slot);
                let call = service.call(request.map(|body| Deadline::new(body, deadline)));
                async move {
                    let response = call.await;
                    drop(busy);
                    response
                }
            })
        };
        let connection = http.serve_connection(TokioIo::new(stream), per_call);
        let registry = Arc::clone(&registry);
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let closing = tokio::select! {
                result = connection.as_mut() => Some(result),
                _ = slot.close.notified() => None,
                _ = stopped.wait_for(|stop| *stop) => None,
            };
            let result = match closing {
                Some(result) => result,
                None => {
                    // Finishes a call under way (keep-alive off), closes an idle connection.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "emulator: connection ended with an error");
            }
            lock(&registry).open.remove(&id);
        });
    }
    let _ = stopping.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A request body that fails when it has not fully arrived by its deadline.
struct Deadline {
    inner: Incoming,
    expires: Pin<Box<tokio::time::Sleep>>,
}

impl Deadline {
    fn new(inner: Incoming, within: Duration) -> Deadline {
        Deadline {
            inner,
            expires: Box::pin(tokio::time::sleep(within)),
        }
    }
}

impl Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        if this.expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `EMFILE`/`ENFILE`: the process or the system has no file descriptor left.
fn out_of_descriptors(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// Raises this process's soft limit on open files to its hard limit (at most 65,536), so
/// that `timctl emulator` can hold its connection cap on systems whose default is 1,024.
/// Best effort: the accept loop copes with running out anyway.
pub(crate) fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let wanted = limit.maximum.map_or(65_536, |hard| hard.min(65_536));
        if limit.current.is_some_and(|soft| soft < wanted) {
            let raised = rustix::process::Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            };
            if let Err(error) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!(%error, "emulator: cannot raise the open-file limit");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_is_closed_and_busy_ones_are_kept() {
        let mut registry = Registry::default();
        let (first, a) = registry.admit(2).unwrap();
        let (_, b) = registry.admit(2).unwrap();
        let busy = Busy::enter(&a);
        let (third, _) = registry.admit(2).expect("the idle one makes room");
        assert!(registry.open.contains_key(&first), "the busy oldest stays");
        assert!(!registry.open.values().any(|s| Arc::ptr_eq(s, &b)));
        assert!(registry.open.contains_key(&third));
        // `b` was told to close: its notification is waiting.
        let notified = b.close.notified();
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut notified = std::pin::pin!(notified);
        assert!(notified.as_mut().poll(&mut cx).is_ready());
        drop(busy);
        assert_eq!(a.busy.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn when_every_connection_is_busy_a_new_one_is_refused() {
        let mut registry = Registry::default();
        let (_, a) = registry.admit(1).unwrap();
        let _busy = Busy::enter(&a);
        assert!(registry.admit(1).is_none());
        assert_eq!(registry.open.len(), 1);
    }
}
