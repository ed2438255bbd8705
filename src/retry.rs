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

impl RetryCounters {
    /// One more reply with status 429.
    pub(crate) fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// One more retry, after waiting `wait`.
    pub(crate) fn count_retry(&self, wait: Duration) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.waited_micros.fetch_add(
            u64::try_from(wait.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
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

/// A small, fast pseudo-random generator (SplitMix64) for jitter: no dependency. The one random source of the
/// crate: REST retries ([`jitter`]) and the websocket (backoff, frame masks).
#[derive(Debug, Clone)]
pub(crate) struct Jitter(pub(crate) u64);

impl Jitter {
    /// Seeded from the clock and an address, so that clients started together still differ.
    pub(crate) fn from_entropy() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let local = 0u8;
        let addr = &local as *const u8 as u64;
        Jitter(nanos ^ addr.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// The next number in `[0, 1)`.
    pub(crate) fn next_fraction(&mut self) -> f64 {
        fraction(self.next_u64())
    }

    /// The next 32 random bits (a frame's masking key).
    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits of `bits` as a number in `[0, 1)`.
fn fraction(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A number in `[0, 1)`, different on each call: the jitter of the REST retries, from one
/// process-wide [`Jitter`] sequence. The decisions that use it ([`next_wait`], the websocket's
/// backoff) take its value as an argument.
pub(crate) fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let seed = *SEED.get_or_init(|| Jitter::from_entropy().0);
    let n = STATE
        .fetch_add(GOLDEN, Ordering::Relaxed)
        .wrapping_add(GOLDEN);
    fraction(mix(seed.wrapping_add(n)))
}

/// Why a request is sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    RateLimited,
    Status(StatusCode),
    Connect,
}

impl Reason {
    pub(crate) fn describe(self) -> String {
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

/// What one try of a request ended with, as the retry policy sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome<'a> {
    /// A reply with this status and these headers.
    Reply {
        status: StatusCode,
        headers: &'a HeaderMap,
    },
    /// No connection could be made (the request was not sent).
    ConnectFailed,
    /// Any other failure (a timeout, a broken connection, a local limit): the request may have
    /// been processed, or trying again would not help.
    Failed,
}

impl<'a> Outcome<'a> {
    /// The outcome of a try's result.
    pub(crate) fn of(result: &'a reqwest::Result<reqwest::Response>) -> Outcome<'a> {
        match result {
            Ok(resp) => Outcome::Reply {
                status: resp.status(),
                headers: resp.headers(),
            },
            Err(e) => Outcome::of_error(e),
        }
    }

    /// The outcome of a failed try.
    pub(crate) fn of_error(e: &reqwest::Error) -> Outcome<'a> {
        if e.is_connect() && !out_of_local_resources(e) {
            Outcome::ConnectFailed
        } else {
            Outcome::Failed
        }
    }
}

/// Whether the policy sends a request again after a reply with `status` (429; 502, 503 and 504 for
/// an idempotent method): [`crate::Error::is_retryable`] uses the same rule.
pub(crate) fn retried_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || matches!(status.as_u16(), 502..=504)
}

/// Where a call is: the method, the tries made so far (1 after the first) and the time waited
/// between them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempt<'a> {
    pub(crate) method: &'a Method,
    pub(crate) tries: u32,
    pub(crate) waited: Duration,
}

/// The wait before sending again after `reply`, or `None` to give the result back as it is: the
/// whole retry decision, pure (the time is `now`, the random part is `jitter` in `[0, 1)`).
pub(crate) fn next_wait(
    policy: &RetryPolicy,
    attempt: Attempt<'_>,
    reply: Outcome<'_>,
    now: SystemTime,
    jitter: f64,
) -> Option<(Duration, Reason)> {
    if !policy.enabled || attempt.tries >= policy.max_attempts {
        return None;
    }
    let retry = attempt.tries;
    let idempotent = is_idempotent(attempt.method);
    let left = policy.max_wait.saturating_sub(attempt.waited);
    let backoff = |reason| {
        if left.is_zero() {
            None
        } else {
            Some((policy.backoff(retry, jitter).min(left), reason))
        }
    };
    match reply {
        Outcome::ConnectFailed if idempotent => backoff(Reason::Connect),
        Outcome::ConnectFailed | Outcome::Failed => None,
        Outcome::Reply { status, headers } if status == StatusCode::TOO_MANY_REQUESTS => {
            match requested_wait(headers, now) {
                // Longer than allowed: the caller gets the 429 now, as `Error::RateLimited`.
                Some(asked) if asked > left => None,
                Some(asked) => Some((
                    policy.rate_limit_wait(retry, asked, jitter).min(left),
                    Reason::RateLimited,
                )),
                None => backoff(Reason::RateLimited),
            }
        }
        Outcome::Reply { status, headers } if retried_status(status) && idempotent => {
            let reason = Reason::Status(status);
            match retry_after(headers, now) {
                Some(asked) if asked > left => None,
                Some(asked) => Some((asked, reason)),
                None => backoff(reason),
            }
        }
        Outcome::Reply { .. } => None,
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

    /// `next_wait` as a table: one row per kind of outcome, with the time and the jitter fixed.
    #[test]
    fn next_wait_decides_each_outcome_as_the_policy_says() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = RetryPolicy::default();
        let none = HeaderMap::new();
        let asks_2s = headers(&[("retry-after", "2")]);
        let asks_60s = headers(&[("retry-after", "60")]);
        let reply = |status: u16, headers| Outcome::Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            headers,
        };
        let ms = Duration::from_millis;
        // (what, policy, method, tries, waited, outcome, jitter, expected)
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            &str,
            RetryPolicy,
            Method,
            u32,
            Duration,
            Outcome<'_>,
            f64,
            Option<(Duration, Reason)>,
        )> = vec![
            (
                "connect failure, GET: half step at jitter 0",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                Outcome::ConnectFailed,
                0.0,
                Some((ms(50), Reason::Connect)),
            ),
            (
                "connect failure, GET, 3rd try: step doubled twice",
                p.clone(),
                Method::GET,
                3,
                ms(0),
                Outcome::ConnectFailed,
                0.5,
                Some((ms(300), Reason::Connect)),
            ),
            (
                "connect failure, POST: not idempotent",
                p.clone(),
                Method::POST,
                1,
                ms(0),
                Outcome::ConnectFailed,
                0.0,
                None,
            ),
            (
                "other failure: maybe processed",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                Outcome::Failed,
                0.0,
                None,
            ),
            (
                "503 GET, no header: backoff",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                reply(503, &none),
                0.0,
                Some((ms(50), Reason::Status(StatusCode::SERVICE_UNAVAILABLE))),
            ),
            (
                "503 GET, Retry-After 2: as asked",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                reply(503, &asks_2s),
                0.5,
                Some((ms(2000), Reason::Status(StatusCode::SERVICE_UNAVAILABLE))),
            ),
            (
                "503 POST: not idempotent",
                p.clone(),
                Method::POST,
                1,
                ms(0),
                reply(503, &none),
                0.0,
                None,
            ),
            (
                "500: never",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                reply(500, &none),
                0.0,
                None,
            ),
            (
                "429 POST, Retry-After 2: asked plus jitter of a step",
                p.clone(),
                Method::POST,
                1,
                ms(0),
                reply(429, &asks_2s),
                0.5,
                Some((ms(2050), Reason::RateLimited)),
            ),
            (
                "429, asks more than max_wait: given back",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                reply(429, &asks_60s),
                0.0,
                None,
            ),
            (
                "429, no header: backoff",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                reply(429, &none),
                0.0,
                Some((ms(50), Reason::RateLimited)),
            ),
            (
                "backoff cut to what is left of max_wait",
                p.clone(),
                Method::GET,
                1,
                ms(29_990),
                Outcome::ConnectFailed,
                0.0,
                Some((ms(10), Reason::Connect)),
            ),
            (
                "max_wait used up",
                p.clone(),
                Method::GET,
                1,
                ms(30_000),
                Outcome::ConnectFailed,
                0.0,
                None,
            ),
            (
                "last attempt",
                p.clone(),
                Method::GET,
                5,
                ms(0),
                Outcome::ConnectFailed,
                0.0,
                None,
            ),
            (
                "policy off",
                RetryPolicy::off(),
                Method::GET,
                1,
                ms(0),
                Outcome::ConnectFailed,
                0.0,
                None,
            ),
            (
                "200: done",
                p.clone(),
                Method::GET,
                1,
                ms(0),
                reply(200, &none),
                0.0,
                None,
            ),
        ];
        for (what, policy, method, tries, waited, outcome, jitter, expected) in rows {
            let attempt = Attempt {
                method: &method,
                tries,
                waited,
            };
            assert_eq!(
                next_wait(&policy, attempt, outcome, now, jitter),
                expected,
                "{what}"
            );
        }
    }

    #[test]
    fn jitter_stays_in_the_unit_interval() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
