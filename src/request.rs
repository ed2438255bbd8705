//! The whole request path, for the generated operations (through [`crate::hooks`]) and the
//! hand-written ones ([`Client::raw`](crate::Client::raw), [`crate::files`]): the URL under the
//! API base path, the `api-version` header, the bearer token, the slot among `max_connections`,
//! the retry loop (the decision is [`crate::retry::next_wait`]), the relogin after a 401, one
//! trace event per try, the limit on reply bodies (`max_body_size`), the buffering of failed
//! replies (kept for [`Error`]) and the raw-capture slot of `send_raw()`/`call()`.

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use progenitor_client::{ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderMap};

use crate::client::Inner;
use crate::error::{BodyLimitExceeded, BufferedBody, Error, Result};
use crate::generated::Client;
use crate::options::Auth;
use crate::retry::{Attempt, Outcome};

/// `resp` with its body limited to `limit` bytes: reading past the limit fails with
/// [`BodyLimitExceeded`], and a `Content-Length` above it fails at the first read, before anything is
/// read. A reply that declares a length within the limit is handed on untouched (the connection
/// cannot deliver more than it declared).
pub(crate) fn limit_body(
    resp: reqwest::Response,
    operation: &str,
    limit: usize,
) -> reqwest::Response {
    let limit = limit as u64;
    if resp.content_length().is_some_and(|len| len <= limit) {
        return resp;
    }
    let cut = BodyLimitExceeded {
        operation: operation.to_owned(),
        limit,
        status: resp.status(),
    };
    let declared_too_long = resp.content_length().is_some();
    let (status, version) = (resp.status(), resp.version());
    let headers = resp.headers().clone();
    let mut extensions = resp.extensions().clone();
    if let Ok(with_url) =
        reqwest::ResponseBuilderExt::url(http::Response::builder(), resp.url().clone()).body(())
    {
        extensions.extend(with_url.into_parts().0.extensions);
    }
    let body = if declared_too_long {
        // Not a byte read: the connection is dropped with the response.
        drop(resp);
        reqwest::Body::wrap_stream(futures_util::stream::once(
            async move { Err::<Bytes, _>(cut) },
        ))
    } else {
        let mut seen = 0u64;
        reqwest::Body::wrap_stream(resp.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| Box::new(e) as BoxError)?;
            seen += chunk.len() as u64;
            if seen > limit {
                return Err(Box::new(cut.clone()) as BoxError);
            }
            Ok(chunk)
        }))
    };
    let mut http = http::Response::new(body);
    *http.status_mut() = status;
    *http.version_mut() = version;
    *http.headers_mut() = headers;
    *http.extensions_mut() = extensions;
    reqwest::Response::from(http)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `baseurl` (the server URL with its sub-path, if any) + `path`, outside the API base path.
pub(crate) fn root_url(client: &Client, path: &str) -> String {
    let slash = if path.starts_with('/') { "" } else { "/" };
    format!("{}{slash}{path}", client.baseurl().trim_end_matches('/'))
}

/// `baseurl` + the configured API base path + `path` (which starts with `/`).
pub(crate) fn api_url(client: &Client, path: &str) -> String {
    let basepath = client.inner().options.basepath.trim_end_matches('/');
    let slash = if path.starts_with('/') { "" } else { "/" };
    format!("{}{basepath}{slash}{path}", client.baseurl())
}

/// Sends `request` as the generated operations are sent: the `api-version` header, the bearer token
/// (unless the request has its own `Authorization`), retries as the policy allows (a streamed body
/// is sent once), one trace event per try. With `limited`, the reply's body is limited to
/// `max_body_size`. Any status comes back as a response.
pub(crate) async fn execute(
    client: &Client,
    operation: &'static str,
    request: reqwest::RequestBuilder,
    limited: bool,
) -> Result<reqwest::Response> {
    execute_with(client, operation, request, limited, true).await
}

