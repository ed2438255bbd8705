//! The bot helpers on loopback fakes: what each sends (the thread a reply goes to, the user a
//! reaction is made as), the typed errors (a missing field, the server's 404 for an unknown
//! channel), the `Posted` predicates on decoded events, `Relogin`, and the blocking client's
//! listeners with a plain function using the blocking client and with an async handler.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use matterapi::ws::{Event, Frame, Posted, Relogin, WsError, WsItem};
use matterapi::{Error, types};
use serde_json::{Value, json};
use support::rest::client_for;
use support::ws_peer::{Peer, TOKEN, no_proxies};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(10);

fn post(value: Value) -> types::Post {
    serde_json::from_value(value).expect("a post")
}

/// `POST /api/v4/posts` answering `reply`, expected `times` times with a body containing `body`.
async fn mount_create_post(server: &MockServer, body: Value, reply: Value, times: u64) {
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .and(body_partial_json(body))
        .respond_with(ResponseTemplate::new(201).set_body_json(reply))
        .expect(times)
        .mount(server)
        .await;
}

#[test]
fn an_absent_field_is_a_missing_field_error_naming_type_and_field() {
    let p = post(json!({"id": "p1", "message": "", "user_id": ""}));
    assert_eq!(p.id().unwrap(), "p1");
    // An empty message is a message; an empty id is no id.
    assert_eq!(p.message().unwrap(), "");
    let err = p.user_id().unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingField {
                type_name: "Post",
                field: "user_id"
            }
        ),
        "{err:?}"
    );
    let err = p.create_at().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server's Post has no `create_at`, a field the server always fills"
    );
    let channel: types::Channel = serde_json::from_value(json!({"id": "c1"})).unwrap();
    assert!(matches!(
        channel.channel_type(),
        Err(Error::MissingField {
            type_name: "Channel",
            field: "type"
        })
    ));
    let user = types::User::default();
    assert!(matches!(
        user.username(),
        Err(Error::MissingField {
            type_name: "User",
            field: "username"
        })
    ));
}

#[test]
fn a_posts_thread_is_its_root_when_it_is_a_reply_else_itself() {
    assert_eq!(
        post(json!({"id": "p1", "root_id": ""}))
            .thread_id()
            .unwrap(),
        "p1"
    );
    assert_eq!(
        post(json!({"id": "p2", "root_id": "p1"}))
            .thread_id()
            .unwrap(),
        "p1"
    );
    assert!(post(json!({"id": "p2", "root_id": "p1"})).is_reply());
    assert!(matches!(
        post(json!({})).thread_id(),
        Err(Error::MissingField { field: "id", .. })
    ));
}

#[tokio::test]
async fn a_reply_the_server_sends_without_a_field_is_a_typed_error_on_access() {
    let server = MockServer::start().await;
    mount_create_post(&server, json!({"channel_id": "c1"}), json!({"id": "p1"}), 1).await;
    let client = client_for(&server, "t");
    let made = client.post_message("c1", "hi").await.unwrap();
    assert!(matches!(
        made.channel_id(),
        Err(Error::MissingField {
            type_name: "Post",
            field: "channel_id"
        })
    ));
    // A reply to a post whose channel is unknown is refused before anything is sent.
    let err = client.reply(&made, "re").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingField {
                field: "channel_id",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn post_message_to_an_unknown_channel_is_the_servers_404_and_posts_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/teams/name/team/channels/name/nope"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "id": "app.channel.get_by_name.missing.app_error",
            "message": "Channel does not exist.",
            "request_id": "r1",
            "status_code": 404
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_create_post(&server, json!({}), json!({}), 0).await;
    let err = client_for(&server, "t")
        .post_message_to("team", "nope", "hi")
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(
        err.error_id(),
        Some("app.channel.get_by_name.missing.app_error")
    );
    assert_eq!(err.request_id(), Some("r1"));
}

#[tokio::test]
async fn post_message_to_posts_in_the_channel_it_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/teams/name/team/channels/name/town-square"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "c9"})))
        .mount(&server)
        .await;
    mount_create_post(
        &server,
        json!({"channel_id": "c9", "message": "hi"}),
        json!({"id": "p1", "channel_id": "c9"}),
        1,
    )
    .await;
    let made = client_for(&server, "t")
        .post_message_to("team", "town-square", "hi")
        .await
        .unwrap();
    assert_eq!(made.channel_id().unwrap(), "c9");
}

