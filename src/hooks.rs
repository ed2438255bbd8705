//! The seam between the generated client and the hand-written layer: `ClientHooks` for the generated
//! [`Client`], where the bearer token is added, each request is traced, and the bodies of failed
//! replies are kept for [`Error`](crate::Error).

use std::sync::{Arc, RwLock};
use std::time::Instant;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{BufferedBody, REQUEST_ID_HEADER};
use crate::generated::Client;
use crate::options::Options;
use crate::types::User;

/// The active token, with its `Authorization` header made once (marked sensitive).
#[derive(Clone)]
pub(crate) struct Credential {
    pub(crate) token: SecretString,
    pub(crate) header: Option<HeaderValue>,
}

impl Credential {
    pub(crate) fn new(token: SecretString) -> Credential {
        let header = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Credential { token, header }
    }
}

/// State the hand-written layer keeps inside the generated client. Cloning a client shares it.
#[derive(Clone)]
pub struct Inner {
    pub(crate) options: Arc<Options>,
    pub(crate) token: Arc<RwLock<Option<Credential>>>,
    pub(crate) me: Arc<RwLock<Option<User>>>,
    /// Held while logging in, so that concurrent relogins make one session.
    pub(crate) login_lock: Arc<tokio::sync::Mutex<()>>,
    /// Successful logins so far (a relogin that waited for another sees it changed).
    pub(crate) logins: Arc<std::sync::atomic::AtomicU64>,
    pub(crate) debug: bool,
    /// What the retry policy (`options.retry`) did so far: [`Client::retry_stats`].
    pub(crate) retry: Arc<crate::retry::RetryCounters>,
    /// One permit per request in flight (`options.max_connections`).
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
    /// The token's generation, bumped by every change of token (login, relogin, `set_token`,
    /// logout): websocket listeners watch it to move to a new token at once.
    pub(crate) token_generation: Arc<tokio::sync::watch::Sender<u64>>,
    /// The MFA codes the logins used (`crate::mfa`).
    pub(crate) mfa: Arc<crate::mfa::MfaState>,
}

impl Inner {
    /// Waits for a slot for one request in flight (`max_connections`); `None` only if the
    /// semaphore were closed, which it never is.
    pub(crate) async fn slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.slots.acquire().await.ok()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let has_token = self.token.read().map(|t| t.is_some()).unwrap_or(false);
        f.debug_struct("Inner")
            .field("options", &self.options)
            .field("token", &if has_token { "[redacted]" } else { "none" })
            .field("debug", &self.debug)
            .finish()
    }
}

impl Inner {
    pub(crate) fn set_token(&self, token: Option<SecretString>) {
        if let Ok(mut t) = self.token.write() {
            *t = token.map(Credential::new);
            // Bumped under the write lock: a reader of both under the read lock sees them agree.
            self.token_generation
                .send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// The current token and its generation, read together.
    pub(crate) fn token_and_generation(&self) -> (Option<SecretString>, u64) {
        match self.token.read() {
            Ok(t) => (
                t.as_ref().map(|c| c.token.clone()),
                *self.token_generation.borrow(),
            ),
            Err(_) => (None, *self.token_generation.borrow()),
        }
    }

    /// Told of every change of token.
    pub(crate) fn token_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.token_generation.subscribe()
    }

    /// Rewrites the generated path's `/api/v4` to the configured `basepath`.
    fn apply_basepath(&self, request: &mut reqwest::Request) {
        const GENERATED: &str = "/api/v4";
        let basepath = self.options.basepath.trim_end_matches('/');
        if basepath == GENERATED {
            return;
        }
        let prefix = reqwest::Url::parse(self.options.base_url())
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

    /// The `Authorization` header for the current token, marked sensitive so that no `Debug` of a
    /// request or header map shows it.
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        self.token.read().ok()?.as_ref()?.header.clone()
    }

    /// Puts the current token's `Authorization` on `request` (after a relogin), replacing the one
    /// it was sent with.
    pub(crate) fn replace_authorization(&self, request: &mut reqwest::Request) {
        match self.authorization() {
            Some(value) => {
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            None => {
                request.headers_mut().remove(AUTHORIZATION);
            }
        }
    }

    /// Adds the bearer token to `request`, unless it carries its own `Authorization`.
    pub(crate) fn authorize(&self, request: &mut reqwest::Request) {
        if !request.headers().contains_key(AUTHORIZATION)
            && let Some(value) = self.authorization()
        {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
    }
}

impl ClientHooks<Inner> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner().apply_basepath(request);
        // A login carries credentials, never the previous session's token.
        if info.operation_id != "users_login" {
            self.inner().authorize(request);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        // Boxed: the retry loop (a request kept for the next try, a timer) would otherwise grow
        // every generated operation's future, and a caller's future holding many of them.
        Box::pin(crate::retry::send_with_retries(
            self,
            info.operation_id,
            request,
            |request| exec_once(self, request, info),
        ))
        .await
    }
}

/// One try of a generated operation ([`crate::request::send_once`]): its reply's body limited, and
/// buffered when it failed or is captured.
async fn exec_once(
    client: &Client,
    request: reqwest::Request,
    info: &OperationInfo,
) -> reqwest::Result<reqwest::Response> {
    let options = &client.inner().options;
    let result = crate::request::send_once(client, info.operation_id, request)
        .await
        .map(|resp| crate::request::limit_body(resp, info.operation_id, options.max_body_size));
    match result {
        Ok(resp) if crate::raw::capturing(options) => buffer_body(resp, options, true).await,
        Ok(resp) if resp.status().is_client_error() || resp.status().is_server_error() => {
            buffer_body(resp, options, false).await
        }
        other => other,
    }
}

/// Whether a request's trace event goes anywhere: the client's `debug` option, or a tracing
/// subscriber that wants `matterapi` debug events.
pub(crate) fn tracing_on(debug: bool) -> bool {
    debug || tracing::enabled!(target: "matterapi", tracing::Level::DEBUG)
}

/// Reads a reply's body (a failed one, or any while `send_raw()` or `call()` captures) and gives back
/// an equivalent response, with the body kept in its extensions for errors made without reading it
/// again and in the raw capture slot. A captured reply is handed on with an empty body: its caller
/// returns the captured copy and ignores the generated decoding, which then costs nothing.
async fn buffer_body(
    resp: reqwest::Response,
    options: &Options,
    captured: bool,
) -> reqwest::Result<reqwest::Response> {
    let status = resp.status();
    let version = resp.version();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    crate::raw::capture(
        options,
        &crate::raw::RawResponse {
            status,
            headers: headers.clone(),
            body: body.clone(),
        },
    );
    let mut http = http::Response::new(if captured {
        bytes::Bytes::new()
    } else {
        body.clone()
    });
    *http.status_mut() = status;
    *http.version_mut() = version;
    *http.headers_mut() = headers;
    let mut rebuilt = reqwest::Response::from(http);
    rebuilt.extensions_mut().insert(BufferedBody(body));
    Ok(rebuilt)
}

/// One event per request at debug level: method, path, status, duration, request id. With the
/// client's `debug` option and no tracing subscriber installed, the same line goes to stderr.
pub(crate) fn trace(
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
            let request_id = resp
                .headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
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
