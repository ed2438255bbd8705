//! The connection state machine: one background task per listener that owns the socket.
//!
//! ```text
//!            first_connect (in connect(): a rejected token is an Err)
//!                  |
//!                  v
//!   +--> open: TCP/proxy/TLS, upgrade with `Authorization: Bearer`, then the handshake:
//!   |      `ping` action at once; `hello` => new connection (Resync if there was one before);
//!   |      a replayed event or the ping's OK after a resume request => resumed (no hello awaited);
//!   |      `not_authenticated` => authentication challenge; a close after it => rejected
//!   |            |
//!   |            v
//!   |    serve: read every frame (pongs go out while reading), check `seq` (gap => close 4001),
//!   |      deliver into the bounded queue, send actions, `ping` action every interval (no reply
//!   |      in time => close 4000); events past a full buffer are left with the server
//!   |            |
//!   |            v   lost / gap / dead / revoked (relogin) / overflow (once the consumer caught up)
//!   +---- backoff wait (Disconnected { reason, retry_in }), resume with
//!          `connection_id` + `sequence_number` = last seq + 1
//! ```
//!
//! The task never runs user code: handlers consume the queue in other tasks, so the reader keeps
//! reading (and answering the server's pings and the `ping` action's replies) while they run. A slow
//! consumer fills the queue, then a bounded buffer behind it. Past that the reader goes on reading
//! but leaves the events with the server (it keeps the last 128 sent per connection): it does not
//! count them as received, and once the consumer has taken half of the buffer it closes the socket
//! and resumes from the first event it left, so nothing is lost and memory stays bounded.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, Sleep, sleep_until, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

use crate::generated::Client;
use crate::options::Auth;
use crate::ws::backoff::{Backoff, Jitter};
use crate::ws::error::{BadFrameKind, WsError};
use crate::ws::event::{self, Event, EventKind, Frame, Parsed, Reply};
use crate::ws::transport::{Stream, Transport};
use crate::ws::{DisconnectReason, WsItem};

/// The server closes the connection on client messages larger than this.
pub(crate) const MAX_CLIENT_MESSAGE: usize = 8 * 1024;

/// The resolved settings of one listener.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) url: Url,
    pub(crate) relogin: bool,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) hello_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) buffer: usize,
    pub(crate) user_agent: String,
    /// The longest message accepted (the options' `max_body_size`).
    pub(crate) max_message_size: usize,
}

/// What the handle can see of the connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Status {
    pub(crate) connection_id: Option<String>,
    pub(crate) connected: bool,
    pub(crate) stopped: bool,
}

/// A request from a [`WsHandle`](crate::ws::WsHandle) to the task.
#[derive(Debug)]
pub(crate) enum Command {
    Action {
        action: String,
        data: Option<serde_json::Value>,
        reply: oneshot::Sender<Result<Reply, WsError>>,
    },
    Disconnect,
    Shutdown(oneshot::Sender<()>),
}

pub(crate) type Ws = WebSocketStream<Stream>;

/// Why a connection attempt failed.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Try again later.
    Retry(String),
    /// The token was not accepted.
    Rejected,
    /// Trying again cannot help.
    Fatal(WsError),
}

/// A connection that passed the handshake.
pub(crate) struct Opened {
    ws: Ws,
    hello: Option<Box<Event>>,
    early: VecDeque<Message>,
    next_action: i64,
}

/// Why `serve` returned.
enum End {
    Lost(DisconnectReason),
    Revoked,
    Shutdown(oneshot::Sender<()>),
    Stop,
}

/// The state kept across connections.
#[derive(Debug, Default)]
struct Session {
    connection_id: Option<String>,
    /// The `seq` the next event must have.
    next_seq: i64,
    /// Logged in again since the last accepted connection.
    relogged: bool,
    /// Events past the buffer are being left with the server (the resume point is `next_seq`).
    overflow: bool,
}

struct Waiter {
    action: String,
    tx: oneshot::Sender<Result<Reply, WsError>>,
}

/// One live socket.
pub(crate) struct Conn {
    ws: Ws,
    early: VecDeque<Message>,
    next_action: i64,
    replies: HashMap<i64, Waiter>,
    /// The outstanding `ping` action: its seq and when it was sent.
    ping: Option<(i64, Instant)>,
    next_ping: Instant,
    since: Instant,
    timer: Pin<Box<Sleep>>,
    timer_at: Instant,
}

