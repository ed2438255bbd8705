//! The websocket listener against the real Mattermost test server (`cargo xtask server start`):
//! a `posted` event with its decoded post after a REST `create_post`, a typing action reaching
//! another user's listener, a resume after the socket drops (the post made meanwhile arrives), and
//! a revoked session noticed through the `ping` action (renewed by logging in again, or a terminal
//! error), and a `Resync` when more events were missed than the server keeps for a connection. A
//! `Resync` after a server restart is in `tests/live_restart.rs`, against the second instance
//! (restarting the shared server would disturb the other live suites).

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use matterapi::ws::{DisconnectReason, EventKind, EventStream, WsError, WsItem};
use matterapi::{Client, types};
use support::{Account, Connection};

const WAIT: Duration = Duration::from_secs(30);

/// Items until `pick` returns something, failing after 30 s; the items passed over are returned.
async fn until<T>(
    stream: &mut EventStream,
    pick: impl FnMut(&WsItem) -> Option<T>,
) -> (T, Vec<WsItem>) {
    support::until(stream, tokio::time::Instant::now() + WAIT, pick).await
}

use support::posted;

/// A client of `account` with login credentials (for relogin) and a fresh session named by a
/// unique device id, which is returned.
async fn session(conn: &Connection, account: &Account) -> (Client, String) {
    let device_id = support::unique("matterapi-ws-");
    let client = Client::builder(conn.url.as_str())
        .login(&account.username, &account.password)
        .ws_reconnect_wait_time(Duration::from_millis(500))
        .build()
        .expect("client");
    let reply = client
        .users_login()
        .body(types::UsersLoginBody {
            login_id: Some(account.username.clone()),
            password: Some(account.password.clone()),
            device_id: Some(device_id.clone()),
            ..Default::default()
        })
        .send()
        .await
        .expect("login");
    let token = reply
        .headers()
        .get("token")
        .and_then(|v| v.to_str().ok())
        .expect("Token header")
        .to_owned();
    client.set_token(token);
    (client, device_id)
}

/// Revokes the session of `account` named by `device_id`, as the admin.
async fn revoke(conn: &Connection, account: &Account, device_id: &str) {
    let admin = support::client(conn, &conn.admin.token);
    let sessions = admin
        .get_sessions()
        .user_id(&account.id)
        .send()
        .await
        .expect("sessions")
        .into_inner();
    let id = sessions
        .iter()
        .find(|s| s.device_id.as_deref() == Some(device_id))
        .and_then(|s| s.id.clone())
        .expect("the session is listed");
    admin
        .revoke_session()
        .user_id(&account.id)
        .body(types::RevokeSessionBody { session_id: id })
        .send()
        .await
        .expect("revoke");
}

