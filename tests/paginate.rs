//! Pagination against loopback fakes (wiremock): `page`/`per_page` walks stop on a short page, end
//! with an error that comes mid-way, and honour a page bound; post cursor walks give every post
//! once, posts made in the same millisecond included.

#![cfg(all(feature = "users", feature = "posts"))]

mod support;

use std::collections::{HashMap, HashSet};

use matterapi::paginate::{MAX_PER_PAGE, PostCursor, paginate};
use matterapi::{Client, Error};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A client of `server` that does not retry.
fn client(server: &MockServer) -> Client {
    support::client_with(&server.uri(), "t", |b| {
        b.retry(matterapi::retry::RetryPolicy::off())
    })
}

fn users(from: usize, count: usize) -> Value {
    Value::Array(
        (from..from + count)
            .map(|i| json!({"id": format!("u{i}"), "username": format!("user{i}")}))
            .collect(),
    )
}

async fn mount_users_page(server: &MockServer, page: u32, per_page: u32, reply: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query_param("page", page.to_string().as_str()))
        .and(query_param("per_page", per_page.to_string().as_str()))
        .respond_with(reply)
        .expect(1)
        .mount(server)
        .await;
}

fn ids(users: &[matterapi::types::User]) -> Vec<String> {
    users.iter().filter_map(|u| u.id.clone()).collect()
}

#[tokio::test]
async fn pages_of_200_are_walked_until_a_short_one() {
    let server = MockServer::start().await;
    let ok = |v| ResponseTemplate::new(200).set_body_json(v);
    mount_users_page(&server, 0, 200, ok(users(0, 200))).await;
    mount_users_page(&server, 1, 200, ok(users(200, 200))).await;
    mount_users_page(&server, 2, 200, ok(users(400, 5))).await;
    // Nothing asks for page 3: there is no mock for it (an unmatched request is a 404).
    let client = client(&server);

    let all = paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
        .try_collect()
        .await
        .expect("users");
    let expected: Vec<String> = (0..405).map(|i| format!("u{i}")).collect();
    assert_eq!(ids(&all), expected);
}

#[tokio::test]
async fn a_full_last_page_costs_one_empty_page() {
    let server = MockServer::start().await;
    let ok = |v| ResponseTemplate::new(200).set_body_json(v);
    mount_users_page(&server, 0, 3, ok(users(0, 3))).await;
    mount_users_page(&server, 1, 3, ok(json!([]))).await;
    let client = client(&server);

    let mut stream =
        paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
            .per_page(3);
    let mut got = Vec::new();
    while let Some(user) = stream.next().await {
        got.push(user.expect("user").id.unwrap_or_default());
    }
    assert_eq!(got, ["u0", "u1", "u2"]);
    assert_eq!(stream.pages_fetched(), 2);
}

