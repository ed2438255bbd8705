//! The listener's [`EventStream`] and what consumes it for a handler: calling the handler for each
//! event, one at a time in order or concurrently with a bounded number in flight, the
//! `on_resync`/`on_connection` callbacks, and the [`WsStats`] counts. Handler errors and panics are
//! logged (tracing) and counted, never fatal; lifecycle items are logged and counted.

use std::error::Error as StdError;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::FutureExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::ws::event::{Event, WsItem};

type BoxError = Box<dyn StdError + Send + Sync>;

/// The callback of [`Websocket::on_resync`](crate::ws::listener::Websocket::on_resync).
#[derive(Clone)]
pub(crate) struct ResyncHook(
    Arc<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>,
);

impl std::fmt::Debug for ResyncHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResyncHook")
    }
}

impl ResyncHook {
    pub(crate) fn new<F, Fut>(f: F) -> ResyncHook
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        ResyncHook(Arc::new(move || Box::pin(f())))
    }
}

/// The callback of [`Websocket::on_connection`](crate::ws::listener::Websocket::on_connection).
#[derive(Clone)]
pub(crate) struct ConnectionHook(Arc<ConnectionFn>);

/// The boxed future-returning function behind a [`ConnectionHook`].
type ConnectionFn =
    dyn Fn(WsItem) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

impl std::fmt::Debug for ConnectionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionHook")
    }
}

impl ConnectionHook {
    pub(crate) fn new<F, Fut>(f: F) -> ConnectionHook
    where
        F: Fn(WsItem) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        ConnectionHook(Arc::new(move |item| Box::pin(f(item))))
    }
}

