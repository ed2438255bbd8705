//! Error-body decoding: whatever a server sends with a failure status (any bytes, any status, any
//! request id) becomes a `matterapi::Error` whose accessors, `Display` and `Debug` do not panic.
//! The same bytes also go through the generated client's paths (`InvalidResponsePayload` for a
//! success reply that does not decode, `UnexpectedResponse` for a failure reply).
//!
//! Input layout: 2 bytes of status (mapped to 100..=999), 1 byte of request-id length `n` (0: no
//! request id), `n` bytes of request id (lossy UTF-8), then the body.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use matterapi::{Error, StatusCode};

/// `UnexpectedStatus` previews at most 200 bytes of the body; each char is escaped to at most 10
/// bytes (`\u{10ffff}`) by `{:?}`.
const MAX_PREVIEWED_DISPLAY: usize = 200 * 10 + 200;

fn exercise(err: &Error, status: StatusCode, request_id: Option<&str>, body: &[u8]) {
    let shown = err.to_string();
    let _ = format!("{err:?}");
    let _ = err.is_retryable();
    let _ = err.retry_after();
    let _ = err.error_id();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let _ = s.to_string();
        source = s.source();
    }
    match err {
        Error::Api(server) => {
            assert_eq!(server.status, status);
            assert_eq!(err.status(), Some(status));
            let _ = server.to_string();
            // The body's request id (when not empty) wins; else the header's.
            if let Some(r) = err.request_id() {
                assert!(!r.is_empty());
            }
        }
        Error::UnexpectedStatus { .. } => {
            assert_eq!(err.status(), Some(status));
            assert_eq!(err.request_id(), request_id);
            // The body is kept untouched, and the message stays short whatever its size.
            assert_eq!(err.body().map(|b| &b[..]), Some(body));
            let id_len = request_id.map_or(0, str::len);
            assert!(
                shown.len() <= MAX_PREVIEWED_DISPLAY + id_len + 100,
                "Display of UnexpectedStatus is {} bytes",
                shown.len()
            );
        }
        Error::RateLimited { .. } => {
            assert!(err.retry_after().is_some());
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = StatusCode::from_u16(100 + u16::from_le_bytes([data[0], data[1]]) % 900)
        .expect("100..=999 is a valid status");
    let id_len = usize::from(data[2]).min(data.len() - 3);
    let (request_id, body) = if id_len == 0 {
        (None, &data[3..])
    } else {
        let id = String::from_utf8_lossy(&data[3..3 + id_len]).into_owned();
        (Some(id), &data[3 + id_len..])
    };
    let bytes = Bytes::copy_from_slice(body);

    // The public decoder of failure bodies.
    let err = Error::from_reply(status, request_id.clone(), bytes.clone());
    exercise(&err, status, request_id.as_deref(), body);

    // A success reply that does not decode into the operation's type, as the generated client
    // reports it.
    if let Err(e) = serde_json::from_slice::<matterapi::types::User>(body) {
        let err = Error::from(progenitor_client::Error::<()>::InvalidResponsePayload(
            bytes.clone(),
            e,
        ));
        assert!(matches!(err, Error::Decode { .. }));
        assert_eq!(err.body().map(|b| &b[..]), Some(body));
        let _ = err.to_string();
        let _ = format!("{err:?}");
    }

    // A failure reply as the generated client hands it over (the hooks keep its body; without them
    // the body is empty), with the request id as a header when it is a valid header value.
    let mut reply = http::Response::builder().status(status);
    if let Some(id) = &request_id
        && let Ok(v) = http::HeaderValue::from_str(id)
    {
        reply = reply.header(matterapi::REQUEST_ID_HEADER, v);
    }
    let reply = reply.body(bytes).expect("a valid response");
    let err = Error::from(progenitor_client::Error::<()>::UnexpectedResponse(
        reqwest::Response::from(reply),
    ));
    let _ = err.to_string();
    let _ = format!("{err:?}");
    let _ = err.status();
    let _ = err.request_id();
    let _ = err.is_retryable();
});
