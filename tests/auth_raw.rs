//! Login, relogin and logout, and raw mode, against a loopback HTTP server (wiremock).

use matterapi::{Auth, Client, Error, Method};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn user(name: &str) -> serde_json::Value {
    json!({"id": format!("id-{name}"), "username": name, "props": null, "is_bot": false})
}

async fn login_mock(server: &MockServer, token: &str, expected_body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .and(body_json(expected_body))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Token", token)
                .insert_header("Set-Cookie", "MMAUTHTOKEN=cookie-token; Path=/; HttpOnly")
                .set_body_json(user("alice")),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn login_sends_the_mfa_code_as_token_and_uses_the_session_token() {
    let server = MockServer::start().await;
    login_mock(
        &server,
        "session-1",
        json!({"login_id": "alice", "password": "pw", "token": "123456"}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .and(header("authorization", "Bearer session-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("alice")))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .login_mfa("alice", "pw", "123456")
        .build()
        .unwrap();
    let me = client.login().await.expect("login");
    assert_eq!(me.username.as_deref(), Some("alice"));
    assert_eq!(client.me().and_then(|u| u.username), Some("alice".into()));
    client
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect("call with the session token");
}

#[tokio::test]
async fn session_cookies_are_never_sent_back() {
    let server = MockServer::start().await;
    login_mock(
        &server,
        "session-1",
        json!({"login_id": "alice", "password": "pw"}),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .respond_with(|req: &Request| {
            if req.headers.contains_key("cookie") {
                // What the server does with a kept MMAUTHTOKEN cookie and no CSRF header.
                ResponseTemplate::new(401).set_body_json(
                    json!({"id": "api.context.session_expired.app_error", "message": "csrf"}),
                )
            } else {
                ResponseTemplate::new(201).set_body_json(json!({"id": "p1"}))
            }
        })
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .login("alice", "pw")
        .build()
        .unwrap();
    client.login().await.unwrap();
    let body = matterapi::types::CreatePostBody {
        channel_id: "c".into(),
        message: "m".into(),
        file_ids: vec![],
        metadata: None,
        props: Default::default(),
        root_id: None,
        pending_post_id: None,
        type_: None,
    };
    client
        .create_post()
        .body(body)
        .send()
        .await
        .expect("no cookie, no CSRF demand");
}

#[tokio::test]
async fn rejected_login_is_the_servers_error_and_keeps_no_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("X-Request-ID", "rq1")
                .set_body_json(json!({
                    "id": "api.user.login.invalid_credentials_email_username",
                    "message": "Enter a valid email or username and/or password.",
                    "status_code": 401
                })),
        )
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .login("alice", "wrong")
        .build()
        .unwrap();
    let err = client.login().await.expect_err("401");
    assert_eq!(
        err.error_id(),
        Some("api.user.login.invalid_credentials_email_username")
    );
    assert_eq!(err.request_id(), Some("rq1"));
    assert!(client.token().is_none());
}

#[tokio::test]
async fn login_reply_without_token_header_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("alice")))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .login("alice", "pw")
        .build()
        .unwrap();
    assert!(matches!(client.login().await, Err(Error::Auth(_))));
}

#[tokio::test]
async fn token_login_checks_the_token_with_users_me() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .and(header("authorization", "Bearer pat"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("bot")))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "pat").unwrap();
    assert_eq!(
        client.login().await.unwrap().username.as_deref(),
        Some("bot")
    );
}

#[tokio::test]
async fn no_credentials_is_an_auth_error() {
    let client = Client::builder("http://127.0.0.1:1").build().unwrap();
    assert!(matches!(client.login().await, Err(Error::Auth(_))));
}

#[tokio::test]
async fn relogin_makes_a_new_session_once_for_concurrent_callers() {
    let server = MockServer::start().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(move |_: &Request| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            ResponseTemplate::new(200)
                .insert_header("Token", format!("session-{n}").as_str())
                .set_body_json(user("alice"))
                .set_delay(std::time::Duration::from_millis(50))
        })
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .login("alice", "pw")
        .build()
        .unwrap();
    client.login().await.unwrap();
    let other = client.clone();
    let (a, b) = tokio::join!(client.relogin(), other.relogin());
    a.unwrap();
    b.unwrap();
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one login, then one relogin"
    );
    use secrecy::ExposeSecret;
    assert_eq!(client.token().unwrap().expose_secret(), "session-2");
}

