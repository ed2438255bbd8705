//! Opening one authenticated socket: the transport (TCP, proxy, TLS), the HTTP upgrade written by
//! hand, and the proof that the server authenticated the socket.
//!
//! The upgrade request is written here rather than by tungstenite's client handshake, which logs
//! the whole request (its `Authorization` header included) at TRACE level through `log`. The
//! token is sent only in bytes this module writes; the authentication challenge (which carries the
//! token in a frame, and which tungstenite would log as hex at TRACE) is also written here,
//! straight to the socket.
//!
//! What the server does with the token (its `api4/websocket.go`, `platform/web_conn.go`):
//!
//! - A valid token on the upgrade registers the connection with the hub: a new connection gets a
//!   `hello` at once; a resumed one gets the events it missed (no `hello`), and the `ping`
//!   action's reply proves it is authenticated.
//! - An invalid, expired or revoked token does **not** fail the upgrade. The socket is never
//!   registered, so the server drops every reply to it (the `not_authenticated` reply to `ping`
//!   included) and closes the socket about 5 s later without a close frame. That silence is
//!   [`Attempt::Silent`]: the caller checks the token over REST to tell it from a network failure.
//! - A token in the authentication challenge is checked at once: a bad one closes the socket, a
//!   good one registers it (`hello`, then the challenge's `OK`). A socket that was authenticated on
//!   the upgrade ignores the challenge.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, handshake};

use crate::error::{ConnectionError, ConnectionStage as Stage, WsError};
use crate::retry::Jitter;
use crate::ws::event::{self, Event, EventKind, Frame, Parsed};
use crate::ws::settings::Settings;
use crate::ws::transport::{Stream, Transport};

pub(crate) type Ws = WebSocketStream<Stream>;

/// The longest HTTP head accepted in answer to the upgrade.
const MAX_HEAD: usize = 16 * 1024;

/// Frames kept while waiting for the handshake to finish, at most.
const MAX_EARLY: usize = 1024;

/// Why a connection attempt failed.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Try again later (network, proxy, TLS, an upgrade the server refused for another reason).
    Retry(ConnectionError),
    /// The server accepted the upgrade but never showed the socket was authenticated (no `hello`,
    /// no reply) before it closed it or the time ran out: what the server does with a token it
    /// does not accept, and also what a network failure at the wrong moment looks like.
    Silent(ConnectionError),
    /// The token was refused (HTTP 401 on the upgrade, or the authentication challenge closed the
    /// socket).
    Rejected,
    /// Trying again cannot help.
    Fatal(WsError),
}