#[tokio::test]
async fn per_page_is_kept_within_the_server_cap() {
    let server = MockServer::start().await;
    mount_users_page(
        &server,
        0,
        MAX_PER_PAGE,
        ResponseTemplate::new(200).set_body_json(users(0, 1)),
    )
    .await;
    let client = client(&server);

    let all = paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
        .per_page(1000)
        .try_collect()
        .await
        .expect("users");
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn an_error_mid_way_ends_the_stream_with_the_error() {
    let server = MockServer::start().await;
    let ok = |v| ResponseTemplate::new(200).set_body_json(v);
    mount_users_page(&server, 0, 2, ok(users(0, 2))).await;
    let failure = ResponseTemplate::new(500).set_body_json(json!({
        "id": "app.user.get.app_error", "message": "We couldn't get the users.",
        "status_code": 500, "request_id": "rq500"
    }));
    mount_users_page(&server, 1, 2, failure).await;
    let client = client(&server);

    let mut stream =
        paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
            .per_page(2);
    assert_eq!(
        stream.next().await.unwrap().unwrap().id.as_deref(),
        Some("u0")
    );
    assert_eq!(
        stream.next().await.unwrap().unwrap().id.as_deref(),
        Some("u1")
    );
    let err = stream
        .next()
        .await
        .expect("an item")
        .expect_err("the error");
    assert_eq!(err.error_id(), Some("app.user.get.app_error"));
    assert_eq!(err.request_id(), Some("rq500"));
    assert!(
        stream.next().await.is_none(),
        "the stream goes on after its error"
    );
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn try_collect_gives_the_first_error() {
    let server = MockServer::start().await;
    mount_users_page(&server, 0, 200, ResponseTemplate::new(403)).await;
    let client = client(&server);

    let err = paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
        .try_collect()
        .await
        .expect_err("403");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn max_pages_bounds_the_walk() {
    let server = MockServer::start().await;
    // Endless full pages, each with other users (a page repeating the one before is an error).
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .respond_with(|req: &Request| {
            let page: usize = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            ResponseTemplate::new(200).set_body_json(users(page * 2, 2))
        })
        .expect(3)
        .mount(&server)
        .await;
    let client = client(&server);

    let mut stream =
        paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
            .per_page(2)
            .max_pages(3);
    let mut n = 0;
    while let Some(user) = stream.next().await {
        user.expect("user");
        n += 1;
    }
    assert_eq!((n, stream.pages_fetched()), (6, 3));
}

#[tokio::test]
async fn start_page_and_any_page_source_work() {
    // Any closure giving a `Vec` (here: no server at all) pages as well.
    let data: Vec<u32> = (0..25).collect();
    let stream = paginate(|page, per_page| {
        let (from, n) = ((page * per_page) as usize, per_page as usize);
        let page: Vec<u32> = data.iter().skip(from).take(n).copied().collect();
        async move { Ok::<_, Error>(page) }
    })
    .per_page(10)
    .start_page(1);
    assert_eq!(
        stream.try_collect().await.unwrap(),
        (10..25).collect::<Vec<_>>()
    );
}

// ----- post cursors -----

/// A channel's posts served as Mattermost does: newest first, `before`/`after` comparing creation
/// times strictly (posts made in the same millisecond as the cursor post are not on the next page),
/// `prev_post_id`/`next_post_id` empty when the page is short, `since` by update time.
struct FakeChannel {
    /// (id, create_at, update_at), any order.
    posts: Vec<(String, i64, i64)>,
    requests: std::sync::atomic::AtomicUsize,
}

impl FakeChannel {
    fn new(posts: Vec<(String, i64, i64)>) -> FakeChannel {
        FakeChannel {
            posts,
            requests: Default::default(),
        }
    }

    fn list(&self, page: Vec<&(String, i64, i64)>, prev: &str, next: &str) -> Value {
        let mut page = page;
        page.sort_by_key(|p| std::cmp::Reverse(p.1));
        let order: Vec<&str> = page.iter().map(|p| p.0.as_str()).collect();
        let posts: serde_json::Map<String, Value> = page
            .iter()
            .map(|p| {
                (
                    p.0.clone(),
                    json!({"id": p.0, "channel_id": "c1", "create_at": p.1, "update_at": p.2}),
                )
            })
            .collect();
        json!({"order": order, "posts": posts, "prev_post_id": prev, "next_post_id": next})
    }
}

impl Respond for FakeChannel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let q: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(60);
        let created = |id: &str| self.posts.iter().find(|p| p.0 == id).map(|p| p.1);
        let mut desc: Vec<&(String, i64, i64)> = self.posts.iter().collect();
        desc.sort_by_key(|p| std::cmp::Reverse(p.1));
        let body = if let Some(since) = q.get("since").and_then(|v| v.parse::<i64>().ok()) {
            let changed = desc.iter().copied().filter(|p| p.2 > since).collect();
            self.list(changed, "", "")
        } else if let Some(after) = q.get("after") {
            let Some(at) = created(after) else {
                return ResponseTemplate::new(400);
            };
            let mut asc: Vec<_> = desc.iter().copied().filter(|p| p.1 > at).collect();
            asc.reverse();
            let page: Vec<_> = asc.iter().copied().take(per_page).collect();
            let next = match asc.get(per_page) {
                Some(p) if page.len() == per_page => p.0.as_str(),
                _ => "",
            };
            self.list(page, after, next)
        } else {
            let before = q.get("before");
            let older: Vec<_> = match before {
                Some(b) => {
                    let Some(at) = created(b) else {
                        return ResponseTemplate::new(400);
                    };
                    desc.iter().copied().filter(|p| p.1 < at).collect()
                }
                None => desc.clone(),
            };
            let page: Vec<_> = older.iter().copied().take(per_page).collect();
            let prev = match older.get(per_page) {
                Some(p) if page.len() == per_page => p.0.as_str(),
                _ => "",
            };
            self.list(page, prev, "")
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// 47 posts, three or four in each millisecond.
fn crowded_posts() -> Vec<(String, i64, i64)> {
    (0..47)
        .map(|i| {
            (
                format!("p{i:02}"),
                1000 + (i as i64 * 2 / 7),
                5000 + i as i64,
            )
        })
        .collect()
}

async fn fake_channel(server: &MockServer, posts: Vec<(String, i64, i64)>) {
    Mock::given(method("GET"))
        .and(path("/api/v4/channels/c1/posts"))
        .respond_with(FakeChannel::new(posts))
        .mount(server)
        .await;
}

fn post_ids(posts: &[matterapi::types::Post]) -> Vec<String> {
    posts.iter().filter_map(|p| p.id.clone()).collect()
}

fn assert_each_once(ids: &[String], expected: impl IntoIterator<Item = String>) {
    let expected: HashSet<String> = expected.into_iter().collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicates in {ids:?}");
    assert_eq!(
        ids.iter().cloned().collect::<HashSet<_>>(),
        expected,
        "not every post"
    );
}

#[tokio::test]
async fn newest_first_walk_gives_every_post_once_across_same_millisecond_edges() {
    let server = MockServer::start().await;
    let posts = crowded_posts();
    fake_channel(&server, posts.clone()).await;
    let client = client(&server);

    let mut walk = client.channel_posts("c1", PostCursor::Newest).per_page(5);
    let mut got = Vec::new();
    while let Some(post) = walk.next().await {
        got.push(post.expect("post"));
    }
    let ids = post_ids(&got);
    assert_each_once(&ids, posts.iter().map(|p| p.0.clone()));
    let times: Vec<i64> = got.iter().map(|p| p.create_at.unwrap_or(0)).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
    assert!(walk.pages_fetched() >= 10, "{}", walk.pages_fetched());
}

#[tokio::test]
async fn before_walk_starts_below_its_post() {
    let server = MockServer::start().await;
    let posts = crowded_posts();
    fake_channel(&server, posts.clone()).await;
    let client = client(&server);

    // p20 was made at 1005, as were p18..p20: the walk starts with what is older than that time.
    let got = client
        .channel_posts("c1", PostCursor::Before("p20".into()))
        .per_page(4)
        .try_collect()
        .await
        .expect("posts");
    let expected = posts.iter().filter(|p| p.1 < 1005).map(|p| p.0.clone());
    assert_each_once(&post_ids(&got), expected);
}

#[tokio::test]
async fn after_walk_gives_every_newer_post_once_oldest_first() {
    let server = MockServer::start().await;
    let posts = crowded_posts();
    fake_channel(&server, posts.clone()).await;
    let client = client(&server);

    let got = client
        .channel_posts("c1", PostCursor::After("p00".into()))
        .per_page(6)
        .try_collect()
        .await
        .expect("posts");
    let expected = posts.iter().filter(|p| p.1 > 1000).map(|p| p.0.clone());
    assert_each_once(&post_ids(&got), expected);
    let times: Vec<i64> = got.iter().map(|p| p.create_at.unwrap_or(0)).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "not oldest first: {times:?}"
    );
}

#[tokio::test]
async fn since_walk_gives_the_changed_posts_in_change_order_in_one_request() {
    let server = MockServer::start().await;
    let posts = crowded_posts();
    fake_channel(&server, posts.clone()).await;
    let client = client(&server);

    let mut walk = client.channel_posts("c1", PostCursor::Since(5040));
    let mut got = Vec::new();
    while let Some(post) = walk.next().await {
        got.push(post.expect("post").id.unwrap_or_default());
    }
    assert_eq!(got, ["p41", "p42", "p43", "p44", "p45", "p46"]);
    assert_eq!(walk.pages_fetched(), 1);
}

#[tokio::test]
async fn a_post_walk_ends_with_an_error_that_comes_mid_way() {
    let server = MockServer::start().await;
    // Every request after the first (it has a `before` cursor) fails.
    Mock::given(method("GET"))
        .and(path("/api/v4/channels/c1/posts"))
        .and(|r: &Request| r.url.query_pairs().any(|(k, _)| k == "before"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "id": "app.post.get_posts.app_error", "message": "no", "status_code": 500
        })))
        .mount(&server)
        .await;
    fake_channel(&server, crowded_posts()).await;
    let client = client(&server);

    let mut walk = client.channel_posts("c1", PostCursor::Newest).per_page(5);
    for _ in 0..5 {
        walk.next().await.expect("an item").expect("a post");
    }
    let err = walk.next().await.expect("an item").expect_err("the error");
    assert_eq!(err.error_id(), Some("app.post.get_posts.app_error"));
    assert!(walk.next().await.is_none());
    assert_eq!(walk.pages_fetched(), 2);

    // A channel the server does not know: the error is the only item.
    let mut walk = client.channel_posts("c9", PostCursor::Newest);
    let err = walk.next().await.expect("an item").expect_err("404");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(walk.next().await.is_none());
}

#[tokio::test]
async fn max_pages_bounds_a_post_walk() {
    let server = MockServer::start().await;
    fake_channel(&server, crowded_posts()).await;
    let client = client(&server);

    let mut walk = client
        .channel_posts("c1", PostCursor::Newest)
        .per_page(5)
        .max_pages(2);
    let mut n = 0;
    while let Some(post) = walk.next().await {
        post.expect("post");
        n += 1;
    }
    assert_eq!(walk.pages_fetched(), 2);
    assert!((5..=10).contains(&n), "{n}");
}

/// Walks `stream` to its end: the items' ids, and the error it ended with, if any.
async fn walk<S>(mut stream: S) -> (Vec<String>, Option<Error>)
where
    S: matterapi::paginate::Stream<Item = Result<matterapi::types::User, Error>> + Unpin,
{
    use std::future::poll_fn;
    use std::pin::Pin;
    let mut got = Vec::new();
    let mut end = None;
    let mut items = 0;
    while let Some(item) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        items += 1;
        assert!(items < 10_000, "the walk does not end");
        match item {
            Ok(user) => got.push(user.id.unwrap_or_default()),
            Err(e) => {
                assert!(end.is_none(), "a second error after {end:?}: {e}");
                end = Some(e);
            }
        }
    }
    (got, end)
}

