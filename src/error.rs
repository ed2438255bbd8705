//! Errors: what the server said (its error id and request id included), what it sent that we did not
//! expect (the body kept), and what went wrong on the way.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

use crate::types::AppError;

/// The result of a matterapi call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The header in which Mattermost names each request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// An error from a matterapi call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a Mattermost error (`{id, message, request_id, ...}`).
    #[error("{0}")]
    Api(Box<ServerError>),
    /// The server answered with a status and a body that is not a Mattermost error (a proxy's HTML
    /// page, the plain-text `limit exceeded` of the rate limiter, an empty body). The body is kept.
    #[error(
        "unexpected HTTP {status}{}: {}",
        request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default(),
        body_preview(body)
    )]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
        /// The `X-Request-ID` header, when present.
        request_id: Option<String>,
        /// The body, untouched.
        body: Bytes,
    },
    /// The server's rate limiter refused the request (HTTP 429) and asked to wait `retry_after`:
    /// longer than what the retry policy allows ([`crate::retry`]), or after its last attempt.
    #[error(
        "rate limited: the server asks to wait {:.3} s{}: {}",
        retry_after.as_secs_f64(),
        request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default(),
        body_preview(body)
    )]
    RateLimited {
        /// The wait the server asked for (`Retry-After`, else `X-RateLimit-Reset`).
        retry_after: Duration,
        /// The `X-Request-ID` header, when present.
        request_id: Option<String>,
        /// The body, untouched (Mattermost's limiter sends `limit exceeded`).
        body: Bytes,
    },
    /// A success reply whose body did not decode into the expected type. The body is kept.
    #[error("cannot decode the server's reply; body: {}", body_preview(body))]
    Decode {
        /// The body, untouched.
        body: Bytes,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The request never got an answer: connection, TLS, timeout.
    #[error("request failed")]
    Transport(#[source] reqwest::Error),
    /// The reply's body was longer than the options' `max_body_size`, so it was not read to its
    /// end (it would have been held in memory). Downloads ([`crate::files::Download`]) stream and
    /// have no limit.
    #[error(
        "the reply to {operation} (HTTP {status}) was larger than max_body_size ({limit} bytes)"
    )]
    BodyTooLarge {
        /// The operation (the generated operation's id, or `raw`).
        operation: String,
        /// The limit in bytes.
        limit: u64,
        /// The reply's status.
        status: StatusCode,
    },
    /// The websocket listener failed (see [`WsError`]); `?` turns every websocket error
    /// into this variant.
    #[error(transparent)]
    WebSocket(Box<WsError>),
    /// The request could not be built (a missing required parameter, an invalid value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Logging in failed for another reason than the server's refusal (no credentials configured, a
    /// reply without a session token).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The client was configured with a value it cannot use.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A path parameter's value would change the request's path (empty, `.` or `..`, or with a
    /// `/`, `\\` or control character): nothing was sent. The value itself is not shown (it may be
    /// chat input).
    #[error("invalid path parameter `{name}`: {reason}; nothing was sent")]
    InvalidPathParameter {
        /// The parameter (the builder's setter, e.g. `username`; `path` for [`crate::Client::raw`]).
        name: String,
        /// What is wrong with its value, e.g. ``contains `/` ``.
        reason: String,
    },
    /// A page of a `page`/`per_page` walk ([`crate::paginate::paginate`]) held the same items as the
    /// page before it: the server ignores `page`, and the walk would never end. The walk ends with
    /// this error, after the items of the pages before.
    #[error(
        "page {page} repeats page {} item for item: the server ignores `page`; the walk stopped",
        page.saturating_sub(1)
    )]
    PageRepeated {
        /// The page that repeated the one before it.
        page: u32,
    },
    /// A `page`/`per_page` walk reached its page limit ([`crate::paginate::Paginate::page_limit`])
    /// with pages still full: the walk ends with this error, after the items of the pages fetched.
    #[error("the walk fetched its limit of {limit} pages and more were left; it stopped")]
    PageLimitReached {
        /// The limit, in pages.
        limit: u32,
    },
    /// A relogin needed an MFA code, but the one stored in the options (`mfa_token`) was used by an
    /// earlier login and a one-time code is valid once.
    #[error(
        "the stored MFA code (`mfa_token`) was already used by an earlier login; a one-time code \
         is valid once: give the TOTP secret instead (`mfa_secret`, `Auth::login_totp`) or a \
         callback that yields a fresh code (`Auth::login_mfa_callback`)"
    )]
    MfaCodeUsed,
    /// A blocking client's call was made from inside an async runtime, where blocking would stall
    /// (or panic) that runtime: nothing was sent. Use the async client there.
    #[error(
        "the blocking client was called from inside an async runtime: use the async Client there"
    )]
    InsideRuntime,
    /// The blocking client's private runtime could not be started.
    #[error("cannot start the blocking client's runtime")]
    RuntimeStart(#[source] std::io::Error),
    /// A model lacked a field the server always fills (an id, `create_at`, a post's `user_id`,
    /// `channel_id` or `message`, ...): the value was absent (or, for an id, empty). Returned by
    /// the accessors of [`crate::bot`] (`post.id()?`, `channel.team_id()?`, ...), which read those
    /// fields without an `Option`. It means a reply this crate does not expect: a proxy or plugin
    /// that rewrote it, a server of another kind, or a model built by hand.
    #[error("the server's {type_name} has no `{field}`, a field the server always fills")]
    MissingField {
        /// The type of the model (`Post`, `User`, `Channel`, ...).
        type_name: &'static str,
        /// The field that was missing (as the server names it: `id`, `create_at`, ...).
        field: &'static str,
    },
}

