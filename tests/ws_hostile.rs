//! A hostile or broken server against the listener, on the scripted peer:
//!
//! - a flood of events at a consumer that takes nothing keeps memory bounded in both shapes (with
//!   `seq`: left with the server and resumed; without `seq`: dropped past the buffer and reported
//!   with `Resync`). Bound: the process grows by less than 48 MiB while 100,000 events of 1 KB
//!   (about 100 MB) arrive; the listener holds at most its queue (256) and buffer (1024) items;
//! - a `hello` or an event whose `seq` is at the end of `i64`'s range is a bad frame and a fresh
//!   connection, never an overflow (which panicked debug builds).

mod support;

use std::time::Duration;

use matterapi::ws::{BadFrameKind, DisconnectReason, WsError, WsItem};
use serde_json::json;
use support::ws_peer::{Peer, next_within};
use tokio_tungstenite::tungstenite::Message;

/// How long an item may take while the machine is busy with a flood.
const LONG: Duration = Duration::from_secs(30);

const FLOOD: usize = 100_000;
const BOUND_MB: u64 = 48;

/// The process's resident memory, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Floods a listener whose consumer takes nothing, and gives the growth of the process, in MB;
/// then takes items until a `Resync`, and gives how many events came before it.
async fn flood(numbered: bool) -> (u64, usize) {
    let peer = Peer::start().await;
    let client = peer.builder().build().unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .unwrap();
    // Connected and hello taken: the consumer then stops.
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Connected { .. }
    ));
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Event(_)
    ));
    let before = rss();
    peer.flood(FLOOD, numbered);
    peer.wait_until("the flood sent", Duration::from_secs(120), |p| {
        p.flooded() >= FLOOD
    })
    .await;
    // What the listener read is processed by now (it reads as fast as the peer writes).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let grown = rss().saturating_sub(before) / (1 << 20);
    eprintln!("numbered {numbered}: +{grown} MB");
    assert!(
        grown < BOUND_MB,
        "a flood (numbered: {numbered}) grew the process by {grown} MB"
    );
    let mut events = 0;
    loop {
        match next_within(&mut stream, LONG).await {
            WsItem::Event(_) => events += 1,
            WsItem::Resync => return (grown, events),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_either_shape_keep_memory_bounded() {
    let (grown, events) = flood(false).await;
    eprintln!("without seq: +{grown} MB, {events} events before the Resync");
    assert!(
        grown < BOUND_MB,
        "a flood without seq grew the process by {grown} MB"
    );
    assert!(events < 2048, "{events} events held");
    let (grown, events) = flood(true).await;
    eprintln!("with seq: +{grown} MB, {events} events before the Resync");
    assert!(
        grown < BOUND_MB,
        "a flood with seq grew the process by {grown} MB"
    );
    assert!(events < 2048, "{events} events held");
}

fn hello(seq: i64) -> Message {
    Message::text(
        json!({
            "event": "hello",
            "data": {"connection_id": "hostilehostilehostilehost1", "server_version": "x"},
            "broadcast": {},
            "seq": seq
        })
        .to_string(),
    )
}

#[tokio::test]
async fn a_hello_at_the_end_of_the_seq_range_is_a_bad_frame_and_a_fresh_connection() {
    let peer = Peer::start().await;
    let client = peer.builder().build().unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .unwrap();
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Connected { .. }
    ));
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Event(_)
    ));
    peer.send_raw(hello(i64::MAX));
    match next_within(&mut stream, LONG).await {
        WsItem::Error(WsError::BadFrame {
            kind: BadFrameKind::UnexpectedShape,
            ..
        }) => {}
        other => panic!("a bad frame, got {other:?}"),
    }
    match next_within(&mut stream, LONG).await {
        WsItem::Disconnected {
            reason: DisconnectReason::BadNumbers(_),
            ..
        } => {}
        other => panic!("a disconnect for a fresh connection, got {other:?}"),
    }
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Connected { resumed: false, .. }
    ));
}

#[tokio::test]
async fn an_event_at_the_end_of_the_seq_range_starts_a_fresh_connection() {
    let peer = Peer::start().await;
    let client = peer.builder().build().unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .unwrap();
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Connected { .. }
    ));
    assert!(matches!(
        next_within(&mut stream, LONG).await,
        WsItem::Event(_)
    ));
    // A hello that leaves room for one more event, then that event at i64::MAX.
    peer.send_raw(hello(i64::MAX - 1));
    let typing = json!({
        "event": "typing", "data": {"user_id": "u", "parent_id": ""}, "broadcast": {},
        "seq": i64::MAX
    });
    peer.send_raw(Message::text(typing.to_string()));
    let mut seen = Vec::new();
    loop {
        let item = next_within(&mut stream, LONG).await;
        let fresh = matches!(
            item,
            WsItem::Disconnected {
                reason: DisconnectReason::BadNumbers(_),
                ..
            }
        );
        seen.push(item);
        if fresh {
            break;
        }
        assert!(seen.len() < 10, "{seen:?}");
    }
    loop {
        if let WsItem::Connected { resumed, .. } = next_within(&mut stream, LONG).await {
            assert!(!resumed, "a fresh connection");
            break;
        }
    }
}