/// The counters behind [`WsStats`], shared by a listener's stream and its handles so that they
/// can be read while it runs ([`WsHandle::stats`](crate::ws::handle::WsHandle::stats)).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    events: AtomicU64,
    handler_errors: AtomicU64,
    bad_frames: AtomicU64,
    reconnects: AtomicU64,
    resyncs: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> WsStats {
        WsStats {
            events: self.events.load(Ordering::Relaxed),
            handler_errors: self.handler_errors.load(Ordering::Relaxed),
            bad_frames: self.bad_frames.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            resyncs: self.resyncs.load(Ordering::Relaxed),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What a handler-driven listener saw, returned when it ends (and readable while it runs:
/// [`WsHandle::stats`](crate::ws::WsHandle::stats),
/// [`WsListener::stats`](crate::ws::WsListener::stats)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsStats {
    /// Events handed to the handler.
    pub events: u64,
    /// Handler calls that returned an error or panicked.
    pub handler_errors: u64,
    /// Frames the server sent that could not be understood.
    pub bad_frames: u64,
    /// Connections made after the first.
    pub reconnects: u64,
    /// Of those, the ones that could not resume (events may have been lost).
    pub resyncs: u64,
}

fn record(result: Result<Result<(), BoxError>, String>, stats: &Counters) {
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            bump(&stats.handler_errors);
            tracing::warn!(target: "matterapi::ws", error = %e, "event handler failed");
        }
        Err(panic) => {
            bump(&stats.handler_errors);
            tracing::error!(target: "matterapi::ws", panic = %panic, "event handler panicked");
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs one handler call, catching a panic.
async fn call<H, Fut, E>(handler: &H, ev: Event) -> Result<Result<(), BoxError>, String>
where
    H: Fn(Event) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    match AssertUnwindSafe(async { handler(ev).await })
        .catch_unwind()
        .await
    {
        Ok(r) => Ok(r.map_err(Into::into)),
        Err(p) => Err(panic_message(p)),
    }
}

/// The listener's items, as a [`Stream`](futures_core::Stream). Ends after the listener stops
/// (after a terminal [`WsItem::Error`], or a shutdown).
#[derive(Debug)]
pub struct EventStream {
    items: mpsc::Receiver<WsItem>,
    concurrent: bool,
    max_in_flight: usize,
    on_resync: Option<ResyncHook>,
    on_connection: Option<ConnectionHook>,
    stats: Arc<Counters>,
}

/// How an [`EventStream`] is consumed by [`EventStream::run`], as the builder says.
#[derive(Debug, Clone)]
pub(crate) struct RunSettings {
    pub(crate) concurrent: bool,
    pub(crate) max_in_flight: usize,
    pub(crate) on_resync: Option<ResyncHook>,
    pub(crate) on_connection: Option<ConnectionHook>,
}

impl EventStream {
    /// The stream of the listener's `items`, counting into `stats` when run.
    pub(crate) fn new(
        items: mpsc::Receiver<WsItem>,
        run: RunSettings,
        stats: Arc<Counters>,
    ) -> EventStream {
        EventStream {
            items,
            concurrent: run.concurrent,
            max_in_flight: run.max_in_flight,
            on_resync: run.on_resync,
            on_connection: run.on_connection,
            stats,
        }
    }

    /// The next item (`None` once the listener has stopped and everything was taken).
    pub async fn recv(&mut self) -> Option<WsItem> {
        self.items.recv().await
    }

    /// Calls `handler` for each event until the listener ends: after a shutdown `Ok` with what it
    /// saw, after a terminal error that error. A [`WsItem::Resync`] runs the
    /// [`on_resync`](crate::ws::Websocket::on_resync) callback, if any, before later events; every
    /// other item ([`WsItem::Connected`], [`WsItem::Disconnected`], [`WsItem::Resync`], bad frames)
    /// goes to the [`on_connection`](crate::ws::Websocket::on_connection) callback, if any, also
    /// awaited in order. Concurrent (at most `max_in_flight` calls at once) or one call at a time
    /// in arrival order, as the builder and the options say; in-flight calls finish before this
    /// returns.
    pub async fn run<H, Fut, E>(mut self, handler: H) -> crate::Result<WsStats>
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let handler = Arc::new(handler);
        let stats = self.stats.clone();
        let stats = stats.as_ref();
        let mut in_flight: JoinSet<Result<Result<(), BoxError>, String>> = JoinSet::new();
        let permits = Arc::new(Semaphore::new(self.max_in_flight.max(1)));
        let mut connected_before = false;
        let mut terminal = None;
        while let Some(item) = self.recv().await {
            match item {
                WsItem::Event(ev) => {
                    bump(&stats.events);
                    if self.concurrent {
                        while let Some(done) = in_flight.try_join_next() {
                            record(done.unwrap_or_else(|e| Err(e.to_string())), stats);
                        }
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            break;
                        };
                        let handler = handler.clone();
                        in_flight.spawn(async move {
                            let r = call(handler.as_ref(), ev).await;
                            drop(permit);
                            r
                        });
                    } else {
                        record(call(handler.as_ref(), ev).await, stats);
                    }
                }
                WsItem::Error(e) if e.is_terminal() => {
                    terminal = Some(e);
                }
                item => {
                    match &item {
                        WsItem::Connected {
                            connection_id,
                            resumed,
                        } => {
                            if connected_before {
                                bump(&stats.reconnects);
                            }
                            connected_before = true;
                            tracing::info!(target: "matterapi::ws", %connection_id, resumed, "websocket connected");
                        }
                        WsItem::Resync => {
                            bump(&stats.resyncs);
                            tracing::warn!(target: "matterapi::ws", "websocket events may have been missed");
                            if let Some(hook) = &self.on_resync {
                                // A panic in the callback is logged, as a handler's would be.
                                if let Err(p) = AssertUnwindSafe((hook.0)()).catch_unwind().await {
                                    bump(&stats.handler_errors);
                                    tracing::error!(target: "matterapi::ws", panic = %panic_message(p), "resync callback panicked");
                                }
                            }
                        }
                        WsItem::Disconnected { reason, retry_in } => {
                            tracing::info!(target: "matterapi::ws", %reason, ?retry_in, "websocket disconnected");
                        }
                        WsItem::Error(e) => {
                            bump(&stats.bad_frames);
                            tracing::warn!(target: "matterapi::ws", error = %e, "bad websocket frame");
                        }
                        WsItem::Event(_) => {}
                    }
                    if let Some(hook) = &self.on_connection
                        && let Err(p) = AssertUnwindSafe((hook.0)(item)).catch_unwind().await
                    {
                        bump(&stats.handler_errors);
                        tracing::error!(target: "matterapi::ws", panic = %panic_message(p), "connection callback panicked");
                    }
                }
            }
        }
        while let Some(done) = in_flight.join_next().await {
            record(done.unwrap_or_else(|e| Err(e.to_string())), stats);
        }
        match terminal {
            Some(e) => Err(e.into()),
            None => Ok(stats.snapshot()),
        }
    }

    /// [`EventStream::run`] for a plain (blocking) function: each call runs on tokio's blocking
    /// threads, so the runtime's workers stay free.
    pub async fn run_fn<H, E>(self, handler: H) -> crate::Result<WsStats>
    where
        H: Fn(Event) -> Result<(), E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        let handler = Arc::new(handler);
        self.run(move |ev| {
            let handler = handler.clone();
            async move {
                match tokio::task::spawn_blocking(move || handler(ev).map_err(Into::into)).await {
                    Ok(r) => r,
                    Err(join) if join.is_panic() => Err(panic_message(join.into_panic()).into()),
                    Err(join) => Err(Box::new(join) as BoxError),
                }
            }
        })
        .await
    }
}

impl futures_core::Stream for EventStream {
    type Item = WsItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WsItem>> {
        self.items.poll_recv(cx)
    }
}
