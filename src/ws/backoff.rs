//! Reconnect back-off: how long the listener waits before its next connection attempt.
//!
//! The official web client's policy, with the base wait taken from
//! [`Options::ws_reconnect_wait_time`](crate::Options::ws_reconnect_wait_time) (the Python
//! library's "waiting time between re-connect attempts"): the base wait after each of the first 7
//! consecutive failures, then `base × failures²`, capped (5 minutes by default), plus random
//! jitter of up to the base wait itself (so between one and two base waits), so that many clients
//! do not reconnect in step. A connection that was accepted and stayed up for a moment (2 s by
//! default: the guard against a server that accepts and drops at once) resets the count, as the
//! web client resets it when a connection opens: a link that drops every few seconds waits the
//! base wait each time, not ever longer.
//!
//! [`Backoff`] is a plain value: [`Backoff::delay`] is a pure function of the failure count and a
//! jitter fraction, so the policy is testable without a clock or a socket.

use std::time::Duration;

/// The reconnect back-off policy and its failure count.
///
/// ```
/// use std::time::Duration;
/// use matterapi::ws::Backoff;
///
/// let b = Backoff::new(Duration::from_secs(3));
/// assert_eq!(b.delay(1, 0.0), Duration::from_secs(3));
/// assert_eq!(b.delay(7, 0.0), Duration::from_secs(3));
/// assert_eq!(b.delay(8, 0.0), Duration::from_secs(3 * 64));
/// assert_eq!(b.delay(100, 0.0), Duration::from_secs(300)); // capped
/// assert_eq!(b.delay(1, 0.5), Duration::from_millis(4500)); // + half of the 3 s jitter
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    jitter: Duration,
    grow_after: u32,
    stable_after: Duration,
    failures: u32,
}

impl Backoff {
    /// The official web client's policy with `base` as the first wait: 5 min cap, jitter of up to
    /// `base`, growth after 7 failures, reset by a connection that stayed up 2 s.
    pub fn new(base: Duration) -> Backoff {
        Backoff {
            base,
            cap: Duration::from_secs(300),
            jitter: base,
            grow_after: 7,
            stable_after: Duration::from_secs(2),
            failures: 0,
        }
    }

    /// The longest wait before jitter (default 5 minutes).
    pub fn with_cap(mut self, cap: Duration) -> Backoff {
        self.cap = cap;
        self
    }

    /// The most random jitter added to each wait (default: the base wait).
    pub fn with_jitter(mut self, jitter: Duration) -> Backoff {
        self.jitter = jitter;
        self
    }

    /// After this many consecutive failures the wait grows as `base × failures²` (default 7).
    pub fn with_grow_after(mut self, failures: u32) -> Backoff {
        self.grow_after = failures;
        self
    }

    /// A connection that stayed up this long resets the failure count (default 2 s: shorter, it
    /// counts as one more failure, so a server that accepts and drops at once is backed off from).
    pub fn with_stable_after(mut self, stable_after: Duration) -> Backoff {
        self.stable_after = stable_after;
        self
    }

    /// The wait after `failures` consecutive failures, with `jitter_fraction` (clamped to `0..=1`)
    /// of the jitter range added. Pure: the same inputs always give the same wait.
    pub fn delay(&self, failures: u32, jitter_fraction: f64) -> Duration {
        let wait = if failures > self.grow_after {
            let factor = failures.saturating_mul(failures);
            self.base.saturating_mul(factor)
        } else {
            self.base
        };
        let fraction = if jitter_fraction.is_finite() {
            jitter_fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        wait.min(self.cap)
            .saturating_add(self.jitter.mul_f64(fraction))
    }

    /// Counts one more failure and gives the wait before the next attempt.
    pub fn next_delay(&mut self, jitter_fraction: f64) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.delay(self.failures, jitter_fraction)
    }

    /// Tells the policy that a connection stayed up for `uptime`: a stable one resets the count.
    pub fn connection_ended(&mut self, uptime: Duration) {
        if uptime >= self.stable_after {
            self.failures = 0;
        }
    }

    /// Forgets every failure.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures counted so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The first wait.
    pub fn base(&self) -> Duration {
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::Jitter;

    #[test]
    fn jitter_stays_in_range() {
        let mut j = Jitter(1);
        for _ in 0..10_000 {
            let f = j.next_fraction();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn stable_connection_resets_the_count() {
        let mut b = Backoff::new(Duration::from_secs(1));
        for _ in 0..9 {
            b.next_delay(0.0);
        }
        assert_eq!(b.failures(), 9);
        b.connection_ended(Duration::from_millis(500));
        assert_eq!(
            b.failures(),
            9,
            "a connection dropped at once does not reset"
        );
        b.connection_ended(Duration::from_secs(2));
        assert_eq!(b.failures(), 0);
    }
}
