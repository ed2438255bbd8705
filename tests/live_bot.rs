//! Live tests of the bot helpers (`matterapi::bot`) against the test server (`cargo xtask server
//! start`): each helper's call, what the server made of it (read back), and a bot answering a
//! mention over the websocket with the async and the blocking client. Each test works in a fresh
//! channel of its own, so that runs (and other tests) do not see each other's posts.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use matterapi::ws::{EventKind, Relogin, WsItem};
use matterapi::{Client, Error, types};
use support::{Connection, admin};

const WAIT: Duration = Duration::from_secs(30);

fn bot(conn: &Connection) -> Client {
    support::client(conn, &conn.bot.token)
}

async fn alice(conn: &Connection) -> Client {
    support::login(conn, &conn.user.username, &conn.user.password, None)
        .await
        .expect("alice logs in")
}

/// A fresh channel with alice and the bot in it; its id.
async fn channel(conn: &Connection) -> String {
    let admin = admin(conn);
    support::fresh_channel(
        conn,
        &admin,
        "bot-",
        &[conn.user.id.as_str(), conn.bot.user_id.as_str()],
    )
    .await
}

fn status(err: &Error) -> Option<u16> {
    err.status().map(|s| s.as_u16())
}

/// The posts of the thread of `root_id`, oldest first.
async fn thread(client: &Client, root_id: &str) -> Vec<types::Post> {
    let list = client
        .get_post_thread()
        .post_id(root_id)
        .send()
        .await
        .expect("thread")
        .into_inner();
    let mut posts: Vec<types::Post> = list.posts.unwrap_or_default().into_values().collect();
    posts.sort_by_key(|p| p.create_at);
    posts
}

/// Polls `check` every 200 ms until it gives something, failing after [`WAIT`].
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(t) = check().await {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn my_user_id_is_the_tokens_user() {
    let Some(conn) = support::live() else { return };
    assert_eq!(bot(&conn).my_user_id().await.unwrap(), conn.bot.user_id);
    assert_eq!(admin(&conn).my_user_id().await.unwrap(), conn.admin.id);
}

#[tokio::test]
async fn post_message_posts_in_the_channel_by_id() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let bot = bot(&conn);
    let post = bot.post_message(&channel_id, "hello by id").await.unwrap();
    assert_eq!(post.channel_id().unwrap(), channel_id);
    assert_eq!(post.user_id().unwrap(), conn.bot.user_id);
    assert_eq!(post.message().unwrap(), "hello by id");
    assert!(post.create_at().unwrap() > 0);
    assert!(!post.is_reply());
    let read = admin(&conn)
        .get_post()
        .post_id(post.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.message().unwrap(), "hello by id");
}

#[tokio::test]
async fn post_message_to_finds_the_channel_by_team_and_channel_name() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let admin = admin(&conn);
    let channel = admin
        .get_channel()
        .channel_id(&channel_id)
        .send()
        .await
        .unwrap();
    let name = channel.name().unwrap();
    let found = bot(&conn)
        .channel_by_name(&conn.team.name, name)
        .await
        .unwrap();
    assert_eq!(found.id().unwrap(), channel_id);
    assert_eq!(found.team_id().unwrap(), conn.team.id);
    let post = bot(&conn)
        .post_message_to(&conn.team.name, name, "hello by name")
        .await
        .unwrap();
    assert_eq!(post.channel_id().unwrap(), channel_id);
    assert_eq!(post.message().unwrap(), "hello by name");
}

#[tokio::test]
async fn post_message_to_an_unknown_team_or_channel_is_the_servers_404() {
    let Some(conn) = support::live() else { return };
    let bot = bot(&conn);
    let err = bot
        .post_message_to(&conn.team.name, "no-such-channel-here", "x")
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(404), "{err}");
    assert_eq!(
        err.error_id(),
        Some("app.channel.get_by_name.missing.app_error")
    );
    let err = bot
        .post_message_to("no-such-team-here", "town-square", "x")
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(404), "{err}");
    assert_eq!(
        err.error_id(),
        Some("app.team.get_by_name.missing.app_error")
    );
}

#[tokio::test]
async fn reply_goes_into_the_thread_of_the_root_even_for_a_reply() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let alice = alice(&conn).await;
    let bot = bot(&conn);
    let root = alice.post_message(&channel_id, "root").await.unwrap();
    let first = bot.reply(&root, "first reply").await.unwrap();
    assert_eq!(first.root_id.as_deref(), Some(root.id().unwrap()));
    assert_eq!(first.channel_id().unwrap(), channel_id);
    assert!(first.is_reply());
    // A reply to the reply: still in the root's thread (threads are one level deep).
    let second = alice.reply(&first, "reply to the reply").await.unwrap();
    assert_eq!(second.root_id.as_deref(), Some(root.id().unwrap()));
    // By id: the post is fetched first.
    let third = bot.reply(first.id().unwrap(), "by id").await.unwrap();
    assert_eq!(third.root_id.as_deref(), Some(root.id().unwrap()));
    let messages: Vec<String> = thread(&alice, root.id().unwrap())
        .await
        .iter()
        .map(|p| p.message().unwrap().to_owned())
        .collect();
    assert_eq!(
        messages,
        ["root", "first reply", "reply to the reply", "by id"]
    );
}