/// [`execute`]; with `credentials` false the request carries no token (nor one added after a
/// relogin: the operation must be one of [`WITHOUT_CREDENTIALS`]).
pub(crate) async fn execute_with(
    client: &Client,
    operation: &'static str,
    request: reqwest::RequestBuilder,
    limited: bool,
    credentials: bool,
) -> Result<reqwest::Response> {
    let inner = client.inner();
    let mut request = request
        .header("api-version", Client::api_version())
        .build()
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    if credentials {
        authorize(inner, &mut request);
    } else if !WITHOUT_CREDENTIALS.contains(&operation) {
        return Err(Error::InvalidRequest(format!(
            "{operation} is not an operation sent without credentials"
        )));
    }
    let result = send_with_retries(client, operation, request, |request| {
        send_once(client, operation, request)
    })
    .await;
    let resp = result.map_err(Error::transport)?;
    Ok(if limited {
        limit_body(resp, operation, inner.options.max_body_size)
    } else {
        resp
    })
}

/// One try of a request: a slot among the client's `max_connections` waited for, the request sent,
/// and its trace event (the event's fields are gathered only when someone listens). Shared by the
/// generated operations' hooks and [`execute`].
pub(crate) async fn send_once(
    client: &Client,
    operation: &str,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let inner = client.inner();
    let debug = inner.options.debug;
    let seen =
        tracing_on(debug).then(|| (request.method().clone(), request.url().path().to_owned()));
    let _slot = inner.slot().await;
    let started = Instant::now();
    let result = client.client().execute(request).await;
    if let Some((method, path)) = &seen {
        trace(debug, operation, method, path, started, &result);
    }
    result
}

/// The whole body of `resp` (limited as [`execute`] set it up).
pub(crate) async fn read_body(resp: reqwest::Response) -> Result<Bytes> {
    resp.bytes().await.map_err(Error::transport)
}

/// [`execute`], then a failure status turned into an [`Error`] from the reply's body.
pub(crate) async fn send(
    client: &Client,
    operation: &'static str,
    request: reqwest::RequestBuilder,
    limited: bool,
) -> Result<reqwest::Response> {
    let resp = execute(client, operation, request, limited).await?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let headers = resp.headers().clone();
    // An error body is read within the limit even when the success body would not be.
    let resp = if limited {
        resp
    } else {
        limit_body(resp, operation, client.inner().options.max_body_size)
    };
    let body = read_body(resp).await?;
    Err(Error::from_reply_headers(status, &headers, body))
}

/// [`send`] (limited), then the JSON reply decoded into `T`; on failure the body is kept.
pub(crate) async fn send_json<T: DeserializeOwned>(
    client: &Client,
    operation: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<T> {
    let resp = send(client, operation, request, true).await?;
    let body = read_body(resp).await?;
    serde_json::from_slice(&body).map_err(|source| Error::Decode { body, source })
}

/// What is wrong with `value` as one path segment, if anything: empty, `.` or `..` (which the URL
/// parser or the server would resolve), or with a `/` or `\` (a separator once decoded; the URL
/// parser takes `\` for `/`) or a control character.
fn path_segment_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("is empty")
    } else if value == "." || value == ".." {
        Some("is `.` or `..`")
    } else if value.contains('/') {
        Some("contains `/`")
    } else if value.contains('\\') {
        Some("contains `\\`")
    } else if value.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// `value` percent-encoded as the path segment of parameter `name`, or
/// [`Error::InvalidPathParameter`] when it would change the path ([`path_segment_problem`]).
/// Used by [`crate::files`].
pub(crate) fn path_segment(name: &str, value: &str) -> Result<String> {
    match path_segment_problem(value) {
        None => Ok(progenitor_client::encode_path(value)),
        Some(reason) => Err(Error::InvalidPathParameter {
            name: name.to_owned(),
            reason: reason.to_owned(),
        }),
    }
}

/// [`path_segment`] for the generated operations: `build.rs` rewrites each of their
/// `encode_path(&x.to_string())` into `path_param("x", &x.to_string())?`. The failure travels as
/// `InvalidRequest`, which `From<progenitor_client::Error<()>>` turns back into
/// [`Error::InvalidPathParameter`].
// The generated operations' own error type, large as it is.
#[allow(clippy::result_large_err)]
pub(crate) fn path_param<E>(
    name: &str,
    value: &str,
) -> std::result::Result<String, progenitor_client::Error<E>> {
    path_segment(name, value).map_err(|e| match e {
        Error::InvalidPathParameter { name, reason } => progenitor_client::Error::InvalidRequest(
            format!("{}{name}`: {reason}", crate::error::INVALID_PATH_PARAMETER),
        ),
        other => progenitor_client::Error::InvalidRequest(other.to_string()),
    })
}