#[tokio::test]
async fn a_rest_post_arrives_as_a_posted_event_with_its_decoded_post() {
    let Some(conn) = support::live() else { return };
    let (alice, _) = session(&conn, &conn.user).await;
    let (_handle, mut stream) = alice.websocket().connect().await.expect("connect");
    let (hello, _) = until(&mut stream, |i| match i {
        WsItem::Event(ev) => match &ev.kind {
            EventKind::Hello(h) => Some(h.clone()),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert_eq!(hello.connection_id.len(), 26);
    assert!(
        hello.server_version.starts_with(&conn.server_version),
        "{}",
        hello.server_version
    );

    let bob = support::login(&conn, &conn.user2.username, &conn.user2.password, None)
        .await
        .expect("bob");
    let message = format!("hello @{} from the websocket test", conn.user.username);
    let post = support::post(&bob, &conn.channels.town_square, &message).await;
    let id = post.id.clone().expect("post id");
    let (ev, _) = until(&mut stream, posted(&id)).await;
    let EventKind::Posted(p) = &ev.kind else {
        unreachable!()
    };
    assert_eq!(p.post.message.as_deref(), Some(message.as_str()));
    assert_eq!(p.post.user_id.as_deref(), Some(conn.user2.id.as_str()));
    assert_eq!(
        p.post.channel_id.as_deref(),
        Some(conn.channels.town_square.as_str())
    );
    assert_eq!(p.channel_type, "O");
    assert!(p.mentions.contains(&conn.user.id), "{:?}", p.mentions);
    assert_eq!(ev.broadcast.channel_id, conn.channels.town_square);
    assert!(ev.seq.is_some_and(|s| s >= 1));
    assert!(ev.raw().contains(&id));
}

#[tokio::test]
async fn a_typing_action_reaches_another_users_listener() {
    let Some(conn) = support::live() else { return };
    let (alice, _) = session(&conn, &conn.user).await;
    let (bob, _) = session(&conn, &conn.user2).await;
    let (alice_ws, _alice_stream) = alice.websocket().connect().await.expect("alice");
    let (_bob_ws, mut bob_stream) = bob.websocket().connect().await.expect("bob");
    let alice_id = conn.user.id.clone();
    let channel = conn.channels.town_square.clone();
    // Typing events are dropped by a busy server: send a few until one arrives.
    let sender = tokio::spawn(async move {
        for _ in 0..20 {
            alice_ws
                .user_typing(&channel, None)
                .await
                .expect("user_typing");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let (typing, _) = until(&mut bob_stream, |i| match i {
        WsItem::Event(ev) => match &ev.kind {
            EventKind::Typing(t) if t.user_id == alice_id => Some(ev.clone()),
            _ => None,
        },
        _ => None,
    })
    .await;
    sender.abort();
    assert_eq!(typing.broadcast.channel_id, conn.channels.town_square);
}

#[tokio::test]
async fn statuses_and_pings_get_replies() {
    let Some(conn) = support::live() else { return };
    let (alice, _) = session(&conn, &conn.user).await;
    let (handle, _stream) = alice.websocket().connect().await.expect("connect");
    let pong = handle.ping().await.expect("ping");
    assert_eq!(pong.data["text"], "pong");
    let statuses = handle
        .get_statuses_by_ids([conn.user.id.clone()])
        .await
        .expect("statuses");
    assert!(statuses.contains_key(&conn.user.id), "{statuses:?}");
    handle
        .user_update_active_status(true, false)
        .await
        .expect("active status");
    let err = handle
        .send_action("no_such_action", None)
        .await
        .unwrap_err();
    assert!(
        matches!(support::ws_error(&err), WsError::ActionFailed { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_post_made_while_the_socket_was_down_arrives_after_the_resume() {
    let Some(conn) = support::live() else { return };
    let (alice, _) = session(&conn, &conn.user).await;
    let (handle, mut stream) = alice
        .websocket()
        .backoff(matterapi::ws::Backoff::new(Duration::from_secs(1)).with_jitter(Duration::ZERO))
        .connect()
        .await
        .expect("connect");
    let (connection_id, _) = until(&mut stream, |i| match i {
        WsItem::Connected { connection_id, .. } => Some(connection_id.clone()),
        _ => None,
    })
    .await;
    // Abruptly, from the client side; the post is made during the 1 s wait.
    handle.disconnect().await.expect("disconnect");
    let ((), _) = until(&mut stream, |i| match i {
        WsItem::Disconnected { reason, .. } => {
            assert_eq!(*reason, DisconnectReason::Requested);
            Some(())
        }
        _ => None,
    })
    .await;
    let bob = support::login(&conn, &conn.user2.username, &conn.user2.password, None)
        .await
        .expect("bob");
    let post = support::post(
        &bob,
        &conn.channels.town_square,
        "made while alice was away",
    )
    .await;
    let id = post.id.expect("id");
    let (resumed, passed) = until(&mut stream, |i| match i {
        WsItem::Connected {
            connection_id,
            resumed,
        } => Some((connection_id.clone(), *resumed)),
        _ => None,
    })
    .await;
    assert!(passed.iter().all(|i| !matches!(i, WsItem::Resync)));
    assert_eq!(resumed, (connection_id, true), "resumed, same connection");
    let (ev, passed) = until(&mut stream, posted(&id)).await;
    assert!(
        passed
            .iter()
            .all(|i| !matches!(i, WsItem::Resync | WsItem::Connected { .. }))
    );
    assert!(matches!(ev.kind, EventKind::Posted(_)));
}

#[tokio::test]
async fn a_revoked_session_is_noticed_by_the_ping_action_and_renewed() {
    let Some(conn) = support::live() else { return };
    let (alice, device_id) = session(&conn, &conn.user).await;
    let (_handle, mut stream) = alice
        .websocket()
        .relogin(true)
        .ping_interval(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect");
    until(&mut stream, |i| {
        matches!(i, WsItem::Connected { .. }).then_some(())
    })
    .await;
    revoke(&conn, &conn.user, &device_id).await;
    let ((), _) = until(&mut stream, |i| match i {
        WsItem::Disconnected { reason, .. } => {
            assert_eq!(*reason, DisconnectReason::SessionRenewed, "{reason}");
            Some(())
        }
        _ => None,
    })
    .await;
    until(&mut stream, |i| {
        matches!(i, WsItem::Connected { .. }).then_some(())
    })
    .await;
    // The renewed listener gets events again.
    let bob = support::login(&conn, &conn.user2.username, &conn.user2.password, None)
        .await
        .expect("bob");
    let post = support::post(&bob, &conn.channels.town_square, "after the relogin").await;
    until(&mut stream, posted(post.id.as_deref().unwrap_or_default())).await;
}

#[tokio::test]
async fn a_revoked_session_without_relogin_ends_the_listener() {
    let Some(conn) = support::live() else { return };
    let (alice, device_id) = session(&conn, &conn.user).await;
    let (_handle, mut stream) = alice
        .websocket()
        .relogin(false)
        .ping_interval(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect");
    until(&mut stream, |i| {
        matches!(i, WsItem::Connected { .. }).then_some(())
    })
    .await;
    revoke(&conn, &conn.user, &device_id).await;
    until(&mut stream, |i| {
        matches!(i, WsItem::Error(WsError::SessionRevoked)).then_some(())
    })
    .await;
    let end = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("end");
    assert!(end.is_none());
}

#[tokio::test]
async fn more_missed_events_than_the_server_keeps_give_resync() {
    let Some(conn) = support::live() else { return };
    let admin = support::client(&conn, &conn.admin.token);
    // A channel of its own: the flood of posts stays out of the channels other tests read.
    let channel_id =
        support::fresh_channel(&conn, &admin, "matterapi-ws-flood-", &[&conn.user.id]).await;

    let (alice, _) = session(&conn, &conn.user).await;
    let (handle, mut stream) = alice
        .websocket()
        .backoff(matterapi::ws::Backoff::new(Duration::from_secs(60)).with_jitter(Duration::ZERO))
        .connect()
        .await
        .expect("connect");
    let (first_id, _) = until(&mut stream, |i| match i {
        WsItem::Connected { connection_id, .. } => Some(connection_id.clone()),
        _ => None,
    })
    .await;
    handle.disconnect().await.expect("disconnect");
    until(&mut stream, |i| {
        matches!(i, WsItem::Disconnected { .. }).then_some(())
    })
    .await;
    // The server queues 256 events for a connection that went away; more than that and it
    // forgets the connection.
    let posts = futures_util::stream::iter(0..300)
        .map(|n| {
            let (admin, channel_id) = (&admin, &channel_id);
            async move { support::post(admin, channel_id, &format!("flood {n}")).await }
        })
        .buffer_unordered(8)
        .count()
        .await;
    assert_eq!(posts, 300);
    // Reconnect now instead of after the 60 s wait.
    handle.disconnect().await.expect("reconnect");
    let ((new_id, resumed), _) = until(&mut stream, |i| match i {
        WsItem::Connected {
            connection_id,
            resumed,
        } => Some((connection_id.clone(), *resumed)),
        _ => None,
    })
    .await;
    assert!(!resumed);
    assert_ne!(new_id, first_id);
    let next = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an item");
    assert!(matches!(next, Some(WsItem::Resync)), "{next:?}");
    let _ = admin.delete_channel().channel_id(&channel_id).send().await;
}