#[tokio::test]
async fn logout_forgets_token_and_user() {
    let server = MockServer::start().await;
    login_mock(&server, "s", json!({"login_id": "alice", "password": "pw"})).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/logout"))
        .and(header("authorization", "Bearer s"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .login("alice", "pw")
        .build()
        .unwrap();
    client.login().await.unwrap();
    client.logout().await.unwrap();
    assert!(client.token().is_none() && client.me().is_none());
}

#[test]
fn secrets_never_show_in_debug_output() {
    let auth = Auth::login_mfa("alice", "hunter2-password", "987654");
    let client = Client::builder("http://127.0.0.1:1")
        .auth(Some(auth))
        .build()
        .unwrap();
    client.set_token("session-token-secret");
    let shown = format!("{client:?} {:?}", client.options());
    for secret in ["hunter2-password", "987654", "session-token-secret"] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
    assert!(shown.contains("[redacted]"));
}

#[tokio::test]
async fn send_raw_returns_the_untouched_reply_of_a_generated_operation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Request-ID", "rq")
                .set_body_string("{\"id\": \"u1\", \"extra\": \"not in the spec\"}"),
        )
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").unwrap();
    let raw = client.get_user().user_id("me").send_raw().await.unwrap();
    assert_eq!(raw.status.as_u16(), 200);
    assert_eq!(raw.request_id(), Some("rq"));
    assert_eq!(
        raw.text(),
        "{\"id\": \"u1\", \"extra\": \"not in the spec\"}"
    );
    let v: serde_json::Value = raw.json().unwrap();
    assert_eq!(v["extra"], "not in the spec");
}

#[tokio::test]
async fn send_raw_keeps_a_reply_the_typed_call_cannot_decode() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json"))
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").unwrap();
    assert_eq!(
        client
            .get_user()
            .user_id("me")
            .send_raw()
            .await
            .unwrap()
            .text(),
        "not json"
    );
}

#[tokio::test]
async fn send_raw_turns_a_failure_status_into_a_typed_error_unless_asked_not_to() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/x"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"id": "app.user.missing", "message": "m"})),
        )
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").unwrap();
    let err = client.get_user().user_id("x").send_raw().await.unwrap_err();
    assert_eq!(err.error_id(), Some("app.user.missing"));
    let raw = client
        .get_user()
        .user_id("x")
        .send_raw_any_status()
        .await
        .unwrap();
    assert_eq!(raw.status.as_u16(), 404);
    assert!(raw.text().contains("app.user.missing"));
}

/// A server answering `/users/me` with a body the typed call cannot decode (the user's `id` is a
/// number) and `/users/x` with a 404, counting the requests it saw.
async fn skip_parsing_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Request-ID", "rq-me")
                .set_body_string("{\"id\": \"u1\", \"username\": \"alice\", \"extra\": 1}"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/bad"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": 7}"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/x"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"id": "app.user.missing", "message": "m"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/logout"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn call_follows_the_client_wide_skip_response_parsing_option() {
    let server = skip_parsing_server().await;
    let parsing = Client::with_token(server.uri(), "t").unwrap();
    let skipping = Client::builder(server.uri())
        .token("t")
        .skip_response_parsing(true)
        .build()
        .unwrap();

    // Parsing on: the decoded user.
    let reply = parsing.get_user().user_id("me").call().await.unwrap();
    assert!(!reply.is_raw());
    assert_eq!(reply.parsed().unwrap().username.as_deref(), Some("alice"));

    // Parsing off: the body exactly as sent, its headers kept, decodable later.
    let reply = skipping.get_user().user_id("me").call().await.unwrap();
    let raw = reply.raw().expect("an untouched reply");
    assert_eq!(raw.request_id(), Some("rq-me"));
    assert_eq!(
        raw.text(),
        "{\"id\": \"u1\", \"username\": \"alice\", \"extra\": 1}"
    );
    assert_eq!(reply.into_value().unwrap().id.as_deref(), Some("u1"));

    // A body the type cannot take: an error when parsing, the body itself when skipping, and the
    // decode error with the body kept when the caller parses it later.
    let err = parsing.get_user().user_id("bad").send().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let reply = skipping.get_user().user_id("bad").call().await.unwrap();
    assert_eq!(reply.raw().unwrap().text(), "{\"id\": 7}");
    match reply.into_value() {
        Err(Error::Decode { body, .. }) => assert_eq!(&body[..], b"{\"id\": 7}"),
        other => panic!("expected a decode error, got {other:?}"),
    }

    // A failure status is the typed error either way.
    for client in [&parsing, &skipping] {
        let err = client.get_user().user_id("x").call().await.unwrap_err();
        assert_eq!(err.error_id(), Some("app.user.missing"));
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    }

    // `send()` and `send_raw()` are not changed by the option.
    assert_eq!(
        skipping
            .get_user()
            .user_id("me")
            .send()
            .await
            .unwrap()
            .username
            .as_deref(),
        Some("alice")
    );
    assert_eq!(
        skipping
            .get_user()
            .user_id("me")
            .send_raw()
            .await
            .unwrap()
            .request_id(),
        Some("rq-me")
    );
}

