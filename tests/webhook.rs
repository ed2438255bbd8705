//! Incoming webhooks and raw requests from the server root, against a loopback HTTP server
//! (wiremock): the path is the hook's, outside the API base; no credential is sent; a hook id that
//! would address another endpoint is refused before anything is sent.

use matterapi::webhook::IncomingWebhook;
use matterapi::{Auth, Client, Error, Method, types};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn no_authorization(req: &Request) -> bool {
    !req.headers.contains_key("authorization")
}

#[tokio::test]
async fn a_webhook_message_is_posted_to_the_hook_path_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/abc123"))
        .and(no_authorization)
        .and(body_json(json!({
            "text": "Build 42 passed",
            "username": "ci",
            "icon_emoji": "white_check_mark",
            "channel": "@alice",
            "type": "custom_build",
            "props": {"build": 42},
            "attachments": [{"fallback": "build 42", "color": "#00ff00", "title": "Build 42",
                             "fields": [{"title": "time", "value": "3 min", "short": true}]}],
            "priority": {"priority": "important"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "secret-token").expect("client");
    let attachment = types::MessageAttachment {
        fallback: Some("build 42".into()),
        color: Some("#00ff00".into()),
        title: Some("Build 42".into()),
        fields: Some(vec![types::MessageAttachmentField {
            title: Some("time".into()),
            value: Some(json!("3 min")),
            short: Some(true),
        }]),
        ..Default::default()
    };
    let message = IncomingWebhook::text("Build 42 passed")
        .username("ci")
        .icon_emoji("white_check_mark")
        .channel("@alice")
        .post_type("custom_build")
        .prop("build", 42)
        .attachment(attachment)
        .priority(types::PostPriority {
            priority: Some("important".into()),
            ..Default::default()
        });
    client
        .post_incoming_webhook("abc123", &message)
        .await
        .expect("posted");
}

#[tokio::test]
async fn the_hook_path_keeps_the_servers_sub_path_and_not_the_api_base() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/hooks/abc"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(format!("{}/chat/", server.uri()), "t").expect("client");
    client
        .post_incoming_webhook("abc", &IncomingWebhook::text("hi"))
        .await
        .expect("posted under the sub-path");
}

#[tokio::test]
async fn a_hook_id_that_would_change_the_endpoint_is_refused_or_encoded() {
    let server = MockServer::start().await;
    // Nothing but the encoded id may reach the server.
    Mock::given(method("POST"))
        .and(path("/hooks/a%3Fb%23c"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").expect("client");
    for bad in ["..", ".", "", "x/../../api/v4/users", "a/b", "a\\b"] {
        let err = client
            .post_incoming_webhook(bad, &IncomingWebhook::text("hi"))
            .await
            .expect_err(bad);
        assert!(
            matches!(&err, Error::InvalidPathParameter { name, .. } if name == "hook_id"),
            "{bad:?}: {err:?}"
        );
    }
    client
        .post_incoming_webhook("a?b#c", &IncomingWebhook::text("hi"))
        .await
        .expect("an id with ? and # stays one segment");
    let received = server.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), 1, "{received:?}");
}

#[tokio::test]
async fn a_refused_webhook_is_an_error_and_never_logs_in() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(ResponseTemplate::new(200).insert_header("Token", "t"))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks/gone"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "id": "web.incoming_webhook.invalid.app_error", "message": "Invalid webhook.",
            "status_code": 401
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .auth(Some(Auth::login("alice", "pw")))
        .build()
        .expect("client");
    let err = client
        .post_incoming_webhook("gone", &IncomingWebhook::text("hi"))
        .await
        .expect_err("401");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err:?}");
}

#[tokio::test]
async fn raw_root_addresses_the_server_root_with_or_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/f1/public"))
        .and(wiremock::matchers::header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200).set_body_string("with"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/files/f1/public"))
        .and(no_authorization)
        .respond_with(ResponseTemplate::new(200).set_body_string("without"))
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "tok").expect("client");
    let with = client
        .raw_root(Method::GET, "/files/f1/public")
        .send()
        .await
        .expect("with the token");
    assert_eq!(with.text(), "with");
    let without = client
        .raw_root(Method::GET, "/files/f1/public")
        .without_credentials()
        .send()
        .await
        .expect("without the token");
    assert_eq!(without.text(), "without");
    let err = client
        .raw_root(Method::GET, "/hooks/../api/v4/users/me")
        .send()
        .await
        .expect_err("a dot segment");
    assert!(matches!(err, Error::InvalidPathParameter { .. }), "{err:?}");
}
