//! The one request path of the hand-written operations ([`Client::raw`](crate::Client::raw) and
//! [`crate::files`]): the URL under the API base path, the `api-version` header, the bearer token,
//! retries, one trace event per try, and the limit on reply bodies (`max_body_size`), which the
//! generated operations' hooks apply too.

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::generated::Client;
use progenitor_client::ClientInfo;

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
    let inner = client.inner();
    let mut request = request
        .header("api-version", Client::api_version())
        .build()
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    inner.authorize(&mut request);
    let result = crate::retry::send_with_retries(client, operation, request, |request| {
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
    let seen = crate::hooks::tracing_on(inner.debug)
        .then(|| (request.method().clone(), request.url().path().to_owned()));
    let _slot = inner.slot().await;
    let started = Instant::now();
    let result = client.client().execute(request).await;
    if let Some((method, path)) = &seen {
        crate::hooks::trace(inner.debug, operation, method, path, started, &result);
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

/// The start of the message that carries [`Error::InvalidPathParameter`] through the generated
/// client's `progenitor_client::Error::InvalidRequest` (read back by [`invalid_path_parameter`]).
const INVALID_PATH_PARAMETER: &str = "invalid path parameter `";

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
            format!("{INVALID_PATH_PARAMETER}{name}`: {reason}"),
        ),
        other => progenitor_client::Error::InvalidRequest(other.to_string()),
    })
}

/// [`Error::InvalidPathParameter`] back from the message [`path_param`] made, if `message` is one.
pub(crate) fn invalid_path_parameter(message: &str) -> Option<Error> {
    let (name, reason) = message
        .strip_prefix(INVALID_PATH_PARAMETER)?
        .split_once("`: ")?;
    Some(Error::InvalidPathParameter {
        name: name.to_owned(),
        reason: reason.to_owned(),
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
