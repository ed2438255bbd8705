//! The public way in: the [`Websocket`] builder ([`Client::websocket`]) that resolves the settings
//! and makes the first connection, the background [`WsListener`] of a handler, and the `Client`
//! methods that start a listener ([`Client::start_ws`], [`Client::spawn_ws`],
//! [`Client::start_ws_fn`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::error::WsError;
use crate::generated::Client;
use crate::ws::backoff::Backoff;
use crate::ws::conn::{Driver, Status};
use crate::ws::dispatch::{
    ConnectionHook, Counters, EventStream, ResyncHook, RunSettings, WsStats,
};
use crate::ws::event::{Event, WsItem};
use crate::ws::handle::WsHandle;
use crate::ws::settings::Settings;
use crate::ws::transport::Transport;

/// Whether a listener logs in again when the server says its session was revoked or expired: the
/// named form of the `relogin` argument of [`Client::start_ws`], [`Client::spawn_ws`],
/// [`Client::start_ws_fn`], the blocking client's `start_ws_sync` and [`Websocket::relogin`].
/// Each takes a `Relogin` or a `bool` (`true` is [`Relogin::On`]), so `start_ws(handler, true)`
/// and `start_ws(handler, Relogin::On)` are the same call.
///
/// ```no_run
/// # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
/// use matterapi::ws::Relogin;
/// let handler = |ev: matterapi::ws::Event| async move {
///     println!("{}", ev.event_type());
///     Ok::<_, std::io::Error>(())
/// };
/// client.start_ws(handler, Relogin::Off).await?;
/// // the same, with the builder:
/// client.websocket().relogin(Relogin::Off).run(handler).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relogin {
    /// Log in again through [`Client::relogin`] (login credentials: a new session; a token: the
    /// token checked again) and go on listening. The default.
    #[default]
    On,
    /// End the listener with [`WsError::SessionRevoked`].
    Off,
}

impl From<bool> for Relogin {
    fn from(relogin: bool) -> Self {
        if relogin { Relogin::On } else { Relogin::Off }
    }
}

impl From<Relogin> for bool {
    fn from(relogin: Relogin) -> Self {
        relogin == Relogin::On
    }
}

/// Builds a websocket listener of a [`Client`]: [`Client::websocket`], settings, then
/// [`connect`](Websocket::connect) (stream) or [`run`](Websocket::run) (handler).
#[derive(Debug, Clone)]
#[must_use = "a websocket builder does nothing until connected"]
pub struct Websocket {
    client: Client,
    relogin: bool,
    ping_interval: Duration,
    ping_timeout: Duration,
    hello_timeout: Duration,
    action_timeout: Duration,
    close_timeout: Duration,
    queue: usize,
    buffer: usize,
    backoff: Backoff,
    concurrent: bool,
    max_in_flight: usize,
    on_resync: Option<ResyncHook>,
    on_connection: Option<ConnectionHook>,
    drain_timeout: Duration,
}

impl Websocket {
    fn new(client: Client) -> Websocket {
        let o = client.options();
        let backoff = Backoff::new(o.ws_reconnect_wait_time);
        let (concurrent, max_in_flight) = (o.ws_concurrent, o.ws_max_in_flight);
        Websocket {
            client,
            relogin: true,
            ping_interval: Duration::from_secs(30),
            ping_timeout: Duration::from_secs(30),
            hello_timeout: Duration::from_secs(10),
            action_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            queue: 256,
            buffer: 1024,
            backoff,
            concurrent,
            max_in_flight,
            on_resync: None,
            on_connection: None,
            drain_timeout: Duration::from_secs(30),
        }
    }