impl Conn {
    fn deadline(&self, s: &Settings) -> Instant {
        match self.ping {
            Some((_, sent)) => self.next_ping.min(sent + s.ping_timeout),
            None => self.next_ping,
        }
    }

    fn fail_waiters(&mut self, reason: &str) {
        for (_, w) in self.replies.drain() {
            let _ = w.tx.send(Err(WsError::NotConnected {
                action: w.action,
                reason: reason.to_owned(),
            }));
        }
    }
}

/// The background task of one listener.
pub(crate) struct Driver {
    client: Client,
    settings: Arc<Settings>,
    transport: Arc<Transport>,
    items: mpsc::Sender<WsItem>,
    pending: VecDeque<WsItem>,
    commands: mpsc::Receiver<Command>,
    commands_open: bool,
    consumer_gone: bool,
    session: Session,
    backoff: Backoff,
    jitter: Jitter,
    status: watch::Sender<Status>,
}

/// `{"seq":n,"action":"...","data":{...}}`.
pub(crate) fn request_text(seq: i64, action: &str, data: Option<&serde_json::Value>) -> String {
    #[derive(serde::Serialize)]
    struct Request<'a> {
        seq: i64,
        action: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a serde_json::Value>,
    }
    serde_json::to_string(&Request { seq, action, data })
        .unwrap_or_else(|_| format!("{{\"seq\":{seq},\"action\":\"ping\"}}"))
}

async fn send_text(ws: &mut Ws, text: String, limit: Duration) -> Result<(), String> {
    match timeout(limit, ws.send(Message::text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("sending failed: {e}")),
        Err(_) => Err(format!("sending took more than {limit:?}")),
    }
}

/// Sends a close frame (bounded by `limit`), then drops the socket.
async fn close_with(mut ws: Ws, code: u16, reason: &str, limit: Duration) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = timeout(limit, ws.close(Some(frame))).await;
}