/// The error a reply's body stream ends with when it grows past `max_body_size` (turned into
/// [`Error::BodyTooLarge`] by [`Error::transport`]).
#[derive(Debug, Clone)]
pub(crate) struct BodyLimitExceeded {
    pub(crate) operation: String,
    pub(crate) limit: u64,
    pub(crate) status: StatusCode,
}

impl std::fmt::Display for BodyLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the reply to {} is larger than max_body_size ({} bytes)",
            self.operation, self.limit
        )
    }
}

impl std::error::Error for BodyLimitExceeded {}

/// The start of the message that carries [`Error::InvalidPathParameter`] through the generated
/// client's `progenitor_client::Error::InvalidRequest` (read back by [`invalid_path_parameter`]).
pub(crate) const INVALID_PATH_PARAMETER: &str = "invalid path parameter `";

/// [`Error::InvalidPathParameter`] back from the message [`crate::request::path_param`] made, if `message` is one.
fn invalid_path_parameter(message: &str) -> Option<Error> {
    let (name, reason) = message
        .strip_prefix(INVALID_PATH_PARAMETER)?
        .split_once("`: ")?;
    Some(Error::InvalidPathParameter {
        name: name.to_owned(),
        reason: reason.to_owned(),
    })
}

/// [`Error::Config`] naming the option (`` `field`: problem ``).
pub(crate) fn config(field: &str, problem: impl std::fmt::Display) -> Error {
    Error::Config(format!("`{field}`: {problem}"))
}

/// A Mattermost error reply. Its `Display` and `Debug` show at most 500 characters of each
/// server-supplied text, with secrets (`token=...`, `Bearer ...`, URL passwords) redacted; the
/// fields keep the server's whole text.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The server's error id, e.g. `api.context.session_expired.app_error`.
    pub id: String,
    /// The server's message.
    pub message: String,
    /// Details the server added, often empty.
    pub detailed_error: String,
    /// The request id (body, or `X-Request-ID` header).
    pub request_id: Option<String>,
    /// Whether the error concerns OAuth.
    pub is_oauth: bool,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server error {}: {} ({}",
            self.status.as_u16(),
            shortened(&self.message),
            shortened(&self.id)
        )?;
        if let Some(r) = &self.request_id {
            write!(f, ", request id {}", shortened(r))?;
        }
        if !self.detailed_error.is_empty() {
            write!(f, "; {}", shortened(&self.detailed_error))?;
        }
        f.write_str(")")
    }
}

impl std::fmt::Debug for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerError")
            .field("status", &self.status)
            .field("id", &shortened(&self.id))
            .field("message", &shortened(&self.message))
            .field("detailed_error", &shortened(&self.detailed_error))
            .field("request_id", &self.request_id.as_deref().map(shortened))
            .field("is_oauth", &self.is_oauth)
            .finish()
    }
}

/// At most 500 characters of a server-supplied text, secrets redacted, for messages (the whole
/// text stays in the error).
pub(crate) fn shortened(text: &str) -> String {
    const MAX: usize = 500;
    let text = crate::redact::redact(text);
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.into_owned(),
    }
}

