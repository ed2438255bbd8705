//! The websocket listener's errors: terminal ones (the connection cannot go on), frames from the
//! server that could not be understood (the connection goes on), and failed actions.

use std::time::Duration;

use bytes::Bytes;

/// What was wrong with a frame the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadFrameKind {
    /// A binary frame: Mattermost sends only text frames.
    Binary,
    /// A text frame that is not JSON.
    InvalidJson,
    /// JSON that is neither an event nor a reply, or an event whose payload does not have the
    /// shape its type promises.
    UnexpectedShape,
    /// A message longer than the options' `max_body_size`: not read (the raw frame is empty); the
    /// listener resumes after it.
    TooLarge,
}

impl std::fmt::Display for BadFrameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadFrameKind::Binary => "binary frame",
            BadFrameKind::InvalidJson => "invalid JSON",
            BadFrameKind::UnexpectedShape => "unexpected shape",
            BadFrameKind::TooLarge => "message too large",
        })
    }
}

/// An error of the websocket listener.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The listener was configured with a value it cannot use (a bad URL, an unreadable
    /// certificate, an unsupported proxy).
    #[error("invalid websocket configuration: {0}")]
    Config(String),
    /// The first connection could not be made (DNS, TCP, proxy, TLS, the upgrade).
    #[error("cannot connect the websocket to {url}: {detail}")]
    Connect {
        /// The websocket URL (without query).
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The server did not accept the token: no `hello` came, the `ping` action was answered with
    /// `not_authenticated`, and the authentication challenge closed the socket.
    #[error(
        "the server rejected the websocket's token (the socket stayed unauthenticated; log in again or use another token)"
    )]
    AuthRejected,
    /// The session behind an open socket was revoked or expired (the `ping` action answered
    /// `not_authenticated`), and logging in again was not allowed.
    #[error(
        "the websocket's session was revoked or has expired (the server answered `not_authenticated`)"
    )]
    SessionRevoked,
    /// There is no token and no credentials to log in with.
    #[error("the websocket needs a token: set one, or login credentials, in the options")]
    NoCredentials,
    /// Logging in (again) failed.
    #[error("logging in for the websocket failed: {0}")]
    Login(#[source] crate::Error),
    /// A frame the server sent could not be understood. The connection goes on; the frame is kept.
    #[error(
        "bad frame from the server ({kind}{}): {}",
        detail_suffix(detail),
        preview(raw)
    )]
    BadFrame {
        /// What was wrong.
        kind: BadFrameKind,
        /// Details (serde's message for JSON problems).
        detail: String,
        /// The frame as received.
        raw: Bytes,
    },
    /// The server answered an action with `FAIL`.
    #[error(
        "websocket action `{action}` failed: {message} ({id}{})",
        status_code.map(|s| format!(", status {s}")).unwrap_or_default()
    )]
    ActionFailed {
        /// The action sent.
        action: String,
        /// The server's error id, e.g. `api.web_socket_router.bad_action.app_error`.
        id: String,
        /// The server's message.
        message: String,
        /// The HTTP-like status code the server gave, if any.
        status_code: Option<u16>,
    },
    /// No reply came in time.
    #[error("websocket action `{action}` got no reply within {timeout:?}")]
    ActionTimeout {
        /// The action sent.
        action: String,
        /// The time allowed.
        timeout: Duration,
    },
    /// The connection was lost (or not up) before the reply came; the action may or may not have
    /// been carried out.
    #[error("websocket action `{action}` got no reply: {reason}")]
    NotConnected {
        /// The action.
        action: String,
        /// Why.
        reason: String,
    },
    /// The request would exceed the server's 8 KiB limit for client messages (which closes the
    /// connection), so it was not sent.
    #[error("websocket action `{action}` is {size} bytes; the server accepts at most 8192")]
    TooLarge {
        /// The action.
        action: String,
        /// The serialized size.
        size: usize,
    },
    /// The listener has stopped (shut down, or ended by a terminal error).
    #[error("the websocket listener has stopped")]
    Stopped,
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

fn preview(raw: &Bytes) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&raw[..raw.len().min(MAX)]);
    let more = if raw.len() > MAX { "..." } else { "" };
    format!("{text:?}{more}")
}

impl WsError {
    /// Whether the listener stops after this error (everything but bad frames and failed actions).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            WsError::Config(_)
                | WsError::Connect { .. }
                | WsError::AuthRejected
                | WsError::SessionRevoked
                | WsError::NoCredentials
                | WsError::Login(_)
                | WsError::Stopped
        )
    }

    /// The raw frame of a [`WsError::BadFrame`].
    pub fn raw_frame(&self) -> Option<&[u8]> {
        match self {
            WsError::BadFrame { raw, .. } => Some(raw),
            _ => None,
        }
    }

    pub(crate) fn bad_frame(kind: BadFrameKind, detail: impl Into<String>, raw: Bytes) -> WsError {
        WsError::BadFrame {
            kind,
            detail: detail.into(),
            raw,
        }
    }
}
