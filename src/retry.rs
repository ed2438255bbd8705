//! Retries: when a request is sent again, and how long the client waits first.
//!
//! Every request of a [`Client`] goes through its [`RetryPolicy`] (on by default; the `retry` field
//! of [`Options`](crate::Options)):
//!
//! - **429 Too Many Requests**, whatever the method (the server did not act on the request): the
//!   client waits what the server asks, from `Retry-After` (seconds or an HTTP date) or else
//!   `X-RateLimit-Reset` (seconds until the limit resets, as Mattermost sends it), plus a little
//!   jitter. When the server asks for a wait longer than what is left of the policy's `max_wait`,
//!   the call fails at once with [`Error::RateLimited`](crate::Error::RateLimited), which carries
//!   the wait.
//! - **Connection failures and 502, 503, 504**, for idempotent methods only (`GET`, `HEAD`, `PUT`,
//!   `DELETE`, `OPTIONS`): exponential backoff with jitter ([`RetryPolicy::backoff`]), or a 503's
//!   `Retry-After`.
//! - Nothing else is retried: other statuses, timeouts (the request may have been acted on), and
//!   every request whose body is a stream (an upload from a file or reader cannot be replayed).
//!
//! At most `max_attempts` attempts are made and at most `max_wait` is spent waiting for one call.
//! [`Client::retry_stats`] counts the retries of a client and its clones; each retry is also a
//! tracing event (`matterapi`, debug level, message `retrying`).
//!
//! ```no_run
//! # fn main() -> Result<(), matterapi::Error> {
//! use std::time::Duration;
//! use matterapi::retry::RetryPolicy;
//!
//! let client = matterapi::Client::builder("https://chat.example.com")
//!     .token("a token")
//!     .retry(RetryPolicy::default().max_attempts(3).max_wait(Duration::from_secs(10)))
//!     .build()?;
//! let never = matterapi::Client::builder("https://chat.example.com")
//!     .retry(RetryPolicy::off())
//!     .build()?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use progenitor_client::ClientInfo;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use crate::generated::Client;

/// The header in which a rate limiter says when the limit resets.
pub const RATE_LIMIT_RESET_HEADER: &str = "x-ratelimit-reset";