/// Closes gracefully: close frame, then reading until the server's close (bounded by `limit`).
async fn close_gracefully(mut ws: Ws, limit: Duration) {
    let _ = timeout(limit, async {
        let normal = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        if ws.close(Some(normal)).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// Connects, upgrades and authenticates one socket. `resume` is the connection id and the
/// sequence number to resume from.
pub(crate) async fn open(
    transport: Arc<Transport>,
    settings: Arc<Settings>,
    token: Option<SecretString>,
    resume: Option<(String, i64)>,
) -> Result<Opened, Attempt> {
    let token = token.ok_or(Attempt::Fatal(WsError::NoCredentials))?;
    let mut url = settings.url.clone();
    if let Some((id, seq)) = &resume {
        url.query_pairs_mut()
            .append_pair("connection_id", id)
            .append_pair("sequence_number", &seq.to_string());
    }
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Attempt::Fatal(WsError::Config(format!("websocket URL: {e}"))))?;
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
        .map_err(|_| Attempt::Fatal(WsError::Config("the token is not a valid header".into())))?;
    auth.set_sensitive(true);
    request.headers_mut().insert(header::AUTHORIZATION, auth);
    if let Ok(ua) = HeaderValue::from_str(&settings.user_agent) {
        request.headers_mut().insert(header::USER_AGENT, ua);
    }
    let stream = transport.connect(&url).await.map_err(Attempt::Retry)?;
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(settings.max_message_size))
        .max_frame_size(Some(settings.max_message_size));
    let upgrade = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
    let ws = match timeout(settings.connect_timeout, upgrade).await {
        Ok(Ok((ws, _response))) => ws,
        Ok(Err(tungstenite::Error::Http(resp))) if resp.status().as_u16() == 401 => {
            return Err(Attempt::Rejected);
        }
        Ok(Err(e)) => return Err(Attempt::Retry(format!("websocket upgrade: {e}"))),
        Err(_) => {
            return Err(Attempt::Retry(format!(
                "the websocket upgrade took more than {:?}",
                settings.connect_timeout
            )));
        }
    };
    handshake(ws, &token, resume.is_some(), &settings).await
}

/// Proves the socket is authenticated (see the module docs).
async fn handshake(
    mut ws: Ws,
    token: &SecretString,
    resume: bool,
    s: &Settings,
) -> Result<Opened, Attempt> {
    send_text(&mut ws, request_text(1, "ping", None), s.write_timeout)
        .await
        .map_err(Attempt::Retry)?;
    let mut next_action = 2;
    let mut challenge: Option<i64> = None;
    let mut early = VecDeque::new();
    let deadline = Instant::now() + s.hello_timeout;
    let fail = |challenge: Option<i64>, reason: String| {
        if challenge.is_some() {
            Attempt::Rejected
        } else {
            Attempt::Retry(reason)
        }
    };
    loop {
        let msg = match timeout_at(deadline, ws.next()).await {
            Err(_) => {
                return Err(fail(
                    challenge,
                    format!("no hello within {:?}", s.hello_timeout),
                ));
            }
            Ok(None) => return Err(fail(challenge, "closed during the handshake".into())),
            Ok(Some(Err(e))) => return Err(fail(challenge, format!("handshake: {e}"))),
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(frame) => {
                let why = frame
                    .map(|f| format!("closed during the handshake ({} {})", f.code, f.reason))
                    .unwrap_or_else(|| "closed during the handshake".into());
                return Err(fail(challenge, why));
            }
            Message::Binary(_) => {
                early.push_back(msg);
                continue;
            }
            _ => continue,
        };
        match event::parse(text.clone()) {
            Parsed::Frame(Frame::Event(ev)) if matches!(ev.kind, EventKind::Hello(_)) => {
                return Ok(Opened {
                    ws,
                    hello: Some(Box::new(ev)),
                    early,
                    next_action,
                });
            }
            Parsed::Frame(Frame::Event(_)) | Parsed::BadEvent { .. } => {
                early.push_back(Message::Text(text));
                // Events flow only on an authenticated socket: a replayed event proves the resume.
                if resume && challenge.is_none() {
                    return Ok(Opened {
                        ws,
                        hello: None,
                        early,
                        next_action,
                    });
                }
            }
            Parsed::Frame(Frame::Reply(r)) if r.seq_reply == 1 => {
                if r.is_ok() {
                    // Authenticated. After a resume request no hello comes when the resume worked;
                    // if it did not, the hello arrives later and is handled as a new connection.
                    if resume && challenge.is_none() {
                        return Ok(Opened {
                            ws,
                            hello: None,
                            early,
                            next_action,
                        });
                    }
                } else if r.is_not_authenticated() {
                    if challenge.is_none() {
                        // Header auth did not work (a proxy may have dropped the header): the
                        // authentication challenge is the fallback.
                        let data = serde_json::json!({ "token": token.expose_secret() });
                        let seq = next_action;
                        next_action += 1;
                        send_text(
                            &mut ws,
                            request_text(seq, "authentication_challenge", Some(&data)),
                            s.write_timeout,
                        )
                        .await
                        .map_err(Attempt::Retry)?;
                        challenge = Some(seq);
                    }
                } else {
                    let why = r
                        .error
                        .map(|e| format!("{} ({})", e.message, e.id))
                        .unwrap_or_else(|| r.status.clone());
                    return Err(Attempt::Retry(format!("the ping action failed: {why}")));
                }
            }
            Parsed::Frame(Frame::Reply(r)) if Some(r.seq_reply) == challenge => {
                if !r.is_ok() {
                    return Err(Attempt::Rejected);
                }
                // Accepted: the hello follows.
            }
            Parsed::Frame(Frame::Reply(_)) => {}
            Parsed::Bad(_) => early.push_back(Message::Text(text)),
        }
        if early.len() > 1024 {
            return Err(Attempt::Retry("too many frames before the hello".into()));
        }
    }
}

impl Driver {
    pub(crate) fn new(
        client: Client,
        settings: Arc<Settings>,
        transport: Arc<Transport>,
        items: mpsc::Sender<WsItem>,
        commands: mpsc::Receiver<Command>,
        status: watch::Sender<Status>,
        backoff: Backoff,
    ) -> Driver {
        Driver {
            client,
            settings,
            transport,
            items,
            pending: VecDeque::new(),
            commands,
            commands_open: true,
            consumer_gone: false,
            session: Session::default(),
            backoff,
            jitter: Jitter::from_entropy(),
            status,
        }
    }

    /// The first connection, made before `connect()` returns: a rejected token is an error here,
    /// not an endless retry. With login credentials and `relogin`, one new login is tried first.
    pub(crate) async fn first_connect(&mut self) -> Result<Opened, WsError> {
        let has_login = matches!(self.client.options().auth, Some(Auth::Login { .. }));
        if self.client.token().is_none() {
            if !has_login {
                return Err(WsError::NoCredentials);
            }
            self.client.login().await.map_err(WsError::Login)?;
        }
        let mut relogged = false;
        loop {
            let attempt = open(
                self.transport.clone(),
                self.settings.clone(),
                self.client.token(),
                None,
            )
            .await;
            match attempt {
                Ok(opened) => return Ok(opened),
                Err(Attempt::Retry(detail)) => {
                    return Err(WsError::Connect {
                        url: self.settings.url.to_string(),
                        detail,
                    });
                }
                Err(Attempt::Rejected) if self.settings.relogin && has_login && !relogged => {
                    tracing::info!(target: "matterapi::ws", "token rejected: logging in again");
                    self.client.relogin().await.map_err(WsError::Login)?;
                    relogged = true;
                }
                Err(Attempt::Rejected) => return Err(WsError::AuthRejected),
                Err(Attempt::Fatal(e)) => return Err(e),
            }
        }
    }

    /// Runs the listener until shutdown, a terminal error, or until handle and stream are dropped.
    pub(crate) async fn run(mut self, mut conn: Conn) {
        loop {
            let end = self.serve(&mut conn).await;
            let uptime = conn.since.elapsed();
            conn.fail_waiters("the connection was lost");
            self.status.send_modify(|s| s.connected = false);
            let ws = conn.ws;
            let reason = match end {
                End::Stop => {
                    close_gracefully(ws, self.settings.close_timeout).await;
                    self.status.send_modify(|s| s.stopped = true);
                    return;
                }
                End::Shutdown(done) => {
                    close_gracefully(ws, self.settings.close_timeout).await;
                    let _ = done.send(());
                    self.finish(None).await;
                    return;
                }
                End::Revoked => {
                    drop(ws);
                    match self.renew_session().await {
                        Ok(()) => DisconnectReason::SessionRenewed,
                        Err(e) => {
                            self.finish(Some(e)).await;
                            return;
                        }
                    }
                }
                End::Lost(reason) => {
                    let quick = self.settings.close_timeout.min(Duration::from_secs(1));
                    match &reason {
                        DisconnectReason::SequenceGap { .. } => {
                            close_with(ws, 4001, "sequence gap", quick).await
                        }
                        DisconnectReason::PingTimeout => {
                            close_with(ws, 4000, "no ping reply", quick).await
                        }
                        DisconnectReason::Overflow => {
                            close_with(ws, 4001, "resuming after overflow", quick).await
                        }
                        _ => drop(ws),
                    }
                    reason
                }
            };
            self.backoff.connection_ended(uptime);
            match self.reconnect(reason).await {
                Some(next) => conn = next,
                None => return,
            }
        }
    }

    /// A revoked session: log in again when allowed (once per accepted connection).
    async fn renew_session(&mut self) -> Result<(), WsError> {
        if !self.settings.relogin || self.session.relogged {
            return Err(WsError::SessionRevoked);
        }
        tracing::info!(target: "matterapi::ws", "session revoked: logging in again");
        self.client.relogin().await.map_err(WsError::Login)?;
        self.session.relogged = true;
        Ok(())
    }

    fn push(&mut self, item: WsItem) {
        if self.consumer_gone {
            return;
        }
        if self.pending.is_empty() {
            match self.items.try_send(item) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(item)) => self.pending.push_back(item),
                Err(mpsc::error::TrySendError::Closed(_)) => self.consumer_gone(),
            }
        } else {
            self.pending.push_back(item);
        }
    }

    /// A bad frame's item: dropped (it was logged) when the buffer is full, so that a server
    /// sending garbage cannot grow memory.
    fn push_bad(&mut self, e: WsError) {
        if self.pending.len() < self.settings.buffer {
            self.push(WsItem::Error(e));
        }
    }

    fn consumer_gone(&mut self) {
        self.consumer_gone = true;
        self.pending.clear();
    }

    /// Ends the listener: the terminal error (if any) and everything pending are delivered, then
    /// the stream ends. Queued actions get [`WsError::Stopped`].
    async fn finish(&mut self, error: Option<WsError>) {
        self.status.send_modify(|s| {
            s.stopped = true;
            s.connected = false;
        });
        self.commands.close();
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Command::Action { reply, .. } => {
                    let _ = reply.send(Err(WsError::Stopped));
                }
                Command::Shutdown(done) => {
                    let _ = done.send(());
                }
                Command::Disconnect => {}
            }
        }
        if let Some(e) = error {
            tracing::warn!(target: "matterapi::ws", error = %e, "websocket listener stopped");
            self.push(WsItem::Error(e));
        }
        while let Some(item) = self.pending.pop_front() {
            if self.items.send(item).await.is_err() {
                break;
            }
        }
    }

    /// Turns a handshake's result into a live connection and announces it (the handle sees it
    /// connected from then on).
    pub(crate) fn start(&mut self, opened: Opened) -> Conn {
        let now = Instant::now();
        let first_ping = now + self.settings.ping_interval;
        self.session.relogged = false;
        self.session.overflow = false;
        let conn = Conn {
            ws: opened.ws,
            early: opened.early,
            next_action: opened.next_action,
            replies: HashMap::new(),
            ping: None,
            next_ping: first_ping,
            since: now,
            timer: Box::pin(sleep_until(first_ping)),
            timer_at: first_ping,
        };
        match opened.hello {
            Some(hello) => self.on_hello(*hello),
            None => {
                let id = self.session.connection_id.clone().unwrap_or_default();
                tracing::debug!(target: "matterapi::ws", connection_id = %id, "resumed");
                self.status.send_modify(|s| s.connected = true);
                self.push(WsItem::Connected {
                    connection_id: id,
                    resumed: true,
                });
            }
        }
        conn
    }

    /// A `hello`: a new connection (after a failed resume, events may have been lost).
    fn on_hello(&mut self, hello: Event) {
        let EventKind::Hello(h) = &hello.kind else {
            return;
        };
        let id = h.connection_id.clone();
        let resync = self.session.connection_id.is_some();
        tracing::debug!(target: "matterapi::ws", connection_id = %id, resync, "hello");
        self.session.connection_id = Some(id.clone());
        self.session.next_seq = hello.seq.unwrap_or(0) + 1;
        self.status.send_modify(|s| {
            s.connection_id = Some(id.clone());
            s.connected = true;
        });
        self.push(WsItem::Connected {
            connection_id: id,
            resumed: false,
        });
        if resync {
            self.push(WsItem::Resync);
        }
        self.push(WsItem::Event(hello));
    }

    async fn serve(&mut self, conn: &mut Conn) -> End {
        while let Some(msg) = conn.early.pop_front() {
            if let Some(end) = self.on_message(conn, Some(Ok(msg))) {
                return end;
            }
        }
        loop {
            if !self.consumer_gone && self.items.is_closed() {
                self.consumer_gone();
            }
            if self.consumer_gone && !self.commands_open {
                return End::Stop;
            }
            if self.session.overflow && self.pending.len() <= self.settings.buffer / 2 {
                return End::Lost(DisconnectReason::Overflow);
            }
            if !self.pending.is_empty() && !self.consumer_gone {
                // The queue is full: let the consumer run (it may share this thread) before
                // reading more, so that a fast server does not outrun a consumer that keeps up.
                tokio::task::yield_now().await;
            }
            let deadline = conn.deadline(&self.settings);
            if deadline != conn.timer_at {
                conn.timer.as_mut().reset(deadline);
                conn.timer_at = deadline;
            }
            let deliver = !self.pending.is_empty() && !self.consumer_gone;
            let wake = tokio::select! {
                biased;
                permit = self.items.reserve(), if deliver => hand_over(&mut self.pending, permit),
                // Only watched once the handles are gone: while they live, a dropped stream is
                // noticed at the next item (this future is costly to make for every event).
                _ = self.items.closed(), if !deliver && !self.consumer_gone && !self.commands_open => Wake::ConsumerGone,
                cmd = self.commands.recv(), if self.commands_open => Wake::Command(cmd),
                _ = conn.timer.as_mut() => Wake::Timer,
                msg = conn.ws.next() => Wake::Message(msg),
            };
            let end = match wake {
                Wake::Delivered => None,
                Wake::ConsumerGone => {
                    self.consumer_gone();
                    None
                }
                Wake::Command(cmd) => self.on_command(conn, cmd).await,
                Wake::Timer => self.on_timer(conn).await,
                Wake::Message(msg) => {
                    let mut end = self.on_message(conn, msg);
                    // Frames already received are handled in a row, without a trip through the
                    // select (the next one registers the wakers again).
                    let mut batch = 64;
                    while end.is_none() && batch > 0 && self.pending.is_empty() {
                        match conn.ws.next().now_or_never() {
                            Some(msg) => end = self.on_message(conn, msg),
                            None => break,
                        }
                        batch -= 1;
                    }
                    end
                }
            };
            if let Some(end) = end {
                return end;
            }
        }
    }

    fn on_message(
        &mut self,
        conn: &mut Conn,
        msg: Option<Result<Message, tungstenite::Error>>,
    ) -> Option<End> {
        match msg {
            None => Some(End::Lost(DisconnectReason::Network(
                "the connection ended".into(),
            ))),
            Some(Err(tungstenite::Error::Capacity(e))) => {
                // A message over `max_body_size`: reading it again after a resume would fail the
                // same way, so the resume starts after it, and the caller is told which event it
                // was (never a silent loss).
                let skipped = self.session.next_seq;
                self.session.next_seq += 1;
                tracing::warn!(target: "matterapi::ws", seq = skipped, error = %e, "message over max_body_size skipped");
                self.push_bad(WsError::bad_frame(
                    BadFrameKind::TooLarge,
                    format!(
                        "{e}; the event with seq {skipped} was skipped (raise max_body_size to receive it)"
                    ),
                    bytes::Bytes::new(),
                ));
                Some(End::Lost(DisconnectReason::Network(format!(
                    "a message over max_body_size: {e}"
                ))))
            }
            Some(Err(e)) => Some(End::Lost(DisconnectReason::Network(e.to_string()))),
            Some(Ok(Message::Text(text))) => self.on_text(conn, text),
            Some(Ok(Message::Binary(raw))) => {
                tracing::warn!(target: "matterapi::ws", len = raw.len(), "binary frame from the server");
                self.push_bad(WsError::bad_frame(
                    BadFrameKind::Binary,
                    "Mattermost sends text frames",
                    raw,
                ));
                None
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                Some(End::Lost(DisconnectReason::ClosedByServer { code, reason }))
            }
            // Pings are answered by tungstenite while reading; pongs need nothing.
            Some(Ok(_)) => None,
        }
    }

    fn on_text(&mut self, conn: &mut Conn, text: Utf8Bytes) -> Option<End> {
        // The frame shares the socket's read buffer: an event kept in the queue would pin that
        // buffer (and make every later read allocate and copy). The raw frame gets its own,
        // exactly sized, allocation instead.
        let text = Utf8Bytes::from(String::from(text.as_str()));
        match event::parse(text) {
            Parsed::Frame(Frame::Event(ev)) => self.on_event(ev),
            Parsed::Frame(Frame::Reply(reply)) => self.on_reply(conn, reply),
            Parsed::BadEvent { seq, error } => {
                tracing::warn!(target: "matterapi::ws", %error, "bad event");
                self.on_numbered(seq, WsItem::Error(error))
            }
            Parsed::Bad(error) => {
                tracing::warn!(target: "matterapi::ws", %error, "bad frame");
                self.push_bad(error);
                None
            }
        }
    }

    fn on_event(&mut self, ev: Event) -> Option<End> {
        if matches!(ev.kind, EventKind::Hello(_)) {
            self.on_hello(ev);
            return None;
        }
        let seq = ev.seq;
        self.on_numbered(seq, WsItem::Event(ev))
    }

    /// Numbering: an item for the event with `seq` is delivered when it is the next one; a
    /// duplicate is skipped; a gap ends the connection to resume from the first missing one.
    fn on_numbered(&mut self, seq: Option<i64>, item: WsItem) -> Option<End> {
        match seq {
            Some(seq) if seq == self.session.next_seq => {
                let full = !self.consumer_gone && self.pending.len() >= self.settings.buffer;
                if self.session.overflow || full {
                    if !self.session.overflow {
                        tracing::warn!(target: "matterapi::ws", seq, "consumer behind: leaving events with the server until it catches up");
                        self.session.overflow = true;
                    }
                } else {
                    self.session.next_seq += 1;
                    self.push(item);
                }
            }
            Some(seq) if seq < self.session.next_seq => {
                tracing::debug!(target: "matterapi::ws", seq, expected = self.session.next_seq, "duplicate event skipped");
            }
            Some(_) if self.session.overflow => {}
            Some(seq) => {
                tracing::warn!(target: "matterapi::ws", seq, expected = self.session.next_seq, "sequence gap: resuming");
                return Some(End::Lost(DisconnectReason::SequenceGap {
                    expected: self.session.next_seq,
                    received: seq,
                }));
            }
            None => self.push(item),
        }
        None
    }
    fn on_reply(&mut self, conn: &mut Conn, reply: Reply) -> Option<End> {
        let revoked = reply.is_not_authenticated();
        if conn.ping.is_some_and(|(seq, _)| seq == reply.seq_reply) {
            conn.ping = None;
        } else if let Some(w) = conn.replies.remove(&reply.seq_reply) {
            let result = if reply.is_ok() {
                Ok(reply)
            } else {
                let e = reply.error.clone().unwrap_or_default();
                Err(WsError::ActionFailed {
                    action: w.action,
                    id: e.id,
                    message: e.message,
                    status_code: e.status_code,
                })
            };
            let _ = w.tx.send(result);
        }
        if revoked {
            tracing::warn!(target: "matterapi::ws", "the server answered not_authenticated: session revoked");
            return Some(End::Revoked);
        }
        None
    }

    async fn on_command(&mut self, conn: &mut Conn, cmd: Option<Command>) -> Option<End> {
        match cmd {
            None => {
                self.commands_open = false;
                None
            }
            Some(Command::Action {
                action,
                data,
                reply,
            }) => {
                if reply.is_closed() {
                    return None;
                }
                let seq = conn.next_action;
                let text = request_text(seq, &action, data.as_ref());
                if text.len() > MAX_CLIENT_MESSAGE {
                    let _ = reply.send(Err(WsError::TooLarge {
                        action,
                        size: text.len(),
                    }));
                    return None;
                }
                conn.next_action += 1;
                match send_text(&mut conn.ws, text, self.settings.write_timeout).await {
                    Ok(()) => {
                        if conn.replies.len() >= 256 {
                            conn.replies.retain(|_, w| !w.tx.is_closed());
                        }
                        conn.replies.insert(seq, Waiter { action, tx: reply });
                        None
                    }
                    Err(e) => {
                        let _ = reply.send(Err(WsError::NotConnected {
                            action,
                            reason: e.clone(),
                        }));
                        Some(End::Lost(DisconnectReason::Network(e)))
                    }
                }
            }
            Some(Command::Disconnect) => Some(End::Lost(DisconnectReason::Requested)),
            Some(Command::Shutdown(done)) => Some(End::Shutdown(done)),
        }
    }

    async fn on_timer(&mut self, conn: &mut Conn) -> Option<End> {
        let now = Instant::now();
        let s = self.settings.clone();
        if let Some((_, sent)) = conn.ping
            && now >= sent + s.ping_timeout
        {
            tracing::warn!(target: "matterapi::ws", "no reply to the ping action: dead socket");
            return Some(End::Lost(DisconnectReason::PingTimeout));
        }
        if now >= conn.next_ping {
            conn.next_ping = now + s.ping_interval;
            if conn.ping.is_none() {
                let seq = conn.next_action;
                conn.next_action += 1;
                if let Err(e) = send_text(
                    &mut conn.ws,
                    request_text(seq, "ping", None),
                    s.write_timeout,
                )
                .await
                {
                    return Some(End::Lost(DisconnectReason::Network(e)));
                }
                conn.ping = Some((seq, now));
            }
        }
        None
    }

    /// Waits (backoff), reconnects, resumes; `None` when the listener ends meanwhile.
    async fn reconnect(&mut self, mut reason: DisconnectReason) -> Option<Conn> {
        loop {
            let delay = match reason {
                // Not failures: resume at once.
                DisconnectReason::SessionRenewed | DisconnectReason::Overflow => Duration::ZERO,
                _ => self.backoff.next_delay(self.jitter.next_fraction()),
            };
            tracing::info!(target: "matterapi::ws", %reason, ?delay, "websocket disconnected");
            self.push(WsItem::Disconnected {
                reason: reason.clone(),
                retry_in: delay,
            });
            // The reconnect wait: at least `delay` (a `disconnect` command cuts it short), and
            // until the consumer has taken half of the buffer.
            self.busy(tokio::time::sleep(delay), true, Some(())).await?;
            let resume = self
                .session
                .connection_id
                .clone()
                .map(|id| (id, self.session.next_seq));
            let attempt = open(
                self.transport.clone(),
                self.settings.clone(),
                self.client.token(),
                resume,
            );
            let result = self.busy(attempt, false, None).await?;
            match result {
                Ok(opened) => return Some(self.start(opened)),
                Err(Attempt::Retry(detail)) => reason = DisconnectReason::ConnectFailed(detail),
                Err(Attempt::Rejected) => match self.renew_session().await {
                    Ok(()) => reason = DisconnectReason::SessionRenewed,
                    Err(WsError::SessionRevoked) => {
                        self.finish(Some(WsError::AuthRejected)).await;
                        return None;
                    }
                    Err(e) => {
                        self.finish(Some(e)).await;
                        return None;
                    }
                },
                Err(Attempt::Fatal(e)) => {
                    self.finish(Some(e)).await;
                    return None;
                }
            }
        }
    }

    /// [`Driver::while_busy`]; `None` once the listener has ended meanwhile (stopped, or shut
    /// down: the shutdown is completed here).
    async fn busy<T>(
        &mut self,
        work: impl Future<Output = T>,
        drain: bool,
        skip: Option<T>,
    ) -> Option<T> {
        match self.while_busy(work, drain, skip).await {
            Busy::Done(out) => Some(out),
            Busy::Stop => {
                self.status.send_modify(|s| s.stopped = true);
                None
            }
            Busy::Shutdown(done) => {
                let _ = done.send(());
                self.finish(None).await;
                None
            }
        }
    }

    /// Runs `work` (a connection attempt, or the reconnect wait) while delivering pending items
    /// and answering commands. With `drain` it ends only once the consumer has also taken half of
    /// the buffer. `skip` is what a `disconnect` command ends the work with (`None`: the command
    /// changes nothing).
    async fn while_busy<T>(
        &mut self,
        work: impl Future<Output = T>,
        drain: bool,
        mut skip: Option<T>,
    ) -> Busy<T> {
        tokio::pin!(work);
        let mut out = None;
        loop {
            if let Some(done) = out.take() {
                if !drain || self.pending.len() <= self.settings.buffer / 2 {
                    return Busy::Done(done);
                }
                out = Some(done);
            }
            if !self.consumer_gone && self.items.is_closed() {
                self.consumer_gone();
            }
            if self.consumer_gone && !self.commands_open {
                return Busy::Stop;
            }
            let working = out.is_none();
            let deliver = !self.pending.is_empty() && !self.consumer_gone;
            let wake = tokio::select! {
                biased;
                done = &mut work, if working => {
                    out = Some(done);
                    continue;
                }
                permit = self.items.reserve(), if deliver => hand_over(&mut self.pending, permit),
                // Only watched once the handles are gone: while they live, a dropped stream is
                // noticed at the next item (this future is costly to make for every event).
                _ = self.items.closed(), if !deliver && !self.consumer_gone && !self.commands_open => Wake::ConsumerGone,
                cmd = self.commands.recv(), if self.commands_open => Wake::Command(cmd),
                else => {
                    return match out.take() {
                        Some(done) => Busy::Done(done),
                        None => Busy::Stop,
                    };
                }
            };
            match wake {
                Wake::ConsumerGone => self.consumer_gone(),
                Wake::Command(None) => self.commands_open = false,
                Wake::Command(Some(Command::Shutdown(done))) => return Busy::Shutdown(done),
                Wake::Command(Some(Command::Action { action, reply, .. })) => {
                    let _ = reply.send(Err(WsError::NotConnected {
                        action,
                        reason: "reconnecting".into(),
                    }));
                }
                Wake::Command(Some(Command::Disconnect)) => {
                    if working && let Some(skipped) = skip.take() {
                        out = Some(skipped);
                    }
                }
                Wake::Delivered | Wake::Timer | Wake::Message(_) => {}
            }
        }
    }
}

/// Hands the first pending item to the consumer through the queue slot reserved for it.
#[inline]
fn hand_over(
    pending: &mut VecDeque<WsItem>,
    permit: Result<mpsc::Permit<'_, WsItem>, mpsc::error::SendError<()>>,
) -> Wake {
    match permit {
        Ok(permit) => {
            if let Some(item) = pending.pop_front() {
                permit.send(item);
            }
            Wake::Delivered
        }
        Err(_) => Wake::ConsumerGone,
    }
}

/// What woke the task up.
enum Wake {
    Delivered,
    ConsumerGone,
    Command(Option<Command>),
    Timer,
    Message(Option<Result<Message, tungstenite::Error>>),
}

/// What `while_busy` ended with.
enum Busy<T> {
    Done(T),
    Stop,
    Shutdown(oneshot::Sender<()>),
}