/// Checks a [`Client::raw`] path: no `.` or `..` segment (also percent-encoded, as `%2e`), which the
/// URL parser would resolve into another endpoint; `\` counts as a separator, as the parser takes
/// it, and control characters are refused.
pub(crate) fn check_raw_path(path: &str) -> Result<()> {
    let refuse = |reason: &str| {
        Err(Error::InvalidPathParameter {
            name: "path".into(),
            reason: reason.to_owned(),
        })
    };
    let path_only = path.split(['?', '#']).next().unwrap_or("");
    if path_only.chars().any(char::is_control) {
        return refuse("contains a control character");
    }
    for segment in path_only.split(['/', '\\']) {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return refuse("has a `.` or `..` segment");
        }
    }
    Ok(())
}

/// Rewrites the generated path's `/api/v4` to the configured `basepath`.
pub(crate) fn apply_basepath(inner: &Inner, request: &mut reqwest::Request) {
    const GENERATED: &str = "/api/v4";
    let basepath = inner.options.basepath.trim_end_matches('/');
    if basepath == GENERATED {
        return;
    }
    let prefix = reqwest::Url::parse(inner.options.base_url())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let path = request.url().path().to_owned();
    if let Some(rest) = path
        .strip_prefix(prefix.as_str())
        .and_then(|r| r.strip_prefix(GENERATED))
    {
        let new = format!("{prefix}{basepath}{rest}");
        request.url_mut().set_path(&new);
    }
}

/// Adds the bearer token to `request`, unless it carries its own `Authorization`.
pub(crate) fn authorize(inner: &Inner, request: &mut reqwest::Request) {
    if !request.headers().contains_key(AUTHORIZATION)
        && let Some(value) = inner.authorization()
    {
        request.headers_mut().insert(AUTHORIZATION, value);
    }
}

