//! Reconnect back-off: the policy as a pure function (the official web client's numbers), and the
//! listener's waits against the scripted peer on tokio's paused clock.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use matterapi::ws::{Backoff, DisconnectReason, EventStream, WsItem};
use support::ws_peer::Peer;

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn the_web_clients_policy() {
    let b = Backoff::new(S(3));
    for failures in 1..=7 {
        assert_eq!(b.delay(failures, 0.0), S(3), "failure {failures}");
    }
    assert_eq!(b.delay(8, 0.0), S(3 * 64));
    assert_eq!(b.delay(9, 0.0), S(3 * 81));
    assert_eq!(b.delay(10, 0.0), S(300), "capped at 5 minutes");
    assert_eq!(b.delay(u32::MAX, 0.0), S(300), "no overflow");
}

#[test]
fn jitter_adds_up_to_the_base_wait() {
    // `ws_reconnect_wait_time` is the base of the jitter: a wait is one to two base waits.
    let b = Backoff::new(S(3));
    assert_eq!(b.delay(1, 0.0), S(3));
    assert_eq!(b.delay(1, 0.25), Duration::from_millis(3750));
    assert_eq!(b.delay(1, 1.0), S(6));
    assert_eq!(b.delay(10, 1.0), S(303), "jitter on top of the cap");
    assert_eq!(b.delay(1, 7.0), S(6), "fraction clamped");
    assert_eq!(b.delay(1, f64::NAN), S(3));
    let b = Backoff::new(S(3)).with_jitter(S(2));
    assert_eq!(b.delay(1, 1.0), S(5), "an explicit jitter range");
}

#[test]
fn failures_count_up_and_a_stable_connection_resets_them() {
    let mut b = Backoff::new(S(1)).with_stable_after(S(60));
    let waits: Vec<Duration> = (0..9).map(|_| b.next_delay(0.0)).collect();
    assert_eq!(waits[..7], [S(1); 7]);
    assert_eq!(waits[7..], [S(64), S(81)]);
    b.connection_ended(S(59));
    assert_eq!(
        b.next_delay(0.0),
        S(100),
        "a flapping connection does not reset"
    );
    b.connection_ended(S(60));
    assert_eq!(b.failures(), 0);
    assert_eq!(b.next_delay(0.0), S(1));
}

#[test]
fn every_knob() {
    let b = Backoff::new(Duration::from_millis(100))
        .with_cap(S(1))
        .with_jitter(Duration::ZERO)
        .with_grow_after(2);
    assert_eq!(b.delay(2, 1.0), Duration::from_millis(100));
    assert_eq!(b.delay(3, 1.0), Duration::from_millis(900));
    assert_eq!(b.delay(4, 1.0), S(1));
    assert_eq!(b.base(), Duration::from_millis(100));
}

/// The next `Disconnected`, with the (paused) time it arrived.
async fn next_disconnect(stream: &mut EventStream) -> (tokio::time::Instant, Duration) {
    loop {
        let item = tokio::time::timeout(S(3600), stream.next())
            .await
            .expect("an item")
            .expect("the stream goes on");
        if let WsItem::Disconnected { retry_in, reason } = item {
            assert!(
                matches!(
                    reason,
                    DisconnectReason::ConnectFailed(_) | DisconnectReason::Network(_)
                ),
                "{reason:?}"
            );
            return (tokio::time::Instant::now(), retry_in);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn reconnects_wait_as_the_policy_says_then_reset_after_a_stable_connection() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .ws_reconnect_wait_time(S(3))
        .timeout(S(3600))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(S(3600))
        .connect()
        .await
        .unwrap();
    // The server goes away: every attempt is accepted and dropped at once.
    peer.knobs(|k| k.refuse = true);
    peer.drop_all();
    let mut waits = Vec::new();
    let (mut at, mut wait) = next_disconnect(&mut stream).await;
    for _ in 0..9 {
        let (next_at, next_wait) = next_disconnect(&mut stream).await;
        let elapsed = next_at - at;
        assert!(elapsed >= wait, "waited {elapsed:?}, less than {wait:?}");
        assert!(
            elapsed < wait + S(1),
            "waited {elapsed:?}, far more than {wait:?}"
        );
        waits.push(wait);
        (at, wait) = (next_at, next_wait);
    }
    waits.push(wait);
    for (i, w) in waits.iter().enumerate() {
        let failures = i as u64 + 1;
        let base = if failures > 7 {
            S(3 * failures * failures).min(S(300))
        } else {
            S(3)
        };
        assert!(
            *w >= base && *w <= base + S(3),
            "wait {failures}: {w:?} not in [{base:?}, {base:?} + 3 s]"
        );
    }
    assert!(waits[..7].iter().any(|w| *w != waits[0]), "jitter varies");

    // Back up for more than a minute: the next drop starts from the base wait again.
    peer.knobs(|k| k.refuse = false);
    loop {
        let item = stream.next().await.expect("the stream goes on");
        if matches!(item, WsItem::Connected { .. }) {
            break;
        }
    }
    tokio::time::sleep(S(61)).await;
    peer.knobs(|k| k.refuse = true);
    peer.drop_all();
    let (_, wait) = next_disconnect(&mut stream).await;
    assert!(wait >= S(3) && wait <= S(6), "{wait:?}");
}

#[tokio::test(start_paused = true)]
async fn a_link_that_drops_every_few_seconds_waits_the_base_wait_each_time() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .ws_reconnect_wait_time(S(3))
        .timeout(S(3600))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(S(3600))
        .connect()
        .await
        .unwrap();
    // Twelve times: up for 4 s, then dropped (a flaky link, not a server that refuses).
    let mut waits = Vec::new();
    for _ in 0..12 {
        tokio::time::sleep(S(4)).await;
        peer.drop_all();
        let (_, wait) = next_disconnect(&mut stream).await;
        waits.push(wait);
        loop {
            let item = stream.next().await.expect("the stream goes on");
            if matches!(item, WsItem::Connected { .. }) {
                break;
            }
        }
    }
    for (i, w) in waits.iter().enumerate() {
        assert!(
            *w >= S(3) && *w <= S(6),
            "drop {}: waited {w:?}, not one to two base waits ({waits:?})",
            i + 1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_server_that_accepts_and_drops_at_once_is_backed_off_from() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .ws_reconnect_wait_time(S(3))
        .timeout(S(3600))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(S(3600))
        .connect()
        .await
        .unwrap();
    // Every connection is accepted (hello and all) and dropped at once.
    let mut waits = Vec::new();
    peer.drop_all();
    for _ in 0..10 {
        let (_, wait) = next_disconnect(&mut stream).await;
        waits.push(wait);
        loop {
            let item = stream.next().await.expect("the stream goes on");
            if matches!(item, WsItem::Connected { .. }) {
                break;
            }
        }
        peer.drop_all();
    }
    assert!(
        waits[8] >= S(3 * 9 * 9),
        "the waits grow as for failures: {waits:?}"
    );
}
