//! Handler dispatch: one at a time in order, or concurrently with a bound; errors and panics are
//! counted, never fatal; plain functions; the blocking client's `start_ws_sync`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matterapi::ws::{Event, EventKind, WsError};
use serde_json::json;
use support::ws_error;
use support::ws_peer::{Peer, TOKEN};

fn n_of(ev: &Event) -> Option<i64> {
    match &ev.kind {
        EventKind::Unknown { event, data } if event == "test_event" => data["n"].as_i64(),
        _ => None,
    }
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Adds one to its counter when dropped.
struct DropFlag(Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts handlers in flight and remembers the most seen at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_mode_runs_one_handler_at_a_time_in_order() {
    let peer = Peer::start().await;
    let client = peer.builder().ws_concurrent(false).build().unwrap();
    let (handle, stream) = client.websocket().connect().await.unwrap();
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let gauge = Arc::new(Gauge::default());
    let (log, g) = (seen.clone(), gauge.clone());
    let task = tokio::spawn(stream.run(move |ev| {
        let (log, g) = (log.clone(), g.clone());
        async move {
            g.enter();
            if let Some(n) = n_of(&ev) {
                // Later events are quicker: out-of-order completion would show.
                tokio::time::sleep(Duration::from_millis(10 - (n as u64 % 10))).await;
                log.lock().unwrap().push(n);
            }
            g.leave();
            Ok::<(), std::io::Error>(())
        }
    }));
    for n in 0..30 {
        peer.publish("test_event", json!({ "n": n }));
    }
    wait_for("30 events", || seen.lock().unwrap().len() == 30).await;
    handle.shutdown().await;
    let stats = task.await.unwrap().unwrap();
    assert_eq!(*seen.lock().unwrap(), (0..30).collect::<Vec<_>>());
    assert_eq!(gauge.most.load(Ordering::SeqCst), 1);
    assert_eq!(stats.events, 31, "the hello and 30 events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mode_keeps_at_most_max_in_flight() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .ws_concurrent(true)
        .ws_max_in_flight(3)
        .build()
        .unwrap();
    let (handle, stream) = client.websocket().connect().await.unwrap();
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let gauge = Arc::new(Gauge::default());
    let (log, g) = (seen.clone(), gauge.clone());
    let task = tokio::spawn(stream.run(move |ev| {
        let (log, g) = (log.clone(), g.clone());
        async move {
            g.enter();
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(n) = n_of(&ev) {
                log.lock().unwrap().push(n);
            }
            g.leave();
            Ok::<(), std::io::Error>(())
        }
    }));
    for n in 0..24 {
        peer.publish("test_event", json!({ "n": n }));
    }
    wait_for("24 events", || seen.lock().unwrap().len() == 24).await;
    handle.shutdown().await;
    task.await.unwrap().unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, (0..24).collect::<Vec<_>>(), "each once");
    assert_eq!(gauge.most.load(Ordering::SeqCst), 3, "bounded, and used");
}

#[tokio::test]
async fn handler_errors_and_panics_are_counted_not_fatal() {
    let peer = Peer::start().await;
    let client = peer.builder().ws_concurrent(false).build().unwrap();
    let (handle, stream) = client.websocket().connect().await.unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let task = tokio::spawn(stream.run(move |ev| {
        let d = d.clone();
        async move {
            let n = n_of(&ev);
            d.fetch_add(1, Ordering::SeqCst);
            match n {
                Some(0) => Err("a handler error".into()),
                Some(1) => panic!("a handler panic"),
                _ => Ok::<(), Box<dyn std::error::Error + Send + Sync>>(()),
            }
        }
    }));
    for n in 0..4 {
        peer.publish("test_event", json!({ "n": n }));
    }
    wait_for("hello and 4 events", || done.load(Ordering::SeqCst) == 5).await;
    handle.shutdown().await;
    let stats = task.await.unwrap().unwrap();
    assert_eq!((stats.events, stats.handler_errors), (5, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_ws_fn_runs_plain_functions_until_a_terminal_error() {
    let peer = Peer::start().await;
    let client = peer.builder().ws_concurrent(false).build().unwrap();
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let log = seen.clone();
    let run = tokio::spawn(async move {
        client
            .start_ws_fn(
                move |ev| {
                    std::thread::sleep(Duration::from_millis(1)); // blocking is fine here
                    if let Some(n) = n_of(&ev) {
                        log.lock().unwrap().push(n);
                    }
                    Ok::<(), std::io::Error>(())
                },
                false,
            )
            .await
    });
    peer.wait_until("a live socket", Duration::from_secs(5), |p| p.live() == 1)
        .await;
    for n in 0..5 {
        peer.publish("test_event", json!({ "n": n }));
    }
    wait_for("5 events", || seen.lock().unwrap().len() == 5).await;
    // The token stops working: the reconnect is rejected and, without relogin, that is terminal.
    peer.revoke(TOKEN);
    peer.drop_all();
    let err = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(ws_error(&err), WsError::AuthRejected), "{err:?}");
    assert_eq!(*seen.lock().unwrap(), (0..5).collect::<Vec<_>>());
}

#[test]
fn start_ws_sync_runs_on_the_blocking_client() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let peer = rt.block_on(Peer::start());
    let options = peer.builder().ws_concurrent(false).options().unwrap();
    let client = matterapi::blocking::Client::from_options(options).unwrap();
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let log = seen.clone();
    let listener = std::thread::spawn(move || {
        client.start_ws_sync(
            move |ev| {
                if let Some(n) = n_of(&ev) {
                    log.lock().unwrap().push(n);
                }
                Ok::<(), std::io::Error>(())
            },
            false,
        )
    });
    rt.block_on(async {
        peer.wait_until("a live socket", Duration::from_secs(5), |p| p.live() == 1)
            .await;
        for n in 0..3 {
            peer.publish("test_event", json!({ "n": n }));
        }
        wait_for("3 events", || seen.lock().unwrap().len() == 3).await;
        peer.revoke(TOKEN);
        peer.drop_all();
    });
    let err = listener.join().unwrap().unwrap_err();
    assert!(
        matches!(err.as_websocket(), Some(WsError::AuthRejected)),
        "{err:?}"
    );
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);
}

#[tokio::test]
async fn start_ws_sync_inside_a_runtime_is_an_error_not_a_hang() {
    let peer = Peer::start().await;
    let options = peer.builder().options().unwrap();
    let client = tokio::task::spawn_blocking(move || {
        matterapi::blocking::Client::from_options(options).unwrap()
    })
    .await
    .unwrap();
    let err = client
        .start_ws_sync(|_| Ok::<(), std::io::Error>(()), false)
        .unwrap_err();
    assert!(matches!(err, matterapi::Error::InsideRuntime), "{err:?}");
    drop(tokio::task::spawn_blocking(move || drop(client)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_listener_shuts_down_gracefully_with_its_stats() {
    let peer = Peer::start().await;
    let client = peer.builder().ws_concurrent(false).build().unwrap();
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let log = seen.clone();
    let listener = client
        .spawn_ws(
            move |ev| {
                let log = log.clone();
                async move {
                    if let Some(n) = n_of(&ev) {
                        log.lock().unwrap().push(n);
                    }
                    Ok::<(), std::io::Error>(())
                }
            },
            true,
        )
        .await
        .unwrap();
    assert!(listener.handle().is_connected());
    assert!(!listener.is_finished());
    for n in 0..5 {
        peer.publish("test_event", json!({ "n": n }));
    }
    wait_for("5 events", || seen.lock().unwrap().len() == 5).await;
    let stats = listener.shutdown().await.expect("graceful shutdown");
    assert_eq!(stats.events, 6, "the hello and 5 events");
    assert_eq!(stats.handler_errors, 0);
    peer.wait_until("the socket closed", Duration::from_secs(5), |p| {
        p.live() == 0
    })
    .await;
    assert_eq!(
        peer.client_close_codes(),
        vec![1000],
        "a close frame, normal closure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_spawned_listener_stops_it() {
    let peer = Peer::start().await;
    let client = peer.client();
    let listener = client
        .spawn_ws(|_ev| async { Ok::<(), std::io::Error>(()) }, true)
        .await
        .unwrap();
    let handle = listener.handle().clone();
    drop(listener);
    drop(handle);
    peer.wait_until("the socket closed", Duration::from_secs(5), |p| {
        p.live() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_handlers_that_outlast_the_drain_timeout() {
    let peer = Peer::start().await;
    let client = peer.client();
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    // Set when the handler's future is dropped: cancelled, since it never finishes by itself.
    let cancelled = Arc::new(AtomicUsize::new(0));
    let c = cancelled.clone();
    let listener = client
        .websocket()
        .drain_timeout(Duration::from_millis(200))
        .spawn(move |ev| {
            let (s, c) = (s.clone(), c.clone());
            async move {
                if n_of(&ev).is_some() {
                    let _guard = DropFlag(c);
                    s.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(600)).await;
                }
                Ok::<(), std::io::Error>(())
            }
        })
        .await
        .unwrap();
    peer.publish("test_event", json!({ "n": 1 }));
    wait_for("the handler started", || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    let began = std::time::Instant::now();
    let err = listener
        .shutdown()
        .await
        .expect_err("the handler outlasts the drain");
    assert!(
        matches!(ws_error(&err), WsError::DrainTimeout { timeout } if *timeout == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    wait_for("the handler was cancelled", || {
        cancelled.load(Ordering::SeqCst) == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_resync_runs_before_the_events_of_the_new_connection() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .ws_concurrent(false)
        .ws_reconnect_wait_time(Duration::from_millis(50))
        .build()
        .unwrap();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (on_event, on_resync) = (log.clone(), log.clone());
    let listener = client
        .websocket()
        .on_resync(move || {
            let log = on_resync.clone();
            async move {
                // A slow refetch: the events after it must wait for it.
                tokio::time::sleep(Duration::from_millis(100)).await;
                log.lock().unwrap().push("resync".into());
            }
        })
        .spawn(move |ev| {
            let log = on_event.clone();
            async move {
                let entry = match (&ev.kind, n_of(&ev)) {
                    (EventKind::Hello(_), _) => "hello".to_string(),
                    (_, Some(n)) => format!("event {n}"),
                    _ => "other".to_string(),
                };
                log.lock().unwrap().push(entry);
                Ok::<(), std::io::Error>(())
            }
        })
        .await
        .unwrap();
    peer.publish("test_event", json!({ "n": 1 }));
    wait_for("event 1", || log.lock().unwrap().len() == 2).await;
    let first_id = listener.handle().connection_id();
    peer.forget_connections();
    peer.drop_all();
    let old = first_id.clone().expect("a connection id");
    peer.wait_until("a new connection", Duration::from_secs(5), move |p| {
        p.connection_ids().iter().any(|id| *id != old)
    })
    .await;
    peer.publish("test_event", json!({ "n": 2 }));
    wait_for("event 2", || log.lock().unwrap().len() == 5).await;
    assert_ne!(listener.handle().connection_id(), first_id);
    let stats = listener.shutdown().await.unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        ["hello", "event 1", "resync", "hello", "event 2"]
    );
    assert_eq!((stats.resyncs, stats.reconnects), (1, 1));
}

/// Websocket errors fit `matterapi::Error` (`?` converts them).
#[tokio::test]
async fn websocket_errors_convert_into_the_crate_error() {
    async fn listen(client: &matterapi::Client) -> matterapi::Result<()> {
        let (_handle, _events) = client.websocket().connect().await?;
        Ok(())
    }
    // Nothing listens on the discard port of loopback: the first connection cannot be made.
    let client = matterapi::Client::builder("http://127.0.0.1:9")
        .token(TOKEN)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = listen(&client).await.expect_err("no server");
    assert!(
        matches!(err.as_websocket(), Some(WsError::Connect { .. })),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("cannot connect the websocket"),
        "{err}"
    );
    let err = matterapi::Error::from(WsError::AuthRejected);
    assert!(matches!(err, matterapi::Error::WebSocket(_)));
    assert!(!err.is_retryable());
}