#[tokio::test]
async fn react_reacts_as_the_clients_own_user() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let alice = alice(&conn).await;
    let post = alice
        .post_message(&channel_id, "react to me")
        .await
        .unwrap();
    let reaction = bot(&conn)
        .react(post.id().unwrap(), "thumbsup")
        .await
        .unwrap();
    assert_eq!(reaction.user_id().unwrap(), conn.bot.user_id);
    assert_eq!(reaction.post_id().unwrap(), post.id().unwrap());
    assert_eq!(reaction.emoji_name().unwrap(), "thumbsup");
    let reactions = alice
        .get_reactions()
        .post_id(post.id().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner()
        .unwrap_or_default();
    assert_eq!(reactions.len(), 1, "{reactions:?}");
    assert_eq!(reactions[0].user_id().unwrap(), conn.bot.user_id);
}

#[tokio::test]
async fn edit_replaces_the_text_and_keeps_the_post() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let bot = bot(&conn);
    let post = bot.post_message(&channel_id, "before").await.unwrap();
    let edited = bot.edit(post.id().unwrap(), "after").await.unwrap();
    assert_eq!(edited.id().unwrap(), post.id().unwrap());
    assert_eq!(edited.message().unwrap(), "after");
    assert!(edited.edit_at.unwrap_or(0) > 0, "{edited:?}");
    let read = admin(&conn)
        .get_post()
        .post_id(post.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.message().unwrap(), "after");
}

#[tokio::test]
async fn ephemeral_reaches_its_user_over_the_websocket_and_is_not_stored() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let alice = alice(&conn).await;
    let (_handle, mut stream) = alice.websocket().connect().await.expect("connect");
    support::until(&mut stream, tokio::time::Instant::now() + WAIT, |i| {
        matches!(i, WsItem::Connected { .. }).then_some(())
    })
    .await;
    let text = support::unique("only for alice ");
    let admin = admin(&conn);
    let post = admin
        .ephemeral(&conn.user.id, &channel_id, text.as_str())
        .await
        .unwrap();
    assert_eq!(post.channel_id().unwrap(), channel_id);
    assert_eq!(post.message().unwrap(), text);
    let (seen, _) = support::until(
        &mut stream,
        tokio::time::Instant::now() + WAIT,
        |i| match i {
            WsItem::Event(ev) => match &ev.kind {
                EventKind::EphemeralMessage(p) if p.post.message.as_deref() == Some(&text) => {
                    Some(p.post.clone())
                }
                _ => None,
            },
            _ => None,
        },
    )
    .await;
    assert_eq!(seen.channel_id().unwrap(), channel_id);
    let err = admin
        .get_post()
        .post_id(post.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        status(&err),
        Some(404),
        "an ephemeral post is not stored: {err}"
    );
    // The bot lacks the permission by default: the server's 403, typed.
    let err = bot(&conn)
        .ephemeral(&conn.user.id, &channel_id, "no")
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(403), "{err}");
}

#[tokio::test]
async fn users_are_found_by_username_and_by_email() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let by_name = admin.user_by_username(&conn.user.username).await.unwrap();
    assert_eq!(by_name.id().unwrap(), conn.user.id);
    assert_eq!(by_name.username().unwrap(), conn.user.username);
    let with_at = admin
        .user_by_username(&format!("@{}", conn.user.username))
        .await
        .unwrap();
    assert_eq!(with_at.id().unwrap(), conn.user.id);
    let by_email = admin.user_by_email(&conn.user.email).await.unwrap();
    assert_eq!(by_email.id().unwrap(), conn.user.id);
    let err = admin
        .user_by_username("no-such-user-here")
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(404), "{err}");
    let err = admin
        .user_by_email("no-such-user@example.com")
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(404), "{err}");
}

