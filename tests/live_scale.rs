//! Scale against the real Mattermost test server (`cargo xtask server start`): 1,000 concurrent
//! REST calls through one `Client` (its connection pool and retry policy under load), and 50
//! websocket listeners connected at once that each receive the `posted` event of one REST post.
//! Timings are printed (`cargo test --test live_scale -- --nocapture`).
//!
//! The shared test server runs without its rate limiter (the rate-limited instance is
//! `tests/live_retry.rs`'s): a 429 or a retry here is a finding, so the calls must succeed without
//! one.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use matterapi::Client;
use matterapi::ws::{EventStream, WsHandle};
use support::Connection;
use tokio::task::JoinSet;

/// Concurrent REST calls through the one client.
const CALLS: usize = 1_000;
/// Websocket listeners connected at once.
const LISTENERS: usize = 50;
/// The longest wait for any one step.
const WAIT: Duration = Duration::from_secs(30);

/// One of the three calls, checked against what the test server holds.
async fn call(client: Client, conn: Connection, n: usize) -> Result<(), String> {
    match n % 3 {
        0 => {
            let me = client
                .get_user()
                .user_id("me")
                .send()
                .await
                .map_err(|e| format!("get_user me: {}", e))?;
            if me.id.as_deref() != Some(conn.user.id.as_str()) {
                return Err(format!("get_user me: id {:?}", me.id));
            }
        }
        1 => {
            let channel = client
                .get_channel()
                .channel_id(&conn.channels.town_square)
                .send()
                .await
                .map_err(|e| format!("get_channel: {}", e))?;
            if channel.id.as_deref() != Some(conn.channels.town_square.as_str()) {
                return Err(format!("get_channel: id {:?}", channel.id));
            }
        }
        _ => {
            let list = client
                .get_posts_for_channel()
                .channel_id(&conn.channels.town_square)
                .page(0)
                .per_page(20)
                .send()
                .await
                .map_err(|e| format!("get_posts_for_channel: {}", e))?
                .into_inner();
            let order = list.order.unwrap_or_default();
            let posts = list.posts.unwrap_or_default();
            if !order.iter().all(|id| posts.contains_key(id)) {
                return Err("get_posts_for_channel: order names a post not in the map".into());
            }
        }
    }
    Ok(())
}