#[tokio::test]
async fn a_skipped_reply_without_a_body_decodes_to_unit_later() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/analytics/old"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .token("t")
        .skip_response_parsing(true)
        .build()
        .unwrap();
    let reply = client.get_analytics_old().call().await.unwrap();
    assert!(reply.raw().unwrap().body.is_empty());
    let () = reply.into_value().unwrap();
}

#[tokio::test]
async fn raw_request_reaches_any_endpoint_under_the_api_base() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/custom/v4/plugins/x/action"))
        .and(query_param("dry", "true"))
        .and(header("x-extra", "1"))
        .and(header("authorization", "Bearer t"))
        .and(body_json(json!({"a": 1})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(format!("{}/chat", server.uri()))
        .basepath("/custom/v4")
        .token("t")
        .build()
        .unwrap();
    let v: serde_json::Value = client
        .raw(Method::POST, "/plugins/x/action")
        .query("dry", true)
        .header("x-extra", "1")
        .json(&json!({"a": 1}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn raw_request_failure_keeps_status_and_body_or_returns_it_with_any_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/limited"))
        .respond_with(ResponseTemplate::new(429).set_body_string("limit exceeded"))
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").unwrap();
    let err = client
        .raw(Method::GET, "/limited")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.body().map(|b| &b[..]), Some(&b"limit exceeded"[..]));
    let raw = client
        .raw(Method::GET, "limited")
        .any_status()
        .send()
        .await
        .unwrap();
    assert_eq!(raw.text(), "limit exceeded");
}

// ===== MFA codes on relogin =====

/// A login endpoint that accepts any body and gives a new session each time.
async fn any_login(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/v4/users/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Token", "session")
                .set_body_json(user("alice")),
        )
        .mount(server)
        .await;
}

/// The MFA code (`token`) of each login body the server got.
async fn sent_codes(server: &MockServer) -> Vec<Option<String>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/api/v4/users/login")
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json body");
            body["token"].as_str().map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn a_stored_one_time_code_is_sent_once_and_a_relogin_says_so() {
    let server = MockServer::start().await;
    any_login(&server).await;
    let client = Client::builder(server.uri())
        .login_mfa("alice", "pw", "123456")
        .build()
        .unwrap();
    client.login().await.expect("first login");
    let err = client.relogin().await.expect_err("the code was used");
    assert!(matches!(err, Error::MfaCodeUsed), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("already used"), "{text}");
    assert!(text.contains("mfa_secret"), "says how: {text}");
    assert!(!text.contains("123456"), "{text}");
    assert_eq!(sent_codes(&server).await, [Some("123456".to_owned())]);
}

#[test]
fn totp_codes_match_the_rfc_6238_sha1_test_vectors() {
    // RFC 6238 appendix B: the SHA-1 key "12345678901234567890"; 8-digit codes of which Mattermost's
    // 6 digits are the last 6.
    let key = b"12345678901234567890";
    for (time, code) in [
        (59, "287082"),
        (1_111_111_109, "081804"),
        (1_111_111_111, "050471"),
        (1_234_567_890, "005924"),
        (2_000_000_000, "279037"),
        (20_000_000_000, "353130"),
    ] {
        assert_eq!(matterapi::mfa::totp_code(key, time), code, "at {time}");
    }
}

/// The base32 of the RFC 6238 SHA-1 key, as Mattermost would show a secret.
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

#[tokio::test]
async fn two_logins_with_a_totp_secret_send_two_fresh_correct_codes() {
    let server = MockServer::start().await;
    any_login(&server).await;
    let client = Client::builder(server.uri())
        .login_totp("alice", "pw", SECRET.to_lowercase())
        .build()
        .unwrap();
    let first_step = unix_now() / 30;
    client.login().await.expect("first login");
    // The second login comes within the same step: it waits for the next one, as the server
    // refuses a code it has seen.
    client.relogin().await.expect("relogin");
    let last_step = unix_now() / 30;
    let codes: Vec<String> = sent_codes(&server)
        .await
        .into_iter()
        .map(|c| c.expect("a code"))
        .collect();
    assert_eq!(codes.len(), 2);
    assert_ne!(codes[0], codes[1], "a fresh code each login");
    let key = b"12345678901234567890";
    let step_of = |code: &str| {
        (first_step..=last_step).find(|s| matterapi::mfa::totp_code(key, s * 30) == code)
    };
    let (a, b) = (step_of(&codes[0]), step_of(&codes[1]));
    assert!(a.is_some() && b.is_some(), "correct codes: {codes:?}");
    assert!(a < b, "the second from a later step");
}

#[tokio::test]
async fn a_callback_gives_the_code_of_each_login() {
    let server = MockServer::start().await;
    any_login(&server).await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = calls.clone();
    let client = Client::builder(server.uri())
        .login_mfa_callback("alice", "pw", move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            format!("{:06}", 111_111 * (n + 1))
        })
        .build()
        .unwrap();
    client.login().await.expect("first login");
    client.relogin().await.expect("relogin");
    assert_eq!(
        sent_codes(&server).await,
        [Some("111111".to_owned()), Some("222222".to_owned())]
    );
}