/// A short, redacted preview of a reply body, for `Debug` and messages.
pub(crate) fn body_preview(body: &Bytes) -> String {
    const MAX: usize = 200;
    if body.is_empty() {
        return "(empty body)".into();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    let more = if body.len() > MAX { "..." } else { "" };
    format!("{:?}{more}", crate::redact::redact(text.trim()))
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::Transport(e) => e.status(),
            Error::BodyTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's request id, when it gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::UnexpectedStatus { request_id, .. } | Error::RateLimited { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The server's error id (`api.user.login.invalid_credentials_email_username`), when it gave one.
    pub fn error_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(e.id.as_str()),
            _ => None,
        }
    }

    /// The websocket listener's error, for [`Error::WebSocket`].
    pub fn as_websocket(&self) -> Option<&WsError> {
        match self {
            Error::WebSocket(e) => Some(e),
            _ => None,
        }
    }

    /// A transport failure, or [`Error::BodyTooLarge`] when the limit on reply bodies cut it short.
    pub(crate) fn transport(e: reqwest::Error) -> Error {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if let Some(cut) = s.downcast_ref::<BodyLimitExceeded>() {
                return Error::BodyTooLarge {
                    operation: cut.operation.clone(),
                    limit: cut.limit,
                    status: cut.status,
                };
            }
            source = s.source();
        }
        Error::Transport(e)
    }

    /// Whether trying again may succeed, by the rule the retry policy follows
    /// ([`crate::retry`]): a connection that could not be made (not for lack of local resources),
    /// a reply with status 429, 502, 503 or 504, and a websocket connection that could not be made.
    /// (The policy retries 502–504 and failed connections only for idempotent methods: a caller
    /// that knows its request is safe to send twice may.) A timeout or a connection broken after
    /// sending is not retryable: the server may have done the work.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => {
                matches!(
                    crate::retry::Outcome::of_error(e),
                    crate::retry::Outcome::ConnectFailed
                )
            }
            Error::WebSocket(e) => matches!(**e, WsError::Connect { .. }),
            _ => self.status().is_some_and(crate::retry::retried_status),
        }
    }

    /// The raw body of the reply, when the error kept one.
    pub fn body(&self) -> Option<&Bytes> {
        match self {
            Error::UnexpectedStatus { body, .. }
            | Error::Decode { body, .. }
            | Error::RateLimited { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The wait a rate-limited call was asked for, for [`Error::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// [`Error::from_reply`] for a reply whose headers are at hand: a 429 that says how long to
    /// wait is [`Error::RateLimited`].
    pub(crate) fn from_reply_headers(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: Bytes,
    ) -> Error {
        let request_id = header_request_id(headers);
        if status == StatusCode::TOO_MANY_REQUESTS
            && let Some(retry_after) =
                crate::retry::requested_wait(headers, std::time::SystemTime::now())
        {
            return Error::RateLimited {
                retry_after,
                request_id,
                body,
            };
        }
        Error::from_reply(status, request_id, body)
    }

    /// Builds the error for a reply with a failure status, from its raw body: a Mattermost error when
    /// the body is one, else the body kept as it is.
    pub fn from_reply(status: StatusCode, request_id: Option<String>, body: Bytes) -> Error {
        match serde_json::from_slice::<AppError>(&body) {
            Ok(e) if e.id.is_some() || e.message.is_some() => {
                Error::Api(Box::new(server_error(status, request_id, e)))
            }
            _ => Error::UnexpectedStatus {
                status,
                request_id,
                body,
            },
        }
    }
}

fn server_error(status: StatusCode, header_request_id: Option<String>, e: AppError) -> ServerError {
    ServerError {
        status,
        id: e.id.unwrap_or_default(),
        message: e.message.unwrap_or_default(),
        detailed_error: e.detailed_error.unwrap_or_default(),
        request_id: e.request_id.filter(|r| !r.is_empty()).or(header_request_id),
        is_oauth: e.is_oauth.unwrap_or(false),
    }
}

/// The body of a failed reply, kept by the client's hooks so that an error made from the generated
/// client's `UnexpectedResponse` (which holds an unread response) still has it.
#[derive(Clone, Debug)]
pub(crate) struct BufferedBody(pub(crate) Bytes);

/// The request id a reply's headers carry ([`REQUEST_ID_HEADER`]): the one place it is read.
pub(crate) fn request_id(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok())
}

fn header_request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    request_id(headers).map(str::to_owned)
}

/// The generated operations declare no error responses (the `single_response` rule): every failure
/// status arrives as `UnexpectedResponse`, with its body kept by the client's hooks, and is decoded
/// here, as a Mattermost error when the body is one.
impl From<progenitor_client::Error<()>> for Error {
    fn from(e: progenitor_client::Error<()>) -> Self {
        use progenitor_client::Error as P;
        match e {
            P::ErrorResponse(rv) => {
                Error::from_reply_headers(rv.status(), rv.headers(), Bytes::new())
            }
            P::UnexpectedResponse(resp) => {
                let body = resp
                    .extensions()
                    .get::<BufferedBody>()
                    .map(|b| b.0.clone())
                    .unwrap_or_default();
                Error::from_reply_headers(resp.status(), resp.headers(), body)
            }
            P::InvalidResponsePayload(body, source) => Error::Decode { body, source },
            P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
                Error::transport(e)
            }
            P::InvalidRequest(s) => invalid_path_parameter(&s).unwrap_or(Error::InvalidRequest(s)),
            P::Custom(s) => Error::InvalidRequest(s),
        }
    }
}

impl From<WsError> for Error {
    fn from(e: WsError) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

// The websocket listener's errors: terminal ones (the connection cannot go on), frames from the
// server that could not be understood (the connection goes on), and failed actions. Re-exported
// as `matterapi::ws::{WsError, BadFrameKind}`.

/// The step of a websocket connection that failed (see [`ConnectionError::stage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionStage {
    /// The TCP connection to the server (or to the proxy), name resolution included.
    Tcp,
    /// The proxy's `CONNECT` tunnel.
    Proxy,
    /// The TLS handshake of `wss://`.
    Tls,
    /// The HTTP upgrade to a websocket.
    Upgrade,
    /// Proving the socket is authenticated (`hello`, the `ping` action, the authentication
    /// challenge).
    Authentication,
    /// Sending a frame on an open socket.
    Send,
    /// Reading from an open socket.
    Receive,
}

impl std::fmt::Display for ConnectionStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConnectionStage::Tcp => "TCP",
            ConnectionStage::Proxy => "proxy",
            ConnectionStage::Tls => "TLS",
            ConnectionStage::Upgrade => "upgrade",
            ConnectionStage::Authentication => "authentication",
            ConnectionStage::Send => "send",
            ConnectionStage::Receive => "receive",
        })
    }
}

