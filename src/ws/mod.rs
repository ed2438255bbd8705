//! The websocket listener: Mattermost's event stream, that never silently loses an event.
//!
//! Two ways to listen:
//!
//! - A [`Stream`](futures_core::Stream) of [`WsItem`]s with a [`WsHandle`] to send actions:
//!
//!   ```no_run
//!   # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//!   use futures_util::StreamExt;
//!   use matterapi::ws::{EventKind, WsItem};
//!
//!   let client = matterapi::Client::with_token("https://chat.example.com", "a token")?;
//!   let (handle, mut events) = client.websocket().connect().await?;
//!   while let Some(item) = events.next().await {
//!       match item {
//!           WsItem::Event(ev) => {
//!               if let EventKind::Posted(p) = &ev.kind {
//!                   println!("{}", p.post.message.as_deref().unwrap_or(""));
//!               }
//!           }
//!           WsItem::Resync => { /* events may have been missed: refetch over REST */ }
//!           WsItem::Error(e) if e.is_terminal() => return Err(e.into()),
//!           other => println!("{other:?}"),
//!       }
//!   }
//!   # drop(handle);
//!   # Ok(()) }
//!   ```
//!
//! - A handler called for each event, concurrently (at most
//!   [`Options::ws_max_in_flight`](crate::Options::ws_max_in_flight) at once) or one at a time in
//!   order ([`Options::ws_concurrent`](crate::Options::ws_concurrent) `= false`):
//!   [`Client::start_ws`] (async handlers), [`Client::start_ws_fn`] (plain functions), and
//!   `start_ws_sync` on the blocking client. A handler's error is logged and counted, never fatal.
//!
//! What the listener does for you (see `conn.rs` for the state machine):
//!
//! - Authenticates with `Authorization: Bearer` on the upgrade (never an `Origin` header), with the
//!   authentication challenge as fallback. A token rejected at the first connection is an error
//!   from `connect()`; a session revoked later (the `ping` action answers `not_authenticated`) leads
//!   to [`Client::relogin`] when allowed and credentials exist, else to a terminal error.
//! - Checks `seq` on every event; after a drop, a gap or a dead socket it resumes with
//!   `connection_id` and `sequence_number` so the server replays what was missed. When the server
//!   cannot (the connection was forgotten), it says so with [`WsItem::Resync`].
//! - Answers the server's pings from a reader that never waits for user code, sends the `ping`
//!   action every 30 s and treats a missing reply as a dead socket.
//! - Reconnects with [`Backoff`] (jitter, growth after repeated failures, reset after a stable
//!   connection), through the options' proxy and TLS settings.
//! - Keeps memory bounded: a slow consumer fills a bounded queue, then a bounded buffer behind it;
//!   past that the reader keeps reading (and answering pings) but leaves events with the server,
//!   and resumes from the first one it left once the consumer has caught up.
//! - Surfaces binary frames, invalid JSON and unexpected shapes as [`WsItem::Error`] with the raw
//!   frame, and goes on.

mod backoff;
mod conn;
mod decide;
mod dispatch;
mod error;
mod event;
mod handshake;
mod transport;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

pub use backoff::Backoff;
pub use dispatch::WsStats;
pub use error::{BadFrameKind, WsError};
pub use event::{
    Broadcast, ChannelDeleted, ChannelMemberUpdated, ChannelRef, ChannelUpdated, DirectAdded,
    EmojiAdded, Event, EventKind, Frame, GroupAdded, Hello, MultipleChannelsViewed, PostDeleted,
    PostEdited, Posted, Preferences, ReactionChanged, Reply, ReplyError, StatusChange,
    TeamMembership, TeamUpdated, Typing, UserAdded, UserRef, UserRemoved, UserRoleUpdated,
    UserUpdated,
};

use crate::generated::Client;
use conn::{Command, Driver, Settings, Status};
use transport::Transport;