#[test]
fn an_mfa_secret_loads_from_json_and_env_and_a_bad_one_names_the_field() {
    let o = matterapi::Options::from_json(&format!(
        r#"{{"url": "http://127.0.0.1:1", "auth": {{"login_id": "alice", "password": "pw", "mfa_secret": "{SECRET}"}}}}"#
    ))
    .expect("options");
    let debug = format!("{o:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(matches!(
        &o.auth,
        Some(Auth::Login {
            mfa_secret: Some(_),
            mfa_token: None,
            ..
        })
    ));
    let o = matterapi::Options::from_env_map(
        "MATTERAPI_",
        [
            ("MATTERAPI_URL", "http://127.0.0.1:1"),
            ("MATTERAPI_LOGIN_ID", "alice"),
            ("MATTERAPI_PASSWORD", "pw"),
            ("MATTERAPI_MFA_SECRET", SECRET),
        ],
    )
    .expect("env options");
    assert!(matches!(
        &o.auth,
        Some(Auth::Login {
            mfa_secret: Some(_),
            ..
        })
    ));

    let err = matterapi::Options::from_json(
        r#"{"url": "http://127.0.0.1:1", "auth": {"login_id": "alice", "password": "pw", "mfa_secret": "not base32!"}}"#,
    )
    .expect_err("bad secret");
    assert!(err.to_string().contains("auth.mfa_secret"), "{err}");
    assert!(!err.to_string().contains("not base32!"), "{err}");
    let both = Client::builder("http://127.0.0.1:1")
        .auth(Some(Auth::Login {
            login_id: "alice".into(),
            password: "pw".to_owned().into(),
            mfa_token: Some("123456".to_owned().into()),
            mfa_secret: Some(SECRET.to_owned().into()),
            mfa_callback: None,
        }))
        .build();
    assert!(both.is_err(), "a code and a secret at once is refused");
}
