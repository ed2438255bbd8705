//! The area handles, the `&str` setters and the body constructors against the real server (`cargo
//! xtask server start`; skipped with a note outside CI when it is not running).

mod support;

use matterapi::types;

#[tokio::test]
async fn handles_setters_and_constructors_work_against_the_server() {
    let Some(conn) = support::live() else { return };
    let client = support::login(&conn, &conn.user.username, &conn.user.password, None)
        .await
        .expect("login");

    // A path parameter as the handle's argument.
    let me = client
        .users()
        .get_user("me")
        .send()
        .await
        .expect("get_user");
    assert_eq!(me.id.as_deref(), Some(conn.user.id.as_str()));
    let channel = client
        .channels()
        .get_channel_by_name(&conn.team.id, "town-square")
        .send()
        .await
        .expect("get_channel_by_name");
    assert_eq!(
        channel.id.as_deref(),
        Some(conn.channels.town_square.as_str())
    );

    // A constructor with the required fields, then a threaded reply through `&str` setters.
    let root = client
        .posts()
        .create_post()
        .body(types::CreatePostBody::new(
            &conn.channels.town_square,
            "handles: root",
        ))
        .send()
        .await
        .expect("create root");
    let root_id = root.id.clone().expect("the server gives the post an id");
    let reply = client
        .posts()
        .create_post()
        .body_map(|b| {
            b.channel_id(&conn.channels.town_square)
                .message("handles: reply")
                .root_id(&root_id)
        })
        .send()
        .await
        .expect("create reply");
    assert_eq!(reply.root_id.as_deref(), Some(root_id.as_str()));

    // Two path parameters, in path order.
    let thread = client
        .posts()
        .get_post_thread(&root_id)
        .send()
        .await
        .expect("get_post_thread");
    let reply_id = reply.id.clone().expect("an id");
    let posts = thread.posts.clone().unwrap_or_default();
    assert!(posts.contains_key(&reply_id), "{:?}", posts.keys());
    let member = client
        .channels()
        .get_channel_member(&conn.channels.town_square, "me")
        .send()
        .await
        .expect("get_channel_member");
    assert_eq!(member.user_id.as_deref(), Some(conn.user.id.as_str()));

    // Every page of a paged list through the builder's `paginate()`, two members a page.
    let members = client
        .channels()
        .get_channel_members(&conn.channels.town_square)
        .paginate()
        .per_page(2)
        .try_collect()
        .await
        .expect("members");
    assert!(
        members
            .iter()
            .any(|m| m.user_id.as_deref() == Some(conn.user.id.as_str())),
        "{members:?}"
    );
    assert!(members.len() > 2, "more than one page: {}", members.len());

    // The flat methods still work, and give the same reply.
    let flat = client.get_user().user_id("me").send().await.expect("flat");
    assert_eq!(flat.id, me.id);
}