/// One item of an [`EventStream`]: an event, or what happened to the connection.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // events are the common case: no allocation for them
pub enum WsItem {
    /// A connection is up: a new one (after its `hello`) or a resumed one (`resumed`: the server
    /// replays what it sent meanwhile). When events may still have been missed, a
    /// [`WsItem::Resync`] follows at once: a new connection after an earlier one, a resume with
    /// another token than the last connection's (the server sends nothing, and numbers nothing,
    /// for a connection whose session is revoked), items dropped past the buffer.
    Connected {
        /// The connection's id.
        connection_id: String,
        /// Whether the previous connection was resumed.
        resumed: bool,
    },
    /// Events may have been lost: the server started a new connection instead of resuming the
    /// previous one (it was forgotten, or too far behind), the connection resumed with a new token
    /// after the old session was revoked, or items the server cannot replay were dropped while the
    /// consumer was behind. Refetch what matters over REST.
    Resync,
    /// The connection was lost; the next attempt comes after `retry_in`.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
        /// The wait before the next attempt.
        retry_in: Duration,
    },
    /// An event.
    Event(Event),
    /// A frame that could not be understood (the connection goes on), or, when
    /// [`WsError::is_terminal`], the error that ended the listener (the stream ends after it).
    Error(WsError),
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server closed the connection.
    ClosedByServer {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The connection broke (a read or write error, or an end without a close frame).
    Network(String),
    /// No reply to the `ping` action in time: the socket was dead (closed with code 4000).
    PingTimeout,
    /// An event's `seq` skipped numbers: closed (code 4001) to resume from the first one missed.
    SequenceGap {
        /// The `seq` expected.
        expected: i64,
        /// The `seq` received.
        received: i64,
    },
    /// The session was revoked or expired, or the token refused; the listener logged in again.
    SessionRenewed,
    /// The client's token changed (a relogin after a REST call's 401, [`Client::set_token`]): the
    /// listener reconnects with the new one at once, and says [`WsItem::Resync`] once connected
    /// (events sent while the old session was invalid are lost without a gap in `seq`).
    TokenChanged,
    /// The server sent a number the listener cannot go on from (an event or `hello` `seq` at the
    /// end of its range): a new connection is started.
    BadNumbers(String),
    /// The consumer fell behind by more than the buffer: the events past it were left with the
    /// server, and the listener resumed from the first of them once the consumer caught up.
    Overflow,
    /// A connection attempt failed.
    ConnectFailed(String),
    /// [`WsHandle::disconnect`] was called.
    Requested,
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::ClosedByServer { code, reason } if reason.is_empty() => {
                write!(f, "closed by the server (code {code})")
            }
            DisconnectReason::ClosedByServer { code, reason } => {
                write!(f, "closed by the server (code {code}: {reason})")
            }
            DisconnectReason::Network(e) => write!(f, "connection lost: {e}"),
            DisconnectReason::PingTimeout => f.write_str("no reply to the ping action"),
            DisconnectReason::SequenceGap { expected, received } => {
                write!(f, "sequence gap (expected {expected}, received {received})")
            }
            DisconnectReason::SessionRenewed => f.write_str("session revoked; logged in again"),
            DisconnectReason::TokenChanged => f.write_str("the client's token changed"),
            DisconnectReason::BadNumbers(e) => {
                write!(f, "cannot go on from the server's numbers: {e}")
            }
            DisconnectReason::Overflow => f.write_str("resuming after the consumer fell behind"),
            DisconnectReason::ConnectFailed(e) => write!(f, "connection attempt failed: {e}"),
            DisconnectReason::Requested => f.write_str("disconnect requested"),
        }
    }
}

/// Where the user is looking, for the `presence` action (which decides what the server counts as
/// read and where it sends some events).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Presence {
    /// The active channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The active team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The channel of the open thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_channel_id: Option<String>,
    /// Whether the thread is open in the thread view (else in the right-hand side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_thread_view: Option<bool>,
}

impl Presence {
    /// Looking at a channel.
    pub fn channel(channel_id: impl Into<String>) -> Presence {
        Presence {
            channel_id: Some(channel_id.into()),
            ..Presence::default()
        }
    }

    /// Looking at a team.
    pub fn team(team_id: impl Into<String>) -> Presence {
        Presence {
            team_id: Some(team_id.into()),
            ..Presence::default()
        }
    }

