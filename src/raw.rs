//! Raw mode: the untouched HTTP reply, for payloads and endpoints the spec lacks or gets wrong.
//!
//! - Every generated operation has `send_raw()` next to `send()`: the same request, the reply's
//!   status, headers and body untouched. A failure status is still a typed [`Error`] unless
//!   `send_raw_any_status()` is used.
//! - Every operation also has `call()`, which follows the client-wide `skip_response_parsing` option:
//!   a [`Reply::Parsed`] value normally, the untouched [`Reply::Raw`] reply (not decoded at all) when
//!   the option is on.
//! - [`Client::raw`] calls any endpoint by method and path (relative to the API base, so `basepath`
//!   and a server sub-path apply), with query, JSON or bytes body and headers; `send()` gives the
//!   [`RawResponse`], `send_json::<T>()` a value of your type. [`Client::raw_root`] addresses a
//!   path from the server root instead (routes outside the API, e.g. `/hooks/{id}`), and
//!   [`RawRequest::without_credentials`] sends it without the token.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
//! let raw = client.get_user().user_id("me").send_raw().await?;
//! println!("{} {}", raw.status, raw.text());
//! let me: serde_json::Value = client.raw(matterapi::Method::GET, "/users/me").send_json().await?;
//! # Ok(()) }
//! ```

use std::future::Future;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::generated::{Client, ResponseValue};
use progenitor_client::ClientInfo;

/// An HTTP reply as the server sent it. Its `Debug` hides the values of the headers that carry
/// credentials (`Token`, `Authorization`, `Set-Cookie`, `Cookie`, `X-CSRF-Token`) and shows a short,
/// redacted preview of the body; the fields keep everything.
#[derive(Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 5] = [
    "token",
    "authorization",
    "set-cookie",
    "cookie",
    "x-csrf-token",
];

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Headers<'a>(&'a HeaderMap);
        impl std::fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    if SECRET_HEADERS.contains(&name.as_str()) {
                        map.entry(&name.as_str(), &crate::redact::HIDDEN);
                    } else {
                        let text = String::from_utf8_lossy(value.as_bytes());
                        map.entry(&name.as_str(), &crate::error::shortened(&text));
                    }
                }
                map.finish()
            }
        }
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("headers", &Headers(&self.headers))
            .field(
                "body",
                &format_args!(
                    "{} ({} bytes)",
                    crate::error::body_preview(&self.body),
                    self.body.len()
                ),
            )
            .finish()
    }
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
        crate::error::request_id(&self.headers)
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

impl From<crate::request::Captured> for RawResponse {
    fn from(c: crate::request::Captured) -> RawResponse {
        RawResponse {
            status: c.status,
            headers: c.headers,
            body: c.body,
        }
    }
}

/// Runs a generated operation's `send()` future and returns the reply untouched: what
/// `send_raw_any_status()` does. The future's own decoding is skipped (the hooks hand it an empty
/// body).
pub async fn capture_raw<F, T>(send: F) -> Result<RawResponse>
where
    F: Future<Output = std::result::Result<T, progenitor_client::Error<()>>>,
{
    let (result, captured) = crate::request::with_capture(false, send).await;
    raw_from_parts(result, captured)
}

/// What `send_raw_any_status()` returns, from the future's output and the captured reply.
pub(crate) fn raw_from_parts<T>(
    result: std::result::Result<T, progenitor_client::Error<()>>,
    captured: Option<crate::request::Captured>,
) -> Result<RawResponse> {
    match (captured, result) {
        (Some(raw), _) => Ok(raw.into()),
        // No reply: the request failed before or while it was sent.
        (None, Err(e)) => Err(Error::from(e)),
        (None, Ok(_)) => Err(Error::InvalidRequest(
            "the reply was not captured (was the request sent by another client?)".into(),
        )),
    }
}

/// Runs a generated operation's `send()` future and returns the reply untouched when its status is
/// a success, or the typed error: what `send_raw()` does.
pub async fn capture_raw_checked<F, T>(send: F) -> Result<RawResponse>
where
    F: Future<Output = std::result::Result<T, progenitor_client::Error<()>>>,
{
    capture_raw(send).await?.error_for_status()
}

/// Runs a generated operation's `send()` future as the client's `skip_response_parsing` says: what
/// `call()` does.
pub async fn reply<F, T>(send: F) -> Result<Reply<T>>
where
    F: Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error<()>>>,
{
    let (result, captured) = crate::request::with_capture(true, send).await;
    reply_from_parts(result, captured)
}

/// What `call()` returns, from the future's output and the reply captured when skipping parsing.
pub(crate) fn reply_from_parts<T>(
    result: std::result::Result<ResponseValue<T>, progenitor_client::Error<()>>,
    captured: Option<crate::request::Captured>,
) -> Result<Reply<T>> {
    match captured {
        Some(raw) => Ok(Reply::Raw(RawResponse::from(raw).error_for_status()?)),
        None => Ok(Reply::Parsed(result?.into_inner())),
    }
}

