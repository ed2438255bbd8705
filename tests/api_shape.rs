//! The generated API's shape for a user (issue 12, sections 2 and 3): optional string fields take
//! `&str`, a body with required fields has a constructor taking them, and the area handles take
//! an operation's path parameters as arguments. Loopback only (wiremock); `tests/live_handles.rs`
//! checks the same against the real server.

mod support;

use matterapi::types;
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn optional_string_setters_take_a_str_an_option_or_none() {
    let body: types::CreatePostBody = types::CreatePostBody::builder()
        .channel_id("c1")
        .message("hello")
        .root_id("r1")
        .type_(String::from("custom_type"))
        .try_into()
        .expect("a complete body");
    assert_eq!(body.root_id.as_deref(), Some("r1"));
    assert_eq!(body.type_.as_deref(), Some("custom_type"));

    let id = String::from("r2");
    let body: types::CreatePostBody = types::CreatePostBody::builder()
        .channel_id(&id)
        .message("hello")
        .root_id(&id)
        .pending_post_id(Some("p".to_string()))
        .try_into()
        .expect("a complete body");
    assert_eq!(body.root_id.as_deref(), Some("r2"));
    assert_eq!(body.pending_post_id.as_deref(), Some("p"));

    let body: types::CreatePostBody = types::CreatePostBody::builder()
        .channel_id("c1")
        .message("hello")
        .root_id("r1")
        .root_id(None)
        .try_into()
        .expect("a complete body");
    assert_eq!(body.root_id, None);
}

#[test]
fn a_body_with_required_fields_has_a_constructor_taking_them() {
    let body = types::CreatePostBody::new("c1", "hello");
    assert_eq!(
        serde_json::to_value(&body).expect("serializes"),
        json!({"channel_id": "c1", "message": "hello"})
    );
    let user = types::CreateUserBody::new("bot@example.com", "a-bot");
    assert_eq!(user.email, "bot@example.com");
    assert_eq!(user.username, "a-bot");
    assert_eq!(user.password, None);
}

#[tokio::test]
async fn an_area_handle_takes_the_path_parameters_as_arguments() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(support::rest::alice()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .and(body_json(
            json!({"channel_id": "c1", "message": "hi", "root_id": "r1"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "p1", "channel_id": "c1", "message": "hi", "root_id": "r1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::rest::client_for(&server, "t");
    let me = client
        .users()
        .get_user("me")
        .send()
        .await
        .expect("get_user");
    assert_eq!(me.username.as_deref(), Some("alice"));
    let post = client
        .posts()
        .create_post()
        .body_map(|b| b.channel_id("c1").message("hi").root_id("r1"))
        .send()
        .await
        .expect("create_post");
    assert_eq!(post.id.as_deref(), Some("p1"));
}

#[tokio::test]
async fn a_handle_argument_that_would_change_the_path_is_refused() {
    let server = MockServer::start().await;
    let client = support::rest::client_for(&server, "t");
    let err = client
        .users()
        .get_user("../teams")
        .send()
        .await
        .expect_err("refused before sending");
    assert!(
        matches!(err, matterapi::Error::InvalidPathParameter { .. }),
        "{err:?}"
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn the_blocking_client_has_the_same_handles() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/api/v4/users/u1/teams"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!([{"id": "t1", "name": "a-team"}])),
            )
            .expect(1)
            .mount(&server),
    );
    let client = matterapi::blocking::Client::builder(server.uri())
        .token("t")
        .build()
        .expect("client");
    let teams = client
        .teams()
        .get_teams_for_user("u1")
        .send()
        .expect("get_teams_for_user");
    assert_eq!(teams[0].name.as_deref(), Some("a-team"));
}

#[tokio::test]
async fn a_paged_list_builder_reads_every_page_with_its_parameters() {
    use wiremock::matchers::query_param;
    let server = MockServer::start().await;
    let member = |i: usize| json!({"channel_id": "c1", "user_id": format!("u{i}")});
    // Two pages of 3: a full one, then a short one that ends the walk.
    for (page, items) in [
        ("0", vec![member(0), member(1), member(2)]),
        ("1", vec![member(3)]),
    ] {
        Mock::given(method("GET"))
            .and(path("/api/v4/channels/c1/members"))
            .and(query_param("page", page))
            .and(query_param("per_page", "3"))
            .respond_with(ResponseTemplate::new(200).set_body_json(items))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = support::rest::client_for(&server, "t");
    let members = client
        .channels()
        .get_channel_members("c1")
        .paginate()
        .per_page(3)
        .try_collect()
        .await
        .expect("every page");
    let ids: Vec<_> = members.iter().filter_map(|m| m.user_id.clone()).collect();
    assert_eq!(ids, ["u0", "u1", "u2", "u3"]);
}