    /// Looking at a thread of `channel_id`, in the thread view or the right-hand side.
    pub fn thread(channel_id: impl Into<String>, is_thread_view: bool) -> Presence {
        Presence {
            thread_channel_id: Some(channel_id.into()),
            is_thread_view: Some(is_thread_view),
            ..Presence::default()
        }
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
    on_resync: Option<dispatch::ResyncHook>,
    on_connection: Option<dispatch::ConnectionHook>,
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
        self.on_resync = Some(dispatch::ResyncHook::new(f));
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
        self.on_connection = Some(dispatch::ConnectionHook::new(f));
        self
    }

    /// How long [`WsListener::shutdown`] waits for the handler calls in flight to finish
    /// (default 30 s); past it they are cancelled.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Log in again (through [`Client::relogin`]) when the server says the session was revoked or
    /// expired (default true). Without it, that ends the listener with
    /// [`WsError::SessionRevoked`].
    pub fn relogin(mut self, relogin: bool) -> Self {
        self.relogin = relogin;
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
                crate::options::masked(&raw_url)
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
            user_agent: o
                .user_agent
                .clone()
                .unwrap_or_else(|| concat!("matterapi-rust/", env!("CARGO_PKG_VERSION")).into()),
        })
    }

    /// Connects (the first connection is made before this returns) and starts the background
    /// task. Only terminal failures are errors: a bad configuration, no credentials, a token the
    /// server rejects, a first connection that cannot be made. Everything later (drops, reconnects,
    /// a revoked session) arrives as items of the stream.
    pub async fn connect(self) -> Result<(WsHandle, EventStream), WsError> {
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
        let stats = Arc::new(dispatch::Counters::default());
        let handle = WsHandle {
            commands: commands_tx,
            status: status_rx,
            action_timeout: self.action_timeout,
            close_timeout: settings.close_timeout,
            stats: stats.clone(),
        };
        let stream = EventStream {
            items: items_rx,
            concurrent: self.concurrent,
            max_in_flight: self.max_in_flight,
            on_resync: self.on_resync.clone(),
            on_connection: self.on_connection.clone(),
            stats,
        };
        Ok((handle, stream))
    }

    /// Connects and calls `handler` for each event until the listener ends (see
    /// [`EventStream::run`]).
    pub async fn run<H, Fut, E>(self, handler: H) -> Result<WsStats, WsError>
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
    pub async fn spawn<H, Fut, E>(self, handler: H) -> Result<WsListener, WsError>
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
    pub async fn run_fn<H, E>(self, handler: H) -> Result<WsStats, WsError>
    where
        H: Fn(Event) -> Result<(), E> + Send + Sync + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (_handle, stream) = self.connect().await?;
        stream.run_fn(handler).await
    }
}

/// Sends actions on the listener's connection and controls it. Cheap to clone. The listener stops
/// when every handle and its [`EventStream`] are dropped, or at [`WsHandle::shutdown`].
#[derive(Debug, Clone)]
pub struct WsHandle {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
    action_timeout: Duration,
    close_timeout: Duration,
    stats: Arc<dispatch::Counters>,
}

