//! The connection state machine: one background task per listener that owns the socket.
//!
//! ```text
//!            first_connect (in connect(): a rejected token is an Err)
//!                  |
//!                  v
//!   +--> open (handshake.rs): TCP/proxy/TLS, the upgrade with `Authorization: Bearer`, then the
//!   |      proof of authentication: `hello` => new connection (Resync if there was one before);
//!   |      a replayed event or the ping's OK after a resume request => resumed (Resync if the token
//!   |      changed since the last accepted connection); silence => the token is checked over REST
//!   |            |
//!   |            v
//!   |    serve: read every frame (pongs go out while reading), check `seq` (gap => close 4001),
//!   |      deliver into the bounded queue, send actions, `ping` action every interval (no reply
//!   |      in time => close 4000); events past a full buffer are left with the server; the
//!   |      client's token changing (relogin, set_token) ends the connection at once
//!   |            |
//!   |            v   decide.rs: lost / gap / dead / revoked / token changed / overflow
//!   +---- resume, fresh connection, relogin, token check or stop; the backoff wait
//!          (Disconnected { reason, retry_in }); resume with `connection_id` + `sequence_number`
//! ```
//!
//! The task never runs user code: handlers consume the queue in other tasks, so the reader keeps
//! reading (and answering the server's pings and the `ping` action's replies) while they run. A slow
//! consumer fills the queue, then a bounded buffer behind it. Past that the reader goes on reading
//! but leaves the events with the server (it keeps the last 128 sent per connection): it does not
//! count them as received, and once the consumer has taken half of the buffer it closes the socket
//! and resumes from the first event it left, so nothing is lost and memory stays bounded. Items that
//! the server cannot replay (events without `seq`, the items of a `hello`) are dropped past the
//! buffer, counted, and reported with a [`WsItem::Resync`] once the consumer has caught up.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, Sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

use crate::error::{BadFrameKind, ConnectionError, ConnectionStage as Stage, WsError};
use crate::generated::Client;
use crate::options::Auth;
use crate::retry::Jitter;
use crate::ws::backoff::Backoff;
use crate::ws::decide::{self, End, Next, Policy, SessionState};
use crate::ws::event::{self, DisconnectReason, Event, EventKind, Frame, Parsed, Reply, WsItem};
use crate::ws::handshake::{self, Attempt, Opened, Ws, request_text, send_text};
use crate::ws::settings::Settings;
use crate::ws::transport::Transport;

/// The server closes the connection on client messages larger than this.
pub(crate) const MAX_CLIENT_MESSAGE: usize = 8 * 1024;

/// What the handle can see of the connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Status {
    pub(crate) connection_id: Option<String>,
    pub(crate) connected: bool,
    pub(crate) stopped: bool,
}

/// A request from a [`WsHandle`](crate::ws::handle::WsHandle) to the task.
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

