//! Retries against a real server with its rate limiter on: a burst of calls all succeed, retried
//! after the server's 429s; without retries the same burst gets `Error::RateLimited` carrying the
//! server's wait; a policy allowing less wait than the server asks fails at once.
//!
//! The shared test server runs with the rate limiter off, so this test needs a second instance of
//! its own (never turn the limiter on in the shared one); `MM_TEST_STATE` gives `server.sh` a
//! separate state folder (own PostgreSQL cluster, ports, connection file). `.ci/run` does this:
//!
//! ```sh
//! export MM_TEST_STATE=$PWD/target/testserver-ratelimited MM_TEST_PORT=8075 MM_TEST_PG_PORT=5554
//! MM_RATELIMITSETTINGS_ENABLE=true MM_RATELIMITSETTINGS_PERSEC=20 MM_RATELIMITSETTINGS_MAXBURST=50 \
//!   bash testserver/server.sh start
//! MATTERAPI_TEST_RATELIMITED_CONNECTION=$MM_TEST_STATE/connection.json cargo test --test live_retry
//! bash testserver/server.sh stop
//! ```
//!
//! (20 requests a second, bursts of 50: enough for the bootstrap, small enough for a burst to hit.)
//! The test reads `$MATTERAPI_TEST_RATELIMITED_CONNECTION`, else
//! `target/testserver-ratelimited/connection.json`; without either it is skipped with a
//! note, unless `MATTERAPI_TEST_RATELIMITED_CONNECTION` is set (then a missing file fails).

#![cfg(feature = "users")]

mod support;

use std::time::{Duration, Instant};

use matterapi::retry::RetryPolicy;
use matterapi::{Client, Error};

/// Calls fired at once: well above the limiter's burst of 50.
const BURST: usize = 120;

/// `BURST` concurrent `GET /users/me` through `client`; their results.
async fn burst(client: &Client) -> Vec<Result<(), Error>> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..BURST {
        let client = client.clone();
        tasks.spawn(async move { support::rest::me(&client).await.map(|_| ()) });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        results.push(done.expect("task"));
    }
    results
}

/// Waits until the limiter's bucket is full again (it refills in 2.5 s at 20 a second).
async fn let_the_limiter_refill() {
    tokio::time::sleep(Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_rate_limit_succeeds_with_retries_counted() {
    let Some((_, conn)) = support::second_server("tests/live_retry.rs", false) else {
        return;
    };

    // Without retries, the limiter's 429s come back as errors carrying the wait it asks for.
    let_the_limiter_refill().await;
    let off = support::client_with(&conn.url, &conn.bot.token, |b| b.retry(RetryPolicy::off()));
    let results = burst(&off).await;
    let limited: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!limited.is_empty(), "the limiter is not on");
    for e in &limited {
        match e {
            Error::RateLimited {
                retry_after, body, ..
            } => {
                assert!(*retry_after >= Duration::from_secs(1), "{retry_after:?}");
                assert_eq!(String::from_utf8_lossy(body).trim(), "limit exceeded");
            }
            other => panic!("expected RateLimited, got {other}"),
        }
    }
    assert_eq!(off.retry_stats().retries, 0);
    assert_eq!(off.retry_stats().rate_limited, limited.len() as u64);

    // With retries, every call of the same burst succeeds.
    let_the_limiter_refill().await;
    let policy = RetryPolicy::default()
        .max_attempts(20)
        .max_wait(Duration::from_secs(60));
    let on = support::client_with(&conn.url, &conn.bot.token, |b| b.retry(policy));
    let started = Instant::now();
    let results = burst(&on).await;
    let failed: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} calls failed: {}",
        failed.len(),
        failed[0]
    );
    let stats = on.retry_stats();
    eprintln!(
        "{BURST} calls in {:.1} s: {} retries after {} rate-limit replies, {:.1} s waited in total",
        started.elapsed().as_secs_f64(),
        stats.retries,
        stats.rate_limited,
        stats.waited.as_secs_f64()
    );
    assert!(stats.retries > 0, "{stats:?}");
    assert!(stats.rate_limited > 0, "{stats:?}");
    assert!(stats.waited >= Duration::from_secs(1), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_allowing_less_wait_than_the_server_asks_fails_at_once() {
    let Some((_, conn)) = support::second_server("tests/live_retry.rs", false) else {
        return;
    };
    let short = RetryPolicy::default().max_wait(Duration::from_millis(500));
    let client = support::client_with(&conn.url, &conn.bot.token, |b| b.retry(short));

    // Exhaust the bucket, then one more call: the server asks for 1 s, more than 0.5 s allowed.
    let mut attempts = 0;
    let err = loop {
        attempts += 1;
        assert!(attempts < 500, "the limiter never refused a call");
        let started = Instant::now();
        match client.get_user().user_id("me").send().await {
            Ok(_) => continue,
            Err(e) => {
                assert!(started.elapsed() < Duration::from_millis(500), "it waited");
                break e;
            }
        }
    };
    let wait = err.retry_after();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(wait >= Some(Duration::from_secs(1)), "{wait:?}");
    assert_eq!(client.retry_stats().retries, 0);
}
