//! No token or password in the TRACE log of a websocket listener's life (connect, reconnect, a
//! relogin after a revoke, logout), read as users read it: `tracing_subscriber::fmt().init()` with
//! the crate's default features, which also forwards the `log` records of dependencies
//! (tungstenite's handshake and frame lines). Its own test binary: the subscriber is global.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use matterapi::ws::{EventKind, EventStream, WsItem};
use serde_json::json;
use support::logs::{self, Captured};
use support::rest::{rest_refusing, session_expired};
use support::ws_peer::{self, Peer};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const PASSWORD: &str = "Pa55word-of-the-listener";
const FIRST: &str = "first-session-token-never-shown";
const SECOND: &str = "second-session-token-never-shown";

async fn until(stream: &mut EventStream, what: &str, pick: impl Fn(&WsItem) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(item)) if pick(&item) => return,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended before {what}"),
            Err(_) => panic!("no {what} within 10 s"),
        }
    }
}

fn is_hello(item: &WsItem) -> bool {
    matches!(item, WsItem::Event(ev) if matches!(ev.kind, EventKind::Hello(_)))
}

#[tokio::test]
async fn a_listeners_trace_with_default_subscriber_features_shows_no_secret() {
    let captured = Captured::default();
    logs::subscriber(&captured, tracing::Level::TRACE).init();

    let peer = Peer::start().await;
    peer.knobs(|k| k.silent_unauthenticated = true);
    peer.add_token(FIRST);
    peer.add_token(SECOND);
    // The 401's detail carries the token, as the server's does.
    let mut refusal = session_expired();
    refusal["detailed_error"] = json!(format!("token={FIRST}"));
    let refusal = ResponseTemplate::new(401).set_body_json(refusal);
    let rest = rest_refusing(FIRST, refusal, &[FIRST, SECOND]).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/logout"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .mount(&rest)
        .await;

    let client = matterapi::Client::builder(rest.uri())
        .ws_url(peer.ws_url())
        .login("alice", PASSWORD)
        .proxies(ws_peer::no_proxies())
        .ws_reconnect_wait_time(Duration::from_millis(10))
        .debug(true)
        .build()
        .unwrap();
    let (handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    until(&mut stream, "the first hello", is_hello).await;
    // A reconnect with the same session ...
    peer.drop_all();
    until(&mut stream, "the reconnect", |i| {
        matches!(i, WsItem::Connected { .. })
    })
    .await;
    // ... then a revoke that meets a reconnect: a relogin, and the new session's connection.
    peer.revoke(FIRST);
    peer.drop_all();
    until(&mut stream, "the Resync after the relogin", |i| {
        matches!(i, WsItem::Resync)
    })
    .await;
    assert_eq!(
        peer.upgrades().last().unwrap().headers["authorization"],
        format!("Bearer {SECOND}")
    );
    handle.shutdown().await;
    client.logout().await.expect("logout");

    let trace = captured.text();
    assert!(
        trace.contains("tungstenite"),
        "the `log` records of tungstenite are forwarded (default features): {trace}"
    );
    assert!(trace.contains("/api/v4/users/login"), "REST is traced");
    assert!(
        trace.contains("/api/v4/users/logout"),
        "the logout is traced"
    );
    for secret in [PASSWORD, FIRST, SECOND] {
        let lines: Vec<&str> = trace.lines().filter(|l| l.contains(secret)).collect();
        assert!(lines.is_empty(), "the trace shows {secret}: {lines:#?}");
    }
}