/// Why a websocket connection could not be made, or broke: the [stage](Self::stage) that failed,
/// what happened there, and the underlying error (an I/O, TLS or websocket protocol error) as its
/// [`source`](std::error::Error::source).
#[derive(Debug, Clone)]
pub struct ConnectionError {
    stage: ConnectionStage,
    what: String,
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl ConnectionError {
    /// A failure without an underlying error (a refused proxy, a timeout, an early end).
    pub(crate) fn new(stage: ConnectionStage, what: impl Into<String>) -> ConnectionError {
        ConnectionError {
            stage,
            what: what.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub(crate) fn caused_by(
        stage: ConnectionStage,
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ConnectionError {
        ConnectionError {
            stage,
            what: what.into(),
            source: Some(std::sync::Arc::new(source)),
        }
    }

    /// The step that failed.
    pub fn stage(&self) -> ConnectionStage {
        self.stage
    }

    /// This error's own text and its sources', joined with `: ` (for logs that show one line).
    pub fn chain(&self) -> String {
        let mut text = self.what.clone();
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            text.push_str(": ");
            text.push_str(&e.to_string());
            next = e.source();
        }
        text
    }
}

impl std::fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Two connection errors are equal when they failed at the same stage with the same texts.
impl PartialEq for ConnectionError {
    fn eq(&self, other: &Self) -> bool {
        self.stage == other.stage && self.chain() == other.chain()
    }
}

impl Eq for ConnectionError {}

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
    /// The first connection could not be made (DNS, TCP, proxy, TLS, the upgrade); the cause is
    /// the [`source`](std::error::Error::source).
    #[error("cannot connect the websocket to {url}")]
    Connect {
        /// The websocket URL (without query).
        url: String,
        /// What failed.
        #[source]
        source: ConnectionError,
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
    Login(#[source] Error),
    /// A frame the server sent could not be understood. The connection goes on; the frame is kept.
    #[error(
        "bad frame from the server ({kind}{}): {}",
        detail_suffix(detail),
        body_preview(raw)
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
    /// [`WsListener::shutdown`](crate::ws::WsListener::shutdown): the handler calls in flight did
    /// not finish within the drain timeout and were cancelled.
    #[error(
        "the websocket listener's handlers did not finish within {timeout:?}; they were cancelled"
    )]
    DrainTimeout {
        /// The drain timeout.
        timeout: Duration,
    },
    /// The listener's task ended abnormally (a panic in it, or its runtime shutting down).
    #[error("the websocket listener's task ended abnormally")]
    TaskFailed(#[source] tokio::task::JoinError),
    /// An action's data could not be encoded as JSON.
    #[error("cannot encode the data of websocket action `{action}`")]
    Encode {
        /// The action.
        action: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
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
                | WsError::DrainTimeout { .. }
                | WsError::TaskFailed(_)
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
