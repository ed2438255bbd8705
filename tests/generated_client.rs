//! The generated client against a loopback HTTP server (wiremock): requests go out exactly as the
//! API expects, replies parse into the generated types, and failures become typed errors that keep
//! what the server said.

mod support;

use std::time::Duration;

use matterapi::{Client, Error, types};
use serde_json::json;
use support::rest::client_for;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "s3cr3t-token-value";

fn user_json() -> serde_json::Value {
    // As a real server sends it: `useAutomaticTimezone` is a string, `props` may be null.
    json!({
        "id": "u1", "username": "alice", "email": "alice@example.com", "create_at": 1700000000000_i64,
        "roles": "system_user", "is_bot": false, "last_activity_at": 0, "props": null,
        "timezone": {"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"},
        "notify_props": {"email": "true", "push": "mention"}
    })
}

#[tokio::test]
async fn path_parameter_and_bearer_token_reach_the_server() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json()))
        .expect(1)
        .mount(&server)
        .await;

    let me = client_for(&server, TOKEN)
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect("user");
    assert_eq!(me.username.as_deref(), Some("alice"));
    assert_eq!(me.is_bot, Some(false));
    let tz = me.timezone.as_ref().expect("timezone");
    assert_eq!(tz.use_automatic_timezone.as_deref(), Some("true"));
}

#[tokio::test]
async fn query_parameters_are_sent_by_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query_param("page", "2"))
        .and(query_param("per_page", "200"))
        .and(query_param("in_team", "team1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([user_json(), user_json()])))
        .expect(1)
        .mount(&server)
        .await;

    let users = client_for(&server, TOKEN)
        .get_users()
        .page(2)
        .per_page(200)
        .in_team("team1")
        .send()
        .await
        .expect("users");
    assert_eq!(users.len(), 2);
}

#[tokio::test]
async fn json_body_is_sent_and_the_created_post_parsed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .and(body_json(json!({"channel_id": "c1", "message": "hello"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "p1", "channel_id": "c1", "message": "hello", "user_id": "u1",
            "create_at": 1, "file_ids": null, "hashtags": "", "participants": null, "props": null,
            "metadata": {"embeds": [{"type": "permalink", "data": {"post_id": "p0"}}]},
            "reply_count": 0, "is_pinned": false
        })))
        .expect(1)
        .mount(&server)
        .await;

    let body = types::CreatePostBody {
        channel_id: "c1".into(),
        message: "hello".into(),
        file_ids: vec![],
        metadata: None,
        props: Default::default(),
        root_id: None,
        pending_post_id: None,
        type_: None,
    };
    let post = client_for(&server, TOKEN)
        .create_post()
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(post.id.as_deref(), Some("p1"));
    assert_eq!(post.file_ids, None);
    let embeds = post
        .metadata
        .as_ref()
        .and_then(|m| m.embeds.as_ref())
        .expect("embeds");
    assert_eq!(embeds[0].type_.as_deref(), Some("permalink"));
}

#[tokio::test]
async fn mattermost_error_keeps_status_error_id_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/nobody"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("X-Request-ID", "req-header-id")
                .set_body_json(json!({
                    "id": "app.user.missing_account.const",
                    "message": "Unable to find the user.",
                    "detailed_error": "",
                    "request_id": "req-body-id",
                    "status_code": 404
                })),
        )
        .mount(&server)
        .await;

    // `send()`'s error is `matterapi::Error` itself: its accessors need no conversion.
    let err = client_for(&server, TOKEN)
        .get_user()
        .user_id("nobody")
        .send()
        .await
        .expect_err("404");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.error_id(), Some("app.user.missing_account.const"));
    assert_eq!(err.request_id(), Some("req-body-id"));
    assert!(!err.is_retryable());
    let shown = err.to_string();
    assert!(
        shown.contains("app.user.missing_account.const") && shown.contains("req-body-id"),
        "{shown}"
    );
}

