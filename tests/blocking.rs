//! The blocking client: same operations and builders, `send()` without `.await`, over its own
//! runtime; inside an async runtime it answers an error instead of blocking or panicking.

mod support;

use matterapi::{Error, Method, blocking};
use serde_json::json;
use support::rest::login_reply;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A wiremock server kept alive on its own runtime, for calls from plain threads.
fn server(mocks: Vec<Mock>) -> (tokio::runtime::Runtime, MockServer) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        for m in mocks {
            m.mount(&server).await;
        }
        server
    });
    (rt, server)
}

#[test]
fn typed_calls_have_the_same_builders_and_block() {
    let (_rt, server) = server(vec![
        Mock::given(method("GET"))
            .and(path("/api/v4/users"))
            .and(query_param("per_page", "200"))
            .and(header("authorization", "Bearer t"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "u1"}]))),
        Mock::given(method("POST"))
            .and(path("/api/v4/posts"))
            .and(body_json(json!({"channel_id": "c", "message": "hi"})))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "p1"}))),
    ]);
    let client = blocking::Client::with_token(server.uri(), "t").unwrap();
    let users = client.get_users().per_page(200).send().unwrap();
    assert_eq!(users[0].id.as_deref(), Some("u1"));
    let post = client
        .create_post()
        .body_map(|b| b.channel_id("c").message("hi"))
        .send()
        .unwrap();
    assert_eq!(post.id.as_deref(), Some("p1"));
}

#[test]
fn login_raw_mode_and_errors_work_blocking() {
    let (_rt, server) = server(vec![
        Mock::given(method("POST"))
            .and(path("/api/v4/users/login"))
            .respond_with(login_reply("sess")),
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .and(header("authorization", "Bearer sess"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\":\"u1\"}")),
        Mock::given(method("GET"))
            .and(path("/api/v4/users/nope"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(json!({"id": "app.user.missing", "message": "m"})),
            ),
    ]);
    let options = blocking::Client::builder(server.uri())
        .login("alice", "pw")
        .options()
        .unwrap();
    let client = blocking::Client::from_options(options).unwrap();
    assert_eq!(client.login().unwrap().username.as_deref(), Some("alice"));
    assert_eq!(
        client.get_user().user_id("me").send_raw().unwrap().text(),
        "{\"id\":\"u1\"}"
    );
    let reply = client.get_user().user_id("me").call().unwrap();
    assert_eq!(reply.parsed().and_then(|u| u.id), Some("u1".into()));
    let v: serde_json::Value = client.raw(Method::GET, "/users/me").send_json().unwrap();
    assert_eq!(v["id"], "u1");
    let err = client.get_user().user_id("nope").send().unwrap_err();
    assert_eq!(err.error_id(), Some("app.user.missing"));
}

#[tokio::test]
async fn inside_an_async_runtime_it_answers_an_error_not_a_panic() {
    let client =
        std::thread::spawn(|| blocking::Client::with_token("http://127.0.0.1:9", "t").unwrap())
            .join()
            .unwrap();
    let err = client.get_user().user_id("me").send().unwrap_err();
    assert!(err.to_string().contains("inside an async runtime"), "{err}");
    assert!(
        client
            .login()
            .unwrap_err()
            .to_string()
            .contains("inside an async runtime")
    );
    assert!(client.raw(Method::GET, "/x").send().is_err());
}

#[test]
fn the_blocking_builder_builds_a_blocking_client() {
    let (_rt, server) = server(vec![
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .and(header("authorization", "Bearer t"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"}))),
    ]);
    // The type says it: `build()` of `blocking::Client::builder` is a blocking client.
    let client: blocking::Client = blocking::Client::builder(server.uri())
        .token("t")
        .build()
        .unwrap();
    let me = client.get_user().user_id("me").send().unwrap();
    assert_eq!(me.id.as_deref(), Some("u1"));
}

#[tokio::test]
async fn every_call_inside_a_runtime_is_the_one_inside_runtime_error() {
    let client =
        std::thread::spawn(|| blocking::Client::with_token("http://127.0.0.1:9", "t").unwrap())
            .join()
            .unwrap();
    let typed = client.get_user().user_id("me").send().unwrap_err();
    assert!(matches!(typed, Error::InsideRuntime), "{typed:?}");
    let login = client.login().unwrap_err();
    assert!(matches!(login, Error::InsideRuntime), "{login:?}");
    let raw = client.raw(Method::GET, "/x").send().unwrap_err();
    assert!(matches!(raw, Error::InsideRuntime), "{raw:?}");
    drop(tokio::task::spawn_blocking(move || drop(client)));
}