/// The reply of an operation's `call()`: decoded, or untouched when the client was built with
/// `skip_response_parsing` (the Python library's switch, typed).
///
/// ```no_run
/// # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
/// use matterapi::raw::Reply;
/// match client.get_user().user_id("me").call().await? {
///     Reply::Parsed(user) => println!("{:?}", user.username),
///     Reply::Raw(raw) => println!("{} bytes, decoded by the caller", raw.body.len()),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub enum Reply<T> {
    /// The reply decoded into the operation's type.
    Parsed(T),
    /// The reply as the server sent it (its status is a success).
    Raw(RawResponse),
}

impl<T> Reply<T> {
    /// Whether the reply was left untouched.
    pub fn is_raw(&self) -> bool {
        matches!(self, Reply::Raw(_))
    }

    /// The untouched reply, if parsing was skipped.
    pub fn raw(&self) -> Option<&RawResponse> {
        match self {
            Reply::Raw(r) => Some(r),
            Reply::Parsed(_) => None,
        }
    }

    /// The untouched reply, if parsing was skipped.
    pub fn into_raw(self) -> Option<RawResponse> {
        match self {
            Reply::Raw(r) => Some(r),
            Reply::Parsed(_) => None,
        }
    }

    /// The decoded value, if parsing was not skipped.
    pub fn parsed(self) -> Option<T> {
        match self {
            Reply::Parsed(v) => Some(v),
            Reply::Raw(_) => None,
        }
    }
}

impl<T: DeserializeOwned> Reply<T> {
    /// The decoded value: parsed now if parsing was skipped (an empty body reads as JSON `null`, so
    /// operations without a reply body decode to `()`); on failure the body is kept in the error.
    pub fn into_value(self) -> Result<T> {
        match self {
            Reply::Parsed(v) => Ok(v),
            Reply::Raw(r) if r.body.is_empty() => {
                serde_json::from_slice(b"null").map_err(|source| Error::Decode {
                    body: r.body,
                    source,
                })
            }
            Reply::Raw(r) => r.json(),
        }
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
    /// `path` is from the server root ([`Client::raw_root`]), not the API base.
    root: bool,
    /// Send the client's token (unless [`RawRequest::without_credentials`]).
    credentials: bool,
    error: Option<Error>,
}

impl Client {
    /// A request to `path` under the API base (`{url}{basepath}{path}`, e.g. `/users/me`), for
    /// endpoints and payloads the spec lacks. A path with a `.` or `..` segment (which would be
    /// resolved into another endpoint) is refused when sent, with
    /// [`Error::InvalidPathParameter`] naming `path`: percent-encode values put into it.
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
            root: false,
            credentials: true,
            error: None,
        }
    }

    /// A request to `path` from the server root (`{url}{path}`: the server URL's own sub-path is
    /// kept, the API base path is not added), for the server's routes outside the API, such as
    /// `/hooks/...`, `/plugins/...` or `/files/{file_id}/public`. The path is checked as
    /// [`Client::raw`]'s. The token is sent unless [`RawRequest::without_credentials`] says not to.
    pub fn raw_root(&self, method: Method, path: impl Into<String>) -> RawRequest<'_> {
        RawRequest {
            root: true,
            ..self.raw(method, path)
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

    /// Sends no credential: neither the client's token nor a new one after a 401 (a header set
    /// with [`RawRequest::header`] is still sent). For endpoints that take none, where the token
    /// has no business going.
    pub fn without_credentials(mut self) -> Self {
        self.credentials = false;
        self
    }

    /// Returns replies of every status as responses instead of turning failures into errors.
    pub fn any_status(mut self) -> Self {
        self.any_status = true;
        self
    }

    /// Sends the request; the reply comes back untouched (its body read, within `max_body_size`).
    pub async fn send(self) -> Result<RawResponse> {
        if let Some(e) = self.error {
            return Err(e);
        }
        crate::request::check_raw_path(&self.path)?;
        let url = if self.root {
            crate::request::root_url(self.client, &self.path)
        } else {
            crate::request::api_url(self.client, &self.path)
        };
        let mut req = self
            .client
            .client()
            .request(self.method, url)
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
        let resp = if self.credentials {
            crate::request::execute(self.client, "raw", req, true).await?
        } else {
            crate::request::execute_with(self.client, "raw_without_credentials", req, true, false)
                .await?
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = crate::request::read_body(resp).await?;
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

// `send_raw()`, `send_raw_any_status()` and `call()` on every generated operation's builder:
// generated by build.rs (`raw_sends`) from the builders' `send()`.
mod sends {
    include!(concat!(env!("OUT_DIR"), "/raw_sends.rs"));
}