/// Puts the current token's `Authorization` on `request` (after a relogin), replacing the one it
/// was sent with.
fn replace_authorization(inner: &Inner, request: &mut reqwest::Request) {
    match inner.authorization() {
        Some(value) => {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        None => {
            request.headers_mut().remove(AUTHORIZATION);
        }
    }
}

/// Logging in again after a 401, as the request path needs it. Implemented by the login code
/// ([`crate::auth`]), which sits above the request path: a login is itself a request.
pub(crate) trait Relogin {
    /// Makes a new session (shared with concurrent callers); the new token is in the client's
    /// state when it returns.
    fn relogin_for_request(
        &self,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<()>> + Send + '_>>;
}

/// Whether a 401 to `operation` may be answered by logging in again: the options' `relogin` is on,
/// the client has login credentials, and the operation is not the login or logout itself.
fn relogin_possible(inner: &Inner, operation: &str) -> bool {
    inner.options.relogin
        && matches!(inner.options.auth, Some(Auth::Login { .. }))
        && !matches!(operation, "users_login" | "users_logout")
        && !WITHOUT_CREDENTIALS.contains(&operation)
}

/// The operations sent without the client's token (and never logged in again for): incoming
/// webhooks ([`crate::webhook`]) and raw requests asked to go without credentials.
pub(crate) const WITHOUT_CREDENTIALS: [&str; 2] = ["incoming_webhook", "raw_without_credentials"];

/// Sends `request` with `attempt` (one try: send, trace, and whatever the caller does with a
/// reply) as often as `client`'s retry policy allows ([`crate::retry::next_wait`]), waiting
/// between the tries, and once more after a 401 answered by a relogin. A request whose body is a
/// stream is sent once. Gives the last try's result.
pub(crate) async fn send_with_retries<F, Fut>(
    client: &Client,
    operation: &str,
    request: reqwest::Request,
    mut attempt: F,
) -> reqwest::Result<reqwest::Response>
where
    F: FnMut(reqwest::Request) -> Fut,
    Fut: Future<Output = reqwest::Result<reqwest::Response>>,
{
    let inner = client.inner();
    let policy = &inner.options.retry;
    let counters = &inner.retry;
    let mut request = request;
    let mut tries = 1u32;
    let mut waited = Duration::ZERO;
    let mut relogged = false;
    let may_relogin = relogin_possible(inner, operation);
    loop {
        // Keep a copy for the next try while one may come; `None` for a streamed body.
        let spare = if (policy.enabled && tries < policy.max_attempts) || (may_relogin && !relogged)
        {
            request.try_clone()
        } else {
            None
        };
        let method = request.method().clone();
        let result = attempt(request).await;
        if matches!(&result, Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS) {
            counters.count_rate_limited();
        }
        let Some(mut next) = spare else {
            return result;
        };
        if may_relogin
            && !relogged
            && matches!(&result, Ok(r) if r.status() == StatusCode::UNAUTHORIZED)
        {
            // The session was revoked or expired: one new session (shared with concurrent
            // callers and the websocket listeners), then this request again with its token.
            relogged = true;
            drop(result);
            tracing::info!(target: "matterapi", operation, "401: logging in again");
            if let Err(e) = client.relogin_for_request().await {
                tracing::warn!(target: "matterapi", operation, error = %e, "logging in again failed");
            }
            replace_authorization(inner, &mut next);
            request = next;
            continue;
        }
        let decided = crate::retry::next_wait(
            policy,
            Attempt {
                method: &method,
                tries,
                waited,
            },
            Outcome::of(&result),
            SystemTime::now(),
            crate::retry::jitter(),
        );
        let Some((wait, reason)) = decided else {
            return result;
        };
        drop(result);
        let path = next.url().path();
        let wait_ms = wait.as_secs_f64() * 1000.0;
        let reason_text = reason.describe();
        let attempt = tries + 1;
        tracing::debug!(target: "matterapi", operation, %method, path, attempt, wait_ms,
            reason = %reason_text, "retrying");
        if inner.options.debug && !tracing::dispatcher::has_been_set() {
            eprintln!(
                "matterapi: {method} {path}: {reason_text}; attempt {attempt} in {wait_ms:.0} ms"
            );
        }
        tokio::time::sleep(wait).await;
        waited += wait;
        tries += 1;
        counters.count_retry(wait);
        request = next;
    }
}

/// One try of a generated operation ([`send_once`]): its reply's body limited, and buffered when
/// it failed or is captured.
pub(crate) async fn exec_once(
    client: &Client,
    request: reqwest::Request,
    info: &OperationInfo,
) -> reqwest::Result<reqwest::Response> {
    let options = &client.inner().options;
    let result = send_once(client, info.operation_id, request)
        .await
        .map(|resp| limit_body(resp, info.operation_id, options.max_body_size));
    match result {
        Ok(resp) if capturing(options.skip_response_parsing) => {
            buffer_body(resp, options.skip_response_parsing, true).await
        }
        Ok(resp) if resp.status().is_client_error() || resp.status().is_server_error() => {
            buffer_body(resp, options.skip_response_parsing, false).await
        }
        other => other,
    }
}

/// Whether a request's trace event goes anywhere: the client's `debug` option, or a tracing
/// subscriber that wants `matterapi` debug events.
fn tracing_on(debug: bool) -> bool {
    debug || tracing::enabled!(target: "matterapi", tracing::Level::DEBUG)
}

/// Reads a reply's body (a failed one, or any while `send_raw()` or `call()` captures) and gives back
/// an equivalent response, with the body kept in its extensions for errors made without reading it
/// again and in the raw capture slot. A captured reply is handed on with an empty body: its caller
/// returns the captured copy and ignores the generated decoding, which then costs nothing.
async fn buffer_body(
    resp: reqwest::Response,
    skipping: bool,
    captured: bool,
) -> reqwest::Result<reqwest::Response> {
    let status = resp.status();
    let version = resp.version();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    capture(
        skipping,
        Captured {
            status,
            headers: headers.clone(),
            body: body.clone(),
        },
    );
    let mut http = http::Response::new(if captured { Bytes::new() } else { body.clone() });
    *http.status_mut() = status;
    *http.version_mut() = version;
    *http.headers_mut() = headers;
    let mut rebuilt = reqwest::Response::from(http);
    rebuilt.extensions_mut().insert(BufferedBody(body));
    Ok(rebuilt)
}

/// One event per request at debug level: method, path, status, duration, request id. With the
/// client's `debug` option and no tracing subscriber installed, the same line goes to stderr.
fn trace(
    debug: bool,
    operation: &str,
    method: &reqwest::Method,
    path: &str,
    started: Instant,
    result: &reqwest::Result<reqwest::Response>,
) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(resp) => {
            let request_id = crate::error::request_id(resp.headers()).unwrap_or("");
            let status = resp.status().as_u16();
            tracing::debug!(target: "matterapi", operation, %method, path, status, duration_ms = ms, request_id, "request");
            if debug && !tracing::dispatcher::has_been_set() {
                eprintln!(
                    "matterapi: {method} {path} -> {status} in {ms:.1} ms (request id {request_id})"
                );
            }
        }
        Err(e) => {
            tracing::debug!(target: "matterapi", operation, %method, path, duration_ms = ms, error = %e, "request failed");
            if debug && !tracing::dispatcher::has_been_set() {
                eprintln!("matterapi: {method} {path} failed after {ms:.1} ms: {e}");
            }
        }
    }
}

