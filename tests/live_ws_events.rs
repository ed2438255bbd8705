//! The websocket events a bot meets most, from the real Mattermost test server
//! (`cargo xtask server start`), each caused over REST (by a fresh user of the test, another one or
//! the admin) and received typed by the first one's listener: collapsed-thread events (`thread_updated`,
//! `thread_read_changed`, `thread_follow_changed`; the server has collapsed threads always on),
//! `post_unread`, viewing a channel (`multiple_channels_viewed`, never `channel_viewed`),
//! `preference_changed` (sent only by the `/collapse` and `/expand` commands), and
//! acknowledgements and channel bookmarks, which Team Edition refuses without a license (501):
//! that refusal is asserted, and the events are checked when the server has a license. Then
//! sidebar categories, drafts, team roles, a team archived and restored, and a user deactivated.

mod support;

use std::time::Duration;

use matterapi::ws::{Event, EventKind, EventStream, WsHandle, WsItem};
use matterapi::{Client, Error, Method, StatusCode, types};
use serde_json::json;
use support::Connection;

const WAIT: Duration = Duration::from_secs(30);

/// A user of this test: its client (logged in) and id.
struct User {
    client: Client,
    id: String,
}

/// A fresh user in the test team, logged in.
async fn fresh_user(conn: &Connection, admin: &Client, prefix: &str) -> User {
    let username = support::unique(prefix);
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
        .body(
            types::AddTeamMemberBody::builder()
                .team_id(Some(conn.team.id.clone()))
                .user_id(Some(id.clone())),
        )
        .send()
        .await
        .expect("add to team");
    let client = support::login(conn, &username, &password, None)
        .await
        .expect("login");
    User { client, id }
}

/// Two fresh users (the listener's and the other's) in a fresh channel of both.
async fn setup(conn: &Connection, prefix: &str) -> (User, User, String) {
    let admin = support::admin(conn);
    let me = fresh_user(conn, &admin, prefix).await;
    let other = fresh_user(conn, &admin, prefix).await;
    let channel =
        support::fresh_channel(conn, &admin, prefix, &[me.id.as_str(), other.id.as_str()]).await;
    (me, other, channel)
}

/// The listener of `user`, once its `hello` arrived.
async fn listen(user: &User) -> (WsHandle, EventStream) {
    let (handle, mut stream) = user.client.websocket().connect().await.expect("connect");
    event(&mut stream, |ev| {
        matches!(ev.kind, EventKind::Hello(_)).then_some(())
    })
    .await;
    (handle, stream)
}

