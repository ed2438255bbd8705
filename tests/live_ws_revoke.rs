//! A listener whose sessions are revoked, against the real test server (`cargo xtask server
//! start`). Each test makes its own user (revoking every session of a shared account would break
//! the other live suites) and a channel of its own.
//!
//! - Login auth + relogin: an admin revokes all of the user's sessions
//!   (`POST /users/{id}/sessions/revoke/all`) and another user posts 4 s later. The server drops
//!   the revoked session's events without numbering them, so the post is never delivered live;
//!   the listener notices the revocation by the `ping` action (every 2 s here), logs in again,
//!   resumes and says `Resync`, and the post is then found over REST: within 15 s of the revoke.
//! - The same, noticed through a REST call's 401 (the client logs in again and the listener
//!   follows the new token at once, without waiting for a ping).
//! - Token auth: the revoke ends the listener with a terminal error (no silence), also when the
//!   revoke meets a reconnect (the server then never authenticates the socket and closes it after
//!   5 s without a word).
//! - Drops: 20 posts with the socket dropped after every fifth arrive, none lost, no `Resync`.

#![cfg(feature = "users")]

mod support;

use std::time::{Duration, Instant};

use matterapi::ws::{DisconnectReason, EventStream, WsError, WsItem};
use matterapi::{Client, types};
use support::Connection;

const BOUND: Duration = Duration::from_secs(15);

/// A new user in the test team, with a channel of its own (the admin and the bob of the test
/// server are members too); its id, username, password and the channel.
async fn fresh_user(conn: &Connection) -> (String, String, String, String) {
    let admin = support::client(conn, &conn.admin.token);
    let username = support::unique("revoke");
    let password = format!("Pw-{username}-1!");
    let user = admin
        .create_user()
        .body(
            types::CreateUserBody::builder()
                .email(format!("{username}@example.com"))
                .username(username.clone())
                .password(Some(password.clone())),
        )
        .send()
        .await
        .expect("create user")
        .into_inner();
    let id = user.id.expect("user id");
    admin
        .add_team_member()
        .team_id(&conn.team.id)
        .body(types::AddTeamMemberBody {
            team_id: Some(conn.team.id.clone()),
            user_id: Some(id.clone()),
        })
        .send()
        .await
        .expect("add to team");
    let channel =
        support::fresh_channel(conn, &admin, "revoke", &[id.as_str(), &conn.user2.id]).await;
    (id, username, password, channel)
}

async fn revoke_all(conn: &Connection, user_id: &str) {
    support::client(conn, &conn.admin.token)
        .revoke_all_sessions()
        .user_id(user_id)
        .send()
        .await
        .expect("revoke all sessions");
}

async fn bob(conn: &Connection) -> Client {
    support::login(conn, &conn.user2.username, &conn.user2.password, None)
        .await
        .expect("bob")
}

/// Whether `channel` has a post with `id`, over REST.
async fn has_post(client: &Client, channel: &str, id: &str) -> bool {
    let posts = client
        .get_posts_for_channel()
        .channel_id(channel)
        .send()
        .await
        .expect("posts")
        .into_inner();
    posts.order.iter().flatten().any(|p| p == id)
}

/// The post, live or (after a `Resync`) over REST; how it was found.
async fn found(
    stream: &mut EventStream,
    client: &Client,
    channel: &str,
    id: &str,
    deadline: tokio::time::Instant,
) -> &'static str {
    let (how, _) = support::until(stream, deadline, |i| match i {
        WsItem::Event(_) if support::posted(id)(i).is_some() => Some("live"),
        WsItem::Resync => Some("resync"),
        _ => None,
    })
    .await;
    if how == "resync" {
        assert!(has_post(client, channel, id).await, "the post over REST");
    }
    how
}

#[tokio::test]
async fn a_revoked_login_session_is_renewed_and_nothing_is_lost_silently() {
    let Some(conn) = support::live() else { return };
    let (user_id, username, password, channel) = fresh_user(&conn).await;
    let client = support::login(&conn, &username, &password, None)
        .await
        .expect("login");
    let (_handle, mut stream) = client
        .websocket()
        .relogin(true)
        .ping_interval(Duration::from_secs(2))
        .connect()
        .await
        .expect("connect");
    let far = tokio::time::Instant::now() + Duration::from_secs(30);
    support::until(&mut stream, far, support::connected).await;
    let bob = bob(&conn).await;

    let revoked = Instant::now();
    revoke_all(&conn, &user_id).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let post = support::post(&bob, &channel, "posted 4 s after the revoke").await;
    let id = post.id.expect("id");
    let how = found(
        &mut stream,
        &client,
        &channel,
        &id,
        tokio::time::Instant::now() + BOUND,
    )
    .await;
    let took = revoked.elapsed();
    eprintln!("the post was found {how} {took:?} after the revoke");
    assert!(took < BOUND + Duration::from_secs(4), "{took:?}");

    // The renewed listener gets the next post live.
    let post = support::post(&bob, &channel, "after the renewal").await;
    let next = post.id.expect("id");
    support::until(
        &mut stream,
        tokio::time::Instant::now() + BOUND,
        support::posted(&next),
    )
    .await;
}

