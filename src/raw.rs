//! Raw mode: the untouched HTTP reply, for payloads and endpoints the spec lacks or gets wrong.
//!
//! - Every generated operation has `send_raw()` next to `send()`: the same request, the reply's
//!   status, headers and body untouched. A failure status is still a typed [`Error`] unless
//!   `send_raw_any_status()` is used.
//! - [`Client::raw`] calls any endpoint by method and path (relative to the API base, so `basepath`
//!   and a server sub-path apply), with query, JSON or bytes body and headers; `send()` gives the
//!   [`RawResponse`], `send_json::<T>()` a value of your type.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
//! let raw = client.get_user().user_id("me").send_raw().await?;
//! println!("{} {}", raw.status, raw.text());
//! let me: serde_json::Value = client.raw(matterapi::Method::GET, "/users/me").send_json().await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use progenitor_client::ClientInfo;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, REQUEST_ID_HEADER, Result};
use crate::generated::Client;

/// An HTTP reply as the server sent it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RawResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RawResponse {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body decoded as JSON into `T`; on failure the body is kept in the error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            body: self.body.clone(),
            source,
        })
    }

    /// The `X-Request-ID` header.
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
    }

    /// This reply as an error when its status is not a success.
    pub fn error_for_status(self) -> Result<RawResponse> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(Error::from_reply_headers(
                self.status,
                &self.headers,
                self.body,
            ))
        }
    }
}

type Slot = Arc<Mutex<Option<RawResponse>>>;

tokio::task_local! {
    /// Set while a `send_raw()` runs: the client's hooks put the reply here.
    static CAPTURE: Slot;
}

/// Whether the current task is capturing a raw reply (read by the hooks).
pub(crate) fn capturing() -> bool {
    CAPTURE.try_with(|_| ()).is_ok()
}

/// Keeps a copy of the reply for the `send_raw()` running in this task.
pub(crate) fn capture(resp: &RawResponse) {
    let _ = CAPTURE.try_with(|slot| {
        if let Ok(mut s) = slot.lock() {
            *s = Some(resp.clone());
        }
    });
}

/// Runs a generated operation's `send()` future and returns the reply untouched: what
/// `send_raw_any_status()` does. The typed decoding the future attempts is ignored.
pub async fn capture_raw<F, T, E>(send: F) -> Result<RawResponse>
where
    F: Future<Output = std::result::Result<T, progenitor_client::Error<E>>>,
{
    let slot: Slot = Arc::new(Mutex::new(None));
    let result = CAPTURE.scope(slot.clone(), send).await;
    let captured = slot.lock().ok().and_then(|mut s| s.take());
    match (captured, result) {
        (Some(raw), _) => Ok(raw),
        // No reply: the request failed before or while it was sent.
        (None, Err(e)) => Err(untyped(e)),
        (None, Ok(_)) => Err(Error::InvalidRequest(
            "the reply was not captured (was the request sent by another client?)".into(),
        )),
    }
}

/// Runs a generated operation's `send()` future and returns the reply untouched when its status is
/// a success, or the typed error: what `send_raw()` does.
pub async fn capture_raw_checked<F, T, E>(send: F) -> Result<RawResponse>
where
    F: Future<Output = std::result::Result<T, progenitor_client::Error<E>>>,
{
    capture_raw(send).await?.error_for_status()
}

fn untyped<E>(e: progenitor_client::Error<E>) -> Error {
    use progenitor_client::Error as P;
    match e {
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            Error::Transport(e)
        }
        P::InvalidRequest(s) | P::Custom(s) => Error::InvalidRequest(s),
        other => Error::InvalidRequest(format!("{:?}", other.status())),
    }
}

/// A request to any endpoint, built by [`Client::raw`].
#[derive(Debug)]
#[must_use = "a raw request does nothing until sent"]
pub struct RawRequest<'a> {
    client: &'a Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Bytes>,
    json: bool,
    any_status: bool,
    error: Option<Error>,
}

impl Client {
    /// A request to `path` under the API base (`{url}{basepath}{path}`, e.g. `/users/me`), for
    /// endpoints and payloads the spec lacks.
    pub fn raw(&self, method: Method, path: impl Into<String>) -> RawRequest<'_> {
        RawRequest {
            client: self,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            json: false,
            any_status: false,
            error: None,
        }
    }
}

impl<'a> RawRequest<'a> {
    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => self.error = Some(Error::InvalidRequest(format!("invalid header `{name}`"))),
        }
        self
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(b) => {
                self.body = Some(Bytes::from(b));
                self.json = true;
            }
            Err(e) => {
                self.error = Some(Error::InvalidRequest(format!(
                    "cannot encode the body: {e}"
                )))
            }
        }
        self
    }

    /// A body of bytes, sent as they are.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self.json = false;
        self
    }

    /// Returns replies of every status as responses instead of turning failures into errors.
    pub fn any_status(mut self) -> Self {
        self.any_status = true;
        self
    }

    /// Sends the request; the reply comes back untouched.
    pub async fn send(self) -> Result<RawResponse> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let inner = self.client.inner();
        let options = &inner.options;
        let path = if self.path.starts_with('/') {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        let url = format!(
            "{}{}{}",
            self.client.baseurl(),
            options.basepath.trim_end_matches('/'),
            path
        );
        let mut req = self
            .client
            .client()
            .request(self.method.clone(), &url)
            .headers(self.headers);
        if !self.query.is_empty() {
            req = req.query(&self.query);
        }
        if let Some(body) = self.body {
            if self.json {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/json");
            }
            req = req.body(body);
        }
        if let Some(auth) = inner.authorization() {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let request = req.build().map_err(Error::Transport)?;
        let http = self.client.client();
        let (method, path) = (&self.method, path.as_str());
        let result = crate::retry::send_with_retries(self.client, "raw", request, |request| {
            let started = Instant::now();
            async move {
                let result = http.execute(request).await;
                crate::hooks::trace(inner.debug, "raw", method, path, started, &result);
                result
            }
        })
        .await;
        let resp = result.map_err(Error::Transport)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(Error::Transport)?;
        let raw = RawResponse {
            status,
            headers,
            body,
        };
        if self.any_status {
            Ok(raw)
        } else {
            raw.error_for_status()
        }
    }

    /// Sends the request and decodes the JSON reply into `T`.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        self.send().await?.json()
    }
}