/// What a bot's listener saw of the posts of one channel: (post id, mentions_me, is_from_me).
type Seen = Arc<Mutex<Vec<(String, bool, bool)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_answers_a_mention_in_its_thread_and_never_itself() {
    let Some(conn) = support::live() else { return };
    let channel_id = channel(&conn).await;
    let alice = alice(&conn).await;
    let direct_id = alice
        .create_direct_channel()
        .body([conn.user.id.clone(), conn.bot.user_id.clone()])
        .send()
        .await
        .expect("direct channel")
        .into_inner()
        .id()
        .unwrap()
        .to_owned();
    let bot = bot(&conn);
    let me = bot.my_user_id().await.unwrap();
    let seen: Seen = Arc::default();
    let only = [channel_id.clone(), direct_id.clone()];
    let (log, replier) = (seen.clone(), bot.clone());
    let listener = bot
        .spawn_ws(
            move |ev| {
                let (log, client, me, only) =
                    (log.clone(), replier.clone(), me.clone(), only.clone());
                async move {
                    let Some(posted) = ev.posted() else {
                        return Ok(());
                    };
                    if !only
                        .iter()
                        .any(|c| posted.post.channel_id.as_deref() == Some(c))
                    {
                        return Ok(());
                    }
                    log.lock().unwrap().push((
                        posted.post.id()?.to_owned(),
                        posted.mentions_me(&me),
                        posted.is_from_me(&me),
                    ));
                    if posted.is_for_me(&me) {
                        // The echo mentions the bot again: only `is_from_me` keeps it from
                        // answering itself.
                        posted
                            .reply(&client, format!("echo: {}", posted.post.message()?))
                            .await?;
                    }
                    Ok::<_, Error>(())
                }
            },
            Relogin::On,
        )
        .await
        .expect("listener");
    let plain = alice
        .post_message(&channel_id, "no mention here")
        .await
        .unwrap();
    let mention = alice
        .post_message(&channel_id, format!("@{} hello", conn.bot.username))
        .await
        .unwrap();
    let direct = alice
        .post_message(&direct_id, "hello in private")
        .await
        .unwrap();
    for (root, text) in [
        (&mention, format!("echo: @{} hello", conn.bot.username)),
        (&direct, "echo: hello in private".to_owned()),
    ] {
        let replies = eventually("the bot's reply", || {
            let alice = alice.clone();
            let root = root.id().unwrap().to_owned();
            async move {
                let posts = thread(&alice, &root).await;
                (posts.len() >= 2).then_some(posts)
            }
        })
        .await;
        assert_eq!(replies[1].user_id().unwrap(), conn.bot.user_id);
        assert_eq!(replies[1].message().unwrap(), text);
        // The bot sees its own reply on its websocket, and does not answer it.
        let reply_id = replies[1].id().unwrap().to_owned();
        eventually("the bot's own reply on its websocket", || {
            let seen = seen.clone();
            let reply_id = reply_id.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .iter()
                    .any(|s| s.0 == reply_id)
                    .then_some(())
            }
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = seen.lock().unwrap().clone();
    let of = |id: &str| seen.iter().find(|s| s.0 == id).map(|s| (s.1, s.2));
    assert_eq!(of(plain.id().unwrap()), Some((false, false)));
    assert_eq!(of(mention.id().unwrap()), Some((true, false)));
    // The server counts a post in a direct channel as a mention of the other member.
    assert_eq!(of(direct.id().unwrap()), Some((true, false)));
    assert_eq!(seen.len(), 5, "3 posts of alice, 2 replies: {seen:?}");
    assert_eq!(thread(&alice, mention.id().unwrap()).await.len(), 2);
    assert_eq!(thread(&alice, direct.id().unwrap()).await.len(), 2);
    listener.shutdown().await.expect("shutdown");
}

/// The blocking twin of the bot: `start_ws_sync` with a plain function that answers with the
/// blocking client (allowed on the handler's thread), and `start_ws_sync_async` with an async one.
/// The listeners run on threads that end with the test process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_bot_answers_with_either_handler_kind() {
    let Some(conn) = support::live() else { return };
    for asynchronous in [false, true] {
        let channel_id = channel(&conn).await;
        let (bot_conn, only) = (conn.clone(), channel_id.clone());
        std::thread::spawn(move || {
            let bot = matterapi::blocking::Client::with_token(&bot_conn.url, &bot_conn.bot.token)
                .expect("client");
            let me = bot.my_user_id().expect("me");
            let replier = bot.clone();
            let result = if asynchronous {
                let client = bot.async_client().clone();
                bot.start_ws_sync_async(
                    move |ev| {
                        let (client, me, only) = (client.clone(), me.clone(), only.clone());
                        async move {
                            if let Some(posted) = ev.posted()
                                && posted.post.channel_id.as_deref() == Some(only.as_str())
                                && posted.is_for_me(&me)
                            {
                                posted.reply(&client, "async handler").await?;
                            }
                            Ok::<_, Error>(())
                        }
                    },
                    Relogin::On,
                )
            } else {
                bot.start_ws_sync(
                    move |ev| {
                        if let Some(posted) = ev.posted()
                            && posted.post.channel_id.as_deref() == Some(only.as_str())
                            && posted.is_for_me(&me)
                        {
                            replier.reply(&posted.post, "plain handler")?;
                        }
                        Ok::<_, Error>(())
                    },
                    true,
                )
            };
            panic!("the listener ended: {result:?}");
        });
        let alice = alice(&conn).await;
        // The listener connects in the background: mention until it answers.
        let answer = if asynchronous {
            "async handler"
        } else {
            "plain handler"
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        let reply = 'found: loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no reply from the blocking bot"
            );
            let root = alice
                .post_message(&channel_id, format!("@{} ping", conn.bot.username))
                .await
                .unwrap();
            for _ in 0..15 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if let Some(reply) = thread(&alice, root.id().unwrap()).await.get(1) {
                    break 'found reply.clone();
                }
            }
        };
        assert_eq!(reply.message().unwrap(), answer);
        assert_eq!(reply.user_id().unwrap(), conn.bot.user_id);
    }
}
