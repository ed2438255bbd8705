//! REST fakes: clients of a wiremock server, the replies and mocks of a Mattermost session (login,
//! `GET /users/me`), and raw HTTP/1.1 on loopback sockets for the fakes wiremock cannot be.

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client of `server` with the bearer token `token` and the default options.
pub fn client_for(server: &MockServer, token: &str) -> matterapi::Client {
    matterapi::Client::with_token(server.uri(), token).expect("client")
}

/// `GET /api/v4/users/me` through `client`.
pub async fn me(client: &matterapi::Client) -> matterapi::Result<matterapi::types::User> {
    Ok(client.get_user().user_id("me").send().await?.into_inner())
}

/// The user the session fakes answer with: `u1`, `alice`.
pub fn alice() -> Value {
    json!({"id": "u1", "username": "alice"})
}

/// A login's reply: `200`, the session token `token` in the `Token` header, [`alice`].
pub fn login_reply(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("Token", token)
        .set_body_json(alice())
}

/// `POST /api/v4/users/login` answering [`login_reply`] with each of `tokens` in turn, once each.
pub async fn mount_logins(server: &MockServer, tokens: &[&str]) {
    for token in tokens {
        Mock::given(method("POST"))
            .and(path("/api/v4/users/login"))
            .respond_with(login_reply(token))
            .up_to_n_times(1)
            .mount(server)
            .await;
    }
}

/// The body of the server's `401` to a session it does not know (expired or revoked).
pub fn session_expired() -> Value {
    json!({
        "id": "api.context.session_expired.app_error",
        "message": "Invalid or expired session, please login again.",
        "status_code": 401
    })
}

/// The REST side of a session: `GET /api/v4/users/me` answers `refusal` to the token `dead` and
/// `{"id": "u1"}` to any other; `POST /api/v4/users/login` answers with each of `logins` in turn
/// ([`mount_logins`]).
pub async fn rest_refusing(dead: &str, refusal: ResponseTemplate, logins: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .and(header("authorization", format!("Bearer {dead}").as_str()))
        .respond_with(refusal)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_logins(&server, logins).await;
    server
}

/// [`rest_refusing`] `dead` with the server's `401` ([`session_expired`]).
pub async fn rest(dead: &str, logins: &[&str]) -> MockServer {
    let refusal = ResponseTemplate::new(401).set_body_json(session_expired());
    rest_refusing(dead, refusal, logins).await
}

/// Reads an HTTP/1.1 request head (up to its blank line) from `stream`: the head, and what was read
/// after it. `None` on EOF, a read error, a head over 64 KiB or one that is not UTF-8.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return String::from_utf8(buf).ok().map(|head| (head, rest));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