impl WsHandle {
    /// Sends `action` with `data` and waits for its reply (at most the action timeout). A `FAIL`
    /// reply is [`WsError::ActionFailed`]; a connection lost before the reply is
    /// [`WsError::NotConnected`] (the action may or may not have been carried out).
    pub async fn send_action(
        &self,
        action: &str,
        data: Option<serde_json::Value>,
    ) -> Result<Reply, WsError> {
        let deadline = tokio::time::Instant::now() + self.action_timeout;
        let timed_out = || WsError::ActionTimeout {
            action: action.to_owned(),
            timeout: self.action_timeout,
        };
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Action {
            action: action.to_owned(),
            data,
            reply: tx,
        };
        match tokio::time::timeout_at(deadline, self.commands.send(cmd)).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(_)) => return Err(WsError::Stopped),
            Ok(Ok(())) => {}
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => Err(timed_out()),
            Ok(Err(_)) => Err(WsError::Stopped),
            Ok(Ok(result)) => result,
        }
    }

    /// Tells the channel's members that the user is typing (`user_typing`), in a thread when
    /// `parent_id` is given.
    pub async fn user_typing(
        &self,
        channel_id: &str,
        parent_id: Option<&str>,
    ) -> Result<(), WsError> {
        let data =
            serde_json::json!({ "channel_id": channel_id, "parent_id": parent_id.unwrap_or("") });
        self.send_action("user_typing", Some(data))
            .await
            .map(|_| ())
    }

    /// The statuses of the users the server tracks for this connection (`get_statuses`): user id
    /// -> `online`, `away`, `dnd` or `offline`.
    pub async fn get_statuses(&self) -> Result<std::collections::HashMap<String, String>, WsError> {
        let reply = self.send_action("get_statuses", None).await?;
        statuses(reply)
    }

    /// The statuses of the given users (`get_statuses_by_ids`).
    pub async fn get_statuses_by_ids<I, S>(
        &self,
        user_ids: I,
    ) -> Result<std::collections::HashMap<String, String>, WsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = user_ids.into_iter().map(Into::into).collect();
        let reply = self
            .send_action(
                "get_statuses_by_ids",
                Some(serde_json::json!({ "user_ids": ids })),
            )
            .await?;
        statuses(reply)
    }

    /// Sets whether the user is active (`user_update_active_status`); `manual` marks a change the
    /// user made.
    pub async fn user_update_active_status(
        &self,
        active: bool,
        manual: bool,
    ) -> Result<(), WsError> {
        let data = serde_json::json!({ "user_is_active": active, "manual": manual });
        self.send_action("user_update_active_status", Some(data))
            .await
            .map(|_| ())
    }

    /// Tells the server where the user is looking (`presence`).
    pub async fn presence(&self, presence: &Presence) -> Result<(), WsError> {
        let data = serde_json::to_value(presence)
            .map_err(|e| WsError::Config(format!("presence: {e}")))?;
        self.send_action("presence", Some(data)).await.map(|_| ())
    }

    /// Acknowledges a `posted` event that asked for it (`posted_notify_ack`).
    pub async fn posted_notify_ack(
        &self,
        post_id: &str,
        status: &str,
        reason: &str,
    ) -> Result<(), WsError> {
        let data = serde_json::json!({ "post_id": post_id, "status": status, "reason": reason });
        self.send_action("posted_notify_ack", Some(data))
            .await
            .map(|_| ())
    }

    /// The `ping` action: its reply carries the server's version and time.
    pub async fn ping(&self) -> Result<Reply, WsError> {
        self.send_action("ping", None).await
    }

    /// Drops the current socket at once, without a close frame, as a network failure would; the
    /// listener reconnects and resumes (without the rest of any backoff wait in progress). Useful
    /// after a network change, and in tests.
    pub async fn disconnect(&self) -> Result<(), WsError> {
        match tokio::time::timeout(self.action_timeout, self.commands.send(Command::Disconnect))
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WsError::Stopped),
            Err(_) => Err(WsError::ActionTimeout {
                action: "disconnect".into(),
                timeout: self.action_timeout,
            }),
        }
    }

    /// Closes the connection gracefully (a close frame, bounded by the close timeout) and stops
    /// the listener; the stream ends after the items already received. Returns when the socket is
    /// closed, or after the close and action timeouts at most.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        let limit = self.action_timeout + self.close_timeout;
        let _ = tokio::time::timeout(limit, async {
            if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
                let _ = rx.await;
            }
        })
        .await;
    }

    /// The current (or last) connection's id.
    pub fn connection_id(&self) -> Option<String> {
        self.status.borrow().connection_id.clone()
    }

    /// Whether a connection is up now.
    pub fn is_connected(&self) -> bool {
        self.status.borrow().connected
    }

    /// Whether the listener has stopped.
    pub fn is_stopped(&self) -> bool {
        self.status.borrow().stopped
    }

    /// What the handler-driven listener of this connection has seen so far (events handled,
    /// handler errors, bad frames, reconnects, resyncs). All zero for a listener consumed as a
    /// stream: the counts are kept by [`EventStream::run`].
    pub fn stats(&self) -> WsStats {
        self.stats.snapshot()
    }
}

