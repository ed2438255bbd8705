//! The websocket listener across a real server restart: the server forgets every connection, so
//! the listener's resume gets a new connection id and a `hello`; the listener says so with
//! `Resync` (a handler-driven listener calls `on_resync` before the next event), and the events
//! after the restart arrive.
//!
//! Restarting the shared test server would disturb the other live suites, so this test restarts the
//! second instance (the rate-limited one of `tests/live_retry.rs`, started by `.ci/run`) with
//! `testserver/server.sh restart`: Mattermost only, its database and settings kept. Test binaries
//! run one at a time, so `live_retry` never sees the restart. The connection file is
//! `$MATTERAPI_TEST_RATELIMITED_CONNECTION`, else `target/testserver-ratelimited/connection.json`;
//! without either the test is skipped with a note, unless `CI=true` or the variable is set.

#![cfg(feature = "users")]

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matterapi::Client;
use matterapi::ws::{EventKind, EventStream, WsItem};

const WAIT: Duration = Duration::from_secs(60);

/// `testserver/server.sh restart` for the instance whose state folder holds `connection_file`.
async fn restart_server(connection_file: &Path) {
    let state = connection_file
        .parent()
        .expect("the state folder")
        .to_owned();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testserver/server.sh");
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg(script)
            .arg("restart")
            .env("MM_TEST_STATE", state)
            .output()
    });
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the restart within 180 s")
        .expect("the restart task")
        .expect("bash runs");
    assert!(
        out.status.success(),
        "server.sh restart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Items until `pick` returns something, failing after `WAIT`; the items passed over are returned.
async fn until<T>(
    stream: &mut EventStream,
    pick: impl FnMut(&WsItem) -> Option<T>,
) -> (T, Vec<WsItem>) {
    support::until(stream, tokio::time::Instant::now() + WAIT, pick).await
}

async fn post(client: &Client, channel_id: &str, message: &str) -> String {
    support::post(client, channel_id, message)
        .await
        .id
        .expect("the post's id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_gives_resync_and_the_events_after_it_arrive() {
    let Some((file, conn)) = support::second_server("tests/live_restart.rs", true) else {
        return;
    };
    let client = Client::builder(conn.url.as_str())
        .token(conn.admin.token.as_str())
        .ws_reconnect_wait_time(Duration::from_millis(300))
        .ws_concurrent(false)
        .build()
        .expect("client");
    let channel = conn.channels.public.clone();

    // Two listeners: the stream API (every item, in order) and a handler-driven one whose
    // `on_resync` callback must run before the events after the restart reach its handler.
    let (handle, mut stream) = client.websocket().connect().await.expect("connect");
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (on_event, on_resync) = (log.clone(), log.clone());
    let listener = client
        .websocket()
        .on_resync(move || {
            let log = on_resync.clone();
            async move { log.lock().expect("log").push("resync".into()) }
        })
        .spawn(move |ev| {
            let log = on_event.clone();
            async move {
                if let EventKind::Posted(p) = &ev.kind {
                    let id = p.post.id.clone().unwrap_or_default();
                    log.lock().expect("log").push(id);
                }
                Ok::<(), std::io::Error>(())
            }
        })
        .await
        .expect("spawn");
    let ((first_id, _), _) = until(&mut stream, support::connected).await;
    let before = post(&client, &channel, &support::unique("before restart")).await;
    until(&mut stream, support::posted(&before)).await;

    let started = Instant::now();
    restart_server(&file).await;
    let restarted_in = started.elapsed();

    // The listener notices the drop, reconnects, and the server (which forgot the connection)
    // starts a new one: Connected { resumed: false } with a new id, then Resync.
    let ((new_id, resumed), passed) = until(&mut stream, support::connected).await;
    assert!(!resumed, "a restarted server cannot resume");
    assert_ne!(new_id, first_id);
    assert!(
        passed
            .iter()
            .any(|p| matches!(p, WsItem::Disconnected { .. })),
        "a Disconnected item first: {passed:?}"
    );
    let (_, passed) = until(&mut stream, |item| {
        matches!(item, WsItem::Resync).then_some(())
    })
    .await;
    assert!(
        passed.is_empty(),
        "Resync right after Connected: {passed:?}"
    );
    let reconnected_in = started.elapsed();

    // The handler-driven listener must have reconnected too before the next post.
    let deadline = Instant::now() + WAIT;
    while !(listener.handle().is_connected()
        && listener
            .handle()
            .connection_id()
            .is_some_and(|id| id != first_id))
    {
        assert!(Instant::now() < deadline, "the spawned listener reconnects");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = post(&client, &channel, &support::unique("after restart")).await;
    until(&mut stream, support::posted(&after)).await;
    let deadline = Instant::now() + WAIT;
    while !log.lock().expect("log").contains(&after) {
        assert!(
            Instant::now() < deadline,
            "the handler gets the post after the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "server restart: restarted in {restarted_in:?}, listener connected again {reconnected_in:?} after the restart began"
    );
    handle.shutdown().await;
    let stats = listener.shutdown().await.expect("shutdown");
    assert_eq!((stats.resyncs, stats.reconnects), (1, 1));
    let log = log.lock().expect("log").clone();
    let at = |id: &str| log.iter().position(|e| e == id);
    assert!(
        at(&before) < at("resync") && at("resync") < at(&after),
        "order: {log:?}"
    );
}
