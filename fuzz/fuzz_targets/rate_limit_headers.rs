//! The headers a rate limiter sends (`Retry-After`, `X-RateLimit-Reset`), read by the retry policy
//! (`matterapi::retry::requested_wait`) and by the error of a 429 reply: any header values, at any
//! current time, give a wait or none, never a panic.
//!
//! Input layout: 4 bytes of "now" (seconds since the Unix epoch, little endian), then the
//! `Retry-After` value and the `X-RateLimit-Reset` value separated by a `\n` (a missing value is a
//! missing header; a value that is not a valid header value is skipped).
//!
//! Known bug (fuzz/README.md): an `X-RateLimit-Reset` of 2^63 or more (`inf`, `1e19`, ...) panics
//! in `retry::until_unix_time`. With `MATTERAPI_FUZZ_SKIP_KNOWN_BUGS=1` in the environment such
//! values are left out, to look for other crashes until it is fixed.

#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use matterapi::retry::{RATE_LIMIT_RESET_HEADER, requested_wait};
use matterapi::{Error, StatusCode};

fn skip_known_bugs() -> bool {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SKIP.get_or_init(|| std::env::var_os("MATTERAPI_FUZZ_SKIP_KNOWN_BUGS").is_some())
}

/// Whether `retry::rate_limit_reset` would read `value` as a Unix time past `i64::MAX` seconds.
fn overflows_unix_time(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let text = text.trim();
    let secs = match text.parse::<u64>() {
        Ok(n) => n as f64,
        Err(_) => match text.parse::<f64>() {
            Ok(f) => f,
            Err(_) => return false,
        },
    };
    secs >= 9.2e18
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let now = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(now));
    let mut values = data[4..].splitn(2, |&b| b == b'\n');
    let retry_after = values.next().filter(|v| !v.is_empty());
    let reset = values.next().filter(|v| !v.is_empty());
    if skip_known_bugs() && reset.is_some_and(overflows_unix_time) {
        return;
    }

    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        (http::header::RETRY_AFTER.as_str(), retry_after),
        (RATE_LIMIT_RESET_HEADER, reset),
    ] {
        if let Some(v) = value.and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
            headers.insert(name, v);
        }
    }

    let _ = requested_wait(&headers, now);
    let _ = requested_wait(&headers, SystemTime::now());

    // A 429 reply as the generated client hands it over: `RateLimited` when a wait can be read.
    let mut reply = http::Response::builder().status(StatusCode::TOO_MANY_REQUESTS);
    for (name, value) in &headers {
        reply = reply.header(name, value);
    }
    let reply = reply
        .body(bytes::Bytes::from_static(b"limit exceeded"))
        .expect("a valid response");
    let err = Error::from(progenitor_client::Error::<()>::UnexpectedResponse(
        reqwest::Response::from(reply),
    ));
    let _ = err.to_string();
    let _ = err.retry_after();
});