/// A handler-driven listener running in the background ([`Websocket::spawn`],
/// [`Client::spawn_ws`]). Dropping it stops the listener (in-flight handler calls are cancelled);
/// [`WsListener::shutdown`] stops it gracefully and returns what it saw.
#[derive(Debug)]
pub struct WsListener {
    handle: WsHandle,
    task: Option<tokio::task::JoinHandle<Result<WsStats, WsError>>>,
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
    /// [`WsError::ActionTimeout`]), and returns what the listener saw, or the terminal error that
    /// had already ended it.
    pub async fn shutdown(mut self) -> Result<WsStats, WsError> {
        self.handle.shutdown().await;
        let Some(mut task) = self.task.take() else {
            return Err(WsError::Stopped);
        };
        match tokio::time::timeout(self.drain_timeout, &mut task).await {
            Ok(joined) => joined_result(joined),
            Err(_) => {
                task.abort();
                Err(WsError::ActionTimeout {
                    action: "shutdown".into(),
                    timeout: self.drain_timeout,
                })
            }
        }
    }

    /// Waits until the listener ends by itself (a terminal error, or a shutdown through a clone of
    /// its handle), like [`Client::start_ws`].
    pub async fn wait(mut self) -> Result<WsStats, WsError> {
        match self.task.take() {
            Some(task) => joined_result(task.await),
            None => Err(WsError::Stopped),
        }
    }

    /// Whether the listener has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }
}

fn joined_result(
    joined: Result<Result<WsStats, WsError>, tokio::task::JoinError>,
) -> Result<WsStats, WsError> {
    match joined {
        Ok(result) => result,
        Err(e) => Err(WsError::NotConnected {
            action: "listener".into(),
            reason: format!("the listener task ended abnormally: {e}"),
        }),
    }
}

impl Drop for WsListener {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn statuses(reply: Reply) -> Result<std::collections::HashMap<String, String>, WsError> {
    serde_json::from_value(reply.data.clone()).map_err(|e| WsError::BadFrame {
        kind: BadFrameKind::UnexpectedShape,
        detail: format!("statuses: {e}"),
        raw: bytes::Bytes::from(reply.data.to_string()),
    })
}

/// The listener's items, as a [`Stream`](futures_core::Stream). Ends after the listener stops
/// (after a terminal [`WsItem::Error`], or a shutdown).
#[derive(Debug)]
pub struct EventStream {
    items: mpsc::Receiver<WsItem>,
    concurrent: bool,
    max_in_flight: usize,
    on_resync: Option<dispatch::ResyncHook>,
    on_connection: Option<dispatch::ConnectionHook>,
    stats: Arc<dispatch::Counters>,
}

impl EventStream {
    /// The next item (`None` once the listener has stopped and everything was taken).
    pub async fn recv(&mut self) -> Option<WsItem> {
        self.items.recv().await
    }
}

impl futures_core::Stream for EventStream {
    type Item = WsItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WsItem>> {
        self.items.poll_recv(cx)
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
    /// a revoked session is renewed through [`Client::relogin`]. For a graceful shutdown use
    /// [`Client::spawn_ws`]; to be told of a `Resync`, [`Websocket::on_resync`].
    ///
    /// ```no_run
    /// # async fn run(client: matterapi::Client) -> Result<(), matterapi::ws::WsError> {
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
    pub async fn start_ws<H, Fut, E>(&self, handler: H, relogin: bool) -> Result<WsStats, WsError>
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
        relogin: bool,
    ) -> Result<WsListener, WsError>
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        self.websocket().relogin(relogin).spawn(handler).await
    }

    /// [`Client::start_ws`] for a plain (blocking) function, run on tokio's blocking threads.
    pub async fn start_ws_fn<H, E>(&self, handler: H, relogin: bool) -> Result<WsStats, WsError>
    where
        H: Fn(Event) -> Result<(), E> + Send + Sync + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.websocket().relogin(relogin).run_fn(handler).await
    }
}