/// Why `serve` returned, besides a decision's input.
enum Served {
    End(End),
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
    /// The token generation of the last accepted connection.
    accepted_token: Option<u64>,
    /// Items that could not be replayed and were dropped past the buffer since the last Resync.
    dropped: u64,
    /// The next attempt sends the authentication challenge too (the token checked out over REST
    /// although the server never authenticated the socket: a proxy may strip the header).
    challenge: bool,
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
    /// The generation of the client's token this socket was opened with.
    token: u64,
    /// Set when the handshake's own `hello` was unusable: the connection ends at once.
    end_at_once: Option<End>,
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
    /// The client's token generation (bumped by every relogin and `set_token`).
    tokens: watch::Receiver<u64>,
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

/// How a failed attempt ends, as `decide` reads it.
fn attempt_end(attempt: Attempt) -> End {
    match attempt {
        Attempt::Retry(detail) => End::AttemptFailed(detail),
        Attempt::Silent(detail) => End::Silent(detail),
        Attempt::Rejected => End::Rejected,
        Attempt::Fatal(e) => End::Fatal(e),
    }
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        client: Client,
        settings: Arc<Settings>,
        transport: Arc<Transport>,
        items: mpsc::Sender<WsItem>,
        commands: mpsc::Receiver<Command>,
        status: watch::Sender<Status>,
        backoff: Backoff,
    ) -> Driver {
        let tokens = progenitor_client::ClientInfo::inner(&client).token_changes();
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
            tokens,
        }
    }

    fn can_login(&self) -> bool {
        matches!(self.client.options().auth, Some(Auth::Login { .. }))
    }

    /// The session as `decide` sees it, for a connection or attempt made with token generation
    /// `used`.
    fn session_state(&self, used: u64) -> SessionState {
        SessionState {
            connected: self.session.accepted_token.is_some(),
            token_changed: *self.tokens.borrow() != used,
            relogged: self.session.relogged,
            can_login: self.can_login(),
            challenge_next: self.session.challenge,
        }
    }

    fn decide(&mut self, end: End, used: u64) -> Next {
        let session = self.session_state(used);
        let url = crate::redact::masked(self.settings.url.as_str());
        let policy = Policy {
            relogin: self.settings.relogin,
            url: &url,
        };
        let jitter = self.jitter.next_fraction();
        decide::decide(end, &session, &policy, &mut self.backoff, jitter)
    }

    /// One connection attempt with the client's current token (a future that does not borrow the
    /// driver, so that it can run while the driver serves its consumer), and the token generation
    /// it uses.
    fn attempt(
        &mut self,
        resume: Option<(String, i64)>,
    ) -> (impl Future<Output = Result<Opened, Attempt>> + use<>, u64) {
        let (token, generation) =
            progenitor_client::ClientInfo::inner(&self.client).token_and_generation();
        let challenge = std::mem::take(&mut self.session.challenge);
        let opened = handshake::open(
            self.transport.clone(),
            self.settings.clone(),
            token,
            resume,
            challenge,
        );
        (opened, generation)
    }

    /// After a silent handshake: the token checked over REST (`GET /users/me`). A 401 means it was
    /// refused; a success means the server is up and the token good (the next attempt also sends
    /// the authentication challenge, in case a proxy strips the upgrade's header); a change of
    /// token meanwhile (the REST call may itself log in again) moves on to the new token.
    async fn verify(&mut self, used: u64, silent: ConnectionError) -> End {
        tracing::info!(target: "matterapi::ws", detail = %silent.chain(), "the server did not authenticate the socket: checking the token");
        let checked = self.client.get_user().user_id("me").send().await;
        if *self.tokens.borrow() != used {
            return End::TokenChanged;
        }
        match checked {
            Ok(_) => {
                self.session.challenge = true;
                End::AttemptFailed(ConnectionError::caused_by(
                    Stage::Authentication,
                    "the token is valid, but the server did not authenticate the socket \
                     (the authentication challenge comes next)",
                    silent,
                ))
            }
            Err(e) if e.status().map(|s| s.as_u16()) == Some(401) => End::Rejected,
            Err(e) => End::AttemptFailed(ConnectionError::caused_by(
                Stage::Authentication,
                format!("{silent}; the token could not be checked over REST"),
                e,
            )),
        }
    }

    /// Logs in again for the listener (once per accepted connection).
    async fn relogin(&mut self) -> Result<(), WsError> {
        tracing::info!(target: "matterapi::ws", "session revoked or token refused: logging in again");
        self.client.relogin().await.map_err(WsError::Login)?;
        self.session.relogged = true;
        Ok(())
    }

    /// The first connection, made before `connect()` returns: a refused token is an error here,
    /// not an endless retry. With login credentials and `relogin`, one new login is tried.
    pub(crate) async fn first_connect(&mut self) -> Result<(Opened, u64), WsError> {
        if self.client.token().is_none() {
            if !self.can_login() {
                return Err(WsError::NoCredentials);
            }
            self.client.login().await.map_err(WsError::Login)?;
        }
        // Each turn either connects, ends, or changes something (a relogin, a new token, the
        // challenge on): a handful of turns is all it can take. What a failed turn means is
        // `decide`'s: for the first connection a failed attempt is the error `connect()` returns.
        let mut checked: Option<(End, u64)> = None;
        let mut turns = 0;
        loop {
            let (end, used) = match checked.take() {
                Some(end) => end,
                None => {
                    if turns == 6 {
                        break;
                    }
                    turns += 1;
                    let (attempt, used) = self.attempt(None);
                    match attempt.await {
                        Ok(opened) => return Ok((opened, used)),
                        Err(a) => (attempt_end(a), used),
                    }
                }
            };
            match self.decide(end, used) {
                Next::Verify(silent) => checked = Some((self.verify(used, silent).await, used)),
                Next::Relogin => self.relogin().await?,
                Next::Stop(e) => return Err(e),
                // The challenge next, or a new token: go round again at once (nothing else of a
                // first connection resumes).
                Next::Resume { .. } | Next::Fresh { .. } => {}
            }
        }
        Err(WsError::Connect {
            url: crate::redact::masked(self.settings.url.as_str()),
            source: ConnectionError::new(
                Stage::Authentication,
                "the server never authenticated the socket",
            ),
        })
    }

    /// Runs the listener until shutdown, a terminal error, or until handle and stream are dropped.
    pub(crate) async fn run(mut self, mut conn: Conn) {
        loop {
            let served = self.serve(&mut conn).await;
            let uptime = conn.since.elapsed();
            let used = conn.token;
            conn.fail_waiters("the connection was lost");
            self.status.send_modify(|s| s.connected = false);
            let ws = conn.ws;
            let end = match served {
                Served::Stop => {
                    close_gracefully(ws, self.settings.close_timeout).await;
                    self.status.send_modify(|s| s.stopped = true);
                    return;
                }
                Served::Shutdown(done) => {
                    close_gracefully(ws, self.settings.close_timeout).await;
                    let _ = done.send(());
                    self.finish(None).await;
                    return;
                }
                Served::End(end) => end,
            };
            let quick = self.settings.close_timeout.min(Duration::from_secs(1));
            match &end {
                End::Lost(DisconnectReason::SequenceGap { .. }) => {
                    close_with(ws, 4001, "sequence gap", quick).await
                }
                End::Lost(DisconnectReason::PingTimeout) => {
                    close_with(ws, 4000, "no ping reply", quick).await
                }
                End::Lost(DisconnectReason::Overflow) => {
                    close_with(ws, 4001, "resuming after overflow", quick).await
                }
                End::TokenChanged => close_with(ws, 1000, "new token", quick).await,
                _ => drop(ws),
            }
            self.backoff.connection_ended(uptime);
            match self.reconnect(end, used).await {
                Some(next) => conn = next,
                None => return,
            }
        }
    }

    /// A frame delivered to the consumer, or kept while it is behind.
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

    /// An item the server cannot replay (an event without `seq`, a `hello`'s items): past a full
    /// buffer it is dropped and counted, the listener leaves the numbered events with the server
    /// as on an overflow, and a [`WsItem::Resync`] tells the consumer once it has caught up.
    fn push_unreplayable(&mut self, item: WsItem) {
        if !self.consumer_gone && self.pending.len() >= self.settings.buffer {
            if self.session.dropped == 0 {
                tracing::warn!(target: "matterapi::ws", "consumer behind: dropping items the server cannot replay (a Resync follows)");
            }
            self.session.dropped = self.session.dropped.saturating_add(1);
            self.session.overflow = true;
            return;
        }
        self.push(item);
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

    /// Turns a handshake's result (made with token generation `token`) into a live connection and
    /// announces it (the handle sees it connected from then on). A resumed connection whose token
    /// differs from the last accepted one's is followed by a [`WsItem::Resync`]: while a session is
    /// revoked the server drops its events without numbering them, so a resume cannot show that
    /// loss.
    pub(crate) fn start(&mut self, opened: Opened, token: u64) -> Conn {
        let now = Instant::now();
        let first_ping = now + self.settings.ping_interval;
        let token_changed = self.session.accepted_token.is_some_and(|t| t != token);
        self.session.accepted_token = Some(token);
        self.session.relogged = false;
        self.session.overflow = false;
        let mut conn = Conn {
            ws: opened.ws,
            early: opened.early,
            next_action: opened.next_action,
            replies: HashMap::new(),
            ping: None,
            next_ping: first_ping,
            since: now,
            timer: Box::pin(sleep_until(first_ping)),
            timer_at: first_ping,
            token,
            end_at_once: None,
        };
        let mut resync = std::mem::take(&mut self.session.dropped) > 0;
        match opened.hello {
            Some(hello) => {
                // A new connection after an earlier one says Resync itself.
                resync &= self.session.connection_id.is_none();
                conn.end_at_once = self.on_hello(*hello);
            }
            None => {
                let id = self.session.connection_id.clone().unwrap_or_default();
                tracing::debug!(target: "matterapi::ws", connection_id = %id, token_changed, "resumed");
                self.status.send_modify(|s| s.connected = true);
                self.push(WsItem::Connected {
                    connection_id: id,
                    resumed: true,
                });
                resync |= token_changed;
            }
        }
        if resync {
            tracing::warn!(target: "matterapi::ws", "events may have been missed (the session changed, or items were dropped): Resync");
            self.push(WsItem::Resync);
        }
        conn
    }

    /// A `hello`: a new connection (after a failed resume, events may have been lost). A `hello`
    /// whose `seq` leaves no room for the next one ends the connection for a fresh one.
    fn on_hello(&mut self, hello: Event) -> Option<End> {
        let EventKind::Hello(h) = &hello.kind else {
            return None;
        };
        let Some(next_seq) = hello.seq.unwrap_or(0).checked_add(1) else {
            self.push_bad(WsError::bad_frame(
                BadFrameKind::UnexpectedShape,
                "the hello's seq leaves no room for another event",
                bytes::Bytes::from(hello.raw().to_owned()),
            ));
            self.session.connection_id = None;
            return Some(End::Lost(DisconnectReason::BadNumbers(
                "the hello's seq is out of range".into(),
            )));
        };
        let id = h.connection_id.clone();
        let resync = self.session.connection_id.is_some();
        tracing::debug!(target: "matterapi::ws", connection_id = %id, resync, "hello");
        self.session.connection_id = Some(id.clone());
        self.session.next_seq = next_seq;
        self.status.send_modify(|s| {
            s.connection_id = Some(id.clone());
            s.connected = true;
        });
        self.push_unreplayable(WsItem::Connected {
            connection_id: id,
            resumed: false,
        });
        if resync {
            self.push_unreplayable(WsItem::Resync);
        }
        self.push_unreplayable(WsItem::Event(hello));
        None
    }

    async fn serve(&mut self, conn: &mut Conn) -> Served {
        if let Some(end) = conn.end_at_once.take() {
            return Served::End(end);
        }
        while let Some(msg) = conn.early.pop_front() {
            if let Some(end) = self.on_message(conn, Some(Ok(msg))) {
                return Served::End(end);
            }
        }
        loop {
            if !self.consumer_gone && self.items.is_closed() {
                self.consumer_gone();
            }
            if self.consumer_gone && !self.commands_open {
                return Served::Stop;
            }
            if self.session.overflow && self.pending.len() <= self.settings.buffer / 2 {
                return Served::End(End::Lost(DisconnectReason::Overflow));
            }
            if *self.tokens.borrow() != conn.token {
                return Served::End(End::TokenChanged);
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
                changed = self.tokens.changed() => Wake::Token(changed.is_ok()),
                _ = conn.timer.as_mut() => Wake::Timer,
                msg = conn.ws.next() => Wake::Message(msg),
            };
            let served = match wake {
                Wake::Delivered => None,
                Wake::ConsumerGone => {
                    self.consumer_gone();
                    None
                }
                // Checked at the top of the loop.
                Wake::Token(_) => None,
                Wake::Command(cmd) => self.on_command(conn, cmd).await,
                Wake::Timer => self.on_timer(conn).await.map(Served::End),
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
                    end.map(Served::End)
                }
            };
            if let Some(served) = served {
                return served;
            }
        }
    }

    fn on_message(
        &mut self,
        conn: &mut Conn,
        msg: Option<Result<Message, tungstenite::Error>>,
    ) -> Option<End> {
        match msg {
            None => Some(End::Lost(DisconnectReason::Network(ConnectionError::new(
                Stage::Receive,
                "the connection ended without a close frame",
            )))),
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
                Some(End::Lost(DisconnectReason::Network(
                    ConnectionError::caused_by(
                        Stage::Receive,
                        "a message over max_body_size",
                        tungstenite::Error::Capacity(e),
                    ),
                )))
            }
            Some(Err(e)) => Some(End::Lost(DisconnectReason::Network(
                ConnectionError::caused_by(Stage::Receive, "reading from the websocket", e),
            ))),
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
            return self.on_hello(ev);
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
                    let Some(next) = seq.checked_add(1) else {
                        self.session.connection_id = None;
                        return Some(End::Lost(DisconnectReason::BadNumbers(
                            "an event's seq is out of range".into(),
                        )));
                    };
                    self.session.next_seq = next;
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
            None => self.push_unreplayable(item),
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

    async fn on_command(&mut self, conn: &mut Conn, cmd: Option<Command>) -> Option<Served> {
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
                            reason: e.chain(),
                        }));
                        Some(Served::End(End::Lost(DisconnectReason::Network(e))))
                    }
                }
            }
            Some(Command::Disconnect) => Some(Served::End(End::Lost(DisconnectReason::Requested))),
            Some(Command::Shutdown(done)) => Some(Served::Shutdown(done)),
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

    /// Carries out what `decide` makes of `end` (of a connection or attempt made with token
    /// generation `used`) until a connection is up again; `None` when the listener ends meanwhile.
    async fn reconnect(&mut self, mut end: End, mut used: u64) -> Option<Conn> {
        loop {
            let (delay, reason) = match self.decide(end, used) {
                Next::Resume { delay, reason } => (delay, reason),
                Next::Fresh { delay, reason } => {
                    self.session.connection_id = None;
                    (delay, reason)
                }
                Next::Verify(silent) => {
                    end = self.verify(used, silent).await;
                    continue;
                }
                Next::Relogin => match self.relogin().await {
                    Ok(()) => (Duration::ZERO, DisconnectReason::SessionRenewed),
                    Err(e) => {
                        self.finish(Some(e)).await;
                        return None;
                    }
                },
                Next::Stop(e) => {
                    self.finish(Some(e)).await;
                    return None;
                }
            };
            tracing::info!(target: "matterapi::ws", %reason, ?delay, "websocket disconnected");
            self.push(WsItem::Disconnected {
                reason,
                retry_in: delay,
            });
            // The reconnect wait: at least `delay` (a `disconnect` command or a new token cuts it
            // short), and until the consumer has taken half of the buffer.
            self.wait(delay).await?;
            let resume = self
                .session
                .connection_id
                .clone()
                .map(|id| (id, self.session.next_seq));
            let (attempt, token) = self.attempt(resume);
            let result = self.serving(attempt).await?;
            used = token;
            match result {
                Ok(opened) => return Some(self.start(opened, token)),
                Err(a) => end = attempt_end(a),
            }
        }
    }

    /// The reconnect wait: at least `delay`, cut short by a `disconnect` command or a new token,
    /// and until the consumer has taken half of the buffer; `None` once the listener has ended.
    async fn wait(&mut self, delay: Duration) -> Option<()> {
        let slept = self.while_busy(tokio::time::sleep(delay), true).await;
        self.ended(slept).await.map(|_| ())
    }

    /// A connection attempt, while serving the consumer and the commands; `None` once the
    /// listener has ended.
    async fn serving<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        let done = self.while_busy(work, false).await;
        // Not skippable: `Done` always holds the work's output.
        self.ended(done).await.flatten()
    }

    /// What `while_busy` ended with; `None` once the listener has ended (stopped, or shut down:
    /// the shutdown is completed here).
    async fn ended<T>(&mut self, busy: Busy<T>) -> Option<Option<T>> {
        match busy {
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
    /// and answering commands. A `skippable` work (the wait) ends at a `disconnect` command or a
    /// new token (`Done(None)`), and only once the consumer has also taken half of the buffer.
    async fn while_busy<T>(&mut self, work: impl Future<Output = T>, skippable: bool) -> Busy<T> {
        tokio::pin!(work);
        let mut out: Option<Option<T>> = None;
        loop {
            if let Some(done) = out.take() {
                if !skippable || self.pending.len() <= self.settings.buffer / 2 {
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
                    out = Some(Some(done));
                    continue;
                }
                permit = self.items.reserve(), if deliver => hand_over(&mut self.pending, permit),
                // Only watched once the handles are gone: while they live, a dropped stream is
                // noticed at the next item (this future is costly to make for every event).
                _ = self.items.closed(), if !deliver && !self.consumer_gone && !self.commands_open => Wake::ConsumerGone,
                cmd = self.commands.recv(), if self.commands_open => Wake::Command(cmd),
                changed = self.tokens.changed(), if working && skippable => Wake::Token(changed.is_ok()),
                else => {
                    return match out.take() {
                        Some(done) => Busy::Done(done),
                        None => Busy::Stop,
                    };
                }
            };
            let skip = match wake {
                Wake::ConsumerGone => {
                    self.consumer_gone();
                    false
                }
                Wake::Command(None) => {
                    self.commands_open = false;
                    false
                }
                Wake::Command(Some(Command::Shutdown(done))) => return Busy::Shutdown(done),
                Wake::Command(Some(Command::Action { action, reply, .. })) => {
                    let _ = reply.send(Err(WsError::NotConnected {
                        action,
                        reason: "reconnecting".into(),
                    }));
                    false
                }
                Wake::Command(Some(Command::Disconnect)) => true,
                Wake::Token(changed) => changed,
                Wake::Delivered | Wake::Timer | Wake::Message(_) => false,
            };
            if skip && skippable && working {
                out = Some(None);
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
    /// The client's token changed (`false`: the client is gone).
    Token(bool),
    Timer,
    Message(Option<Result<Message, tungstenite::Error>>),
}

/// What `while_busy` ended with.
enum Busy<T> {
    /// The work's output; `None` when it was skipped.
    Done(Option<T>),
    Stop,
    Shutdown(oneshot::Sender<()>),
}
