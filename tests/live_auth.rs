//! Login through the client's auth layer against the live server: password, token, relogin after
//! the session is revoked, logout. Each test uses its own account (tests run in parallel).

mod support;

use matterapi::{Auth, Client};

#[tokio::test]
async fn relogin_makes_a_new_session_after_the_old_one_is_revoked() {
    let Some(conn) = support::live() else { return };
    let bob = Client::builder(conn.url.as_str())
        .auth(Some(Auth::login(
            &conn.user2.username,
            &conn.user2.password,
        )))
        // The manual path: without the relogin option a REST 401 is the caller's to handle.
        .relogin(false)
        .build()
        .unwrap();
    let me = bob.login().await.expect("login");
    assert_eq!(me.id.as_deref(), Some(conn.user2.id.as_str()));

    let admin = support::client(&conn, &conn.admin.token);
    admin
        .revoke_all_sessions()
        .user_id(&conn.user2.id)
        .send()
        .await
        .expect("revoke bob's sessions");

    let err: matterapi::Error = bob.get_user().user_id("me").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");

    bob.relogin().await.expect("relogin");
    let me = bob
        .get_user()
        .user_id("me")
        .send()
        .await
        .expect("call with the new session");
    assert_eq!(me.username.as_deref(), Some(conn.user2.username.as_str()));
}

#[tokio::test]
async fn token_login_fills_me_for_a_personal_access_token_and_a_bot_token() {
    let Some(conn) = support::live() else { return };
    let admin = Client::with_token(conn.url.as_str(), &conn.admin.token).unwrap();
    assert_eq!(
        admin.login().await.unwrap().id.as_deref(),
        Some(conn.admin.id.as_str())
    );
    assert_eq!(admin.me().and_then(|u| u.id), Some(conn.admin.id.clone()));
    let bot = Client::with_token(conn.url.as_str(), &conn.bot.token).unwrap();
    let me = bot.login().await.unwrap();
    assert_eq!(me.id.as_deref(), Some(conn.bot.user_id.as_str()));
    assert_eq!(me.is_bot, Some(true));
}

#[tokio::test]
async fn a_wrong_password_is_the_servers_typed_refusal() {
    let Some(conn) = support::live() else { return };
    let client = Client::builder(conn.url.as_str())
        .login(&conn.mfa_user.username, "not-the-password")
        .build()
        .unwrap();
    let err = client.login().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(
        err.error_id(),
        Some("api.user.login.invalid_credentials_email_username")
    );
    assert!(err.request_id().is_some());
    // Leave mfauser's failed-attempt count at zero for the other tests.
    support::login(
        &conn,
        &conn.mfa_user.username,
        &conn.mfa_user.password,
        None,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let Some(conn) = support::live() else { return };
    let client = support::login(&conn, &conn.user.username, &conn.user.password, None)
        .await
        .unwrap();
    let token = client.token().unwrap();
    client.logout().await.unwrap();
    use secrecy::ExposeSecret;
    let old = Client::with_token(conn.url.as_str(), token.expose_secret()).unwrap();
    let err: matterapi::Error = old.get_user().user_id("me").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
}