/// When and how often a request is tried again. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Whether requests are retried at all (default true).
    pub enabled: bool,
    /// Attempts per call, the first included (default 5; 1 means no retry).
    pub max_attempts: u32,
    /// The longest total wait between the attempts of one call (default 30 s). A server asking for
    /// more than what is left of it makes the call fail at once.
    pub max_wait: Duration,
    /// The backoff before the first retry of a failed connection or a 502/503/504 (default 100 ms);
    /// it doubles with each retry.
    pub initial_backoff: Duration,
    /// The longest backoff between two attempts (default 5 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            max_attempts: 5,
            max_wait: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries: every request is sent once.
    pub fn off() -> RetryPolicy {
        RetryPolicy {
            enabled: false,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts per call, the first included.
    pub fn max_attempts(mut self, attempts: u32) -> RetryPolicy {
        self.max_attempts = attempts;
        self
    }

    /// Sets the longest total wait between the attempts of one call.
    pub fn max_wait(mut self, wait: Duration) -> RetryPolicy {
        self.max_wait = wait;
        self
    }

    /// Sets the first backoff (doubled with each retry) and the longest one.
    pub fn backoff_between(mut self, initial: Duration, max: Duration) -> RetryPolicy {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The backoff before retry number `retry` (1 for the first retry) given a random `fraction` in
    /// `[0, 1)`: the exponential step `initial_backoff * 2^(retry - 1)`, capped at `max_backoff`,
    /// with "equal jitter": between half the step and the whole step.
    pub fn backoff(&self, retry: u32, fraction: f64) -> Duration {
        let step = self.step(retry);
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        step / 2 + (step / 2).mul_f64(fraction)
    }

    /// The wait before retry number `retry` when the server asked for `requested`: that wait plus a
    /// jitter of up to one exponential step (`fraction` of it, `fraction` in `[0, 1)`), so that
    /// clients told the same time do not all come back at once.
    pub fn rate_limit_wait(&self, retry: u32, requested: Duration, fraction: f64) -> Duration {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        requested.saturating_add(self.step(retry).mul_f64(fraction))
    }

    /// `initial_backoff * 2^(retry - 1)`, capped at `max_backoff`.
    fn step(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.initial_backoff
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// How many times a client (and its clones) retried, and why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryStats {
    /// Requests sent again.
    pub retries: u64,
    /// Replies with status 429 received (retried or not).
    pub rate_limited: u64,
    /// Time spent waiting before retries, in total.
    pub waited: Duration,
}

/// The counters behind [`RetryStats`], shared by a client and its clones.
#[derive(Debug, Default)]
pub(crate) struct RetryCounters {
    retries: AtomicU64,
    rate_limited: AtomicU64,
    waited_micros: AtomicU64,
}

impl Client {
    /// How many times this client and its clones retried so far.
    pub fn retry_stats(&self) -> RetryStats {
        let c = &self.inner().retry;
        RetryStats {
            retries: c.retries.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            waited: Duration::from_micros(c.waited_micros.load(Ordering::Relaxed)),
        }
    }
}

/// Whether a method may be sent twice without changing the outcome.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// The wait a reply asks for: `Retry-After` (seconds, or an HTTP date compared with `now`), else
/// `X-RateLimit-Reset` (seconds until the reset as Mattermost sends it, or a Unix time when the
/// number is that large). `None` when neither header is there or readable.
pub fn requested_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    retry_after(headers, now).or_else(|| rate_limit_reset(headers, now))
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `Retry-After`: delta seconds or an HTTP date.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = header_text(headers, RETRY_AFTER.as_str())?;
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    // IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, which the RFC 2822 parser reads.
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let at = u64::try_from(at.timestamp()).ok()?;
    until_unix_time(at, now)
}

/// `X-RateLimit-Reset`: seconds until the reset, or (above a billion, i.e. after 2001) a Unix time.
fn rate_limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    const UNIX_TIME_FROM: u64 = 1_000_000_000;
    let text = header_text(headers, RATE_LIMIT_RESET_HEADER)?;
    let secs = match text.parse::<u64>() {
        Ok(n) => n as f64,
        Err(_) => text.parse::<f64>().ok()?,
    };
    if !secs.is_finite() {
        return None;
    }
    if secs >= UNIX_TIME_FROM as f64 {
        return until_unix_time(secs as u64, now);
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// The wait until Unix time `at`; `None` when `at` is beyond what the clock can represent (a
/// hostile or broken header: treated as no usable wait).
fn until_unix_time(at: u64, now: SystemTime) -> Option<Duration> {
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(at))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A number in `[0, 1)`, different on each call (for jitter; not for cryptography).
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    if let Ok(since) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Why a request is sent again.
#[derive(Clone, Copy, Debug)]
enum Reason {
    RateLimited,
    Status(StatusCode),
    Connect,
}

impl Reason {
    fn describe(self) -> String {
        match self {
            Reason::RateLimited => "rate limited (429)".into(),
            Reason::Status(s) => format!("status {}", s.as_u16()),
            Reason::Connect => "connection failed".into(),
        }
    }
}

/// Whether a connect error comes from this process or machine running out of file descriptors
/// (`EMFILE`, `ENFILE`) or memory for sockets (`ENOBUFS`): a local limit that retrying only
/// prolongs, not a network failure.
fn out_of_local_resources(e: &reqwest::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    const ENOBUFS: i32 = 105;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(io.raw_os_error(), Some(ENFILE | EMFILE | ENOBUFS))
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// The wait before sending again, or `None` to give the result back as it is.
fn next_wait(
    policy: &RetryPolicy,
    method: &Method,
    result: &reqwest::Result<reqwest::Response>,
    retry: u32,
    waited: Duration,
) -> Option<(Duration, Reason)> {
    let left = policy.max_wait.saturating_sub(waited);
    let backoff = |reason| {
        if left.is_zero() {
            None
        } else {
            Some((policy.backoff(retry, random_fraction()).min(left), reason))
        }
    };
    match result {
        Err(e) if e.is_connect() && is_idempotent(method) && !out_of_local_resources(e) => {
            backoff(Reason::Connect)
        }
        Err(_) => None,
        Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
            match requested_wait(resp.headers(), SystemTime::now()) {
                // Longer than allowed: the caller gets the 429 now, as `Error::RateLimited`.
                Some(asked) if asked > left => None,
                Some(asked) => Some((
                    policy
                        .rate_limit_wait(retry, asked, random_fraction())
                        .min(left),
                    Reason::RateLimited,
                )),
                None => backoff(Reason::RateLimited),
            }
        }
        Ok(resp) if matches!(resp.status().as_u16(), 502..=504) && is_idempotent(method) => {
            let reason = Reason::Status(resp.status());
            match retry_after(resp.headers(), SystemTime::now()) {
                Some(asked) if asked > left => None,
                Some(asked) => Some((asked, reason)),
                None => backoff(reason),
            }
        }
        Ok(_) => None,
    }
}

/// Whether a 401 to `operation` may be answered by logging in again: the options' `relogin` is on,
/// the client has login credentials, and the operation is not the login or logout itself.
fn relogin_possible(client: &Client, operation: &str) -> bool {
    let options = &client.inner().options;
    options.relogin
        && matches!(options.auth, Some(crate::options::Auth::Login { .. }))
        && !matches!(operation, "users_login" | "users_logout")
}

fn relogin_allowed(
    client: &Client,
    operation: &str,
    result: &reqwest::Result<reqwest::Response>,
) -> bool {
    matches!(result, Ok(r) if r.status() == StatusCode::UNAUTHORIZED)
        && relogin_possible(client, operation)
}

/// Sends `request` with `attempt` (one try: send, trace, and whatever the caller does with a
/// reply) as often as `client`'s retry policy allows, waiting between the tries. A request whose
/// body is a stream is sent once. Gives the last try's result.
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
    let may_relogin = relogin_possible(client, operation);
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
            counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        let Some(mut next) = spare else {
            return result;
        };
        if !relogged && relogin_allowed(client, operation, &result) {
            // The session was revoked or expired: one new session (shared with concurrent
            // callers and the websocket listeners), then this request again with its token.
            relogged = true;
            drop(result);
            tracing::info!(target: "matterapi", operation, "401: logging in again");
            if let Err(e) = client.relogin_boxed().await {
                tracing::warn!(target: "matterapi", operation, error = %e, "logging in again failed");
            }
            inner.replace_authorization(&mut next);
            request = next;
            continue;
        }
        if !(policy.enabled && tries < policy.max_attempts) {
            return result;
        }
        let Some((wait, reason)) = next_wait(policy, &method, &result, tries, waited) else {
            return result;
        };
        drop(result);
        let path = next.url().path();
        let wait_ms = wait.as_secs_f64() * 1000.0;
        let reason_text = reason.describe();
        let attempt = tries + 1;
        tracing::debug!(target: "matterapi", operation, %method, path, attempt, wait_ms,
            reason = %reason_text, "retrying");
        if inner.debug && !tracing::dispatcher::has_been_set() {
            eprintln!(
                "matterapi: {method} {path}: {reason_text}; attempt {attempt} in {wait_ms:.0} ms"
            );
        }
        tokio::time::sleep(wait).await;
        waited += wait;
        tries += 1;
        counters.retries.fetch_add(1, Ordering::Relaxed);
        counters.waited_micros.fetch_add(
            u64::try_from(wait.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        request = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(*k, v);
            }
        }
        h
    }

    #[test]
    fn retry_after_takes_precedence_over_the_reset_header() {
        let now = SystemTime::now();
        let h = headers(&[("retry-after", "2"), ("x-ratelimit-reset", "9")]);
        assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(2)));
        let h = headers(&[("x-ratelimit-reset", "9")]);
        assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(9)));
        assert_eq!(requested_wait(&HeaderMap::new(), now), None);
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(requested_wait(&h, now), None);
    }

    #[test]
    fn a_reset_header_holding_a_unix_time_is_read_as_one() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = headers(&[("x-ratelimit-reset", "1700000007")]);
        assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn step_is_capped_and_never_overflows() {
        let p = RetryPolicy::default();
        assert_eq!(p.step(1), Duration::from_millis(100));
        assert_eq!(p.step(3), Duration::from_millis(400));
        assert_eq!(p.step(40), Duration::from_secs(5));
        assert_eq!(p.step(u32::MAX), Duration::from_secs(5));
    }
}