    /// Called by the handler-driven listeners ([`Websocket::run`], [`Websocket::spawn`],
    /// [`Client::start_ws`], ...) when the server could not resume the connection
    /// ([`WsItem::Resync`]: events may have been missed), before any later event is handed to the
    /// handler: the place to refetch over REST what matters. Awaited; the events after it wait.
    ///
    /// ```no_run
    /// # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
    /// let unread = client.clone();
    /// let listener = client
    ///     .websocket()
    ///     .on_resync(move || {
    ///         let client = unread.clone();
    ///         async move {
    ///             // e.g. refetch the channels' unread counts
    ///             let _ = client.get_user().user_id("me").send().await;
    ///         }
    ///     })
    ///     .spawn(|ev| async move { println!("{}", ev.event_type()); Ok::<_, std::io::Error>(()) })
    ///     .await?;
    /// let stats = listener.shutdown().await?;
    /// println!("{} events, {} resyncs", stats.events, stats.resyncs);
    /// # Ok(()) }
    /// ```
    pub fn on_resync<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_resync = Some(ResyncHook::new(f));
        self
    }

    /// Called by the handler-driven listeners ([`Websocket::run`], [`Websocket::spawn`], ...) with
    /// every item that is not an event: [`WsItem::Connected`], [`WsItem::Disconnected`] (the
    /// session renewed included), [`WsItem::Resync`] and bad frames ([`WsItem::Error`]), awaited in
    /// the order they came, before later events reach the handler. The terminal error is not
    /// passed: the listener returns it.
    ///
    /// ```no_run
    /// # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
    /// use matterapi::ws::WsItem;
    /// let listener = client
    ///     .websocket()
    ///     .on_connection(|item| async move {
    ///         if let WsItem::Disconnected { reason, retry_in } = item {
    ///             eprintln!("websocket down ({reason}); retrying in {retry_in:?}");
    ///         }
    ///     })
    ///     .spawn(|ev| async move { println!("{}", ev.event_type()); Ok::<_, std::io::Error>(()) })
    ///     .await?;
    /// println!("{} events so far", listener.stats().events);
    /// # Ok(()) }
    /// ```
    pub fn on_connection<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(WsItem) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_connection = Some(ConnectionHook::new(f));
        self
    }

    /// How long [`WsListener::shutdown`] waits for the handler calls in flight to finish
    /// (default 30 s); past it they are cancelled.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Log in again (through [`Client::relogin`]) when the server says the session was revoked or
    /// expired (default [`Relogin::On`], or `true`). With [`Relogin::Off`] (`false`), that ends
    /// the listener with [`WsError::SessionRevoked`].
    pub fn relogin(mut self, relogin: impl Into<Relogin>) -> Self {
        self.relogin = relogin.into().into();
        self
    }

    /// How often the `ping` action is sent (default 30 s, as the official web client).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long a `ping` action may go unanswered before the socket counts as dead (default 30 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// How long a new connection may take to authenticate (its `hello`, or the reply proving a
    /// resume) (default 10 s).
    pub fn hello_timeout(mut self, timeout: Duration) -> Self {
        self.hello_timeout = timeout;
        self
    }

    /// How long an action may wait for its reply (default 10 s).
    pub fn action_timeout(mut self, timeout: Duration) -> Self {
        self.action_timeout = timeout;
        self
    }

    /// How long a graceful close may take (default 2 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Items the stream holds for its consumer (default 256).
    pub fn queue_capacity(mut self, items: usize) -> Self {
        self.queue = items;
        self
    }

    /// Events the reader holds behind a full queue (default 1024). Past that it goes on reading
    /// (answering pings) but leaves events with the server, and resumes from the first one left
    /// once the consumer has taken half of the buffer. The server keeps 128 events per connection:
    /// a consumer more than that behind gets [`WsItem::Resync`].
    pub fn buffer(mut self, items: usize) -> Self {
        self.buffer = items;
        self
    }

    /// The reconnect policy (default: [`Backoff::new`] with the options' `ws_reconnect_wait_time`).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Run handlers concurrently (default: the options' `ws_concurrent`).
    pub fn concurrent(mut self, concurrent: bool) -> Self {
        self.concurrent = concurrent;
        self
    }

    /// At most this many handlers in flight when concurrent (default: the options'
    /// `ws_max_in_flight`).
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    fn settings(&self) -> Result<Settings, WsError> {
        let o = self.client.options();
        let raw_url = o.websocket_url();
        let url = reqwest::Url::parse(&raw_url).map_err(|e| {
            WsError::Config(format!(
                "websocket URL `{}`: {e}",
                crate::redact::masked(&raw_url)
            ))
        })?;
        for (name, d) in [
            ("ping_interval", self.ping_interval),
            ("ping_timeout", self.ping_timeout),
            ("hello_timeout", self.hello_timeout),
            ("action_timeout", self.action_timeout),
        ] {
            if d.is_zero() {
                return Err(WsError::Config(format!("`{name}` must be more than zero")));
            }
        }
        if self.queue == 0 || self.buffer == 0 || self.max_in_flight == 0 {
            return Err(WsError::Config(
                "`queue_capacity`, `buffer` and `max_in_flight` must be at least 1".into(),
            ));
        }
        Ok(Settings {
            url,
            relogin: self.relogin,
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            hello_timeout: self.hello_timeout,
            connect_timeout: o.timeout,
            write_timeout: o.timeout,
            close_timeout: self.close_timeout,
            buffer: self.buffer,
            max_message_size: o.max_body_size,
            user_agent: crate::net::user_agent(o),
        })
    }

    /// Connects (the first connection is made before this returns) and starts the background
    /// task. Only terminal failures are errors: a bad configuration, no credentials, a token the
    /// server rejects, a first connection that cannot be made. Everything later (drops, reconnects,
    /// a revoked session) arrives as items of the stream.
    pub async fn connect(self) -> crate::Result<(WsHandle, EventStream)> {
        let settings = Arc::new(self.settings()?);
        let transport = Arc::new(Transport::new(self.client.options(), &settings.url)?);
        let (items_tx, items_rx) = mpsc::channel(self.queue);
        let (commands_tx, commands_rx) = mpsc::channel(64);
        let (status_tx, status_rx) = watch::channel(Status::default());
        let mut driver = Driver::new(
            self.client.clone(),
            settings.clone(),
            transport,
            items_tx,
            commands_rx,
            status_tx,
            self.backoff.clone(),
        );
        let (opened, token) = driver.first_connect().await?;
        let conn = driver.start(opened, token);
        tokio::spawn(driver.run(conn));
        let stats = Arc::new(Counters::default());
        let handle = WsHandle::new(
            commands_tx,
            status_rx,
            self.action_timeout,
            settings.close_timeout,
            stats.clone(),
        );
        let run = RunSettings {
            concurrent: self.concurrent,
            max_in_flight: self.max_in_flight,
            on_resync: self.on_resync.clone(),
            on_connection: self.on_connection.clone(),
        };
        Ok((handle, EventStream::new(items_rx, run, stats)))
    }

    /// Connects and calls `handler` for each event until the listener ends (see
    /// [`EventStream::run`]).
    pub async fn run<H, Fut, E>(self, handler: H) -> crate::Result<WsStats>
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (_handle, stream) = self.connect().await?;
        stream.run(handler).await
    }

    /// Connects (the first connection is made before this returns, as with
    /// [`connect`](Websocket::connect)) and calls `handler` for each event in a background task
    /// (see [`EventStream::run`]); the returned [`WsListener`] sends actions, shuts the listener
    /// down, or waits for it to end.
    pub async fn spawn<H, Fut, E>(self, handler: H) -> crate::Result<WsListener>
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let drain_timeout = self.drain_timeout;
        let (handle, stream) = self.connect().await?;
        let task = tokio::spawn(stream.run(handler));
        Ok(WsListener {
            handle,
            task: Some(task),
            drain_timeout,
        })
    }

    /// Connects and calls the plain function `handler` for each event (see
    /// [`EventStream::run_fn`]).
    pub async fn run_fn<H, E>(self, handler: H) -> crate::Result<WsStats>
    where
        H: Fn(Event) -> Result<(), E> + Send + Sync + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (_handle, stream) = self.connect().await?;
        stream.run_fn(handler).await
    }
}