/// A connection that passed the handshake.
pub(crate) struct Opened {
    pub(crate) ws: Ws,
    /// The `hello` of a new connection; `None` when a resume worked.
    pub(crate) hello: Option<Box<Event>>,
    /// Frames that arrived before the handshake finished, to be handled first.
    pub(crate) early: VecDeque<Message>,
    /// The `seq` of the next action on this socket.
    pub(crate) next_action: i64,
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

/// Sends one text frame, bounded by `limit`.
pub(crate) async fn send_text(
    ws: &mut Ws,
    text: String,
    limit: Duration,
) -> Result<(), ConnectionError> {
    match timeout(limit, ws.send(Message::text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ConnectionError::caused_by(Stage::Send, "sending failed", e)),
        Err(_) => Err(ConnectionError::new(
            Stage::Send,
            format!("sending took more than {limit:?}"),
        )),
    }
}

/// Connects, upgrades and authenticates one socket. `resume` is the connection id and the sequence
/// number to resume from; with `challenge` the token is also sent in the authentication challenge
/// (for a proxy that strips the upgrade's `Authorization` header).
pub(crate) async fn open(
    transport: Arc<Transport>,
    settings: Arc<Settings>,
    token: Option<SecretString>,
    resume: Option<(String, i64)>,
    challenge: bool,
) -> Result<Opened, Attempt> {
    let token = token.ok_or(Attempt::Fatal(WsError::NoCredentials))?;
    let mut url = settings.url.clone();
    if let Some((id, seq)) = &resume {
        url.query_pairs_mut()
            .append_pair("connection_id", id)
            .append_pair("sequence_number", &seq.to_string());
    }
    let stream = transport.connect(&url).await.map_err(Attempt::Retry)?;
    let ws = match timeout(
        settings.connect_timeout,
        upgrade(stream, &url, &token, &settings),
    )
    .await
    {
        Ok(result) => result?,
        Err(_) => {
            return Err(Attempt::Retry(ConnectionError::new(
                Stage::Upgrade,
                format!(
                    "the websocket upgrade took more than {:?}",
                    settings.connect_timeout
                ),
            )));
        }
    };
    authenticate(ws, &token, resume.is_some(), challenge, &settings).await
}

/// The HTTP upgrade: the request written by hand (see the module docs), the answer's head read
/// byte by byte (nothing of the websocket stream after it is consumed), `Sec-WebSocket-Accept`
/// checked.
async fn upgrade(
    mut stream: Stream,
    url: &Url,
    token: &SecretString,
    settings: &Settings,
) -> Result<Ws, Attempt> {
    let host = url
        .host_str()
        .ok_or_else(|| Attempt::Fatal(WsError::Config("the websocket URL has no host".into())))?;
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    if [&authority, &target, &settings.user_agent]
        .iter()
        .any(|s| s.contains(['\r', '\n']))
    {
        return Err(Attempt::Fatal(WsError::Config(
            "the websocket URL or user agent holds a line break".into(),
        )));
    }
    let secret = token.expose_secret();
    if secret.contains(['\r', '\n']) {
        return Err(Attempt::Fatal(WsError::Config(
            "the token is not a valid header value".into(),
        )));
    }
    let key = handshake::client::generate_key();
    let request = SecretString::from(format!(
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nUser-Agent: {}\r\n\
         Authorization: Bearer {secret}\r\n\r\n",
        settings.user_agent
    ));
    stream
        .write_all(request.expose_secret().as_bytes())
        .await
        .map_err(|e| upgrade_failed("writing the websocket upgrade", e))?;
    stream
        .flush()
        .await
        .map_err(|e| upgrade_failed("writing the websocket upgrade", e))?;
    drop(request);
    let head = read_head(&mut stream).await?;
    let (status, accept) =
        parse_head(&head).map_err(|e| Attempt::Retry(ConnectionError::new(Stage::Upgrade, e)))?;
    match status {
        101 => {}
        401 => return Err(Attempt::Rejected),
        other => {
            return Err(Attempt::Retry(ConnectionError::new(
                Stage::Upgrade,
                format!("the server answered the websocket upgrade with HTTP {other}"),
            )));
        }
    }
    if accept.as_deref() != Some(handshake::derive_accept_key(key.as_bytes()).as_str()) {
        return Err(Attempt::Retry(ConnectionError::new(
            Stage::Upgrade,
            "the server's Sec-WebSocket-Accept does not match the request's key",
        )));
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(settings.max_message_size))
        .max_frame_size(Some(settings.max_message_size));
    Ok(WebSocketStream::from_raw_socket(stream, Role::Client, Some(config)).await)
}

async fn read_head(stream: &mut Stream) -> Result<Vec<u8>, Attempt> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return Err(Attempt::Retry(ConnectionError::new(
                Stage::Upgrade,
                "the answer to the websocket upgrade is too long",
            )));
        }
        let n = stream
            .read(&mut byte)
            .await
            .map_err(|e| upgrade_failed("reading the websocket upgrade's answer", e))?;
        if n == 0 {
            return Err(Attempt::Retry(ConnectionError::new(
                Stage::Upgrade,
                "the server closed the connection during the websocket upgrade",
            )));
        }
        head.push(byte[0]);
    }
    Ok(head)
}

fn upgrade_failed(what: &str, e: std::io::Error) -> Attempt {
    Attempt::Retry(ConnectionError::caused_by(Stage::Upgrade, what, e))
}

/// The status and `Sec-WebSocket-Accept` of an HTTP answer's head.
fn parse_head(head: &[u8]) -> Result<(u16, Option<String>), String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| "the answer to the websocket upgrade is not HTTP/1.x".to_owned())?;
    let accept = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim().to_owned())
    });
    Ok((status, accept))
}

/// Writes the authentication challenge as one masked text frame straight to the socket (see the
/// module docs), flushed. tungstenite has no unsent bytes between two of its sends, so the frame
/// stands on its own on the wire.
async fn write_challenge(
    ws: &mut Ws,
    seq: i64,
    token: &SecretString,
    limit: Duration,
) -> Result<(), ConnectionError> {
    let data = serde_json::json!({ "token": token.expose_secret() });
    let payload = SecretString::from(request_text(seq, "authentication_challenge", Some(&data)));
    let frame = masked_text_frame(
        payload.expose_secret().as_bytes(),
        Jitter::from_entropy().next_u32(),
    );
    let io = ws.get_mut();
    let written = timeout(limit, async {
        io.write_all(&frame).await?;
        io.flush().await
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ConnectionError::caused_by(
            Stage::Authentication,
            "sending the authentication challenge",
            e,
        )),
        Err(_) => Err(ConnectionError::new(
            Stage::Authentication,
            format!("sending the authentication challenge took more than {limit:?}"),
        )),
    }
}