/// The open file descriptors of this process (Linux), for the printed figures.
fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(Iterator::count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_through_one_client_all_succeed() {
    let Some(conn) = support::live() else { return };
    let alice = support::login(&conn, &conn.user.username, &conn.user.password, None)
        .await
        .expect("alice");
    let before = alice.retry_stats();
    let fds_before = open_fds();
    let started = Instant::now();
    let mut calls = JoinSet::new();
    for n in 0..CALLS {
        calls.spawn(call(alice.clone(), conn.clone(), n));
    }
    let mut ok = 0;
    let mut errors = Vec::new();
    let all = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(done) = calls.join_next().await {
            match done.expect("the call's task") {
                Ok(()) => ok += 1,
                Err(e) => errors.push(e),
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    let stats = alice.retry_stats();
    eprintln!(
        "live_scale: open file descriptors {} before the calls, {} after (the pool keeps its \
         sockets)",
        fds_before.map_or("?".into(), |n| n.to_string()),
        open_fds().map_or("?".into(), |n| n.to_string()),
    );
    eprintln!(
        "live_scale: {ok} of {CALLS} concurrent calls succeeded in {elapsed:.2?} \
         ({:.0} calls/s); retries {}, 429 replies {}, waited {:?}",
        ok as f64 / elapsed.as_secs_f64(),
        stats.retries - before.retries,
        stats.rate_limited - before.rate_limited,
        stats.waited.saturating_sub(before.waited),
    );
    assert!(all.is_ok(), "every call ends within 120 s");
    assert!(
        errors.is_empty(),
        "{} calls failed, the first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(ok, CALLS);
    // The shared server has no rate limiter: a 429 would be a server limit this load reaches.
    assert_eq!(stats.rate_limited, before.rate_limited, "no 429 replies");
    // Nor may the retry policy hide failed connections: every call succeeds at its first attempt.
    assert_eq!(
        stats.retries, before.retries,
        "every call succeeds at its first attempt (a retry is a failed connection)"
    );
    // `max_connections` (64) bounds the sockets: 1,000 calls at once do not open 1,000 of them.
    let max = alice.options().max_connections;
    if let (Some(before), Some(after)) = (fds_before, open_fds()) {
        // (The listeners test of this binary may hold its sockets at the same time.)
        assert!(
            after <= before + 2 * max + LISTENERS + 16,
            "{after} descriptors open after the calls, {before} before: more sockets than \
             max_connections ({max}) in flight plus as many idle"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_listeners_each_receive_the_posted_event() {
    let Some(conn) = support::live() else { return };
    let admin = support::client(&conn, &conn.admin.token);
    // A channel of its own: other suites' channels stay out of it.
    let channel_id = support::fresh_channel(
        &conn,
        &admin,
        "matterapi-scale-",
        &[&conn.user.id, &conn.user2.id, &conn.bot.user_id],
    )
    .await;
    // Four users, a dozen connections each (several tabs or devices of one user).
    let alice = support::login(&conn, &conn.user.username, &conn.user.password, None)
        .await
        .expect("alice");
    let bob = support::login(&conn, &conn.user2.username, &conn.user2.password, None)
        .await
        .expect("bob");
    let bot = support::client(&conn, &conn.bot.token);
    let clients = [admin.clone(), alice, bob, bot];

    let started = Instant::now();
    let mut connecting = JoinSet::new();
    for n in 0..LISTENERS {
        let client = clients[n % clients.len()].clone();
        connecting.spawn(async move {
            let (handle, mut stream) = client.websocket().connect().await.expect("connect");
            let ((connection_id, _), _) = support::until(
                &mut stream,
                tokio::time::Instant::now() + WAIT,
                support::connected,
            )
            .await;
            (handle, stream, connection_id)
        });
    }
    let mut listeners: Vec<(WsHandle, EventStream)> = Vec::new();
    let mut connection_ids = HashSet::new();
    tokio::time::timeout(WAIT, async {
        while let Some(done) = connecting.join_next().await {
            let (handle, stream, connection_id) = done.expect("the listener's task");
            connection_ids.insert(connection_id);
            listeners.push((handle, stream));
        }
    })
    .await
    .expect("every listener connected within 30 s");
    let connected_in = started.elapsed();
    assert_eq!(listeners.len(), LISTENERS);
    assert_eq!(connection_ids.len(), LISTENERS, "a connection id each");
    assert!(listeners.iter().all(|(h, _)| h.is_connected()));

    let posted_at = Instant::now();
    let post = support::post(&admin, &channel_id, "one post for fifty listeners").await;
    let id = post.id.expect("post id");
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut receiving = JoinSet::new();
    let mut handles = Vec::new();
    for (n, (handle, stream)) in listeners.into_iter().enumerate() {
        let id = id.clone();
        handles.push(handle);
        receiving.spawn(async move {
            let mut stream = stream;
            support::until(&mut stream, deadline, support::posted(&id)).await;
            (n, posted_at.elapsed(), stream)
        });
    }
    let mut received = Vec::new();
    let mut streams = Vec::new();
    while let Some(done) = receiving.join_next().await {
        let (n, after, stream) = done.expect("the listener's task");
        received.push((n, after));
        streams.push(stream);
    }
    let all_received_in = posted_at.elapsed();
    assert_eq!(received.len(), LISTENERS, "every listener got the post");
    let first = received.iter().map(|(_, t)| *t).min().unwrap_or_default();
    eprintln!(
        "live_scale: {LISTENERS} listeners connected in {connected_in:.2?}; \
         the post reached the first in {first:.2?}, all {LISTENERS} in {all_received_in:.2?} \
         (create_post included)"
    );

    // Shut every listener down: each stream then ends.
    let shutdown = Instant::now();
    futures_util::future::join_all(handles.iter().map(WsHandle::shutdown)).await;
    for mut stream in streams {
        let end =
            tokio::time::timeout(WAIT, async { while stream.next().await.is_some() {} }).await;
        assert!(end.is_ok(), "the stream ends after the shutdown");
    }
    assert!(handles.iter().all(|h| h.is_stopped()));
    eprintln!(
        "live_scale: {LISTENERS} listeners shut down in {:.2?}",
        shutdown.elapsed()
    );
    let _ = admin.delete_channel().channel_id(&channel_id).send().await;
}
