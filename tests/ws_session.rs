//! The listener and the session behind its token, against the scripted peer behaving as the real
//! server does (`silent_unauthenticated`: a socket whose token is not valid gets no reply at all
//! and is dropped 5 s after the upgrade) with REST on wiremock:
//!
//! - a token the server does not accept is refused by `connect()` as `AuthRejected`, not retried;
//! - a revoke that meets a reconnect logs in again instead of retrying the dead token for ever;
//! - a token-only listener whose token dies ends with a terminal error, not silence;
//! - a new token on the client (a REST relogin, `set_token`) moves the listener at once, and the
//!   resume that follows says `Resync` (the server dropped the revoked session's events without
//!   numbering them);
//! - a REST call that gets 401 logs in again and is sent once more.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use matterapi::ws::{DisconnectReason, EventKind, WsError, WsItem};
use serde_json::json;
use support::rest::{rest_refusing, session_expired};
use support::ws_error;
use support::ws_peer::{self, Peer, next_within, until};
use wiremock::{MockServer, ResponseTemplate};

/// REST: `GET /users/me` refuses `dead` (401, an expired session) and accepts every other token;
/// `POST /users/login` answers with each of `logins` in turn.
async fn rest(dead: &str, logins: &[&str]) -> MockServer {
    rest_refusing(dead, unauthorized(), logins).await
}

fn unauthorized() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(session_expired())
}

fn silent_peer(peer: &Peer) {
    peer.knobs(|k| k.silent_unauthenticated = true);
}

#[tokio::test]
async fn a_token_the_server_does_not_accept_is_refused_not_retried() {
    let peer = Peer::start().await;
    silent_peer(&peer);
    let rest = rest("not-a-session", &[]).await;
    let client = matterapi::Client::builder(rest.uri())
        .ws_url(peer.ws_url())
        .token("not-a-session")
        .proxies(ws_peer::no_proxies())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.websocket().connect().await.map(|_| ()).unwrap_err();
    assert!(matches!(ws_error(&err), WsError::AuthRejected), "{err:?}");
    assert!(ws_error(&err).is_terminal());
    assert!(!err.is_retryable());
    // The server drops such a socket 5 s after the upgrade; the REST check takes a moment more.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_revoke_that_meets_a_reconnect_logs_in_again_and_says_resync() {
    let peer = Peer::start().await;
    silent_peer(&peer);
    peer.add_token("session-1");
    peer.add_token("session-2");
    let rest = rest("session-1", &["session-1", "session-2"]).await;
    let client = matterapi::Client::builder(rest.uri())
        .ws_url(peer.ws_url())
        .login("alice", "a password")
        .proxies(ws_peer::no_proxies())
        .ws_reconnect_wait_time(Duration::from_millis(10))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    until(
        &mut stream,
        Duration::from_secs(5),
        |i| matches!(i, WsItem::Event(ev) if matches!(ev.kind, EventKind::Hello(_))),
    )
    .await;
    // The session is revoked and the socket drops before any ping noticed: the reconnect meets
    // the dead token.
    peer.revoke("session-1");
    peer.publish("typing", json!({"user_id": "lost", "parent_id": ""}));
    peer.drop_all();
    let seen = until(&mut stream, Duration::from_secs(10), |i| {
        matches!(i, WsItem::Resync)
    })
    .await;
    assert!(
        seen.iter()
            .any(|i| matches!(i, WsItem::Connected { resumed: true, .. })),
        "resumed with the new session: {seen:?}"
    );
    assert_eq!(
        peer.upgrades().last().unwrap().headers["authorization"],
        "Bearer session-2"
    );
    peer.publish("typing", json!({"user_id": "after", "parent_id": ""}));
    until(&mut stream, Duration::from_secs(5), |i| {
        matches!(i, WsItem::Event(ev) if matches!(&ev.kind, EventKind::Typing(t) if t.user_id == "after"))
    })
    .await;
}

#[tokio::test]
async fn a_token_only_listener_whose_token_dies_ends_with_a_terminal_error() {
    let peer = Peer::start().await;
    silent_peer(&peer);
    let rest = rest(ws_peer::TOKEN, &[]).await;
    let client = matterapi::Client::builder(rest.uri())
        .ws_url(peer.ws_url())
        .token(ws_peer::TOKEN)
        .proxies(ws_peer::no_proxies())
        .ws_reconnect_wait_time(Duration::from_millis(10))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    until(&mut stream, Duration::from_secs(5), |i| {
        matches!(i, WsItem::Connected { .. })
    })
    .await;
    peer.revoke(ws_peer::TOKEN);
    peer.drop_all();
    let seen = until(
        &mut stream,
        Duration::from_secs(10),
        |i| matches!(i, WsItem::Error(e) if e.is_terminal()),
    )
    .await;
    assert!(
        matches!(seen.last(), Some(WsItem::Error(WsError::AuthRejected))),
        "{seen:?}"
    );
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream ends");
    assert!(end.is_none());
}

