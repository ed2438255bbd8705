//! A scripted Mattermost websocket peer on 127.0.0.1 (tokio-tungstenite), speaking the protocol of
//! `shared/design/websocket-protocol.md`: header auth and the authentication challenge, `hello`
//! with a 26-character connection id, per-connection `seq` from 0, the last 128 events kept per
//! connection and replayed on resume (no `hello`), a new connection id when the resume cannot be
//! served, replies correlated by `seq_reply`, `not_authenticated` for revoked sessions. Knobs let a
//! test misbehave: drop sockets abruptly, forget every connection (a restart), withhold `ping`
//! replies or every reply, skip a `seq`, send binary or garbage frames, send websocket pings and
//! count the pongs, ignore the `Authorization` header (as a proxy that strips it would), serve TLS.
//! Also a loopback HTTP `CONNECT` proxy that records what it tunnels.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// The token the peer accepts unless told otherwise.
pub const TOKEN: &str = "peer-token-0123456789abcdef";

/// How many events a connection keeps for resumes (the server's constant).
pub const BUFFER: usize = 128;

/// One upgrade request as the peer saw it.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub uri: String,
    pub headers: HashMap<String, String>,
}

impl Upgrade {
    /// A query parameter of the upgrade URI.
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(&self.uri, name)
    }
}

/// One action as the peer received it.
#[derive(Debug, Clone)]
pub struct Action {
    pub seq: i64,
    pub action: String,
    pub data: Value,
    pub connection_id: Option<String>,
}

enum Out {
    Msg(Message),
    /// Drop the TCP connection without a close frame.
    Drop,
    /// Send a close frame, then drop.
    Close(u16),
    /// Send `n` events of about 1 KB, each as soon as the socket takes it (the peer holds no
    /// backlog): numbered as the connection's next events (kept in its buffer), or without `seq`.
    Flood {
        n: usize,
        numbered: bool,
    },
}

struct ConnState {
    token: String,
    next_seq: i64,
    buffer: VecDeque<(i64, String)>,
    socket: Option<u64>,
}

impl ConnState {
    fn can_resume(&self, seq: i64) -> bool {
        if seq == self.next_seq {
            return true;
        }
        seq < self.next_seq && self.buffer.front().is_some_and(|(first, _)| *first <= seq)
    }
}

struct Socket {
    tx: mpsc::UnboundedSender<Out>,
    conn: Option<String>,
}

/// What the peer does; every knob can change while it runs.
pub struct Knobs {
    pub header_auth: bool,
    pub answer_pings: bool,
    pub answer_actions: bool,
    /// Skip this many `seq` numbers before the next event sent to live sockets (the skipped events
    /// stay in the buffer, as if lost on the wire).
    pub skip_seq: usize,
    /// Send a websocket ping frame this often.
    pub ws_ping_every: Option<Duration>,
    /// Accept TCP and drop it at once (a server that is down behind a load balancer).
    pub refuse: bool,
    /// Drop the next socket after it has sent this many frames (counting the hello and replays);
    /// taken by that socket.
    pub drop_after_frames: Option<usize>,
    /// As the real server: a socket that is not authenticated (no token, or one that was revoked
    /// or never valid) is never registered, so it gets no reply at all (not even
    /// `not_authenticated`) but to a good authentication challenge, and is dropped without a close
    /// frame 5 s after the upgrade.
    pub silent_unauthenticated: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            header_auth: true,
            answer_pings: true,
            answer_actions: true,
            skip_seq: 0,
            ws_ping_every: None,
            refuse: false,
            drop_after_frames: None,
            silent_unauthenticated: false,
        }
    }
}

#[derive(Default)]
struct State {
    tokens: HashSet<String>,
    revoked: HashSet<String>,
    conns: HashMap<String, ConnState>,
    sockets: HashMap<u64, Socket>,
    next_socket: u64,
    upgrades: Vec<Upgrade>,
    actions: Vec<Action>,
    client_close_codes: Vec<u16>,
    pongs: u64,
    knobs: Knobs,
    /// Flood events sent so far.
    flooded: usize,
}

