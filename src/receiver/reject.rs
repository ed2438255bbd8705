//! Why the receiver refused a callback (or a handler failed): [`Rejection`], and the JSON reply the
//! caller gets for it, [`ErrorReply`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A callback the receiver did not hand to its handler, or a handler's failure. Each kind has its
/// own status; the reply is an [`ErrorReply`] in JSON. Messages never hold a token or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The callback carried no token where the route expects one (401).
    #[error("the callback carries no token")]
    MissingToken,
    /// The callback's token is not the route's (401).
    #[error("the callback's token does not match")]
    BadToken,
    /// The body is larger than the receiver's limit (413).
    #[error("the body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body's content type is not one this callback comes in (415).
    #[error("unsupported content type {content_type:?}")]
    UnsupportedMediaType {
        /// The content type of the request.
        content_type: String,
    },
    /// The body could not be read or decoded into the callback's type (400).
    #[error("malformed callback: {detail}")]
    Malformed {
        /// What is wrong, with the path of the bad field when there is one.
        detail: String,
    },
    /// The method is not one this route answers (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Reading the body and running the handler took longer than the receiver's timeout (503).
    #[error("the handler did not answer in {millis} ms")]
    Timeout {
        /// The timeout, in milliseconds.
        millis: u64,
    },
    /// The handler failed (its status, 500 unless it chose another).
    #[error("{message}")]
    Handler {
        /// The status of the reply.
        status: u16,
        /// What went wrong, as the caller may see it.
        message: String,
    },
}

impl Rejection {
    /// A handler's failure with status 500 and `message` (which the caller sees: keep secrets out).
    pub fn handler(message: impl Into<String>) -> Self {
        Rejection::Handler {
            status: 500,
            message: message.into(),
        }
    }

    /// A handler's failure with its own `status` (an invalid one is taken as 500).
    pub fn with_status(status: u16, message: impl Into<String>) -> Self {
        Rejection::Handler {
            status,
            message: message.into(),
        }
    }

    /// The reply's status.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingToken | Rejection::BadToken => StatusCode::UNAUTHORIZED,
            Rejection::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::Malformed { .. } => StatusCode::BAD_REQUEST,
            Rejection::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::Handler { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The kind, as the reply's `error` field names it: `missing_token`, `bad_token`,
    /// `too_large`, `unsupported_media_type`, `malformed`, `method_not_allowed`, `timeout` or
    /// `handler`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::MissingToken => "missing_token",
            Rejection::BadToken => "bad_token",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::UnsupportedMediaType { .. } => "unsupported_media_type",
            Rejection::Malformed { .. } => "malformed",
            Rejection::MethodNotAllowed => "method_not_allowed",
            Rejection::Timeout { .. } => "timeout",
            Rejection::Handler { .. } => "handler",
        }
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        Rejection::Malformed {
            detail: detail.into(),
        }
    }
}

impl From<crate::error::Error> for Rejection {
    /// A failed call of the API inside a handler: status 502, the error's (redacted) text.
    fn from(e: crate::error::Error) -> Self {
        Rejection::with_status(502, e.to_string())
    }
}

/// The JSON body of every refused callback: `{"error": "<kind>", "message": "<text>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The kind ([`Rejection::kind`]).
    pub error: String,
    /// What went wrong.
    pub message: String,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = ErrorReply {
            error: self.kind().to_owned(),
            message: self.to_string(),
        };
        json_response(self.status(), &body)
    }
}

/// `value` as a JSON reply with `status` (a value that cannot be encoded gives a typed 500).
pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => {
            let body = format!(
                "{{\"error\":\"handler\",\"message\":{}}}",
                serde_json::Value::String(format!("the reply could not be encoded: {e}"))
            );
            let mut response = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

/// `body` decoded as `T`; an error names the path of the bad field.
pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Rejection> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." || path == "?" {
            Rejection::malformed(format!("invalid JSON: {inner}"))
        } else {
            Rejection::malformed(format!("{path}: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|e| Rejection::malformed(format!("invalid JSON: {e}")))?;
    Ok(value)
}