#[tokio::test]
async fn a_rest_401_moves_the_listener_to_the_new_session_at_once() {
    let Some(conn) = support::live() else { return };
    let (user_id, username, password, channel) = fresh_user(&conn).await;
    let client = support::login(&conn, &username, &password, None)
        .await
        .expect("login");
    let (_handle, mut stream) = client
        .websocket()
        // No ping in this test's time: only the REST call can notice the revoke.
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    let far = tokio::time::Instant::now() + Duration::from_secs(30);
    support::until(&mut stream, far, support::connected).await;
    let bob = bob(&conn).await;
    revoke_all(&conn, &user_id).await;
    let post = support::post(&bob, &channel, "posted while revoked").await;
    let id = post.id.expect("id");

    // A REST call gets 401, logs in again and succeeds; the listener follows at once.
    let noticed = Instant::now();
    let me = client
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect("the call succeeds after the relogin");
    assert_eq!(me.id.as_deref(), Some(user_id.as_str()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let (reason, _) = support::until(&mut stream, deadline, |i| match i {
        WsItem::Disconnected { reason, .. } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, DisconnectReason::TokenChanged);
    let how = found(&mut stream, &client, &channel, &id, deadline).await;
    assert_eq!(
        how, "resync",
        "the post made while revoked was never delivered live"
    );
    assert!(
        noticed.elapsed() < Duration::from_secs(5),
        "{:?}",
        noticed.elapsed()
    );
}

/// A client with only the token of a new session of a fresh user.
async fn token_only(conn: &Connection) -> (Client, String) {
    let (user_id, username, password, _) = fresh_user(conn).await;
    let logged_in = support::login(conn, &username, &password, None)
        .await
        .expect("login");
    let token = logged_in.token().expect("a session token");
    let client = Client::builder(conn.url.as_str())
        .token(secrecy::ExposeSecret::expose_secret(&token))
        .ws_reconnect_wait_time(Duration::from_millis(200))
        .build()
        .expect("client");
    (client, user_id)
}

#[tokio::test]
async fn a_revoked_token_ends_the_listener_with_a_terminal_error() {
    let Some(conn) = support::live() else { return };
    let (client, user_id) = token_only(&conn).await;
    let (_handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(2))
        .connect()
        .await
        .expect("connect");
    let far = tokio::time::Instant::now() + Duration::from_secs(30);
    support::until(&mut stream, far, support::connected).await;
    let revoked = Instant::now();
    revoke_all(&conn, &user_id).await;
    let (e, _) = support::until(
        &mut stream,
        tokio::time::Instant::now() + BOUND,
        |i| match i {
            WsItem::Error(e) if e.is_terminal() => Some(e.to_string()),
            _ => None,
        },
    )
    .await;
    assert!(e.contains("revoked") || e.contains("rejected"), "{e}");
    eprintln!("ended {:?} after the revoke: {e}", revoked.elapsed());
}

#[tokio::test]
async fn a_revoke_that_meets_a_reconnect_ends_the_listener_instead_of_deafening_it() {
    let Some(conn) = support::live() else { return };
    let (client, user_id) = token_only(&conn).await;
    let (handle, mut stream) = client
        .websocket()
        .ping_interval(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    let far = tokio::time::Instant::now() + Duration::from_secs(30);
    support::until(&mut stream, far, support::connected).await;
    revoke_all(&conn, &user_id).await;
    let revoked = Instant::now();
    handle.disconnect().await.expect("disconnect");
    let (e, _) = support::until(
        &mut stream,
        tokio::time::Instant::now() + BOUND,
        |i| match i {
            WsItem::Error(e) if e.is_terminal() => Some(matches!(e, WsError::AuthRejected)),
            _ => None,
        },
    )
    .await;
    assert!(e, "AuthRejected");
    eprintln!("ended {:?} after the revoke", revoked.elapsed());

    // And connect() with that token is refused at once, not after endless retries.
    let err = client.websocket().connect().await.map(|_| ()).unwrap_err();
    assert!(
        matches!(support::ws_error(&err), WsError::AuthRejected),
        "{err:?}"
    );
}

#[tokio::test]
async fn posts_made_across_forced_drops_all_arrive() {
    let Some(conn) = support::live() else { return };
    let (_, username, password, channel) = fresh_user(&conn).await;
    let client = support::login(&conn, &username, &password, None)
        .await
        .expect("login");
    let (handle, mut stream) = client
        .websocket()
        .backoff(matterapi::ws::Backoff::new(Duration::from_millis(200)))
        .connect()
        .await
        .expect("connect");
    let far = tokio::time::Instant::now() + Duration::from_secs(30);
    support::until(&mut stream, far, support::connected).await;
    let bob = bob(&conn).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        if n % 5 == 4 {
            handle.disconnect().await.expect("disconnect");
        }
        let post = support::post(&bob, &channel, &format!("post {n}")).await;
        ids.push(post.id.expect("id"));
    }
    for id in &ids {
        let (_, passed) = support::until(
            &mut stream,
            tokio::time::Instant::now() + BOUND,
            support::posted(id),
        )
        .await;
        assert!(
            passed.iter().all(|i| !matches!(i, WsItem::Resync)),
            "no Resync: {passed:?}"
        );
    }
}