/// The first event `pick` takes, failing after 30 s; the events passed over are returned too.
async fn event_and_before<T>(
    stream: &mut EventStream,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> (T, Vec<Event>) {
    let (t, passed) = support::until(
        stream,
        tokio::time::Instant::now() + WAIT,
        |item| match item {
            WsItem::Event(ev) => pick(ev),
            WsItem::Error(e) => panic!("listener error: {e}"),
            _ => None,
        },
    )
    .await;
    let passed = passed
        .into_iter()
        .filter_map(|i| match i {
            WsItem::Event(ev) => Some(ev),
            _ => None,
        })
        .collect();
    (t, passed)
}

/// The first event `pick` takes, failing after 30 s.
async fn event<T>(stream: &mut EventStream, pick: impl FnMut(&Event) -> Option<T>) -> T {
    event_and_before(stream, pick).await.0
}

/// A post of `message` in `channel`, a reply to `root` when given.
async fn post(client: &Client, channel: &str, message: &str, root: Option<&str>) -> String {
    client
        .create_post()
        .body(
            types::CreatePostBody::builder()
                .channel_id(channel.to_owned())
                .message(message.to_owned())
                .root_id(root.map(str::to_owned)),
        )
        .send()
        .await
        .expect("create post")
        .into_inner()
        .id
        .expect("post id")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn a_reply_and_the_thread_calls_send_the_collapsed_thread_events_typed() {
    let Some(conn) = support::live() else { return };
    let (me, other, channel) = setup(&conn, "wsthread").await;
    let (_handle, mut stream) = listen(&me).await;

    // My root post: I follow its thread; a reply by the other user updates the thread for me.
    let root = post(&me.client, &channel, "a thread to follow", None).await;
    let reply = post(&other.client, &channel, "a reply", Some(&root)).await;
    let posted = event(&mut stream, |ev| match &ev.kind {
        EventKind::Posted(p) if p.post.id.as_deref() == Some(reply.as_str()) => Some(ev.clone()),
        _ => None,
    })
    .await;
    // The thread's fields come in their own event, not in `posted`.
    let data = posted.data();
    for key in [
        "thread",
        "previous_unread_mentions",
        "previous_unread_replies",
    ] {
        assert!(data.get(key).is_none(), "posted carries {key}: {data}");
    }
    let EventKind::Posted(p) = &posted.kind else {
        unreachable!()
    };
    assert_eq!(p.post.root_id.as_deref(), Some(root.as_str()));
    assert!(!p.should_ack, "no posted_ack=true on this connection");

    let updated = event(&mut stream, |ev| match &ev.kind {
        EventKind::ThreadUpdated(t) if t.thread.id.as_deref() == Some(root.as_str()) => {
            Some(t.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(updated.thread.reply_count, Some(1));
    assert_eq!(updated.thread.unread_replies, Some(1));
    let thread_post = updated.thread.post.as_ref().expect("the thread's post");
    assert_eq!(thread_post.channel_id.as_deref(), Some(channel.as_str()));
    let participants = updated.thread.participants.as_deref().unwrap_or_default();
    assert!(
        participants
            .iter()
            .any(|u| u.id.as_deref() == Some(other.id.as_str())),
        "{participants:?}"
    );
    assert!(updated.previous_unread_replies.is_some());

    // Reading the thread.
    let read_at = now_ms();
    me.client
        .update_thread_read_for_user()
        .user_id(&me.id)
        .team_id(&conn.team.id)
        .thread_id(&root)
        .timestamp(read_at.to_string())
        .send()
        .await
        .expect("mark the thread read");
    let (read, ev) = event(&mut stream, |ev| match &ev.kind {
        EventKind::ThreadReadChanged(t) if t.thread_id.as_deref() == Some(root.as_str()) => {
            Some((t.clone(), ev.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(read.timestamp, Some(read_at));
    assert_eq!(read.unread_replies, Some(0));
    assert_eq!(read.previous_unread_replies, Some(1));
    assert_eq!(ev.channel_id(), Some(channel.as_str()));
    assert_eq!(ev.broadcast.team_id, conn.team.id);

    // Unfollowing, then following again.
    me.client
        .stop_following_thread()
        .user_id(&me.id)
        .team_id(&conn.team.id)
        .thread_id(&root)
        .send()
        .await
        .expect("stop following");
    let follow = event(&mut stream, |ev| match &ev.kind {
        EventKind::ThreadFollowChanged(f) if f.thread_id == root => Some(f.clone()),
        _ => None,
    })
    .await;
    assert!(!follow.state);
    assert_eq!(follow.reply_count, 1);
    me.client
        .start_following_thread()
        .user_id(&me.id)
        .team_id(&conn.team.id)
        .thread_id(&root)
        .send()
        .await
        .expect("start following");
    let follow = event(&mut stream, |ev| match &ev.kind {
        EventKind::ThreadFollowChanged(f) if f.thread_id == root => Some(f.clone()),
        _ => None,
    })
    .await;
    assert!(follow.state);
}

#[tokio::test]
async fn marking_a_post_unread_sends_post_unread_with_the_channels_counts() {
    let Some(conn) = support::live() else { return };
    let (me, other, channel) = setup(&conn, "wsunread").await;
    let first = post(&other.client, &channel, "first", None).await;
    post(&other.client, &channel, "second", None).await;
    let (_handle, mut stream) = listen(&me).await;

    me.client
        .set_post_unread()
        .user_id(&me.id)
        .post_id(&first)
        .send()
        .await
        .expect("set unread");
    let (unread, ev) = event(&mut stream, |ev| match &ev.kind {
        EventKind::PostUnread(u) => Some((u.clone(), ev.clone())),
        _ => None,
    })
    .await;
    assert_eq!(unread.post_id, first);
    assert_eq!(ev.channel_id(), Some(channel.as_str()));
    assert_eq!(ev.broadcast.user_id, me.id);
    assert_eq!(ev.broadcast.team_id, conn.team.id);
    assert!(unread.last_viewed_at > 0);
    assert!(unread.mention_count == 0 && unread.urgent_mention_count == 0);
}

#[tokio::test]
async fn viewing_a_channel_sends_multiple_channels_viewed_not_channel_viewed() {
    let Some(conn) = support::live() else { return };
    let (me, other, channel) = setup(&conn, "wsview").await;
    post(&other.client, &channel, "something unread", None).await;
    let (_handle, mut stream) = listen(&me).await;

    me.client
        .view_channel()
        .user_id(&me.id)
        .body(types::ViewChannelBody::builder().channel_id(channel.clone()))
        .send()
        .await
        .expect("view channel");
    let (viewed, before) = event_and_before(&mut stream, |ev| match &ev.kind {
        EventKind::MultipleChannelsViewed(v) => Some((v.clone(), ev.data())),
        _ => None,
    })
    .await;
    let (viewed, data) = viewed;
    assert!(viewed.channel_times[&channel] > 0, "{data}");
    // Its only key: a view's time of reading threads comes as `thread_read_changed`.
    assert_eq!(data.as_object().map(|m| m.len()), Some(1), "{data}");
    // With collapsed threads on, the channel's threads are read too, in the viewed channel.
    let (read, after) = event_and_before(&mut stream, |ev| match &ev.kind {
        EventKind::ThreadReadChanged(t) if ev.broadcast.channel_id == channel => Some(t.clone()),
        _ => None,
    })
    .await;
    assert!(read.timestamp.is_some_and(|t| t > 0));
    assert!(read.thread_id.is_none());
    for ev in before.iter().chain(&after) {
        assert!(
            !matches!(ev.kind, EventKind::ChannelViewed(_)),
            "this server sent channel_viewed"
        );
    }
}

#[tokio::test]
async fn the_collapse_command_sends_preference_changed() {
    let Some(conn) = support::live() else { return };
    let (me, _other, channel) = setup(&conn, "wspref").await;
    let (_handle, mut stream) = listen(&me).await;

    for (command, value) in [("/collapse", "true"), ("/expand", "false")] {
        me.client
            .execute_command()
            .body(
                types::ExecuteCommandBody::builder()
                    .channel_id(channel.clone())
                    .command(command.to_owned()),
            )
            .send()
            .await
            .expect("execute command");
        let pref = event(&mut stream, |ev| match &ev.kind {
            EventKind::PreferenceChanged(p) => Some(p.preference.clone()),
            _ => None,
        })
        .await;
        assert_eq!(pref.user_id.as_deref(), Some(me.id.as_str()));
        assert_eq!(pref.category.as_deref(), Some("display_settings"));
        assert_eq!(pref.name.as_deref(), Some("collapse_previews"));
        assert_eq!(pref.value.as_deref(), Some(value), "{command}");
    }
}

/// A note on the process's stderr (shown by a passing run too).
fn note(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "live_ws_events: {text}");
}

/// Whether `result` is the 501 Team Edition answers to a licensed feature.
fn unlicensed<T>(result: &Result<T, Error>) -> bool {
    matches!(result, Err(e) if e.status() == Some(StatusCode::NOT_IMPLEMENTED))
}

#[tokio::test]
async fn acknowledgements_need_a_license_and_send_their_events_with_one() {
    let Some(conn) = support::live() else { return };
    let (me, other, channel) = setup(&conn, "wsack").await;
    let (_handle, mut stream) = listen(&me).await;
    let post_id = post(&me.client, &channel, "please acknowledge", None).await;

    let saved = other
        .client
        .save_acknowledgement_for_post()
        .user_id(&other.id)
        .post_id(&post_id)
        .send()
        .await;
    if unlicensed(&saved) {
        // Team Edition (no license): the server refuses before saving, so no event is sent.
        note(
            "acknowledgements: 501 without a license; their events are covered by tests/ws_events.rs",
        );
        return;
    }
    saved.expect("acknowledge");
    let ack = event(&mut stream, |ev| match &ev.kind {
        EventKind::PostAcknowledgementAdded(a) => Some(a.acknowledgement.clone()),
        _ => None,
    })
    .await;
    assert_eq!(ack.post_id.as_deref(), Some(post_id.as_str()));
    assert_eq!(ack.user_id.as_deref(), Some(other.id.as_str()));
    assert_eq!(ack.channel_id.as_deref(), Some(channel.as_str()));
    other
        .client
        .delete_acknowledgement_for_post()
        .user_id(&other.id)
        .post_id(&post_id)
        .send()
        .await
        .expect("take back");
    let ack = event(&mut stream, |ev| match &ev.kind {
        EventKind::PostAcknowledgementRemoved(a) => Some(a.acknowledgement.clone()),
        _ => None,
    })
    .await;
    assert_eq!(ack.post_id.as_deref(), Some(post_id.as_str()));
}

#[tokio::test]
async fn channel_bookmarks_need_a_license_and_send_their_events_with_one() {
    let Some(conn) = support::live() else { return };
    let (me, other, channel) = setup(&conn, "wsbookmark").await;
    let (_handle, mut stream) = listen(&me).await;

    // The spec has no body for these operations: raw requests.
    let created = other
        .client
        .raw(Method::POST, format!("/channels/{channel}/bookmarks"))
        .json(&json!({"display_name": "Docs", "link_url": "http://127.0.0.1/docs", "type": "link"}))
        .send_json::<serde_json::Value>()
        .await;
    if unlicensed(&created) {
        // Team Edition (no license): bookmarks are refused before anything is saved.
        let listed = other
            .client
            .raw(Method::GET, format!("/channels/{channel}/bookmarks"))
            .send()
            .await;
        assert!(unlicensed(&listed), "{listed:?}");
        note(
            "channel bookmarks: 501 without a license; their events are covered by tests/ws_events.rs",
        );
        return;
    }
    let created = created.expect("create bookmark");
    let id = created["id"].as_str().expect("bookmark id").to_owned();
    let bookmark = event(&mut stream, |ev| match &ev.kind {
        EventKind::ChannelBookmarkCreated(b) => Some(b.bookmark.clone()),
        _ => None,
    })
    .await;
    assert_eq!(bookmark.id.as_deref(), Some(id.as_str()));
    assert_eq!(bookmark.display_name.as_deref(), Some("Docs"));
    other
        .client
        .raw(Method::PATCH, format!("/channels/{channel}/bookmarks/{id}"))
        .json(&json!({"display_name": "More docs"}))
        .send()
        .await
        .expect("update bookmark");
    let updated = event(&mut stream, |ev| match &ev.kind {
        EventKind::ChannelBookmarkUpdated(b) => Some(b.bookmarks.clone()),
        _ => None,
    })
    .await;
    let now = updated.updated.expect("the updated bookmark");
    assert_eq!(now.display_name.as_deref(), Some("More docs"));
    let id = now.id.unwrap_or(id);
    other
        .client
        .raw(
            Method::DELETE,
            format!("/channels/{channel}/bookmarks/{id}"),
        )
        .send()
        .await
        .expect("delete bookmark");
    let deleted = event(&mut stream, |ev| match &ev.kind {
        EventKind::ChannelBookmarkDeleted(b) => Some(b.bookmark.clone()),
        _ => None,
    })
    .await;
    assert!(deleted.delete_at.is_some_and(|d| d > 0));
}

/// A raw JSON request of `client`, failing the test on an error status.
async fn raw_json(
    client: &Client,
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut req = client.raw(method.clone(), path.clone());
    if let Some(body) = &body {
        req = req.json(body);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    if resp.body.is_empty() {
        serde_json::Value::Null
    } else {
        resp.json()
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }
}

#[tokio::test]
async fn sidebar_categories_drafts_team_roles_and_archiving_send_their_events_typed() {
    let Some(conn) = support::live() else { return };
    let admin = support::admin(&conn);
    let (me, _other, channel) = setup(&conn, "wsteam").await;
    let name = support::unique("wsteam");
    let team = raw_json(
        &admin,
        Method::POST,
        "/teams".into(),
        Some(json!({"name": name, "display_name": format!("Test {name}"), "type": "O"})),
    )
    .await;
    let team = team["id"].as_str().expect("team id").to_owned();
    admin
        .add_team_member()
        .team_id(&team)
        .body(
            types::AddTeamMemberBody::builder()
                .team_id(Some(team.clone()))
                .user_id(Some(me.id.clone())),
        )
        .send()
        .await
        .expect("add to team");
    let (_handle, mut stream) = listen(&me).await;
    let categories = format!("/users/{}/teams/{team}/channels/categories", me.id);

    // Sidebar categories: created, renamed, reordered, deleted.
    let created = raw_json(
        &me.client,
        Method::POST,
        categories.clone(),
        Some(json!({"user_id": me.id, "team_id": team, "display_name": "Mine", "type": "custom", "channel_ids": []})),
    )
    .await;
    let category = created["id"].as_str().expect("category id").to_owned();
    let ev = event(&mut stream, |ev| match &ev.kind {
        EventKind::SidebarCategoryCreated(c) if c.category_id == category => Some(ev.clone()),
        _ => None,
    })
    .await;
    assert_eq!(ev.broadcast.team_id, team);
    let mut renamed = created.clone();
    renamed["display_name"] = json!("Renamed");
    raw_json(
        &me.client,
        Method::PUT,
        format!("{categories}/{category}"),
        Some(renamed),
    )
    .await;
    let updated = event(&mut stream, |ev| match &ev.kind {
        EventKind::SidebarCategoryUpdated(c) if !c.updated_categories.is_empty() => {
            Some(c.updated_categories.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(updated[0].id.as_deref(), Some(category.as_str()));
    assert_eq!(updated[0].display_name.as_deref(), Some("Renamed"));
    let order = raw_json(&me.client, Method::GET, format!("{categories}/order"), None).await;
    let mut order: Vec<String> = serde_json::from_value(order).expect("the order");
    order.reverse();
    raw_json(
        &me.client,
        Method::PUT,
        format!("{categories}/order"),
        Some(json!(order)),
    )
    .await;
    let got = event(&mut stream, |ev| match &ev.kind {
        EventKind::SidebarCategoryOrderUpdated(o) => Some(o.order.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, order);
    raw_json(
        &me.client,
        Method::DELETE,
        format!("{categories}/{category}"),
        None,
    )
    .await;
    event(&mut stream, |ev| match &ev.kind {
        EventKind::SidebarCategoryDeleted(c) if c.category_id == category => Some(()),
        _ => None,
    })
    .await;

    // A draft saved, then deleted.
    raw_json(
        &me.client,
        Method::POST,
        "/drafts".into(),
        Some(json!({"user_id": me.id, "channel_id": channel, "root_id": "", "message": "work in progress"})),
    )
    .await;
    let (draft, ev) = event(&mut stream, |ev| match &ev.kind {
        EventKind::DraftCreated(d) => Some((d.draft.clone(), ev.clone())),
        _ => None,
    })
    .await;
    assert_eq!(draft.message.as_deref(), Some("work in progress"));
    assert_eq!(ev.channel_id(), Some(channel.as_str()));
    raw_json(
        &me.client,
        Method::DELETE,
        format!("/users/{}/channels/{channel}/drafts", me.id),
        None,
    )
    .await;
    let draft = event(&mut stream, |ev| match &ev.kind {
        EventKind::DraftDeleted(d) => Some(d.draft.clone()),
        _ => None,
    })
    .await;
    assert_eq!(draft.channel_id.as_deref(), Some(channel.as_str()));

    // My roles in the team.
    raw_json(
        &admin,
        Method::PUT,
        format!("/teams/{team}/members/{}/roles", me.id),
        Some(json!({"roles": "team_user team_admin"})),
    )
    .await;
    let member = event(&mut stream, |ev| match &ev.kind {
        EventKind::MemberRoleUpdated(m) => Some(m.member.clone()),
        _ => None,
    })
    .await;
    assert_eq!(member.team_id.as_deref(), Some(team.as_str()));
    assert_eq!(member.user_id.as_deref(), Some(me.id.as_str()));
    assert!(
        member
            .roles
            .as_deref()
            .is_some_and(|r| r.contains("team_admin")),
        "{member:?}"
    );

    // The team archived, then restored.
    raw_json(&admin, Method::DELETE, format!("/teams/{team}"), None).await;
    let archived = event(&mut stream, |ev| match &ev.kind {
        EventKind::DeleteTeam(t) => Some(t.team.clone()),
        _ => None,
    })
    .await;
    assert_eq!(archived.id.as_deref(), Some(team.as_str()));
    assert!(archived.delete_at.is_some_and(|d| d > 0));
    raw_json(&admin, Method::POST, format!("/teams/{team}/restore"), None).await;
    let restored = event(&mut stream, |ev| match &ev.kind {
        EventKind::RestoreTeam(t) => Some(t.team.clone()),
        _ => None,
    })
    .await;
    assert_eq!(restored.id.as_deref(), Some(team.as_str()));
    assert_eq!(restored.delete_at, Some(0));
}

#[tokio::test]
async fn deactivating_a_user_sends_user_activation_status_change() {
    let Some(conn) = support::live() else { return };
    let admin = support::admin(&conn);
    let (me, other, _channel) = setup(&conn, "wsactive").await;
    let (_handle, mut stream) = listen(&me).await;
    raw_json(
        &admin,
        Method::PUT,
        format!("/users/{}/active", other.id),
        Some(json!({"active": false})),
    )
    .await;
    let (ev, _) = event_and_before(&mut stream, |ev| {
        matches!(ev.kind, EventKind::UserActivationStatusChange).then(|| ev.clone())
    })
    .await;
    // No payload: who changed is to be refetched.
    assert_eq!(
        ev.data().as_object().map(|m| m.len()),
        Some(0),
        "{}",
        ev.raw()
    );
}