#[tokio::test]
async fn a_new_token_moves_the_listener_at_once_and_the_resume_says_resync() {
    let peer = Peer::start().await;
    peer.add_token("session-2");
    let client = peer
        .builder()
        .ws_reconnect_wait_time(Duration::from_millis(200))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    until(
        &mut stream,
        Duration::from_secs(5),
        |i| matches!(i, WsItem::Event(ev) if matches!(ev.kind, EventKind::Hello(_))),
    )
    .await;
    // The session is revoked: the server drops its events without numbering them.
    peer.revoke(ws_peer::TOKEN);
    peer.publish("typing", json!({"user_id": "lost", "parent_id": ""}));
    // The application got a new session (e.g. a relogin after a REST call's 401).
    let changed = Instant::now();
    client.set_token("session-2");
    let seen = until(&mut stream, Duration::from_secs(3), |i| {
        matches!(i, WsItem::Resync)
    })
    .await;
    assert!(
        changed.elapsed() < Duration::from_secs(2),
        "{:?}",
        changed.elapsed()
    );
    assert!(
        matches!(
            seen.first(),
            Some(WsItem::Disconnected {
                reason: DisconnectReason::TokenChanged,
                retry_in
            }) if retry_in.is_zero()
        ),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|i| matches!(i, WsItem::Connected { resumed: true, .. })),
        "{seen:?}"
    );
    assert_eq!(
        peer.upgrades().last().unwrap().headers["authorization"],
        "Bearer session-2"
    );
    // Nothing else about the connection changed: no Resync without a new token.
    peer.drop_all();
    let seen = until(&mut stream, Duration::from_secs(5), |i| {
        matches!(i, WsItem::Connected { .. })
    })
    .await;
    assert!(matches!(
        seen.last(),
        Some(WsItem::Connected { resumed: true, .. })
    ));
    peer.publish("typing", json!({"user_id": "after", "parent_id": ""}));
    match next_within(&mut stream, Duration::from_secs(5)).await {
        WsItem::Event(ev) => assert_eq!(ev.event_type(), "typing"),
        other => panic!("the event, with no Resync before it: {other:?}"),
    }
}

#[tokio::test]
async fn a_rest_call_that_gets_401_logs_in_again_and_is_sent_once_more() {
    let rest = rest("session-1", &["session-1", "session-2"]).await;
    let client = matterapi::Client::builder(rest.uri())
        .login("alice", "a password")
        .build()
        .unwrap();
    client.login().await.expect("login");
    let me = client
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect("the call succeeds after a relogin");
    assert_eq!(me.id.as_deref(), Some("u1"));
    let requests = rest.received_requests().await.unwrap();
    let logins = requests
        .iter()
        .filter(|r| r.url.path() == "/api/v4/users/login")
        .count();
    assert_eq!(logins, 2, "the first login and one relogin");
    let last = requests.last().unwrap();
    assert_eq!(last.headers["authorization"], "Bearer session-2");

    // Without `relogin`, the 401 is the caller's.
    let rest = rest_with_login("session-1").await;
    let client = matterapi::Client::builder(rest.uri())
        .login("alice", "a password")
        .relogin(false)
        .build()
        .unwrap();
    client.login().await.expect("login");
    let err = client.get_user().user_id("me").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
}

async fn rest_with_login(token: &str) -> MockServer {
    rest(token, &[token]).await
}

/// A close with code 1008 (policy violation: what a proxy says of a refused credential) is not
/// resumed blindly: the listener checks the token over REST first, and a refused token ends a
/// token-only listener with `AuthRejected`.
#[tokio::test]
async fn a_policy_violation_close_checks_the_token_before_reconnecting() {
    let peer = Peer::start().await;
    let rest = rest(ws_peer::TOKEN, &[]).await;
    let client = matterapi::Client::builder(rest.uri())
        .ws_url(peer.ws_url())
        .token(ws_peer::TOKEN)
        .proxies(ws_peer::no_proxies())
        .ws_reconnect_wait_time(Duration::from_millis(10))
        .build()
        .unwrap();
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    until(&mut stream, Duration::from_secs(5), |i| {
        matches!(i, WsItem::Connected { .. })
    })
    .await;
    let upgrades = peer.upgrades().len();
    peer.close_all(1008);
    let seen = until(
        &mut stream,
        Duration::from_secs(10),
        |i| matches!(i, WsItem::Error(e) if e.is_terminal()),
    )
    .await;
    assert!(
        matches!(seen.last(), Some(WsItem::Error(WsError::AuthRejected))),
        "{seen:?}"
    );
    assert_eq!(
        peer.upgrades().len(),
        upgrades,
        "no reconnect with a refused token"
    );
    let checks = rest
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/api/v4/users/me")
        .count();
    assert_eq!(checks, 1, "one token check over REST");
}