#[tokio::test]
async fn request_id_comes_from_the_header_when_the_body_has_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("X-Request-ID", "req-header-id")
                .set_body_json(json!({"id": "api.context.session_expired.app_error", "message": "Invalid or expired session", "status_code": 401})),
        )
        .mount(&server)
        .await;
    let err: Error = client_for(&server, TOKEN)
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect_err("401");
    assert_eq!(err.request_id(), Some("req-header-id"));
    assert_eq!(
        err.error_id(),
        Some("api.context.session_expired.app_error")
    );
}

#[tokio::test]
async fn unexpected_status_keeps_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&server)
        .await;
    let err: Error = client_for(&server, TOKEN)
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect_err("502");
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(
        err.body().map(|b| &b[..]),
        Some(&b"<html>Bad Gateway</html>"[..])
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn rate_limit_plain_text_reply_is_an_unexpected_status_with_its_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(429).set_body_string("limit exceeded\n"))
        .mount(&server)
        .await;
    let err: Error = client_for(&server, TOKEN)
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect_err("429");
    assert_eq!(err.body().map(|b| &b[..]), Some(&b"limit exceeded\n"[..]));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn malformed_success_reply_is_a_decode_error_with_the_raw_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": 42, truncated"))
        .mount(&server)
        .await;
    let err: Error = client_for(&server, TOKEN)
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect_err("garbage");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(
        err.body().map(|b| &b[..]),
        Some(&b"{\"id\": 42, truncated"[..])
    );
}

#[tokio::test]
async fn server_under_a_sub_path_is_reached_through_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/chat/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(format!("{}/chat/", server.uri()), TOKEN).expect("client");
    let me = client.get_user().user_id("me").send().await.expect("user");
    assert_eq!(me.id.as_deref(), Some("u1"));
}

#[tokio::test]
async fn replaced_token_is_used_by_clones_too() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .and(header("authorization", "Bearer second"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server, TOKEN);
    let clone = client.clone();
    client.set_token("second");
    clone
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect("user with the new token");
}

#[test]
fn token_never_shows_in_debug_output() {
    let client = Client::with_token("http://127.0.0.1:1", TOKEN).expect("client");
    let shown = format!("{client:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn a_url_that_is_not_a_url_is_a_config_error_naming_it() {
    let err = Client::with_token("chat example", TOKEN).expect_err("bad url");
    assert!(matches!(err, Error::Config(_)));
    assert!(err.to_string().contains("chat example"), "{err}");
}

/// `max_connections` bounds the requests in flight and the sockets: a loopback HTTP/1.1 server
/// that holds each reply 20 ms counts the connections it accepted and the requests it had at once,
/// while 100 calls are made at the same time through one client with a cap of 4. Every call
/// succeeds (the others wait for a slot), on at most 4 connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_bounds_requests_in_flight_and_sockets() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[derive(Default)]
    struct Counts {
        connections: AtomicUsize,
        now: AtomicUsize,
        most: AtomicUsize,
    }
    let counts = Arc::new(Counts::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server_counts = counts.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counts = server_counts.clone();
            counts.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // One GET at a time on this connection (keep-alive, no pipelining).
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    buf.drain(..end);
                    let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
                    counts.most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    counts.now.fetch_sub(1, Ordering::SeqCst);
                    let body = r#"{"id":"u1","username":"alice"}"#;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let client = Client::builder(url)
        .token("t")
        .max_connections(4)
        .build()
        .unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let client = client.clone();
        calls.spawn(async move { client.get_user().user_id("me").send().await });
    }
    let ok = tokio::time::timeout(Duration::from_secs(30), async {
        let mut ok = 0;
        while let Some(done) = calls.join_next().await {
            let user = done.unwrap().expect("the call");
            assert_eq!(user.username.as_deref(), Some("alice"));
            ok += 1;
        }
        ok
    })
    .await
    .expect("100 calls within 30 s");
    assert_eq!(ok, 100);
    let most = counts.most.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&most),
        "requests in flight at once: {most}"
    );
    let connections = counts.connections.load(Ordering::SeqCst);
    assert!(connections <= 4, "connections opened: {connections}");
    assert_eq!(client.retry_stats().retries, 0);
}