/// A final, masked text frame (RFC 6455 §5.2) holding `payload`.
fn masked_text_frame(payload: &[u8], mask: u32) -> Vec<u8> {
    let mask = mask.to_be_bytes();
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x81);
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Proves the socket is authenticated (see the module docs): the `ping` action is sent at once; a
/// `hello` means a new connection; after a resume request a replayed event or the ping's `OK`
/// means the resume worked; a `not_authenticated` reply is answered with the authentication
/// challenge.
async fn authenticate(
    mut ws: Ws,
    token: &SecretString,
    resume: bool,
    challenge_first: bool,
    s: &Settings,
) -> Result<Opened, Attempt> {
    let mut next_action = 1i64;
    let mut challenge: Option<i64> = None;
    if challenge_first {
        write_challenge(&mut ws, next_action, token, s.write_timeout)
            .await
            .map_err(Attempt::Retry)?;
        challenge = Some(next_action);
        next_action += 1;
    }
    let ping = next_action;
    next_action += 1;
    send_text(&mut ws, request_text(ping, "ping", None), s.write_timeout)
        .await
        .map_err(Attempt::Retry)?;
    let mut early = VecDeque::new();
    let mut heard = false;
    let deadline = Instant::now() + s.hello_timeout;
    // How an attempt that got no proof ends: a refused challenge, the server's silence, or a
    // failure after the server had said something.
    let fail =
        |challenge: Option<i64>, heard: bool, reason: ConnectionError| match (challenge, heard) {
            (Some(_), _) => Attempt::Rejected,
            (None, false) => Attempt::Silent(reason),
            (None, true) => Attempt::Retry(reason),
        };
    let opened = |ws, hello, early, next_action| Opened {
        ws,
        hello,
        early,
        next_action,
    };
    loop {
        let msg = match timeout_at(deadline, ws.next()).await {
            Err(_) => {
                return Err(fail(
                    challenge,
                    heard,
                    ConnectionError::new(
                        Stage::Authentication,
                        format!("no hello within {:?}", s.hello_timeout),
                    ),
                ));
            }
            Ok(None) => {
                return Err(fail(
                    challenge,
                    heard,
                    ConnectionError::new(Stage::Authentication, "closed during the handshake"),
                ));
            }
            Ok(Some(Err(e))) => {
                return Err(fail(
                    challenge,
                    heard,
                    ConnectionError::caused_by(Stage::Authentication, "handshake", e),
                ));
            }
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(frame) => {
                let why = frame
                    .map(|f| format!("closed during the handshake ({} {})", f.code, f.reason))
                    .unwrap_or_else(|| "closed during the handshake".into());
                return Err(fail(
                    challenge,
                    heard,
                    ConnectionError::new(Stage::Authentication, why),
                ));
            }
            Message::Binary(_) => {
                heard = true;
                early.push_back(msg);
                continue;
            }
            _ => continue,
        };
        heard = true;
        match event::parse(text.clone()) {
            Parsed::Frame(Frame::Event(ev)) if matches!(ev.kind, EventKind::Hello(_)) => {
                return Ok(opened(ws, Some(Box::new(ev)), early, next_action));
            }
            Parsed::Frame(Frame::Event(_)) | Parsed::BadEvent { .. } => {
                early.push_back(Message::Text(text));
                // Events flow only on an authenticated socket: a replayed event proves the resume.
                if resume && challenge.is_none() {
                    return Ok(opened(ws, None, early, next_action));
                }
            }
            Parsed::Frame(Frame::Reply(r)) if r.seq_reply == ping => {
                if r.is_ok() {
                    // Authenticated. After a resume request no hello comes when the resume worked;
                    // if it did not, the hello arrives later and is handled as a new connection.
                    if resume && challenge.is_none() {
                        return Ok(opened(ws, None, early, next_action));
                    }
                } else if r.is_not_authenticated() {
                    if challenge.is_none() {
                        // Header auth did not work (a proxy may have dropped the header): the
                        // authentication challenge is the fallback.
                        let seq = next_action;
                        next_action += 1;
                        write_challenge(&mut ws, seq, token, s.write_timeout)
                            .await
                            .map_err(Attempt::Retry)?;
                        challenge = Some(seq);
                    }
                } else {
                    let why = r
                        .error
                        .map(|e| format!("{} ({})", e.message, e.id))
                        .unwrap_or_else(|| r.status.clone());
                    return Err(Attempt::Retry(ConnectionError::new(
                        Stage::Authentication,
                        format!("the ping action failed: {why}"),
                    )));
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
        if early.len() > MAX_EARLY {
            return Err(Attempt::Retry(ConnectionError::new(
                Stage::Authentication,
                "too many frames before the hello",
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_gives_its_status_and_accept_key() {
        let head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nsec-websocket-accept: abc=\r\n\r\n";
        assert_eq!(parse_head(head), Ok((101, Some("abc=".into()))));
        let head = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse_head(head), Ok((401, None)));
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn a_masked_frame_unmasks_to_its_payload() {
        for len in [0usize, 5, 125, 126, 300, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let frame = masked_text_frame(&payload, 0x1234_5678);
            assert_eq!(frame[0], 0x81);
            assert_eq!(frame[1] & 0x80, 0x80, "masked");
            let (len_bytes, header) = match frame[1] & 0x7f {
                126 => (2, 4),
                127 => (8, 10),
                n => {
                    assert_eq!(usize::from(n), len);
                    (0, 2)
                }
            };
            if len_bytes > 0 {
                let mut n = 0usize;
                for b in &frame[2..2 + len_bytes] {
                    n = (n << 8) | usize::from(*b);
                }
                assert_eq!(n, len);
            }
            let mask = &frame[header..header + 4];
            let body: Vec<u8> = frame[header + 4..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(body, payload);
        }
    }
}