/// A reply kept untouched for a running `send_raw()` or `call()` ([`crate::raw::RawResponse`]
/// is made from it).
#[derive(Clone, Debug)]
pub(crate) struct Captured {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// What a running `send_raw()` or `call()` asked the request path for.
#[derive(Clone)]
struct Capture {
    slot: Arc<Mutex<Option<Captured>>>,
    /// `call()`: capture only when the client's `skip_response_parsing` is on.
    only_when_skipping: bool,
}

tokio::task_local! {
    /// Set while a `send_raw()` or `call()` runs: the request path puts the reply here.
    static CAPTURE: Capture;
}

/// Whether the request running in this task has its reply captured untouched: under
/// `send_raw()`, or under `call()` when the client skips response parsing (`skipping`).
fn capturing(skipping: bool) -> bool {
    CAPTURE
        .try_with(|c| !c.only_when_skipping || skipping)
        .unwrap_or(false)
}

/// Keeps the reply for the `send_raw()` or `call()` running in this task (when [`capturing`]).
fn capture(skipping: bool, reply: Captured) {
    if !capturing(skipping) {
        return;
    }
    let _ = CAPTURE.try_with(|c| {
        if let Ok(mut s) = c.slot.lock() {
            *s = Some(reply);
        }
    });
}

/// Which replies a blocking twin's one exchange keeps untouched ([`with_capture_mode`]).
#[cfg(feature = "blocking")]
#[derive(Clone, Copy, Debug)]
pub(crate) enum CaptureMode {
    /// None (`send()`).
    Never,
    /// Only when the client skips response parsing (`call()`).
    WhenSkipping,
    /// Always (`send_raw()`, `send_raw_any_status()`).
    Always,
}

/// [`with_capture`] as `mode` says: the one future the blocking twins of an operation's four ways
/// of sending run, so that each operation compiles one chain of futures for the blocking client
/// instead of four.
#[cfg(feature = "blocking")]
pub(crate) async fn with_capture_mode<F: Future>(
    mode: CaptureMode,
    send: F,
) -> (F::Output, Option<Captured>) {
    match mode {
        CaptureMode::Never => (send.await, None),
        CaptureMode::WhenSkipping => with_capture(true, send).await,
        CaptureMode::Always => with_capture(false, send).await,
    }
}

/// Runs `send` with its reply captured (always, or with `only_when_skipping` only when the
/// client's `skip_response_parsing` is on): the future's output and the captured reply, if any.
pub(crate) async fn with_capture<F: Future>(
    only_when_skipping: bool,
    send: F,
) -> (F::Output, Option<Captured>) {
    let capture = Capture {
        slot: Arc::new(Mutex::new(None)),
        only_when_skipping,
    };
    let output = CAPTURE.scope(capture.clone(), send).await;
    let captured = capture.slot.lock().ok().and_then(|mut s| s.take());
    (output, captured)
}
