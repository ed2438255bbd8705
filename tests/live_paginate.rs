//! Pagination against the real server (`cargo xtask server start`): more than 200 posts (the
//! server's page cap) walked with every post cursor, each post exactly once; users paged in small
//! pages, each user exactly once.

#![cfg(all(feature = "users", feature = "posts", feature = "channels"))]

mod support;

use std::collections::HashSet;

use matterapi::paginate::{PostCursor, paginate};
use matterapi::{Client, Error, types};
use support::admin;

/// More than one page of the server's largest (200).
const POSTS: usize = 210;

/// Creates `n` posts in `channel_id`, one after the other, and gives their ids. One at a time so
/// that no two share a `create_at` millisecond: the server orders its pages by `create_at`, and
/// with ties an offset page walk may return a post twice (and skip another), whatever the client.
async fn create_posts(client: &Client, channel_id: &str, n: usize) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut times = HashSet::new();
    for i in 0..n {
        let post = support::post(client, channel_id, &format!("paging post {i}")).await;
        times.insert(post.create_at.expect("create_at"));
        ids.insert(post.id.expect("post id"));
    }
    assert_eq!(ids.len(), n);
    assert_eq!(times.len(), n, "every post has its own create_at");
    ids
}

/// Asserts that `walked` holds each of `expected` exactly once and nothing twice.
fn assert_each_once(what: &str, walked: &[types::Post], expected: &HashSet<String>) {
    let ids: Vec<&str> = walked.iter().filter_map(|p| p.id.as_deref()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{what}: a post came twice");
    let missing: Vec<&String> = expected
        .iter()
        .filter(|id| !unique.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{what}: {} posts missing",
        missing.len()
    );
}

fn create_at(p: &types::Post) -> i64 {
    p.create_at.unwrap_or(0)
}

#[tokio::test]
async fn more_than_200_posts_are_walked_each_exactly_once_with_every_cursor() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let channel = support::fresh_channel(&conn, &admin, "matterapi-pg-", &[]).await;
    let created = create_posts(&admin, &channel, POSTS).await;

    // Newest first, from the top: the 210 posts (and the channel's system posts), once each.
    let mut walk = admin.channel_posts(&channel, PostCursor::Newest);
    let mut newest_first = Vec::new();
    while let Some(post) = walk.next().await {
        newest_first.push(post.expect("post"));
    }
    assert_each_once("newest first", &newest_first, &created);
    assert!(walk.pages_fetched() >= 2, "{} pages", walk.pages_fetched());
    let times: Vec<i64> = newest_first.iter().map(create_at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    let ours: Vec<&types::Post> = newest_first
        .iter()
        .filter(|p| created.contains(p.id.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(ours.len(), POSTS);

    // Forward from the channel's oldest post: everything made after it, oldest first.
    let oldest = newest_first.last().expect("a post");
    let oldest_id = oldest.id.clone().expect("id");
    let after: Vec<types::Post> = admin
        .channel_posts(&channel, PostCursor::After(oldest_id))
        .try_collect()
        .await
        .expect("after");
    let newer: HashSet<String> = ours
        .iter()
        .filter(|p| create_at(p) > create_at(oldest))
        .filter_map(|p| p.id.clone())
        .collect();
    assert_each_once("after the oldest", &after, &newer);
    let times: Vec<i64> = after.iter().map(create_at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not oldest first");

    // Back from our newest post: all of ours made before its millisecond.
    let newest = ours[0];
    let before: Vec<types::Post> = admin
        .channel_posts(&channel, PostCursor::Before(newest.id.clone().expect("id")))
        .try_collect()
        .await
        .expect("before");
    let older: HashSet<String> = ours
        .iter()
        .filter(|p| create_at(p) < create_at(newest))
        .filter_map(|p| p.id.clone())
        .collect();
    assert!(older.len() > 200, "{} older posts", older.len());
    assert_each_once("before the newest", &before, &older);

    // Changed since just before the first of ours: all of them, in one reply.
    let first = ours.iter().map(|p| create_at(p)).min().expect("a post");
    let mut since = admin.channel_posts(&channel, PostCursor::Since(first - 1));
    let mut changed = Vec::new();
    while let Some(post) = since.next().await {
        changed.push(post.expect("post"));
    }
    assert_each_once("since", &changed, &created);

    // The page/per_page walk over the same posts (the channel's unthreaded page listing).
    let pages = paginate(|page, per_page| {
        let admin = admin.clone();
        let channel = channel.clone();
        async move {
            let list = admin
                .get_posts_for_channel()
                .channel_id(channel)
                .page(page)
                .per_page(per_page)
                .send()
                .await?
                .into_inner();
            Ok::<_, Error>(list.order.unwrap_or_default())
        }
    });
    let ids = pages.try_collect().await.expect("pages");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "page walk: a post came twice");
    assert!(
        created.iter().all(|id| unique.contains(id)),
        "page walk: posts missing"
    );

    admin
        .delete_channel()
        .channel_id(&channel)
        .send()
        .await
        .expect("archive channel");
}

#[tokio::test]
async fn users_are_paged_each_exactly_once() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let members = [
        conn.user.id.as_str(),
        conn.user2.id.as_str(),
        conn.bot.user_id.as_str(),
    ];
    let channel = support::fresh_channel(&conn, &admin, "matterapi-pg-", &members).await;
    let mut expected: HashSet<String> = members.iter().map(|s| s.to_string()).collect();
    expected.insert(conn.admin.id.clone());

    for per_page in [1, 3, 200] {
        let users = paginate(|page, n| {
            admin
                .get_users()
                .in_channel(channel.clone())
                .page(page)
                .per_page(n)
                .send()
        })
        .per_page(per_page)
        .try_collect()
        .await
        .expect("users");
        let ids: Vec<String> = users.iter().filter_map(|u| u.id.clone()).collect();
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "per_page {per_page}: a user came twice"
        );
        assert_eq!(unique, expected, "per_page {per_page}");
    }

    // Every user of the server, in pages of 2: the bootstrap accounts are all there. (Other test
    // runs may create users meanwhile, which shifts later pages: no "exactly once" here.)
    let mut stream =
        paginate(|page, n| admin.get_users().page(page).per_page(n).send()).per_page(2);
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(user) = stream.next().await {
        seen.insert(user.expect("user").id.unwrap_or_default());
    }
    for id in [
        &conn.admin.id,
        &conn.user.id,
        &conn.user2.id,
        &conn.mfa_user.id,
    ] {
        assert!(seen.contains(id), "{id} missing");
    }
    assert!(stream.pages_fetched() >= 3);

    admin
        .delete_channel()
        .channel_id(&channel)
        .send()
        .await
        .expect("archive channel");
}