/// The scripted peer. Dropping it stops it.
pub struct Peer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
    tls: bool,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
        self.drop_all();
    }
}

fn new_id() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos ^ (n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let alphabet = b"abcdefghijkmnopqrstuwxyz13456789";
    (0..26)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % 32) as usize] as char
        })
        .collect()
}

fn query_param(uri: &str, name: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| v.to_owned())
    })
}

fn event_frame(event: &str, data: &Value, broadcast: &Value, seq: i64) -> String {
    json!({ "event": event, "data": data, "broadcast": broadcast, "seq": seq }).to_string()
}

fn reply_ok(seq: i64, data: Option<Value>) -> String {
    match data {
        Some(d) => json!({ "status": "OK", "seq_reply": seq, "data": d }).to_string(),
        None => json!({ "status": "OK", "seq_reply": seq }).to_string(),
    }
}

fn reply_fail(seq: i64, id: &str, status: u16) -> String {
    json!({
        "status": "FAIL",
        "seq_reply": seq,
        "error": { "id": id, "message": id, "status_code": status }
    })
    .to_string()
}

impl Peer {
    /// A plain (ws://) peer accepting [`TOKEN`].
    pub async fn start() -> Peer {
        Peer::start_with(None).await
    }

    /// A peer serving TLS with `config` when given.
    pub async fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        state.lock().unwrap().tokens.insert(TOKEN.to_owned());
        let st = state.clone();
        let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                let st = st.clone();
                if st.lock().unwrap().knobs.refuse {
                    drop(tcp);
                    continue;
                }
                match &acceptor {
                    None => {
                        tokio::spawn(serve_socket(st, tcp));
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                serve_socket(st, tls).await;
                            }
                        });
                    }
                }
            }
        });
        Peer {
            addr,
            state,
            task,
            tls: tls.is_some(),
        }
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server URL for a client (`http://127.0.0.1:PORT`, or `https://localhost:PORT` for TLS).
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://127.0.0.1:{}", self.addr.port())
        }
    }

    /// The websocket URL the client derives from [`Peer::url`].
    pub fn ws_url(&self) -> String {
        if self.tls {
            format!("wss://localhost:{}/api/v4/websocket", self.addr.port())
        } else {
            format!("ws://127.0.0.1:{}/api/v4/websocket", self.addr.port())
        }
    }

    /// A client builder for this peer with [`TOKEN`], a fast backoff and no proxies.
    pub fn builder(&self) -> matterapi::ClientBuilder {
        matterapi::Client::builder(self.url())
            .token(TOKEN)
            .ws_reconnect_wait_time(Duration::from_millis(10))
            .proxies(no_proxies())
            .timeout(Duration::from_secs(5))
    }

    /// A client for this peer (see [`Peer::builder`]).
    pub fn client(&self) -> matterapi::Client {
        self.builder().build().expect("client")
    }

    /// Changes the knobs.
    pub fn knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.st().knobs);
    }

    /// Accepts another token.
    pub fn add_token(&self, token: &str) {
        self.st().tokens.insert(token.to_owned());
    }

    /// Revokes the session of `token`: its sockets stay open and answer websocket pings, get no
    /// more events, and every action gets `not_authenticated`; new sockets with it are refused.
    pub fn revoke(&self, token: &str) {
        let mut st = self.st();
        st.revoked.insert(token.to_owned());
        st.tokens.remove(token);
    }

    /// Publishes an event to every connection (live or waiting for a resume), numbered per
    /// connection, kept in its 128-event buffer.
    pub fn publish(&self, event: &str, data: Value) {
        self.publish_to(event, data, None);
    }

    /// Publishes to every connection but `except`.
    pub fn publish_to(&self, event: &str, data: Value, except: Option<&str>) {
        publish(&mut self.st(), event, &data, except);
    }

    /// Sends a raw frame (binary, garbage) to every live socket, outside numbering.
    pub fn send_raw(&self, msg: Message) {
        for s in self.st().sockets.values() {
            let _ = s.tx.send(Out::Msg(msg.clone()));
        }
    }

    /// Floods every live socket with `n` events of about 1 KB (see [`Out::Flood`]).
    pub fn flood(&self, n: usize, numbered: bool) {
        for s in self.st().sockets.values() {
            let _ = s.tx.send(Out::Flood { n, numbered });
        }
    }

    /// Flood events sent so far.
    pub fn flooded(&self) -> usize {
        self.st().flooded
    }

    /// Drops every socket abruptly (no close frame).
    pub fn drop_all(&self) {
        let mut st = self.st();
        for (_, s) in st.sockets.drain() {
            let _ = s.tx.send(Out::Drop);
        }
        for c in st.conns.values_mut() {
            c.socket = None;
        }
    }

    /// Closes every socket with a close frame.
    pub fn close_all(&self, code: u16) {
        let mut st = self.st();
        for (_, s) in st.sockets.drain() {
            let _ = s.tx.send(Out::Close(code));
        }
        for c in st.conns.values_mut() {
            c.socket = None;
        }
    }

    /// Forgets every connection, as a restarted server does: resumes get a new connection id.
    pub fn forget_connections(&self) {
        self.st().conns.clear();
    }

    /// Every upgrade request so far.
    pub fn upgrades(&self) -> Vec<Upgrade> {
        self.st().upgrades.clone()
    }

    /// Every action received so far.
    pub fn actions(&self) -> Vec<Action> {
        self.st().actions.clone()
    }

    /// Close codes the clients sent.
    pub fn client_close_codes(&self) -> Vec<u16> {
        self.st().client_close_codes.clone()
    }

    /// Websocket pongs received.
    pub fn pongs(&self) -> u64 {
        self.st().pongs
    }

    /// Sockets open now (authenticated or not).
    pub fn sockets(&self) -> usize {
        self.st().sockets.len()
    }

    /// Authenticated sockets open now.
    pub fn live(&self) -> usize {
        self.st()
            .sockets
            .values()
            .filter(|s| s.conn.is_some())
            .count()
    }

    /// Connection ids the peer knows.
    pub fn connection_ids(&self) -> Vec<String> {
        self.st().conns.keys().cloned().collect()
    }

    /// Waits until `cond` holds (checked every millisecond), failing the test after `limit`.
    pub async fn wait_until(&self, what: &str, limit: Duration, cond: impl Fn(&Peer) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !cond(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The next item of `stream` within `limit`: the test fails if none comes, or if the stream ends.
pub async fn next_within(
    stream: &mut matterapi::ws::EventStream,
    limit: Duration,
) -> matterapi::ws::WsItem {
    tokio::time::timeout(limit, stream.next())
        .await
        .unwrap_or_else(|_| panic!("an item within {limit:?}"))
        .expect("the stream goes on")
}

/// The next item of `stream` within 5 s ([`next_within`]).
pub async fn next(stream: &mut matterapi::ws::EventStream) -> matterapi::ws::WsItem {
    next_within(stream, Duration::from_secs(5)).await
}

/// Items of `stream` until `pick` says yes (that one included), within `limit` in all.
pub async fn until(
    stream: &mut matterapi::ws::EventStream,
    limit: Duration,
    mut pick: impl FnMut(&matterapi::ws::WsItem) -> bool,
) -> Vec<matterapi::ws::WsItem> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let item = tokio::time::timeout(left, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no matching item within {limit:?}; saw {seen:?}"))
            .unwrap_or_else(|| panic!("the stream ended; saw {seen:?}"));
        let hit = pick(&item);
        seen.push(item);
        if hit {
            return seen;
        }
    }
}

/// Proxies off, whatever the environment says.
pub fn no_proxies() -> matterapi::Proxies {
    let mut p = matterapi::Proxies::default();
    p.from_env = false;
    p
}

fn publish(st: &mut State, event: &str, data: &Value, except: Option<&str>) {
    let skip = std::mem::take(&mut st.knobs.skip_seq) as i64;
    let State {
        conns,
        sockets,
        revoked,
        ..
    } = st;
    for (id, conn) in conns.iter_mut() {
        if Some(id.as_str()) == except || revoked.contains(&conn.token) {
            continue;
        }
        // Skipped numbers: events "lost on the wire", still in the buffer for a resume.
        for _ in 0..skip {
            let seq = conn.next_seq;
            conn.next_seq += 1;
            let frame = event_frame(event, data, &json!({"connection_id": ""}), seq);
            conn.buffer.push_back((seq, frame));
        }
        let seq = conn.next_seq;
        conn.next_seq += 1;
        let broadcast = json!({
            "omit_users": null, "user_id": "", "channel_id": "", "team_id": "",
            "connection_id": "", "omit_connection_id": ""
        });
        let frame = event_frame(event, data, &broadcast, seq);
        conn.buffer.push_back((seq, frame.clone()));
        while conn.buffer.len() > BUFFER {
            conn.buffer.pop_front();
        }
        if let Some(socket) = conn.socket.and_then(|s| sockets.get(&s)) {
            let _ = socket.tx.send(Out::Msg(Message::text(frame)));
        }
    }
}

/// Registers a new connection for `token` on `socket`: its hello goes first.
fn new_connection(st: &mut State, socket: u64, token: &str) -> String {
    let id = new_id();
    st.conns.insert(
        id.clone(),
        ConnState {
            token: token.to_owned(),
            next_seq: 1,
            buffer: VecDeque::new(),
            socket: Some(socket),
        },
    );
    if let Some(s) = st.sockets.get_mut(&socket) {
        s.conn = Some(id.clone());
        let hello = event_frame(
            "hello",
            &json!({"connection_id": id, "server_version": "10.0.0.peer.hash.false", "server_hostname": "peer"}),
            &json!({"omit_users": null, "user_id": "peer-user", "channel_id": "", "team_id": ""}),
            0,
        );
        let _ = s.tx.send(Out::Msg(Message::text(hello)));
    }
    id
}

#[allow(clippy::result_large_err)] // tungstenite's callback signature
async fn serve_socket<S>(state: Arc<Mutex<State>>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut seen: Option<Upgrade> = None;
    let callback = |req: &Request, resp: Response| {
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        seen = Some(Upgrade {
            uri: req.uri().to_string(),
            headers,
        });
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let Some(upgrade) = seen else { return };
    let header_token = upgrade
        .headers
        .get("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_owned);
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    let (socket, mut token, ping_every, drop_after) = {
        let mut st = lock();
        st.upgrades.push(upgrade.clone());
        let socket = st.next_socket;
        st.next_socket += 1;
        st.sockets.insert(
            socket,
            Socket {
                tx: tx.clone(),
                conn: None,
            },
        );
        let mut token = None;
        let valid = header_token
            .as_ref()
            .filter(|t| st.knobs.header_auth && st.tokens.contains(*t))
            .cloned();
        if let Some(t) = valid {
            let resume_id = upgrade.query("connection_id");
            let resume_seq = upgrade
                .query("sequence_number")
                .and_then(|s| s.parse::<i64>().ok());
            if resume_id.is_some() && resume_seq.is_none() {
                // The server closes a socket that asks to resume without a sequence number.
                st.sockets.remove(&socket);
                return;
            }
            let resumable = match (&resume_id, resume_seq) {
                (Some(id), Some(seq)) => st.conns.get(id).is_some_and(|c| c.can_resume(seq)),
                _ => false,
            };
            if let (true, Some(id), Some(seq)) = (resumable, resume_id, resume_seq) {
                // Kick a socket still registered for this connection, then replay: no hello.
                let old = st.conns.get(&id).and_then(|c| c.socket);
                if let Some(old) = old.filter(|o| *o != socket)
                    && let Some(s) = st.sockets.remove(&old)
                {
                    let _ = s.tx.send(Out::Drop);
                }
                let State { conns, sockets, .. } = &mut *st;
                if let (Some(conn), Some(s)) = (conns.get_mut(&id), sockets.get_mut(&socket)) {
                    // Every token is the same user's: a renewed session resumes too.
                    conn.token = t.clone();
                    conn.socket = Some(socket);
                    s.conn = Some(id.clone());
                    for (n, frame) in &conn.buffer {
                        if *n >= seq {
                            let _ = tx.send(Out::Msg(Message::text(frame.clone())));
                        }
                    }
                }
            } else {
                new_connection(&mut st, socket, &t);
            }
            token = Some(t);
        }
        (
            socket,
            token,
            st.knobs.ws_ping_every,
            st.knobs.drop_after_frames.take(),
        )
    };

    let mut pinger = ping_every.map(|every| tokio::time::interval(every));
    let unauthenticated_deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut frames_sent = 0usize;
    loop {
        let authed = token.is_some();
        tokio::select! {
            out = rx.recv() => match out {
                Some(Out::Msg(m)) => {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                    frames_sent += 1;
                    if drop_after.is_some_and(|n| frames_sent >= n) {
                        break;
                    }
                }
                Some(Out::Close(code)) => {
                    let frame = CloseFrame { code: code.into(), reason: "peer".into() };
                    let _ = ws.close(Some(frame)).await;
                    break;
                }
                Some(Out::Flood { n, numbered }) => {
                    let pad = "x".repeat(1000);
                    let mut failed = false;
                    for i in 0..n {
                        let data = json!({ "n": i, "pad": pad });
                        let frame = if numbered {
                            let mut st = lock();
                            let conn_id = st.sockets.get(&socket).and_then(|s| s.conn.clone());
                            let Some(conn) = conn_id.and_then(|id| st.conns.get_mut(&id)) else {
                                break;
                            };
                            let seq = conn.next_seq;
                            conn.next_seq += 1;
                            let frame = event_frame("flood", &data, &json!({}), seq);
                            conn.buffer.push_back((seq, frame.clone()));
                            while conn.buffer.len() > BUFFER {
                                conn.buffer.pop_front();
                            }
                            frame
                        } else {
                            json!({ "event": "flood", "data": data, "broadcast": {} }).to_string()
                        };
                        if ws.send(Message::text(frame)).await.is_err() {
                            failed = true;
                            break;
                        }
                        lock().flooded += 1;
                    }
                    if failed {
                        break;
                    }
                }
                Some(Out::Drop) | None => break,
            },
            msg = ws.next() => match msg {
                None | Some(Err(_)) => break,
                Some(Ok(Message::Text(text))) => {
                    let replies = handle_action(&state, socket, &mut token, text.as_str());
                    let mut failed = false;
                    for r in replies {
                        match r {
                            Some(frame) => {
                                if ws.send(Message::text(frame)).await.is_err() {
                                    failed = true;
                                    break;
                                }
                            }
                            None => { failed = true; break; }
                        }
                    }
                    if failed {
                        break;
                    }
                }
                Some(Ok(Message::Pong(_))) => lock().pongs += 1,
                Some(Ok(Message::Close(frame))) => {
                    if let Some(f) = frame {
                        lock().client_close_codes.push(u16::from(f.code));
                    }
                    let _ = ws.close(None).await;
                    break;
                }
                Some(Ok(_)) => {}
            },
            _ = async { match pinger.as_mut() { Some(p) => { p.tick().await; } None => std::future::pending().await } } => {
                if ws.send(Message::Ping(b"peer".to_vec().into())).await.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep_until(unauthenticated_deadline), if !authed => break,
        }
    }
    let mut st = lock();
    if let Some(s) = st.sockets.remove(&socket)
        && let Some(id) = s.conn
        && let Some(c) = st.conns.get_mut(&id)
        && c.socket == Some(socket)
    {
        c.socket = None;
    }
}

/// Handles one client frame; each `Some` is a frame to send back, a `None` closes the socket.
fn handle_action(
    state: &Arc<Mutex<State>>,
    socket: u64,
    token: &mut Option<String>,
    text: &str,
) -> Vec<Option<String>> {
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return vec![None];
    };
    let seq = req["seq"].as_i64().unwrap_or(0);
    let action = req["action"].as_str().unwrap_or("").to_owned();
    let data = req.get("data").cloned().unwrap_or(Value::Null);
    let connection_id = st.sockets.get(&socket).and_then(|s| s.conn.clone());
    st.actions.push(Action {
        seq,
        action: action.clone(),
        data: data.clone(),
        connection_id: connection_id.clone(),
    });
    if seq <= 0 {
        return vec![Some(reply_fail(
            seq,
            "api.web_socket_router.bad_seq.app_error",
            400,
        ))];
    }
    if action == "authentication_challenge" {
        if token.is_some() {
            return vec![];
        }
        let t = data["token"].as_str().unwrap_or("").to_owned();
        if !st.tokens.contains(&t) {
            return vec![None];
        }
        new_connection(&mut st, socket, &t);
        *token = Some(t);
        // The hello went through the socket's queue; the reply follows it.
        if let Some(s) = st.sockets.get(&socket) {
            let _ = s.tx.send(Out::Msg(Message::text(reply_ok(seq, None))));
        }
        return vec![];
    }
    if token.is_none() && st.knobs.silent_unauthenticated {
        return vec![];
    }
    let revoked = token.as_ref().is_some_and(|t| st.revoked.contains(t));
    if token.is_none() || revoked {
        return vec![Some(reply_fail(
            seq,
            "api.web_socket_router.not_authenticated.app_error",
            401,
        ))];
    }
    if action == "ping" {
        if !st.knobs.answer_pings {
            return vec![];
        }
        return vec![Some(reply_ok(
            seq,
            Some(json!({"text": "pong", "version": "10.0.0", "server_time": 1})),
        ))];
    }
    if !st.knobs.answer_actions {
        return vec![];
    }
    match action.as_str() {
        "user_typing" => {
            let typing = json!({"parent_id": data["parent_id"], "user_id": "peer-user"});
            publish(&mut st, "typing", &typing, connection_id.as_deref());
            vec![Some(reply_ok(seq, None))]
        }
        "get_statuses" => vec![Some(reply_ok(
            seq,
            Some(json!({"peer-user": "online", "other-user": "away"})),
        ))],
        "get_statuses_by_ids" => {
            let map: serde_json::Map<String, Value> = data["user_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .map(|id| (id.to_owned(), json!("online")))
                .collect();
            vec![Some(reply_ok(seq, Some(Value::Object(map))))]
        }
        "presence" | "user_update_active_status" | "posted_notify_ack" => {
            vec![Some(reply_ok(seq, None))]
        }
        _ => vec![Some(reply_fail(
            seq,
            "api.web_socket_router.bad_action.app_error",
            500,
        ))],
    }
}

/// A loopback HTTP proxy that tunnels `CONNECT` to 127.0.0.1/localhost and records each request
/// line.
pub struct ConnectProxy {
    pub url: String,
    lines: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConnectProxy {
    pub async fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = lines.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(tunnel(tcp, log.clone()));
            }
        });
        ConnectProxy { url, lines, task }
    }

    /// The request line of each request.
    pub fn lines(&self) -> Vec<String> {
        self.heads()
            .iter()
            .map(|h| h.lines().next().unwrap_or("").to_owned())
            .collect()
    }

    /// The head (request line and headers) of each request.
    pub fn heads(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

async fn tunnel(mut client: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or("").to_owned();
    log.lock().unwrap().push(text.clone());
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let loopback = target.starts_with("127.0.0.1:") || target.starts_with("localhost:");
    if method != "CONNECT" || !loopback {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