#[tokio::test]
async fn a_server_that_ignores_page_ends_the_walk_after_two_pages() {
    let server = MockServer::start().await;
    // Every page is the first one.
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(users(0, 3)))
        .mount(&server)
        .await;
    let client = client(&server);
    let stream = paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
        .per_page(3);
    let (got, end) = walk(stream).await;
    assert_eq!(got, ["u0", "u1", "u2"], "the first page once");
    match end {
        Some(Error::PageRepeated { page: 1 }) => {}
        other => panic!("expected PageRepeated for page 1, got {other:?}"),
    }
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        2
    );
}

#[tokio::test]
async fn a_walk_stops_at_its_page_limit_with_an_error() {
    let server = MockServer::start().await;
    // A server with endless full pages.
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .respond_with(|req: &Request| {
            let page: usize = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            ResponseTemplate::new(200).set_body_json(users(page * 2, 2))
        })
        .mount(&server)
        .await;
    let client = client(&server);
    let stream = paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())
        .per_page(2)
        .page_limit(3);
    let (got, end) = walk(stream).await;
    assert_eq!(got, ["u0", "u1", "u2", "u3", "u4", "u5"]);
    match &end {
        Some(Error::PageLimitReached { limit: 3 }) => {}
        other => panic!("expected PageLimitReached(3), got {other:?}"),
    }
    assert!(end.unwrap().to_string().contains("3 pages"));
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        3
    );
}

#[test]
fn the_default_page_limit_is_ten_thousand_pages() {
    assert_eq!(matterapi::paginate::DEFAULT_PAGE_LIMIT, 10_000);
}
