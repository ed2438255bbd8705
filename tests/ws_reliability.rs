//! Reliability: 1,000 abrupt drops at random points of a stream of events. In sequential mode the
//! handler must see every event exactly once, in order, with no resync.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matterapi::ws::{Backoff, EventKind};
use serde_json::json;
use support::ws_peer::Peer;

const DROPS: usize = 1000;

/// xorshift64*: the test's random points, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_exactly_once_in_order_across_1000_abrupt_drops() {
    let started = Instant::now();
    let seed = 0x5eed_1234_abcd_0001;
    let mut rng = Rng(seed);
    let peer = Peer::start().await;
    let client = peer.builder().ws_concurrent(false).build().unwrap();
    let (handle, stream) = client
        .websocket()
        .backoff(
            Backoff::new(Duration::from_millis(1))
                .with_jitter(Duration::ZERO)
                .with_stable_after(Duration::ZERO),
        )
        .connect()
        .await
        .expect("connect");

    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let log = seen.clone();
    let listener = tokio::spawn(stream.run(move |ev| {
        let log = log.clone();
        async move {
            if let EventKind::Unknown { event, data } = &ev.kind
                && event == "test_event"
            {
                let n = data["n"].as_i64().ok_or("no n")?;
                log.lock().unwrap().push(n);
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }
    }));

    let mut published = 0i64;
    let mut drops = 0;
    while drops < DROPS {
        // Wait for the client to be back (resumed), then publish a few events and drop the
        // socket at a random point: before, during or after their delivery (or a replay).
        peer.wait_until("the client to reconnect", Duration::from_secs(10), |p| {
            p.live() == 1
        })
        .await;
        for _ in 0..rng.below(5) {
            peer.publish("test_event", json!({ "n": published }));
            published += 1;
        }
        match rng.below(4) {
            0 => {}
            1 => tokio::task::yield_now().await,
            2 => tokio::time::sleep(Duration::from_micros(200)).await,
            _ => {
                // Drop in the middle of the next connection's replay or hello.
                peer.knobs(|k| k.drop_after_frames = Some(1 + rng.below(3) as usize));
            }
        }
        if peer.live() == 1 {
            peer.drop_all();
            drops += 1;
        }
    }
    peer.wait_until("the client to reconnect", Duration::from_secs(10), |p| {
        p.live() == 1
    })
    .await;
    for _ in 0..10 {
        peer.publish("test_event", json!({ "n": published }));
        published += 1;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.lock().unwrap().len() < published as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.shutdown().await;
    let stats = listener.await.unwrap().expect("no terminal error");

    let seen = seen.lock().unwrap().clone();
    let expected: Vec<i64> = (0..published).collect();
    assert_eq!(
        seen.len(),
        expected.len(),
        "every event once (seed {seed:#x})"
    );
    assert_eq!(seen, expected, "in order (seed {seed:#x})");
    assert_eq!(stats.resyncs, 0, "every drop was resumed");
    assert!(stats.reconnects >= DROPS as u64, "{stats:?}");
    assert_eq!(stats.handler_errors, 0);
    eprintln!(
        "{drops} drops, {published} events, {} reconnects in {:?}",
        stats.reconnects,
        started.elapsed()
    );
}