/// A handler-driven listener running in the background ([`Websocket::spawn`],
/// [`Client::spawn_ws`]). Dropping it stops the listener (in-flight handler calls are cancelled);
/// [`WsListener::shutdown`] stops it gracefully and returns what it saw.
#[derive(Debug)]
pub struct WsListener {
    handle: WsHandle,
    task: Option<tokio::task::JoinHandle<crate::Result<WsStats>>>,
    drain_timeout: Duration,
}

impl WsListener {
    /// The handle: actions, connection state, [`WsHandle::disconnect`].
    pub fn handle(&self) -> &WsHandle {
        &self.handle
    }

    /// What the listener has seen so far ([`WsHandle::stats`]).
    pub fn stats(&self) -> WsStats {
        self.handle.stats()
    }

    /// Closes the connection gracefully, lets the handler calls in flight finish (at most the
    /// drain timeout, 30 s by default; past it they are cancelled and this is
    /// [`WsError::DrainTimeout`]), and returns what the listener saw, or the terminal error that
    /// had already ended it.
    pub async fn shutdown(mut self) -> crate::Result<WsStats> {
        self.handle.shutdown().await;
        let Some(mut task) = self.task.take() else {
            return Err(WsError::Stopped.into());
        };
        match tokio::time::timeout(self.drain_timeout, &mut task).await {
            Ok(joined) => joined_result(joined),
            Err(_) => {
                task.abort();
                Err(WsError::DrainTimeout {
                    timeout: self.drain_timeout,
                }
                .into())
            }
        }
    }