#[tokio::test]
async fn a_reply_goes_to_the_thread_of_the_root() {
    let server = MockServer::start().await;
    // To a root post: its id. To a reply: the reply's root. By id: the post is fetched first.
    mount_create_post(
        &server,
        json!({"channel_id": "c1", "root_id": "root", "message": "to root"}),
        json!({"id": "r1"}),
        1,
    )
    .await;
    mount_create_post(
        &server,
        json!({"channel_id": "c1", "root_id": "root", "message": "to reply"}),
        json!({"id": "r2"}),
        1,
    )
    .await;
    mount_create_post(
        &server,
        json!({"channel_id": "c1", "root_id": "root", "message": "by id"}),
        json!({"id": "r3"}),
        1,
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/posts/r1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "r1", "channel_id": "c1", "root_id": "root"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server, "t");
    let root = post(json!({"id": "root", "channel_id": "c1", "root_id": ""}));
    let reply = post(json!({"id": "r1", "channel_id": "c1", "root_id": "root"}));
    client.reply(&root, "to root").await.unwrap();
    client.reply(&reply, "to reply").await.unwrap();
    client.reply("r1", "by id").await.unwrap();
}

#[tokio::test]
async fn react_reacts_as_the_clients_user_fetched_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/reactions"))
        .and(body_partial_json(
            json!({"user_id": "u1", "post_id": "p1", "emoji_name": "thumbsup"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user_id": "u1", "post_id": "p1", "emoji_name": "thumbsup"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = client_for(&server, "t");
    let reaction = client.react("p1", "thumbsup").await.unwrap();
    assert_eq!(reaction.user_id().unwrap(), "u1");
    client.react("p1", "thumbsup").await.unwrap();
}

#[tokio::test]
async fn a_new_token_forgets_the_user_of_the_old_one() {
    let server = MockServer::start().await;
    for (token, id) in [("t1", "u1"), ("t2", "u2")] {
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .and(wiremock::matchers::header(
                "authorization",
                format!("Bearer {token}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": id})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client_for(&server, "t1");
    assert_eq!(client.my_user_id().await.unwrap(), "u1");
    assert_eq!(client.my_user_id().await.unwrap(), "u1");
    client.set_token("t2");
    assert_eq!(client.my_user_id().await.unwrap(), "u2");
}

#[tokio::test]
async fn edit_patches_the_message_and_ephemeral_names_its_user() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/posts/p1/patch"))
        .and(body_partial_json(json!({"message": "after"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "p1", "message": "after"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts/ephemeral"))
        .and(body_partial_json(
            json!({"user_id": "u2", "post": {"channel_id": "c1", "message": "psst"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "e1"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server, "t");
    assert_eq!(
        client.edit("p1", "after").await.unwrap().message().unwrap(),
        "after"
    );
    assert_eq!(
        client
            .ephemeral("u2", "c1", "psst")
            .await
            .unwrap()
            .id()
            .unwrap(),
        "e1"
    );
}

/// A decoded `posted` event of `post` with `extra` data fields.
fn posted_event(post: Value, extra: Value) -> Event {
    let mut data = json!({"post": post.to_string(), "channel_type": "O"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        data[k] = v.clone();
    }
    let frame = json!({"event": "posted", "data": data, "broadcast": {}, "seq": 1});
    match Frame::parse(frame.to_string()) {
        Ok(Frame::Event(ev)) => ev,
        other => panic!("not an event: {other:?}"),
    }
}

fn posted(ev: &Event) -> &Posted {
    ev.posted().expect("a posted event")
}

#[test]
fn mentions_and_authors_are_read_from_the_decoded_event() {
    let mention = posted_event(
        json!({"id": "p1", "user_id": "alice", "message": "@bot hi"}),
        json!({"mentions": "[\"bot\"]"}),
    );
    let p = posted(&mention);
    assert!(p.mentions_me("bot"));
    assert!(!p.mentions_me("carol"));
    assert!(!p.is_from_me("bot"));
    assert!(p.is_from_me("alice"));
    assert!(p.is_for_me("bot"));
    // The bot's own post mentioning itself: not for it.
    let own = posted_event(
        json!({"id": "p2", "user_id": "bot", "message": "@bot"}),
        json!({"mentions": "[\"bot\"]"}),
    );
    assert!(posted(&own).mentions_me("bot"));
    assert!(posted(&own).is_from_me("bot"));
    assert!(!posted(&own).is_for_me("bot"));
    // No mention in an open channel: not for it; in a direct channel: for it.
    let plain = posted_event(json!({"id": "p3", "user_id": "alice"}), json!({}));
    assert!(!posted(&plain).mentions_me("bot"));
    assert!(!posted(&plain).is_for_me("bot"));
    let direct = posted_event(
        json!({"id": "p4", "user_id": "alice"}),
        json!({"channel_type": "D"}),
    );
    assert!(posted(&direct).is_direct());
    assert!(posted(&direct).is_for_me("bot"));
    // A system message is never for it, nor is anything for an empty id.
    let system = posted_event(
        json!({"id": "p5", "user_id": "alice", "type": "system_join_channel"}),
        json!({"channel_type": "D", "mentions": "[\"bot\"]"}),
    );
    assert!(posted(&system).is_system());
    assert!(!posted(&system).is_for_me("bot"));
    assert!(!posted(&plain).is_from_me(""));
    assert!(!posted(&direct).is_for_me(""));
    // Not a posted event.
    let typing = match Frame::parse(r#"{"event":"typing","data":{},"broadcast":{},"seq":2}"#) {
        Ok(Frame::Event(ev)) => ev,
        other => panic!("{other:?}"),
    };
    assert!(typing.posted().is_none());
}

#[test]
fn relogin_is_a_bool_by_name() {
    assert_eq!(Relogin::from(true), Relogin::On);
    assert_eq!(Relogin::from(false), Relogin::Off);
    assert!(bool::from(Relogin::On));
    assert!(!bool::from(Relogin::Off));
    assert_eq!(Relogin::default(), Relogin::On);
}

/// A client logging in on `rest` (a first session [`TOKEN`], then `t2`), listening on `peer`.
async fn login_client(rest: &MockServer, peer: &Peer) -> matterapi::Client {
    support::rest::mount_logins(rest, &[TOKEN, "t2"]).await;
    peer.add_token("t2");
    let client = matterapi::Client::builder(rest.uri())
        .login("alice", "pw")
        .ws_url(peer.ws_url())
        .ws_reconnect_wait_time(Duration::from_millis(10))
        .proxies(no_proxies())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client.login().await.unwrap();
    client
}

#[tokio::test]
async fn relogin_off_ends_the_listener_where_relogin_on_renews_the_session() {
    for relogin in [Relogin::Off, Relogin::On] {
        let (rest, peer) = (MockServer::start().await, Peer::start().await);
        let client = login_client(&rest, &peer).await;
        let items: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = items.clone();
        let listener = client
            .websocket()
            .relogin(relogin)
            .ping_interval(Duration::from_millis(50))
            .on_connection(move |item| {
                let log = log.clone();
                async move {
                    if let WsItem::Connected { .. } = item {
                        log.lock().unwrap().push("connected".into());
                    }
                }
            })
            .spawn(|_| async { Ok::<_, std::io::Error>(()) })
            .await
            .unwrap();
        peer.revoke(TOKEN);
        match relogin {
            Relogin::Off => {
                let end = tokio::time::timeout(WAIT, listener.wait()).await.unwrap();
                assert!(
                    matches!(
                        end.as_ref().map_err(|e| e.as_websocket()),
                        Err(Some(WsError::SessionRevoked))
                    ),
                    "{end:?}"
                );
            }
            Relogin::On => {
                let deadline = tokio::time::Instant::now() + WAIT;
                while items.lock().unwrap().len() < 2 {
                    assert!(tokio::time::Instant::now() < deadline, "no new connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                assert!(!listener.is_finished());
                listener.shutdown().await.unwrap();
            }
        }
    }
}

/// REST for the blocking bot: `POST /api/v4/posts` answers a reply and counts the calls.
async fn rest_counting_posts() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .and(body_partial_json(
            json!({"root_id": "p1", "channel_id": "c1"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "r1"})))
        .mount(&server)
        .await;
    server
}

fn publish_mention(peer: &Peer) {
    peer.publish(
        "posted",
        json!({
            "post": json!({"id": "p1", "channel_id": "c1", "user_id": "alice", "root_id": ""}).to_string(),
            "channel_type": "O",
            "mentions": "[\"bot\"]"
        }),
    );
}

#[test]
fn start_ws_sync_handlers_may_use_the_blocking_client() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (rest, peer) = rt.block_on(async { (rest_counting_posts().await, Peer::start().await) });
    let options = matterapi::Client::builder(rest.uri())
        .token(TOKEN)
        .ws_url(peer.ws_url())
        .proxies(no_proxies())
        .timeout(Duration::from_secs(5))
        .options()
        .unwrap();
    let client = matterapi::blocking::Client::from_options(options).unwrap();
    let results: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = results.clone();
    let replier = client.clone();
    let listener = std::thread::spawn(move || {
        client.start_ws_sync(
            move |ev| {
                if let Some(p) = ev.posted()
                    && p.is_for_me("bot")
                {
                    let outcome = match replier.reply(&p.post, "pong") {
                        Ok(reply) => reply.id().unwrap_or("").to_owned(),
                        Err(e) => format!("error: {e}"),
                    };
                    log.lock().unwrap().push(outcome);
                }
                Ok::<(), Error>(())
            },
            Relogin::Off,
        )
    });
    rt.block_on(async {
        peer.wait_until("a live socket", WAIT, |p| p.live() == 1)
            .await;
        publish_mention(&peer);
        let deadline = tokio::time::Instant::now() + WAIT;
        while results.lock().unwrap().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "the handler ran");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        peer.revoke(TOKEN);
        peer.drop_all();
    });
    assert_eq!(*results.lock().unwrap(), ["r1"]);
    let end = listener.join().unwrap().unwrap_err();
    assert!(
        matches!(end.as_websocket(), Some(WsError::AuthRejected)),
        "{end:?}"
    );
}

#[test]
fn start_ws_sync_async_runs_an_async_handler_with_the_async_client() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (rest, peer) = rt.block_on(async { (rest_counting_posts().await, Peer::start().await) });
    let options = matterapi::Client::builder(rest.uri())
        .token(TOKEN)
        .ws_url(peer.ws_url())
        .proxies(no_proxies())
        .timeout(Duration::from_secs(5))
        .options()
        .unwrap();
    let client = matterapi::blocking::Client::from_options(options).unwrap();
    let results: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = results.clone();
    let replier = client.async_client().clone();
    let listener = std::thread::spawn(move || {
        client.start_ws_sync_async(
            move |ev| {
                let (log, client) = (log.clone(), replier.clone());
                async move {
                    if let Some(p) = ev.posted()
                        && p.is_for_me("bot")
                    {
                        let reply = p.reply(&client, "pong").await?;
                        log.lock().unwrap().push(reply.id()?.to_owned());
                    }
                    Ok::<(), Error>(())
                }
            },
            false,
        )
    });
    rt.block_on(async {
        peer.wait_until("a live socket", WAIT, |p| p.live() == 1)
            .await;
        publish_mention(&peer);
        let deadline = tokio::time::Instant::now() + WAIT;
        while results.lock().unwrap().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "the handler ran");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        peer.revoke(TOKEN);
        peer.drop_all();
    });
    assert_eq!(*results.lock().unwrap(), ["r1"]);
    let end = listener.join().unwrap().unwrap_err();
    assert!(
        matches!(end.as_websocket(), Some(WsError::AuthRejected)),
        "{end:?}"
    );
}
