//! Sessions and the websocket: a revoked session renewed through `Client::relogin` (login
//! credentials, REST on a wiremock server, the websocket on the scripted peer), the first
//! connection logging in when the client has no token yet.

mod support;

use std::time::Duration;

use matterapi::ws::{DisconnectReason, EventKind, WsItem};
use serde_json::json;
use support::rest::mount_logins;
use support::ws_peer::{self, Peer, next};
use wiremock::MockServer;

#[tokio::test]
async fn a_revoked_session_is_renewed_by_logging_in_again() {
    let peer = Peer::start().await;
    peer.add_token("session-1");
    peer.add_token("session-2");
    let rest = MockServer::start().await;
    mount_logins(&rest, &["session-1", "session-2"]).await;
    let client = matterapi::Client::builder(rest.uri())
        .ws_url(peer.ws_url())
        .login("alice", "a password")
        .proxies(ws_peer::no_proxies())
        .ws_reconnect_wait_time(Duration::from_millis(10))
        .build()
        .unwrap();
    // No token yet: connect() logs in first.
    let (_handle, mut stream) = client
        .websocket()
        .relogin(true)
        .ping_interval(Duration::from_millis(50))
        .connect()
        .await
        .expect("connect");
    let WsItem::Connected { connection_id, .. } = next(&mut stream).await else {
        panic!("Connected first")
    };
    assert!(
        matches!(next(&mut stream).await, WsItem::Event(ev) if matches!(ev.kind, EventKind::Hello(_)))
    );
    assert_eq!(
        peer.upgrades()[0].headers["authorization"],
        "Bearer session-1"
    );

    peer.revoke("session-1");
    match next(&mut stream).await {
        WsItem::Disconnected { reason, retry_in } => {
            assert_eq!(reason, DisconnectReason::SessionRenewed);
            assert_eq!(retry_in, Duration::ZERO);
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    match next(&mut stream).await {
        WsItem::Connected {
            connection_id: id,
            resumed,
        } => {
            assert!(resumed, "the connection itself is resumed");
            assert_eq!(id, connection_id);
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    assert_eq!(
        peer.upgrades().last().unwrap().headers["authorization"],
        "Bearer session-2"
    );
    // The revoked session's events were dropped by the server without a gap in `seq`: the
    // resume with the new session says so.
    assert!(matches!(next(&mut stream).await, WsItem::Resync));
    peer.publish("typing", json!({"user_id": "u2", "parent_id": ""}));
    assert!(
        matches!(next(&mut stream).await, WsItem::Event(ev) if matches!(ev.kind, EventKind::Typing(_)))
    );
    assert_eq!(
        rest.received_requests().await.unwrap().len(),
        2,
        "two logins"
    );
}

#[tokio::test]
async fn without_credentials_connect_is_an_error() {
    let peer = Peer::start().await;
    let client = matterapi::Client::builder(peer.url())
        .proxies(ws_peer::no_proxies())
        .build()
        .unwrap();
    let err = client.websocket().connect().await.map(|_| ()).unwrap_err();
    assert!(
        matches!(
            support::ws_error(&err),
            matterapi::ws::WsError::NoCredentials
        ),
        "{err:?}"
    );
}