    /// Waits until the listener ends by itself (a terminal error, or a shutdown through a clone of
    /// its handle), like [`Client::start_ws`].
    pub async fn wait(mut self) -> crate::Result<WsStats> {
        match self.task.take() {
            Some(task) => joined_result(task.await),
            None => Err(WsError::Stopped.into()),
        }
    }

    /// Whether the listener has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }
}

fn joined_result(
    joined: Result<crate::Result<WsStats>, tokio::task::JoinError>,
) -> crate::Result<WsStats> {
    match joined {
        Ok(result) => result,
        Err(e) => Err(WsError::TaskFailed(e).into()),
    }
}

impl Drop for WsListener {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Client {
    /// A websocket listener for this client (same server, token, TLS and proxy settings).
    pub fn websocket(&self) -> Websocket {
        Websocket::new(self.clone())
    }

    /// Listens and calls the async `handler` for each event until a terminal error: concurrently
    /// (at most `ws_max_in_flight` at once) when the options' `ws_concurrent` is on, else one at a
    /// time in order. Handler errors and panics are logged and counted, not fatal. With `relogin`,
    /// a revoked session is renewed through [`Client::relogin`] (`relogin` is a `bool` or, by
    /// name, a [`Relogin`]: `start_ws(handler, Relogin::On)`). For a graceful shutdown use
    /// [`Client::spawn_ws`]; to be told of a `Resync`, [`Websocket::on_resync`].
    ///
    /// ```no_run
    /// # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
    /// client
    ///     .start_ws(
    ///         |ev| async move {
    ///             println!("{} {}", ev.event_type(), ev.raw());
    ///             Ok::<(), std::io::Error>(())
    ///         },
    ///         true,
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_ws<H, Fut, E>(
        &self,
        handler: H,
        relogin: impl Into<Relogin>,
    ) -> crate::Result<WsStats>
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.websocket().relogin(relogin).run(handler).await
    }

    /// [`Client::start_ws`] in the background: returns once the first connection is up, with a
    /// [`WsListener`] to shut the listener down (gracefully, with its [`WsStats`]) or send actions.
    /// Use [`Client::websocket`] for more settings ([`Websocket::on_resync`] above all).
    ///
    /// ```no_run
    /// # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
    /// let listener = client
    ///     .spawn_ws(|ev| async move { println!("{}", ev.event_type()); Ok::<_, std::io::Error>(()) }, true)
    ///     .await?;
    /// // ... later
    /// let stats = listener.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn spawn_ws<H, Fut, E>(
        &self,
        handler: H,
        relogin: impl Into<Relogin>,
    ) -> crate::Result<WsListener>
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        self.websocket().relogin(relogin).spawn(handler).await
    }

    /// [`Client::start_ws`] for a plain (blocking) function, run on tokio's blocking threads.
    pub async fn start_ws_fn<H, E>(
        &self,
        handler: H,
        relogin: impl Into<Relogin>,
    ) -> crate::Result<WsStats>
    where
        H: Fn(Event) -> Result<(), E> + Send + Sync + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.websocket().relogin(relogin).run_fn(handler).await
    }
}
