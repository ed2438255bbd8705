//! No token or password in any `Debug`, `Display`, error or debug-level trace, including a login's.

mod support;

use matterapi::{Auth, Client, Options};
use serde_json::json;
use support::logs::{self, Captured};
use support::rest::login_reply;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "Pa55word-never-shown";
const MFA: &str = "424242";
const SESSION: &str = "session-token-never-shown";

fn assert_hidden(what: &str, text: &str) {
    for secret in [PASSWORD, MFA, SESSION] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

#[tokio::test]
async fn a_debug_trace_of_a_login_shows_no_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(login_reply(SESSION))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"id": "api.context.session_expired.app_error", "message": "expired"}),
        ))
        .mount(&server)
        .await;

    let captured = Captured::default();
    let subscriber = logs::subscriber(&captured, tracing::Level::TRACE).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = Client::builder(server.uri())
        .auth(Some(Auth::login_mfa("alice", PASSWORD, MFA)))
        .debug(true)
        .build()
        .unwrap();
    client.login().await.unwrap();
    let err: matterapi::Error = client.get_user().user_id("me").send().await.unwrap_err();

    let trace = captured.text();
    assert!(
        trace.contains("/api/v4/users/login"),
        "the login is traced: {trace}"
    );
    assert!(trace.contains("status=401"), "{trace}");
    assert_hidden("the trace", &trace);
    assert_hidden("the error's Display", &err.to_string());
    assert_hidden("the error's Debug", &format!("{err:?}"));
    assert_hidden("the client's Debug", &format!("{client:?}"));
    assert_hidden("the options' Debug", &format!("{:?}", client.options()));
}

#[test]
fn options_from_json_with_secrets_show_none_of_them() {
    let options = Options::from_json(&format!(
        r#"{{"url": "http://127.0.0.1:1", "auth": {{"login_id": "alice", "password": "{PASSWORD}", "mfa_token": "{MFA}"}}}}"#
    ))
    .unwrap();
    assert_hidden("options", &format!("{options:?}"));
    let options = Options::from_json(&format!(
        r#"{{"url": "http://127.0.0.1:1", "auth": {{"token": "{SESSION}"}}}}"#
    ))
    .unwrap();
    assert_hidden("options", &format!("{options:?}"));
}

#[tokio::test]
async fn a_401_whose_detail_carries_the_token_prints_no_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "id": "api.context.session_expired.app_error",
            "message": "Invalid or expired session, please login again.",
            // What the server puts in a 401's detailed_error.
            "detailed_error": format!("token={SESSION}"),
            "status_code": 401,
        })))
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), SESSION).unwrap();
    let err: matterapi::Error = client.get_user().user_id("me").send().await.unwrap_err();
    let matterapi::Error::Api(api) = &err else {
        panic!("a server error: {err:?}")
    };
    assert_eq!(
        api.detailed_error,
        format!("token={SESSION}"),
        "the field keeps it"
    );
    assert!(err.to_string().contains("token=<redacted>"), "{err}");
    assert_hidden("the error's Display", &err.to_string());
    assert_hidden("the error's Debug", &format!("{err:?}"));
    assert_hidden("the server error's Debug", &format!("{api:?}"));
}

#[tokio::test]
async fn a_raw_login_reply_shows_no_token_in_its_debug() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(
            login_reply(SESSION)
                .insert_header("Set-Cookie", format!("MMAUTHTOKEN={SESSION}; Path=/")),
        )
        .mount(&server)
        .await;
    let client = Client::builder(server.uri()).build().unwrap();
    let raw = client
        .users_login()
        .body(
            serde_json::from_value::<matterapi::types::UsersLoginBody>(
                json!({"login_id": "alice", "password": PASSWORD}),
            )
            .unwrap(),
        )
        .send_raw()
        .await
        .unwrap();
    assert_eq!(raw.headers["token"], SESSION, "the headers keep it");
    let debug = format!("{raw:?}");
    assert!(debug.contains("alice"), "the body is previewed: {debug}");
    assert_hidden("the raw reply's Debug", &debug);
}
